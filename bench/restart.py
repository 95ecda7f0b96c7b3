"""Benchmark: what starting the local stack again costs, against how much history it holds.

    uv run python bench/restart.py [--histories 0 100000 1000000] [--tail 1000] [--full-replay 20000]

The local broker keeps records in memory only, so every `make up` starts it empty and the relays publish
again what some consumer group had not applied (tallykit.settling). This measures that start, for each
size of history, in a stack of its own in a temporary folder:

1. the whole stack starts as `make up` starts it; a household signs up and records one expense through
   the gateway (a real event to copy); the stack settles (every consumer idle) and stops, PostgreSQL too;
2. the history is written straight into the databases, not through HTTP (a million events through the
   gateway would take hours, and they are not what is measured): N `ledger.TransactionRecorded` events in
   the ledger's event store and outbox, published, with their ids in the inboxes of budget, analytics and
   notifier and the ledger relay's settled mark past them — as a stack leaves them when its consumers
   were idle at the stop; and a tail of K events published after the mark that no consumer applied: the
   consumers were behind when the stack stopped, so these must still reach them;
3. `make up` again (`Stack.start`, PostgreSQL included), timed until every service is ready, then until
   budget, analytics and notifier have applied the whole tail and nothing is in flight (tallystack's
   `settled`), with the CPU seconds every process of the stack used meanwhile and the records the relays
   published again.

Baseline: the same start with no history (N = 0). Beside it, the start before this design at a smaller
N: no settled mark, so the relay publishes the whole outbox again (what a consumer group new to the mark
gets, or `python -m tally_ledger republish`).

Prints a table and writes bench/results/restart.{json,md}.
"""

import argparse
import asyncio
import json
import os
import platform
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from stack_bench import CpuWatch, dsn, postgres_processes, sign_up

from tallystack import postgres
from tallystack.measure import process_tree, sharing
from tallystack.polling import settled
from tallystack.stack import Ports, Stack

RESULTS = Path(__file__).parent / "results"
READERS = ("budget", "analytics", "notifier")  # the consumer groups of ledger.events
SEED_CHUNK = 100_000


def run(history: int, tail: int, *, settled_mark: bool = True) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tally-bench-restart-") as folder:
        stack = Stack(Path(folder), Ports.free(), progress=lambda line: print(line, flush=True))
        try:
            stack.start()
            tenant = _household(stack)
            settled(stack, [str(tenant)], timeout=300)
            stack.stop(keep_postgres=True)
            print(f"Seeding {history:,} events of history and a tail of {tail:,} ...", flush=True)
            began = time.perf_counter()
            tail_position = asyncio.run(_seed(stack, tenant, history, tail, settled_mark))
            print(f"  seeded in {time.perf_counter() - began:.0f} s", flush=True)
            postgres.stop_embedded(stack.data_dir / "postgres")
            return _restart(stack, tenant, history, tail, tail_position)
        except Exception:
            kept = Path(tempfile.mkdtemp(prefix="tally-bench-restart-logs-"))
            shutil.copytree(stack.logs, kept, dirs_exist_ok=True)
            print(f"The stack's logs are kept in {kept}", flush=True)
            raise
        finally:
            stack.stop()


def _household(stack: Stack) -> UUID:
    with httpx.Client(base_url=stack.url, timeout=60) as client:
        person = sign_up(client)
        account = person.call("POST", "/ledger/accounts", {"name": "Girokonto", "kind": "checking",
                                                           "currency": "EUR"}).json()["id"]
        categories = person.call("GET", "/ledger/categories").json()["items"]
        groceries = next(c["id"] for c in categories if c["name"] == "Groceries")
        person.call("POST", "/ledger/transactions", {
            "account_id": account, "kind": "expense", "amount_minor": 1_234, "category_id": groceries,
            "booked_on": datetime.now(UTC).date().isoformat(),
        }).raise_for_status()
    return UUID(person.home)


