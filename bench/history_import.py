"""Benchmark: migrate a 100,000-transaction Actual Budget export end to end through the gateway until the
ledger, budget and analytics all show it, against PostgreSQL COPY of the same rows in the same run.

    uv run python bench/history_import.py [--transactions 100000] [--export PATH] [--catch-up-limit 600]
                                          [--py-spy FILE] [--memory-only]

The export is made with Actual's own code (`bench/fixtures/make_actual_large.mjs`, `@actual-app/api`:
13 accounts, 44 categories in 9 groups, 300 payees, splits, transfers, five years of envelope budgets)
and cached under `bench/.cache/` (never checked in); making it takes some minutes, and the first time
`npm ci` in `bench/fixtures/` (builds better-sqlite3: about three more). `--export` takes any Actual
export instead (with the figures JSON beside it, if there is one, the balances are checked).

It starts the whole local stack (every service, the gateway, the broker, embedded PostgreSQL, the SMTP
sink, as `make up` runs them) in a temporary folder and signs up a household through the gateway. Then
what the web client's import screen sends: `POST /api/ledger/histories` with `dry_run` (upload, read,
say what the file holds), then the import itself, which answers once the ledger has written every
event and read-model row (or, for a large history, 202 once it is checked, and writes on: then the
migration is polled until it is imported). Then it waits until budget and analytics have each applied
the ledger's last event of the migration (their `applied_positions`), showing progress. Meanwhile the
ledger process's resident memory is sampled, and its peak taken from the kernel (VmHWM, reset first).

The gateway as configured by default is tried first with the dry run and its answer reported (its 1 MiB
body limit applies: `histories` is not one of its upload paths; and it waits 10 s for an answer); then
it is restarted with limits the import fits in, so the rest can be measured.

Baselines, with the services and the broker stopped so they have the machine to themselves:
- COPY of the same rows (date, amount, payee, note) into a scratch table of the ledger's database;
- COPY of exactly what the migration wrote (its events, read-model rows and split parts, outbox rows)
  into empty copies of those tables with all their indexes.

`--memory-only` imports on a fresh stack, records the ledger's memory for that export size in
bench/results/history_import_memory.json and stops (no consumers, no baselines): run it for a few sizes
to see how memory scales; the main run's table shows every size recorded there.

Prints a table and writes bench/results/history_import.{json,md}.
"""

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
from stack_bench import (
    CONSUMERS,
    CpuWatch,
    MemoryWatch,
    consumers_caught_up,
    copy_into_empty_copies,
    dsn,
    newest_position,
    postgres_processes,
    progress,
    sign_up,
)

from tally_ledger.history.actual import read as read_actual
from tally_ledger.history.model import HistoryTransaction
from tally_ledger.projections import TRANSACTION_COLUMNS
from tallystack.measure import process_tree, sharing
from tallystack.stack import SERVICES, Ports, Stack

HERE = Path(__file__).parent
RESULTS = HERE / "results"
CACHE = HERE / ".cache"
FIXTURES = HERE / "fixtures"
MEMORY = RESULTS / "history_import_memory.json"
# The same, measured before the migration streamed (commit 6680594: it held every entry and event at once).
MEMORY_BEFORE = RESULTS / "history_import_memory_before.json"
GOAL_S = 60.0
MEMORY_GOAL_MIB = 300.0
PROFILE_RATE = 200  # py-spy samples per second
CURRENCY = "EUR"  # Actual keeps no currency: the person names it
# What the gateway is given when its defaults refuse the file (see the docstring).
GATEWAY_RAISED = {"TALLY_GATEWAY_MAX_BODY_BYTES": str(300 * 1024 * 1024),
                  "TALLY_GATEWAY_UPSTREAM_TIMEOUT_S": "3600"}


# --- the export ----------------------------------------------------------------------------------

