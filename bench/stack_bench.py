"""Helpers the benchmarks that run the whole local stack share (`ledger_import.py`, `history_import.py`):
progress lines, a household signed up through the gateway, the services' databases, waiting until budget
and analytics have applied what the ledger published, and COPY of what a run wrote into empty copies of
its tables (the floor no code that keeps those tables can beat).

The benchmarks run as scripts (`uv run python bench/<name>.py`), so this module is imported by its name.
"""

import asyncio
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from tallystack import postgres
from tallystack.measure import process_tree
from tallystack.people import Person
from tallystack.stack import Stack

CONSUMERS = ("budget", "analytics")


def progress(label: str, done: int, total: int, started: float, unit: str = "rows") -> None:
    """One line, rewritten in place: a bar, done of total, seconds since `started` and the rate."""
    elapsed = time.perf_counter() - started
    rate = done / elapsed if elapsed > 0 else 0.0
    width = 30
    filled = min(width, width * done // total) if total else 0
    sys.stdout.write(f"\r  {label} [{'#' * filled}{'.' * (width - filled)}] {done:>7}/{total} "
                     f"{elapsed:6.1f} s {rate:8.0f} {unit}/s")
    sys.stdout.flush()


def dsn(stack: Stack, service: str) -> str:
    """The asyncpg address of a service's own database."""
    return postgres.asyncpg_dsn(postgres.database_url(stack.admin_url, f"tally_{service}"))


def sign_up(client: httpx.Client) -> Person:
    """A new person with a household of their own, signed up and in through the gateway."""
    return Person(client, f"bench-{random.randrange(10**9)}@example.com", "Bench")


async def newest_position(stack: Stack, tenant: UUID) -> int:
    """The ledger's position for the household: the outbox id of the last event it wrote for it
    (tallykit.positions; the outbox keeps published rows)."""
    ledger = await asyncpg.connect(dsn(stack, "ledger"))
    try:
        return int(await ledger.fetchval("SELECT coalesce(max(id), 0) FROM outbox WHERE key = $1",
                                         str(tenant)))
    finally:
        await ledger.close()


async def consumers_caught_up(stack: Stack, tenant: UUID, before: int, target: int, started: float,
                              limit_s: float) -> dict[str, Any]:
    """Wait (at most `limit_s` from `started`) until budget and analytics have each applied the ledger's
    position `target` for the household, as their `applied_positions` say (written in the transaction of
    the read-model change). Seconds from `started` per consumer that got there, and how many of the
    ledger's events after `before` each had applied when it stopped looking."""
    caught_up: dict[str, float] = {}
    applied: dict[str, int] = {}
    first: dict[str, int] = {}  # applied when it began looking
    total = target - before
    connections = {name: await asyncpg.connect(dsn(stack, name)) for name in CONSUMERS}
    began = time.perf_counter()
    try:
        while True:
            for name, connection in connections.items():
                position = await connection.fetchval(
                    "SELECT position FROM applied_positions WHERE source = 'ledger' AND tenant_id = $1",
                    tenant)
                applied[name] = max(0, min(total, (position or 0) - before))
                first.setdefault(name, applied[name])
                if name not in caught_up and (position or 0) >= target:
                    caught_up[name] = time.perf_counter() - started
            progress("consumers", min(applied.values()), total, started, "events")
            if len(caught_up) == len(CONSUMERS) or time.perf_counter() - started >= limit_s:
                break
            await asyncio.sleep(0.5)
    finally:
        for connection in connections.values():
            await connection.close()
    print()
    return {"seconds": caught_up, "handled": applied, "events": total, "limit_s": limit_s,
            "first_handled": first, "began_s": began - started, "ended_s": time.perf_counter() - started}


async def copy_into_empty_copies(db: asyncpg.Connection, tables: Mapping[str, tuple[Sequence[str], str]],
                                 *args: Any) -> dict[str, float]:
    """The rows a run wrote, table by table (`tables`: name → (columns, WHERE clause with `args`)), copied
    with COPY in one transaction into empty copies of those tables with all their indexes: the least time
    any code that keeps these tables can take on this machine, whatever it does. Seconds per table."""
    print("Copying what was written into empty copies of its tables ...")
    written = {}
    for table, (columns, where) in tables.items():
        query = f"SELECT {', '.join(columns)} FROM {table} {where}"  # noqa: S608 - the bench's own names
        written[table] = [tuple(r) for r in await db.fetch(query, *args)]
        await db.execute(f"CREATE TABLE floor_{table} (LIKE {table} INCLUDING ALL)")
    took: dict[str, float] = {}
    async with db.transaction():
        for table, (columns, _) in tables.items():
            began = time.perf_counter()
            await db.copy_records_to_table(f"floor_{table}", columns=list(columns), records=written[table])
            took[table] = time.perf_counter() - began
            print(f"  {table}: {len(written[table]):,} rows in {took[table]:.2f} s")
    for table in tables:
        copied = await db.fetchval(f"SELECT count(*) FROM floor_{table}")  # noqa: S608 - as above
        assert copied == len(written[table])
    return took


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: Iterable[int]) -> dict[int, float]:
    """CPU time (user + system) each of these processes has used so far; gone ones are left out."""
    used = {}
    for pid in pids:
        try:
            fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / _TICKS
    return used