async def _seed(stack: Stack, tenant: UUID, history: int, tail: int, settled_mark: bool) -> int:
    """Write the history and the tail; the tail's newest outbox id (the position consumers must reach)."""
    ledger = await asyncpg.connect(dsn(stack, "ledger"))
    try:
        template = await ledger.fetchval(
            "SELECT envelope FROM event_store WHERE tenant_id = $1 AND type = 'ledger.TransactionRecorded'",
            tenant)
        for start in range(0, history, SEED_CHUNK):
            await _seed_events(ledger, tenant, template, start, min(start + SEED_CHUNK, history), "history")
        await ledger.execute(
            "UPDATE outbox SET published_at = now() - interval '1 day' WHERE published_at IS NULL")
        mark = await ledger.fetchval("SELECT max(published_at) FROM outbox")
        await _seed_events(ledger, tenant, template, 0, tail, "tail")
        await ledger.execute("UPDATE outbox SET published_at = $1::timestamptz + interval '1 second'"
                             " WHERE published_at IS NULL", mark)
        # As after a run: the categoriser has counted the history (it is not what a restart costs).
        await ledger.execute(
            "UPDATE categoriser_cursor SET position = (SELECT max(position) FROM event_store)")
        await ledger.execute("DELETE FROM relay_marks WHERE topic = 'ledger.events'")
        if settled_mark:
            await ledger.execute("INSERT INTO relay_marks (topic, settled_through, groups, ends)"
                                 " VALUES ('ledger.events', $1, $2, '{}')", mark, sorted(READERS))
        tail_position = int(await ledger.fetchval("SELECT max(id) FROM outbox"))
        await ledger.execute("VACUUM ANALYZE outbox")
        await ledger.execute("VACUUM ANALYZE event_store")
    finally:
        await ledger.close()
    for reader in READERS:  # the history was applied: its ids are in every reader's inbox
        connection = await asyncpg.connect(dsn(stack, reader))
        try:
            for start in range(0, history, SEED_CHUNK):
                await connection.execute(
                    "INSERT INTO inbox (event_id, type, tenant_id, handled_at)"
                    " SELECT md5('history' || n)::uuid, 'ledger.TransactionRecorded', $1, now()"
                    " FROM generate_series($2::bigint, $3::bigint - 1) n",
                    tenant, start, min(start + SEED_CHUNK, history))
            await connection.execute("VACUUM ANALYZE inbox")
        finally:
            await connection.close()
    return tail_position


async def _seed_events(ledger: asyncpg.Connection, tenant: UUID, template: str, start: int, end: int,
                       kind: str) -> None:
    """Events `start`..`end` of `kind` (ids derived from kind and number, so other databases can name
    them too), copies of the template with their own event and transaction ids, with outbox rows."""
    if end <= start:
        return
    async with ledger.transaction():
        await ledger.execute(
            "INSERT INTO event_store (event_id, tenant_id, stream_id, stream_version, type, envelope)"
            " SELECT id, $1, stream, 1, 'ledger.TransactionRecorded',"
            "   jsonb_set(jsonb_set($2::jsonb, '{id}', to_jsonb(id::text)),"
            "             '{stream_id}', to_jsonb(stream::text))"
            " FROM (SELECT md5($3 || n)::uuid AS id, md5($3 || 'stream' || n)::uuid AS stream"
            "       FROM generate_series($4::bigint, $5::bigint - 1) n) AS ids",
            tenant, template, kind, start, end)
        await ledger.execute(
            "INSERT INTO outbox (event_id, topic, key)"
            " SELECT md5($1 || n)::uuid, 'ledger.events', $2"
            " FROM generate_series($3::bigint, $4::bigint - 1) n",
            kind, str(tenant), start, end)


def _restart(stack: Stack, tenant: UUID, history: int, tail: int, tail_position: int) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    print(f"Starting again with {history:,} events of history ...", flush=True)
    pids = {
        "services": lambda: [p for proc in stack.processes.values() for p in process_tree(proc.pid)],
        "broker": lambda: [stack.broker.pid] if stack.broker else [],
        "postgres": lambda: postgres_processes(stack),
    }
    began = time.perf_counter()
    with CpuWatch(pids) as cpu:
        stack.start()
        ready_s = time.perf_counter() - began
        asyncio.run(_until_applied(stack, tenant, tail_position))
        applied_s = time.perf_counter() - began
        settled(stack, [str(tenant)], timeout=1800)
    idle_s = time.perf_counter() - began
    republished = asyncio.run(_records(stack, "ledger.events"))
    result = {
        "history": history, "tail": tail,
        "ready_s": ready_s, "tail_applied_s": applied_s, "idle_s": idle_s,
        "cpu_s": cpu.used, "ledger_records_republished": republished,
        "load_before": load_before, "load_after": os.getloadavg()[0],
    }
    print(f"  ready {ready_s:.1f} s, tail applied {applied_s:.1f} s, idle {idle_s:.1f} s, "
          f"{republished:,} ledger records published again, CPU {sum(cpu.used.values()):.0f} s", flush=True)
    return result