def fixture(transactions: int, seed: int) -> tuple[Path, dict[str, Any] | None, float | None]:
    """The cached export of `transactions` entries (made with Actual's API when missing), its figures,
    and the seconds making it took now (None when it was there)."""
    zipped = CACHE / f"actual_{transactions}_seed{seed}.zip"
    figures = zipped.with_suffix(".json")
    made = None
    if not zipped.exists() or not figures.exists():
        CACHE.mkdir(exist_ok=True)
        (CACHE / ".gitignore").write_text("*\n")
        node = shutil.which("node")
        if node is None:
            sys.exit("node is needed to make the Actual export (or give one with --export PATH)")
        if not (FIXTURES / "node_modules" / "@actual-app" / "api").exists():
            print("Installing @actual-app/api (npm ci in bench/fixtures: builds better-sqlite3, minutes) ...",
                  flush=True)
            subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=FIXTURES, check=True)  # noqa: S607
        print(f"Making a {transactions:,}-transaction Actual export with @actual-app/api "
              "(some minutes; cached in bench/.cache) ...", flush=True)
        began = time.perf_counter()
        # Its progress goes to stderr (shown), Actual's own messages to stdout (not).
        making = subprocess.run([node, "make_actual_large.mjs", str(zipped), "--transactions",
                                 str(transactions), "--seed", str(seed)],
                                cwd=FIXTURES, stdout=subprocess.DEVNULL, check=False)
        if making.returncode != 0 or not zipped.exists():
            sys.exit(f"making the export failed (exit {making.returncode})")
        made = time.perf_counter() - began
        print(f"\n  made in {made:.0f} s")
    return zipped, json.loads(figures.read_text()), made


def figures_beside(export: Path) -> dict[str, Any] | None:
    beside = export.with_suffix(".json")
    return json.loads(beside.read_text()) if beside.exists() else None


# --- the run -------------------------------------------------------------------------------------

