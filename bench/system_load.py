"""Benchmark: the whole system on the local stack (every service, the gateway, the broker, PostgreSQL,
the SMTP sink as processes), each figure beside a baseline measured in the same run.

    uv run python bench/system_load.py [--step-seconds 8] [--max-concurrency 64] [--lag-seconds 15]

1. Sustained writes: POST /api/ledger/transactions through the gateway at rising concurrency until p99
   passes 100 ms; throughput and p50/p99 of each step. Baseline: as many concurrent single-row INSERT +
   COMMIT statements straight into PostgreSQL, for as long.
2. Event lag at 100 and at 300 transactions/s (`--lag-rates`): from the ledger's commit (its outbox row)
   to the budget and analytics read models (their inbox rows), and to the alert email accepted by SMTP.
   Baseline: a raw Kafka record produced and consumed on the same broker at the same rate.
3. Rebuild: the ledger's read-model rebuild over every event, against reading the events alone.
4. Memory (RSS, with child processes) of each service idle and at the peak of the write load.

The load generator shares the machine's cores with what it measures. Prints a table and writes
bench/results/system_load.{json,md}.
"""

import argparse
import asyncio
import json
import os
import platform
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from tally_ledger import projections
from tally_ledger.settings import LedgerSettings
from tallykit.db import Database
from tallystack import postgres
from tallystack.chaos import Household, create_household
from tallystack.measure import percentile, process_tree, rss_mib
from tallystack.stack import SERVICES, Ports, Stack

RESULTS = Path(__file__).parent / "results"
P99_LIMIT_MS = 100.0


def show(line: str) -> None:
    print(line, flush=True)