async def _until_applied(stack: Stack, tenant: UUID, position: int) -> None:
    """Until every reader of ledger.events has applied the ledger's position (its applied_positions)."""
    connections = {name: await asyncpg.connect(dsn(stack, name)) for name in READERS}
    deadline = time.monotonic() + 1800  # only bounds a failure
    try:
        waiting = set(READERS)
        while waiting:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{', '.join(sorted(waiting))} did not apply the tail")
            for name in list(waiting):
                applied = await connections[name].fetchval(
                    "SELECT position FROM applied_positions WHERE source = 'ledger' AND tenant_id = $1",
                    tenant)
                if (applied or 0) >= position:
                    waiting.discard(name)
            await asyncio.sleep(0.2)
    finally:
        for connection in connections.values():
            await connection.close()


async def _records(stack: Stack, topic: str) -> int:
    client = AIOKafkaConsumer(bootstrap_servers=f"127.0.0.1:{stack.ports.broker}")
    await client.start()
    try:
        await client.topics()
        partitions = [TopicPartition(topic, p) for p in client.partitions_for_topic(topic) or ()]
        return sum((await client.end_offsets(partitions)).values()) if partitions else 0
    finally:
        await client.stop()


def report(results: list[dict[str, Any]], full_replay: dict[str, Any] | None) -> str:
    load = max(max(r["load_before"], r["load_after"]) for r in results)
    baseline = results[0]
    lines = [
        f"# Restart benchmark ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"`make up` again on {platform.machine()} ({os.cpu_count()} cores, load average up to {load:.1f}: "
        f"{sharing(load)}; figures from a shared machine are noisy), Python {platform.python_version()}. "
        "The history is written straight into the databases (not through HTTP), applied by every consumer "
        f"and behind the ledger relay's settled mark; a tail of {baseline['tail']:,} events was published "
        "after the mark and applied by no consumer (they were behind at the stop) and must reach budget, "
        "analytics and notifier. Time from the start (PostgreSQL, broker, migrations, services) until every "
        "service is ready, until the tail is applied, and until nothing is in flight; CPU seconds of every "
        "process of the stack meanwhile; ledger records the relay published again.",
        "",
        "| events of history | settled mark | ready s | tail applied s | idle s | idle after ready s | CPU s "
        "(services / broker / PostgreSQL) | records published again |",
        "|---:|---|---:|---:|---:|---:|---|---:|",
    ]
    rows = [*results, *([full_replay] if full_replay else [])]
    for r in rows:
        cpu = r["cpu_s"]
        lines.append(
            f"| {r['history']:,}{' (baseline)' if r is baseline else ''} | "
            f"{'no: whole outbox again' if r is full_replay else 'yes'} | {r['ready_s']:.1f} | "
            f"{r['tail_applied_s']:.1f} | {r['idle_s']:.1f} | {r['idle_s'] - r['ready_s']:.1f} | "
            f"{sum(cpu.values()):.0f} "
            f"({cpu['services']:.0f} / {cpu['broker']:.0f} / {cpu['postgres']:.0f}) | "
            f"{r['ledger_records_republished']:,} |"
        )
    lines += [
        "",
        "The bound: a restart publishes again the rows published after the relay's settled mark — what "
        "some consumer group had not applied at the stop, plus at most what was published in the last "
        "few seconds before it (checkpoints are `relay_check_interval_s`, 5 s, apart) — whatever the "
        "history before the mark. Without the mark the relay publishes every row again, and the broker's "
        "cost per record grows with its log.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--histories", type=int, nargs="+", default=[0, 100_000, 1_000_000])
    parser.add_argument("--tail", type=int, default=1_000)
    parser.add_argument("--full-replay", type=int, default=20_000,
                        help="history for the start without a settled mark (0: leave it out)")
    args = parser.parse_args()
    results = [run(history, args.tail) for history in args.histories]
    full = run(args.full_replay, args.tail, settled_mark=False) if args.full_replay else None
    text = report(results, full)
    print()
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "restart.md").write_text(text)
    (RESULTS / "restart.json").write_text(
        json.dumps({"runs": results, "full_replay": full}, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