def run(export: Path, figures: dict[str, Any] | None, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tally-bench-") as folder:
        stack = Stack(Path(folder), Ports.free(), progress=lambda line: print(line, flush=True))
        try:
            stack.start()
            return asyncio.run(_measure(stack, export, figures, args))
        finally:
            stack.stop()


def _restart_gateway(stack: Stack, env: dict[str, str]) -> None:
    os.environ.update(env)  # Stack.env passes the environment on to the process it starts
    stack.stop_service("gateway")
    stack.start_service("gateway")
    stack.wait_ready()


@contextmanager
def _profiled(pid: int, out: Path | None) -> Iterator[None]:
    """py-spy sampling the process meanwhile (collapsed stacks in `out`), when asked for."""
    if out is None:
        yield
        return
    spy = shutil.which("py-spy")
    if spy is None:
        sys.exit("--py-spy needs py-spy on PATH (uv tool install py-spy)")
    with subprocess.Popen([spy, "record", "--pid", str(pid), "--rate", str(PROFILE_RATE), "--format", "raw",
                           "--output", str(out), "--nonblocking"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) as recording:
        time.sleep(1)  # attached
        try:
            yield
        finally:
            recording.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
            recording.wait(timeout=60)


async def _measure(stack: Stack, export: Path, figures: dict[str, Any] | None,
                   args: argparse.Namespace) -> dict[str, Any]:
    data = await asyncio.to_thread(export.read_bytes)
    print("Reading the export in this process (the reader alone, no HTTP, no database) ...")
    began = time.perf_counter()
    history = read_actual(export)  # a first pass over every row, keeping what it found
    # and a second pass, over the entries themselves
    splits = sum(1 for t in history.entries() if isinstance(t, HistoryTransaction) and t.parts)
    read_alone_s = time.perf_counter() - began
    entries = history.transaction_count
    result: dict[str, Any] = {
        "export": str(export), "file_bytes": len(data), "entries": entries,
        "transfers": history.transfer_count, "splits": splits,
        "accounts": len(history.accounts), "categories": len(history.categories),
        "payees": len(history.payees),
        "budget_months": len(history.budgets), "summary": history.summary(), "read_alone_s": read_alone_s,
        "load_before": os.getloadavg()[0], "commit": _commit()}
    print(f"  {history.summary()}: {len(data) / 1e6:.1f} MB, read in {read_alone_s:.1f} s")
    with httpx.Client(base_url=stack.url, timeout=60) as sync_client:
        person = sign_up(sync_client)
    tenant, headers = UUID(person.home), person.auth
    ledger_pid = stack.processes["ledger"].pid
    form = {"currency": CURRENCY}

    async with httpx.AsyncClient(base_url=stack.url, timeout=3600) as client:
        await asyncio.sleep(3)  # the household's own events (default categories) settle first

        async def post(dry_run: bool) -> httpx.Response:
            return await client.post("/api/ledger/histories", files={"file": (export.name, data)},
                                     data={**form, "dry_run": "true"} if dry_run else form, headers=headers)

        print("Trying the gateway as configured by default (dry run) ...")
        probe = await post(dry_run=True)
        result["default_gateway"] = {"status": probe.status_code, "detail": probe.text[:300]}
        print(f"  answered {probe.status_code}"
              + (f": {_problem_detail(probe.text)[:200]}" if probe.status_code != 201 else ""))
        if probe.status_code not in (201, 413, 504):
            probe.raise_for_status()
        # Even a file it lets through: the import answers when it is done, later than its 10 s.
        print("  restarting the gateway with a larger body limit and upstream timeout ...")
        _restart_gateway(stack, GATEWAY_RAISED)
        result["gateway_env"] = GATEWAY_RAISED

        before = await newest_position(stack, tenant)
        print("Migrating through the gateway (dry run, then the import) ...")
        started = time.perf_counter()
        with MemoryWatch(ledger_pid) as memory:  # over both requests: each reads the whole file
            dry = await post(dry_run=True)
            assert dry.status_code == 201, dry.text
            found = dry.json()["found"]
            assert found["transactions"] == entries, found
            result["dry_run_s"] = time.perf_counter() - started
            result["rss_after_dry_run_mib"] = memory.current_mib()
            print(f"  dry run answered in {result['dry_run_s']:.1f} s: {found['summary']}")
            print("  importing (the ledger answers when it has written it all, or 202 and writes on) ...")
            posted = time.perf_counter()
            with CpuWatch(_cpu_groups(stack)) as cpu, _profiled(ledger_pid, args.py_spy):
                importing = asyncio.create_task(post(dry_run=False))
                while not importing.done():  # the migration's counts move chunk by chunk
                    await asyncio.wait({importing}, timeout=1.0)
                    await _show_progress(client, headers, entries, posted)
                answer = importing.result()
                assert answer.status_code in (201, 202), f"{answer.status_code}: {answer.text[:2000]}"
                result["answered_s"] = time.perf_counter() - posted
                result["answer_status"] = answer.status_code
                migration = answer.json()["migration"]
                while migration["status"] == "importing":  # 202: written after the answer
                    await asyncio.sleep(0.5)
                    polled = await client.get(f"/api/ledger/histories/{migration['id']}", headers=headers)
                    polled.raise_for_status()
                    migration = polled.json()
                    progress("ledger", _written(migration["counts"]), entries, posted, "entries")
                print()
            assert migration["status"] == "imported", migration
            result["post_s"] = time.perf_counter() - posted
            result["import_s"] = time.perf_counter() - started
        result["migration"] = migration
        result["memory"] = memory.summary()
        result["cpu_import"] = {**cpu.used, "wall": cpu.wall_s}
        print(f"  imported in {result['post_s']:.1f} s; ledger memory {memory.before_mib:.0f} MiB before the "
              f"dry run, {result['rss_after_dry_run_mib']:.0f} after it, peak {memory.peak_mib:.0f} MiB, "
              f"{memory.after_mib:.0f} after the import")
        print("  CPU seconds used while the import ran: "
              + ", ".join(f"{name} {used:.1f}" for name, used in result["cpu_import"].items()))
        await _check_ledger(stack, tenant, entries, figures)
        if args.memory_only:
            return result
        after = await newest_position(stack, tenant)
        with CpuWatch(_cpu_groups(stack)) as cpu:
            result["consumers"] = await consumers_caught_up(stack, tenant, before, after, started,
                                                            result["import_s"] + args.catch_up_limit)
        result["cpu_catch_up"] = {**cpu.used, "wall": cpu.wall_s}
        result["consumers"]["shown"] = await _consumers_show(stack, tenant)
        result["unusual_alerts"] = await _unusual_alerts(stack, tenant)

        # The baselines get the machine to themselves: only PostgreSQL keeps running.
        for name in list(stack.processes):
            stack.stop_service(name)
        stack.stop_broker()
        ledger = await asyncpg.connect(dsn(stack, "ledger"))
        try:
            print("Loading the same rows with COPY into a scratch table ...")
            rows: list[tuple[date, int, str, str]] = [
                (t.booked_on, t.amount_minor, t.payee, t.note) for t in history.entries()]
            history.close()
            await ledger.execute("CREATE TABLE copy_baseline (booked_on date, amount_minor bigint, "
                                 "payee text, note text)")
            began = time.perf_counter()
            await ledger.copy_records_to_table("copy_baseline", records=rows)
            result["copy_s"] = time.perf_counter() - began
            assert await ledger.fetchval("SELECT count(*) FROM copy_baseline") == entries
            print(f"  {entries:,} rows in {result['copy_s']:.2f} s")
            result["floor_tables_s"] = await copy_what_the_migration_wrote(ledger, tenant, migration["id"])
        finally:
            await ledger.close()
    result["floor_s"] = sum(result["floor_tables_s"].values())
    result["load_after"] = os.getloadavg()[0]
    return result


async def _show_progress(client: httpx.AsyncClient, headers: dict[str, str], entries: int,
                         started: float) -> None:
    """The running migration's entries written so far (GET /histories), as a progress line."""
    listed = await client.get("/api/ledger/histories", params={"limit": 1}, headers=headers)
    if listed.status_code != 200 or not listed.json()["items"]:
        return
    progress("ledger", _written(listed.json()["items"][0]["counts"]), entries, started, "entries")


def _written(counts: dict[str, int]) -> int:
    return sum(counts.get(key, 0) for key in ("transactions_new", "transfers_new", "already_there"))


def _commit() -> str:
    """The commit measured, and whether the working tree held changes beside it."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=HERE, capture_output=True, text=True,  # noqa: S607
                              check=False).stdout.strip()
    head = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no")
    return f"{head} with uncommitted changes" if dirty else head


def _cpu_groups(stack: Stack) -> dict[str, Callable[[], Iterable[int]]]:
    """Whose CPU time is counted while the import runs and while the consumers catch up."""
    def service(name: str) -> Callable[[], Iterable[int]]:
        return lambda: process_tree(stack.processes[name].pid) if name in stack.processes else []

    return {**{name: service(name) for name in ("gateway", *SERVICES)},
            "broker": lambda: [stack.broker.pid] if stack.broker is not None else [],
            "PostgreSQL: the ledger's connections": lambda: postgres_processes(stack, "tally_ledger"),
            "PostgreSQL: all": lambda: postgres_processes(stack)}


async def _check_ledger(stack: Stack, tenant: UUID, entries: int, figures: dict[str, Any] | None) -> None:
    """The ledger's read model shows every entry, and each account's balance is Actual's own figure."""
    ledger = await asyncpg.connect(dsn(stack, "ledger"))
    try:
        shown = await ledger.fetchval(
            "SELECT count(*) FROM transactions WHERE tenant_id = $1 AND NOT deleted", tenant)
        assert shown == entries, f"the ledger's read model shows {shown} of {entries} transactions"
        if figures is not None:
            balances = {name: balance for name, balance in await ledger.fetch(
                "SELECT name, balance_minor FROM accounts WHERE tenant_id = $1", tenant)}
            wrong = {name: (balances.get(name), want) for name, want in figures["balance_minor"].items()
                     if balances.get(name) != want}
            assert not wrong, f"balances differ from Actual's (ledger, Actual): {wrong}"
    finally:
        await ledger.close()


async def _consumers_show(stack: Stack, tenant: UUID) -> dict[str, int]:
    """How many of the household's transactions and transfers each consumer has handled (its inbox)."""
    shown = {}
    for name in CONSUMERS:
        connection = await asyncpg.connect(dsn(stack, name))
        try:
            shown[name] = await connection.fetchval(
                "SELECT count(*) FROM inbox WHERE tenant_id = $1 AND type IN "
                "('ledger.TransactionRecorded', 'ledger.TransferRecorded')", tenant)
        finally:
            await connection.close()
    return shown


async def _unusual_alerts(stack: Stack, tenant: UUID) -> int:
    """How many unusual-spending alerts analytics raised for the household (its history is years old:
    none should be; tally_analytics.unusual judges only the current and the previous month)."""
    connection = await asyncpg.connect(dsn(stack, "analytics"))
    try:
        return int(await connection.fetchval("SELECT count(*) FROM unusual WHERE tenant_id = $1", tenant))
    finally:
        await connection.close()


async def copy_what_the_migration_wrote(db: asyncpg.Connection, tenant: UUID,
                                        migration_id: str) -> dict[str, float]:
    """The rows the migration wrote (its events, read-model rows and split parts, outbox rows) copied
    with COPY into empty copies of those tables with all their indexes. Seconds per table."""
    # Every event of a migration carries the migration's id as its correlation id.
    events = "SELECT event_id FROM event_store WHERE tenant_id = $1 AND envelope->>'correlation_id' = $2"
    streams = ("SELECT stream_id FROM event_store WHERE tenant_id = $1 AND envelope->>'correlation_id' = $2 "
               "AND type IN ('ledger.TransactionRecorded', 'ledger.TransferRecorded')")
    return await copy_into_empty_copies(db, {
        "event_store": (["event_id", "tenant_id", "stream_id", "stream_version", "type", "envelope"],
                        f"WHERE event_id IN ({events})"),
        "transactions": (list(TRANSACTION_COLUMNS), f"WHERE tenant_id = $1 AND id IN ({streams})"),
        "transaction_splits": (["transaction_id", "position", "tenant_id", "category_id", "amount_minor",
                                "note"], f"WHERE tenant_id = $1 AND transaction_id IN ({streams})"),
        "outbox": (["event_id", "topic", "key", "envelope"], f"WHERE event_id IN ({events})"),
    }, tenant, migration_id)


# --- the report ----------------------------------------------------------------------------------

def _memory_sizes(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Every export size whose ledger memory is recorded (this run's included), smallest first."""
    recorded = json.loads(MEMORY.read_text()) if MEMORY.exists() else {}
    recorded[str(result["entries"])] = _memory_entry(result)
    return sorted(recorded.values(), key=lambda m: m["entries"])


def _memory_before() -> list[dict[str, Any]]:
    recorded = json.loads(MEMORY_BEFORE.read_text()) if MEMORY_BEFORE.exists() else {}
    return sorted(recorded.values(), key=lambda m: m["entries"])


def _memory_entry(result: dict[str, Any]) -> dict[str, Any]:
    memory = result["memory"]
    return {"entries": result["entries"], "file_bytes": result["file_bytes"], "post_s": result["post_s"],
            "before_mib": memory["before_mib"], "after_dry_run_mib": result["rss_after_dry_run_mib"],
            "peak_mib": memory["peak_mib"], "after_mib": memory["after_mib"],
            "measured": f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"}


def report(result: dict[str, Any], made_s: float | None) -> str:
    n = result["entries"]
    consumers = result["consumers"]
    seconds, handled, events = consumers["seconds"], consumers["handled"], consumers["events"]
    limit = consumers["limit_s"]
    memory = result["memory"]

    def caught_up(name: str) -> str:
        if name in seconds:
            return f"{seconds[name]:.1f}"
        return (f"not within {limit:.0f} s of the first request: {handled[name]:,} of {events:,} events "
                "applied")

    finished = [seconds[name] for name in CONSUMERS if name in seconds]
    total_s = max(finished) if len(finished) == len(CONSUMERS) else None
    ledger_write_s = result["post_s"] - result["dry_run_s"]
    floor = result["floor_tables_s"]
    default = result["default_gateway"]
    lines = [
        f"# History import benchmark: Actual Budget → Tally ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"{result['summary']}: an export made with `@actual-app/api` 26.9.0 (`bench/fixtures/"
        f"make_actual_large.mjs`; {result['file_bytes'] / 1e6:.1f} MB zip; {result['splits']:,} splits, "
        f"{result['budget_months']:,} budgeted category-months"
        + (f"; making it took {made_s:.0f} s" if made_s is not None else "") + "). "
        f"{n:,} entries as Tally counts them (a transfer is one). On {platform.machine()} "
        f"({os.cpu_count()} cores, load average {result['load_before']:.1f} before and "
        f"{result['load_after']:.1f} after: {sharing(max(result['load_before'], result['load_after']))}), "
        f"Python {platform.python_version()}, commit {result['commit']}. The whole local stack runs as "
        "`make up` runs it; the file goes "
        "through the gateway as the web client sends it: a dry run (what the file holds), then the import.",
        "",
        "| stage | seconds (from the first request) | seconds (stage) | entries/s |",
        "|---|---:|---:|---:|",
        f"| upload + read + summary (`dry_run`) | {result['dry_run_s']:.1f} | {result['dry_run_s']:.1f} | |",
        *([f"| import answered `202` (upload, read again, every entry worked out and checked; written after) "
           f"| {result['dry_run_s'] + result['answered_s']:.1f} | {result['answered_s']:.1f} | |"]
          if result.get("answer_status") == 202 else []),
        "| import written: upload + read again, plan, the ledger's write (events, read model, outbox) | "
        f"{result['import_s']:.1f} | {result['post_s']:.1f} | {n / result['post_s']:,.0f} |",
        "| &nbsp;&nbsp;of which the ledger's plan and write (import minus dry run) | | "
        f"{ledger_write_s:.1f} | "
        f"{n / ledger_write_s:,.0f} |",
        *(f"| {name} caught up (applied the migration's last event) | {caught_up(name)} | "
          + (f"{seconds[name] - result['import_s']:.1f} |" if name in seconds else " |")
          + (f" {n / seconds[name]:,.0f} |" if name in seconds else " |") for name in CONSUMERS),
        "| **total: ledger, budget and analytics all show it** | "
        + (f"**{total_s:.1f}** | | **{n / total_s:,.0f}** |" if total_s is not None
           else f"**not within {limit:.0f} s** | | |"),
        f"| reading the export alone (this process, no HTTP, no database) | | {result['read_alone_s']:.1f} | "
        f"{n / result['read_alone_s']:,.0f} |",
        f"| PostgreSQL COPY of the same rows into a scratch table | | {result['copy_s']:.2f} | "
        f"{n / result['copy_s']:,.0f} |",
        "| PostgreSQL COPY of what the migration wrote into empty copies of its tables, with their "
        f"indexes | | "
        f"{result['floor_s']:.2f} | {n / result['floor_s']:,.0f} |",
        *(f"| &nbsp;&nbsp;of which `{table}` | | {took:.2f} | |" for table, took in floor.items()),
        "",
        *_catch_up_lines(result),
        f"Goal: everything shown within {GOAL_S:.0f} s: **"
        + ("met" if total_s is not None and total_s <= GOAL_S else "not met") + "**. "
        f"COPY of the same rows is {result['post_s'] / result['copy_s']:,.0f} times faster than the ledger's "
        f"answer; copying exactly what the migration writes is {result['post_s'] / result['floor_s']:.1f} "
        "times faster. When the wait ended, the consumers' inboxes held "
        + ", ".join(f"{name} {consumers['shown'][name]:,}" for name in CONSUMERS)
        + f" of the {n:,} transactions and transfers."
        + (f" Unusual-spending alerts analytics raised for the history: {result['unusual_alerts']:,}."
           if "unusual_alerts" in result else ""),
        "",
        "Gateway: as configured by default it answered the dry run "
        f"**{default['status']}**"
        + (f" (`{_problem_detail(default['detail'])}`): `/api/ledger/histories` is not among its upload "
           "paths, so its 1 MiB body limit applies, and it waits 10 s for an answer"
           if default["status"] != 201 else ": the file got through as the web client sends it")
        + "; this run restarted it with "
        f"{', '.join(f'`{k}={v}`' for k, v in GATEWAY_RAISED.items())} all the same (the import itself "
        "answers 202 once the migration is checked, and writes on).",
        "",
        f"Memory of the ledger process (resident; the peak from the kernel's VmHWM, reset before the dry "
        f"run, and samples every 50 ms): {memory['before_mib']:.0f} MiB before the dry run, "
        f"{result['rss_after_dry_run_mib']:.0f} MiB after it, **{memory['peak_mib']:.0f} MiB** at the peak, "
        f"{memory['after_mib']:.0f} MiB after the import. Goal: under {MEMORY_GOAL_MIB:.0f} MiB. By export "
        "size (each on a fresh stack, `--memory-only`, or this run):",
        "",
        "| export | zip | import written | ledger RSS before | after the dry run | peak | after |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        *(f"| {m['entries']:,} entries{label} | {m['file_bytes'] / 1e6:.1f} MB | {m['post_s']:.1f} s | "
          f"{m['before_mib']:.0f} MiB | {m.get('after_dry_run_mib', float('nan')):.0f} MiB | "
          f"{m['peak_mib']:.0f} MiB | {m['after_mib']:.0f} MiB |"
          for label, sizes in (("", _memory_sizes(result)), (", before streaming", _memory_before()))
          for m in sizes),
        "",
        *_cpu_lines("the import request", result["cpu_import"]),
        *_cpu_lines("the wait for budget and analytics", result["cpu_catch_up"]),
        *(_profile_lines(result["profile"]) if result.get("profile") else []),
    ]
    return "\n".join(lines) + "\n"


def _problem_detail(text: str) -> str:
    try:
        return str(json.loads(text)["detail"])
    except (ValueError, KeyError, TypeError):
        return text[:160]


def _catch_up_lines(result: dict[str, Any]) -> list[str]:
    """How fast the slower consumer went while the import ran and after it answered, and what each
    event cost budget, analytics and the broker in CPU while they caught up."""
    consumers = result["consumers"]
    if "first_handled" not in consumers:
        return []
    first, last = min(consumers["first_handled"].values()), min(consumers["handled"].values())
    waited = consumers["ended_s"] - consumers["began_s"]
    applied = last - first
    cpu = result["cpu_catch_up"]
    per_event = ", ".join(f"{name} {1000 * cpu[name] / applied:.1f} ms"
                          for name in ("budget", "analytics", "broker")) if applied else "nothing applied"
    # Over the import and the wait together: a consumer that keeps up during the import leaves little
    # to catch up, and what it spent then is not in the wait's figure.
    whole = result.get("cpu_import", {})
    overall = ", ".join(f"{name} {1000 * (whole.get(name, 0.0) + cpu[name]) / consumers['events']:.1f} ms"
                        for name in ("budget", "analytics"))
    return [f"The slower of budget and analytics had applied {first:,} of the {consumers['events']:,} events "
            f"when the import answered ({first / result['import_s']:.0f} events/s while it ran) and "
            f"{last:,} {waited:.0f} s later ({applied / waited:.0f} events/s). CPU per event applied "
            f"while they caught up: {per_event} (the broker serves three consumer groups). CPU per event "
            f"of the migration over the import and the wait together: {overall}.", ""]


def _cpu_lines(what: str, used: dict[str, float]) -> list[str]:
    wall = used["wall"]
    cores = os.cpu_count() or 1
    counted = {name: seconds for name, seconds in used.items()
               if name not in ("wall", "PostgreSQL: the ledger's connections")}
    return [f"CPU seconds used while {what} ran ({wall:.1f} s of wall time, {wall * cores:.0f} CPU "
            f"seconds on {cores} cores; the rest went to other work on the machine or to no one):", "",
            "| process | CPU s | share of the wall time |", "|---|---:|---:|",
            *(f"| {name} | {seconds:.1f} | {100 * seconds / wall:.0f} % |" for name, seconds in used.items()
              if name != "wall"),
            f"| all of the stack | {sum(counted.values()):.1f} | "
            f"{100 * sum(counted.values()) / wall:.0f} % |",
            ""]


def _save_memory(result: dict[str, Any]) -> None:
    recorded = json.loads(MEMORY.read_text()) if MEMORY.exists() else {}
    recorded[str(result["entries"])] = _memory_entry(result)
    RESULTS.mkdir(exist_ok=True)
    MEMORY.write_text(json.dumps(dict(sorted(recorded.items(), key=lambda kv: int(kv[0]))), indent=2) + "\n")


# What the ledger process was doing in a sample, by the frames on its stack (first match wins).
ACTIVITIES = (
    ("the migration: reading the export's rows again, chunk by chunk (SQLite)", ("history/actual.py",)),
    ("the migration: checking every entry before the answer (worker thread)", ("history/write.py", "_check")),
    ("the migration: a chunk's events, JSON and read-model rows worked out (worker thread)",
     ("history/write.py", "_prepare")),
    ("the migration: balances and payees (one statement each per chunk)", ("history/write.py", "_count (")),
    ("the migration: event store append (COPY)", ("history/write.py", "append_many")),
    ("the migration: outbox rows (COPY)", ("history/write.py", "enqueue_stored")),
    ("the migration: read-model rows (COPY)", ("history/write.py", "copy_new_transactions")),
    ("the migration: the rest of the write (existing streams, chunks, budgets)", ("history/write.py",)),
    ("the import request: upload, reading the export", ("import_history",)),
    ("outbox relay: publishing to the broker (aiokafka)", ("OutboxRelay",)),
    ("outbox relay: publishing to the broker (aiokafka)", ("aiokafka/producer",)),
    ("categoriser retraining (examples loaded, pickled to its process pool)", ("Trainer",)),
    ("categoriser retraining (examples loaded, pickled to its process pool)", ("ForkingPickler",)),
    ("recurring-series detection", ("Finder.run",)),
    ("the ledger's own consumers", ("consumer",)),
)


def _activity(stack: str) -> str:
    frames = stack.split(";")
    for name, needles in ACTIVITIES:
        if all(needle in stack for needle in needles):
            return name
    if frames[-1].startswith("Runner.run"):
        return "event loop outside Python (sockets, epoll, callbacks)"
    return "no Python frame (native threads)" if not frames[-1] else "other"


def summarise_profile(path: Path, top: int = 12) -> dict[str, Any]:
    """From py-spy's collapsed stacks (every thread of the ledger process): the share of the samples
    each activity took (`ACTIVITIES`) and each function was running in, and the seconds sampled."""
    activities: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        total += int(n)
        own[stack.split(";")[-1] or "(no Python frame)"] += int(n)
        activities[_activity(stack)] += int(n)
    if not total:
        return {}
    return {"sampled_s": total / PROFILE_RATE,
            "activities": [(name, 100 * n / total) for name, n in activities.most_common()],
            "self": [(frame, 100 * n / total) for frame, n in own.most_common(top)]}


def _profile_lines(profile: dict[str, Any]) -> list[str]:
    if not profile:
        return ["py-spy recorded no samples."]
    return [
        f"The ledger process during the import, sampled by py-spy ({PROFILE_RATE}/s, every thread; "
        f"{profile['sampled_s']:.0f} s of samples: a thread py-spy does not see idle is sampled, also while "
        "it waits for a core on a busy machine). What it was doing:",
        "",
        "| % of samples | activity |", "|---:|---|",
        *(f"| {share:.1f} | {name} |" for name, share in profile["activities"]),
        "",
        "The functions most often running:",
        "",
        "| % of samples | function |", "|---:|---|",
        *(f"| {share:.1f} | `{frame}` |" for frame, share in profile["self"]),
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--export", type=Path,
                        help="an Actual export to migrate instead of the generated one")
    parser.add_argument("--catch-up-limit", type=float, default=600.0,
                        help="seconds to wait for budget and analytics once the import answered")
    parser.add_argument("--report-only", action="store_true",
                        help="write the table again from bench/results/history_import.json")
    parser.add_argument("--py-spy", type=Path, help="profile the ledger during the import into this file")
    parser.add_argument("--memory-only", action="store_true",
                        help="only import and record the ledger's memory for this size")
    args = parser.parse_args()
    if args.report_only:
        result = json.loads((RESULTS / "history_import.json").read_text())
        if args.py_spy is not None:
            result["profile"] = summarise_profile(args.py_spy)
        beside = figures_beside(Path(result["export"]))
        made_s = result.get("made_s") or (beside or {}).get("seconds")
    else:
        if args.export is not None:
            export, figures, made_s = args.export, figures_beside(args.export), None
        else:
            export, figures, made_s = fixture(args.transactions, args.seed)
        if made_s is None and figures is not None:
            made_s = figures.get("seconds")  # how long making it took, when it was made
        result = run(export, figures, args)
        result["made_s"] = made_s
        _save_memory(result)
        if args.py_spy is not None:
            result["profile"] = summarise_profile(args.py_spy)
            if args.memory_only:
                print("\n" + "\n".join(_profile_lines(result["profile"])))
        if args.memory_only:
            print(json.dumps(_memory_entry(result), indent=2))
            return
    text = report(result, made_s)
    print()
    print(text)
    (RESULTS / "history_import.md").write_text(text)
    (RESULTS / "history_import.json").write_text(json.dumps(result, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