def postgres_processes(stack: Stack, database: str | None = None) -> list[int]:
    """The stack's PostgreSQL server processes (postmaster and children), or only the backends serving
    `database` (their command line names it)."""
    found = next((stack.data_dir / "postgres").rglob("postmaster.pid"), None)
    if found is None:
        return []
    postmaster = int(found.read_text().split()[0])
    tree = process_tree(postmaster)
    if database is None:
        return tree
    named = []
    for pid in tree:
        try:
            title = (Path("/proc") / str(pid) / "cmdline").read_text(errors="replace").replace("\0", " ")
        except OSError:
            continue
        if f" {database} " in title:
            named.append(pid)
    return named


class CpuWatch:
    """CPU seconds that groups of processes use while something runs (processes that appear meanwhile
    count from zero; one that ends meanwhile is not counted)."""

    def __init__(self, groups: Mapping[str, Callable[[], Iterable[int]]]) -> None:
        self.groups = groups
        self.used: dict[str, float] = {}

    def __enter__(self) -> "CpuWatch":
        self._started = time.perf_counter()
        self._before = {name: cpu_seconds(pids()) for name, pids in self.groups.items()}
        return self

    def __exit__(self, *_: object) -> None:
        self.wall_s = time.perf_counter() - self._started
        for name, pids in self.groups.items():
            now, before = cpu_seconds(pids()), self._before[name]
            self.used[name] = sum(t - before.get(pid, 0.0) for pid, t in now.items())


def _status_kib(pid: int, field: str) -> int | None:
    try:
        for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class MemoryWatch:
    """Resident memory of one process while something runs: sampled every `every_s` seconds (VmRSS) and
    the kernel's own peak (VmHWM, reset at the start where the kernel allows it: `clear_refs` 5)."""

    def __init__(self, pid: int, every_s: float = 0.05) -> None:
        self.pid, self.every_s = pid, every_s
        self.samples: list[tuple[float, float]] = []  # (seconds from start, MiB)
        self.before_mib = (_status_kib(pid, "VmRSS") or 0) / 1024
        self.peak_reset = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> "MemoryWatch":
        try:
            (Path("/proc") / str(self.pid) / "clear_refs").write_text("5")
            self.peak_reset = True
        except OSError:
            pass
        self._started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.hwm_mib = (_status_kib(self.pid, "VmHWM") or 0) / 1024
        self.after_mib = (_status_kib(self.pid, "VmRSS") or 0) / 1024

    def _sample(self) -> None:
        while not self._stop.is_set():
            kib = _status_kib(self.pid, "VmRSS")
            if kib is not None:
                self.samples.append((time.perf_counter() - self._started, kib / 1024))
            self._stop.wait(self.every_s)

    def current_mib(self) -> float:
        return (_status_kib(self.pid, "VmRSS") or 0) / 1024

    @property
    def peak_mib(self) -> float:
        """The highest resident memory seen: the kernel's peak if it was reset here, else the samples'."""
        sampled = max((mib for _, mib in self.samples), default=0.0)
        return max(sampled, self.hwm_mib) if self.peak_reset else sampled

    def summary(self) -> dict[str, Any]:
        return {"before_mib": self.before_mib, "peak_mib": self.peak_mib, "after_mib": self.after_mib,
                "kernel_peak_mib": self.hwm_mib if self.peak_reset else None,
                "sampled_peak_mib": max((mib for _, mib in self.samples), default=0.0),
                "samples": [(round(t, 2), round(mib, 1)) for t, mib in self.samples[::10]]}