# -- memory -------------------------------------------------------------------------------------


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (the analytics fitting pool, for one)."""
    return rss_mib(*process_tree(pid))


class MemoryPeaks(threading.Thread):
    def __init__(self, stack: Stack) -> None:
        super().__init__(daemon=True)
        self.stack = stack
        self.peaks: dict[str, float] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.5):
            for name, process in list(self.stack.processes.items()):
                self.peaks[name] = max(self.peaks.get(name, 0.0), rss_mb(process.pid))


# -- 1. sustained writes ------------------------------------------------------------------------


async def _for_a_while(
    seconds: float, concurrency: int, call: Callable[[int], Awaitable[None]]
) -> list[float]:
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def worker(n: int) -> None:
        i = n
        while time.monotonic() < deadline:
            started = time.perf_counter()
            await call(i)
            latencies.append((time.perf_counter() - started) * 1000)
            i += concurrency

    await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return latencies


async def write_steps(
    stack: Stack, households: list[Household], step_s: float, max_concurrency: int
) -> list[dict[str, Any]]:
    steps = []
    bench_dsn = postgres.asyncpg_dsn(postgres.database_url(stack.admin_url, "bench"))
    await postgres.create_database(stack.admin_url, "bench")
    setup = await asyncpg.connect(bench_dsn)
    await setup.execute(
        "CREATE TABLE IF NOT EXISTS rows (id uuid PRIMARY KEY, account uuid, amount bigint, booked date)"
    )
    await setup.close()
    concurrency = 1
    async with httpx.AsyncClient(
        base_url=stack.url, timeout=30, limits=httpx.Limits(max_connections=max_concurrency)
    ) as client:
        while concurrency <= max_concurrency:
            errors = 0

            async def write(i: int) -> None:
                nonlocal errors
                h = households[i % len(households)]
                body = {
                    "account_id": h.account_id,
                    "kind": "expense",
                    "amount_minor": 100 + i % 900,
                    "category_id": h.category_id,
                    "booked_on": date.today().isoformat(),
                }
                r = await client.post("/api/ledger/transactions", headers=h.auth, json=body)
                errors += r.status_code != 201

            api = await _for_a_while(step_s, concurrency, write)
            pool = await asyncpg.create_pool(bench_dsn, min_size=concurrency, max_size=concurrency)

            async def insert(i: int, pool: asyncpg.Pool = pool) -> None:
                await pool.execute(
                    "INSERT INTO rows VALUES ($1, $2, $3, $4)", uuid4(), uuid4(), i, date.today()
                )

            raw = await _for_a_while(step_s, concurrency, insert)
            await pool.close()
            step = {
                "concurrency": concurrency,
                "api_per_s": len(api) / step_s,
                "api_p50_ms": percentile(api, 50),
                "api_p99_ms": percentile(api, 99),
                "api_errors": errors,
                "insert_per_s": len(raw) / step_s,
                "insert_p50_ms": percentile(raw, 50),
                "insert_p99_ms": percentile(raw, 99),
            }
            steps.append(step)
            show(
                f"  writes at concurrency {concurrency}: {step['api_per_s']:.0f}/s, "
                f"p50 {step['api_p50_ms']:.1f} ms, p99 {step['api_p99_ms']:.1f} ms "
                f"(INSERT {step['insert_per_s']:.0f}/s)"
            )
            if step["api_p99_ms"] > P99_LIMIT_MS:
                break
            concurrency *= 2
    return steps


# -- 2. event lag -------------------------------------------------------------------------------


async def _paced(rate: int, seconds: float, send: Callable[[int], Coroutine[Any, Any, None]]) -> None:
    tasks: list[asyncio.Task[None]] = []
    started = time.monotonic()
    for i in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
        tasks.append(asyncio.create_task(send(i)))
    await asyncio.gather(*tasks)


async def _rows(stack: Stack, database: str, query: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(postgres.asyncpg_dsn(postgres.database_url(stack.admin_url, database)))
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


async def event_lag(
    stack: Stack, households: list[Household], alerting: list[Household], seconds: float, rate: int
) -> dict[str, Any]:
    arrivals: dict[str, float] = {}
    assert stack.mail is not None
    sink = stack.mail
    original = sink.handle_DATA

    async def timed(server: Any, session: Any, envelope: Any) -> str:
        answer = await original(server, session, envelope)
        arrivals[str(sink.messages[-1]["X-Tally-Event-ID"])] = time.time()
        return answer

    sink.handle_DATA = timed  # type: ignore[method-assign]
    window_start = datetime.now(UTC)
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as client:

        async def write(i: int) -> None:
            # Every tenth write spends 90 % of a small budget of a household of its own: an alert email.
            alert = i % 10 == 0 and i // 10 < len(alerting)
            h = alerting[i // 10] if alert else households[i % len(households)]
            body = {
                "account_id": h.account_id,
                "kind": "expense",
                "amount_minor": 900 if alert else 100 + i % 900,
                "category_id": h.category_id,
                "booked_on": date.today().isoformat(),
            }
            await client.post("/api/ledger/transactions", headers=h.auth, json=body)

        await _paced(rate, seconds, write)
    tenants = [h.tenant_id for h in households + alerting]
    committed = {
        r["event_id"]: r["created_at"].timestamp()
        for r in await _rows(
            stack,
            "tally_ledger",
            # The ledger's outbox rows name their events in its event store (outbox.enqueue_stored).
            "SELECT o.event_id::text, o.created_at FROM outbox o JOIN event_store e USING (event_id) "
            "WHERE o.created_at >= $1 AND o.key = ANY($2::text[]) AND e.type = 'ledger.TransactionRecorded'",
            window_start,
            tenants,
        )
    }
    lags: dict[str, list[float]] = {}
    for service in ("budget", "analytics"):
        deadline = time.monotonic() + 120
        while True:
            handled = await _rows(
                stack,
                f"tally_{service}",
                "SELECT event_id::text, handled_at FROM inbox WHERE event_id = ANY($1::uuid[])",
                list(committed),
            )
            if len(handled) >= len(committed) or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        lags[service] = [(r["handled_at"].timestamp() - committed[r["event_id"]]) * 1000 for r in handled]
    causes = {
        r["event_id"]: r["cause"]
        for r in await _rows(
            stack,
            "tally_budget",
            "SELECT event_id::text, envelope->>'causation_id' AS cause FROM outbox WHERE created_at >= $1",
            window_start,
        )
    }
    deadline = time.monotonic() + 120
    while len(arrivals) < len(alerting) and time.monotonic() < deadline:  # noqa: ASYNC110 - the SMTP thread fills it
        await asyncio.sleep(1)
    lags["email"] = [
        (at - committed[causes[alert]]) * 1000
        for alert, at in arrivals.items()
        if alert in causes and causes[alert] in committed
    ]
    sink.handle_DATA = original  # type: ignore[method-assign]
    return {"rate": rate, "events": len(committed), "lags_ms": lags,
            "broker_ms": await broker_round_trip(stack, seconds, rate)}


async def broker_round_trip(stack: Stack, seconds: float, rate: int) -> list[float]:
    """The transport floor: a record produced and consumed on the same broker, at the same rate."""
    bootstrap = f"127.0.0.1:{stack.ports.broker}"
    topic = f"bench.roundtrip.{uuid4().hex[:8]}"
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await producer.start()
    await producer.send_and_wait(topic, b"warm-up")  # creates the topic
    await consumer.start()
    sent: dict[bytes, float] = {}
    received: list[float] = []

    async def consume() -> None:
        async for message in consumer:
            if message.value in sent:
                received.append((time.time() - sent[message.value]) * 1000)
                if len(received) == int(rate * seconds):
                    return

    reader = asyncio.create_task(consume())
    await asyncio.sleep(1)

    async def produce(i: int) -> None:
        value = f"{i}".encode()
        sent[value] = time.time()
        await producer.send_and_wait(topic, value)

    await _paced(rate, seconds, produce)
    try:
        await asyncio.wait_for(reader, 30)
    except TimeoutError:
        reader.cancel()
    await consumer.stop()
    await producer.stop()
    return received


# -- 3. rebuild ---------------------------------------------------------------------------------


async def rebuild(stack: Stack) -> dict[str, Any]:
    dsn = postgres.asyncpg_dsn(postgres.database_url(stack.admin_url, "tally_ledger"))
    connection = await asyncpg.connect(dsn)
    try:
        events = await connection.fetchval("SELECT count(*) FROM event_store")
        started = time.perf_counter()
        async with connection.transaction():
            async for record in connection.cursor("SELECT envelope::text FROM event_store ORDER BY position"):
                json.loads(record[0])
        read_s = time.perf_counter() - started
    finally:
        await connection.close()
    settings = LedgerSettings(database_url=postgres.database_url(stack.admin_url, "tally_ledger"))
    db = Database.from_settings(settings)
    started = time.perf_counter()
    try:
        await projections.rebuild(db)  # what `python -m tally_ledger rebuild` runs, without its start-up
    finally:
        await db.dispose()
    return {"events": events, "read_s": read_s, "rebuild_s": time.perf_counter() - started}


# -- the run ------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tally-bench-") as folder:
        stack = Stack(Path(folder), Ports.free(), progress=show)
        try:
            stack.start()
            return asyncio.run(_measure(stack, args))
        finally:
            stack.stop()


async def _measure(stack: Stack, args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"load_before": os.getloadavg()[0], "cores": os.cpu_count()}
    show("  households…")
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        households = [create_household(client, n, budget_minor=10**9) for n in range(8)]
        alerting = {rate: [create_household(client, 100 * (k + 1) + n, budget_minor=1_000)
                           for n in range(args.alerts)] for k, rate in enumerate(args.lag_rates)}
    await asyncio.sleep(5)
    result["memory_idle_mb"] = {name: rss_mb(p.pid) for name, p in stack.processes.items()}
    peaks = MemoryPeaks(stack)
    peaks.start()
    result["writes"] = await write_steps(stack, households, args.step_seconds, args.max_concurrency)
    peaks.done.set()
    result["memory_load_mb"] = peaks.peaks
    result["lags"] = []
    for rate in args.lag_rates:
        show(f"  event lag at {rate} transactions/s…")
        result["lags"].append(await event_lag(stack, households, alerting[rate], args.lag_seconds, rate))
    show("  rebuild…")
    result["rebuild"] = await rebuild(stack)
    result["load_after"] = os.getloadavg()[0]
    return result


def report(result: dict[str, Any]) -> str:
    lines = [
        f"# System benchmark ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"The local stack as processes on {platform.machine()} ({result['cores']} cores; load average "
        f"{result['load_before']:.1f} before, {result['load_after']:.1f} after), Python "
        f"{platform.python_version()}; the load generator runs on the same cores.",
        "",
        "## Sustained writes through the gateway (until p99 > 100 ms)",
        "",
        "| concurrency | API writes/s | p50 ms | p99 ms | errors | INSERT+COMMIT/s | p50 ms | p99 ms | "
        "API ÷ INSERT |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in result["writes"]:
        lines.append(
            f"| {s['concurrency']} | {s['api_per_s']:.0f} | {s['api_p50_ms']:.1f} | {s['api_p99_ms']:.1f} | "
            f"{s['api_errors']} | {s['insert_per_s']:.0f} | {s['insert_p50_ms']:.1f} | "
            f"{s['insert_p99_ms']:.1f} | {s['api_per_s'] / s['insert_per_s']:.2f} |"
        )
    for limit in (P99_LIMIT_MS, 50.0):
        within = [s for s in result["writes"] if s["api_p99_ms"] <= limit]
        if within:
            best = max(within, key=lambda s: s["api_per_s"])
            lines += ["", f"Throughput with p99 under {limit:.0f} ms: **{best['api_per_s']:.0f} writes/s** "
                      f"at concurrency {best['concurrency']}."]
    names = {
        "budget": "ledger commit → budget read model",
        "analytics": "ledger commit → analytics read model",
        "email": "ledger commit → alert email accepted by SMTP",
    }
    for lag in result["lags"]:
        broker = lag["broker_ms"]
        lines += [
            "",
            f"## Event lag at {lag['rate']} transactions/s ({lag['events']} transactions)",
            "",
            "| path | events | p50 ms | p99 ms | p99 ÷ broker p99 |",
            "|---|---:|---:|---:|---:|",
            f"| baseline: raw record produced → consumed on the broker | {len(broker)} | "
            f"{percentile(broker, 50):.1f} | {percentile(broker, 99):.1f} | 1.0 |",
        ]
        for key, values in lag["lags_ms"].items():
            lines.append(
                f"| {names[key]} | {len(values)} | {percentile(values, 50):.1f} | "
                f"{percentile(values, 99):.1f} | {percentile(values, 99) / percentile(broker, 99):.1f} |"
            )
    r = result["rebuild"]
    lines += [
        "",
        "## Ledger read-model rebuild",
        "",
        "| path | events | seconds | events/s |",
        "|---|---:|---:|---:|",
        f"| baseline: read and decode every event | {r['events']} | {r['read_s']:.2f} | "
        f"{r['events'] / r['read_s']:.0f} |",
        f"| ledger rebuild (`projections.rebuild`) | {r['events']} | {r['rebuild_s']:.2f} | "
        f"{r['events'] / r['rebuild_s']:.0f} |",
        "",
        f"Rebuilding takes {r['rebuild_s'] / r['read_s']:.1f} times as long as reading the events alone.",
        "",
        "## Memory (RSS with child processes)",
        "",
        "| process | idle MB | peak under write load MB | ratio |",
        "|---|---:|---:|---:|",
    ]
    for name in [*SERVICES, "gateway"]:
        idle = result["memory_idle_mb"].get(name, float("nan"))
        peak = result["memory_load_mb"].get(name, float("nan"))
        lines.append(f"| {name} | {idle:.0f} | {peak:.0f} | {peak / idle:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--step-seconds", type=float, default=8.0)
    parser.add_argument("--max-concurrency", type=int, default=64)
    parser.add_argument("--lag-seconds", type=float, default=15.0)
    parser.add_argument("--lag-rates", type=lambda v: [int(r) for r in v.split(",")], default=[100, 300],
                        help="transactions per second at which the event lag is measured, comma-separated")
    parser.add_argument(
        "--alerts", type=int, default=20, help="households whose budget alert emails are timed"
    )
    args = parser.parse_args()
    result = run(args)
    text = report(result)
    print()
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "system_load.md").write_text(text)
    (RESULTS / "system_load.json").write_text(json.dumps(result, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
