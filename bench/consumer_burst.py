"""Benchmark: what budget and analytics spend per event of an import's burst, in-process.

    uv run python bench/consumer_burst.py [--events 20000] [--batch 200] [--profile]

It starts an embedded PostgreSQL in a temporary folder, migrates a fresh budget and a fresh analytics
database, and hands each service's ledger consumer the events a statement import publishes — one
household's `ledger.TransactionRecorded` events (categorised expenses and a monthly income over three
years, with the positions the relay puts in their headers), `--batch` records per
`EventConsumer.handle_together` as a poll of one partition hands them over. No broker: what is measured
is the consumer's own work (Python and PostgreSQL), which is what a burst costs downstream on top of
the broker's fetches. Each service is measured twice in the same run, on a fresh household each time:
the events applied one at a time (`EventConsumer.handle`, each in a transaction of its own: a fetch of
one record), in batches with each event applied by itself (as before batch handlers: the baseline) and in
batches with the batch handlers.

With `--profile` the batched run of each service is profiled (cProfile, cumulative time, top lines
printed). Prints a table and writes bench/results/consumer_burst.{json,md}.
"""

import argparse
import asyncio
import cProfile
import io
import json
import os
import platform
import pstats
import random
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from aiokafka import ConsumerRecord
from sqlalchemy import select

from tallykit import positions
from tallykit.consumer import EventConsumer
from tallykit.contracts import registry
from tallykit.contracts.auth import TenantCreated
from tallykit.contracts.ledger import (
    AccountKind,
    AccountOpened,
    CategoryCreated,
    CategoryKind,
    TransactionKind,
    TransactionRecorded,
)
from tallykit.db import Database
from tallykit.events import Envelope
from tallykit.settings import ServiceSettings
from tallykit.tables import applied_positions
from tallystack import postgres
from tallystack.measure import sharing

RESULTS = Path(__file__).parent / "results"
PAYEES = ["REWE Markt GmbH", "Aldi Süd", "Deutsche Bahn AG", "Stadtwerke München", "Vodafone GmbH",
          "Amazon EU S.à r.l.", "dm-drogerie markt", "Shell Deutschland", "Spotify AB", "Bäckerei Müller",
          "Apotheke am Markt", "IKEA Deutschland", "Lidl Vertriebs GmbH", "Netflix International"]
CATEGORY_NAMES = ["Groceries", "Transport", "Utilities", "Shopping", "Health", "Eating out", "Subscriptions"]


def household(events: int, seed: int = 4) -> tuple[UUID, list[Envelope], list[Envelope]]:
    """A household's set-up events and then an import's TransactionRecorded events (ledger order)."""
    rnd = random.Random(seed)
    tenant, account, salary = uuid4(), uuid4(), uuid4()
    categories = [uuid4() for _ in CATEGORY_NAMES]
    correlation = uuid4()

    def envelope(payload: Any, stream: UUID, version: int = 1) -> Envelope:
        return registry.envelope(payload, tenant_id=tenant, stream_id=stream, stream_version=version,
                                 actor="bench", correlation_id=correlation)

    setup = [
        registry.envelope(TenantCreated(name="Bench", owner_user_id=uuid4(), base_currency="EUR"),
                          tenant_id=tenant, stream_id=tenant, stream_version=1, actor="bench"),
        envelope(AccountOpened(name="Girokonto", kind=AccountKind.checking, currency="EUR",
                                opening_balance_minor=0), account),
        envelope(CategoryCreated(name="Salary", group="Income", kind=CategoryKind.income), salary),
        *(envelope(CategoryCreated(name=name, group="Everyday", kind=CategoryKind.expense), category)
          for name, category in zip(CATEGORY_NAMES, categories, strict=True)),
    ]
    start = date(2022, 1, 1)
    burst = []
    for n in range(events):
        booked = start + timedelta(days=n * 1095 // events)
        income = n % 60 == 0
        payload = TransactionRecorded(
            account_id=account,
            kind=TransactionKind.income if income else TransactionKind.expense,
            amount_minor=rnd.randint(250_000, 450_000) if income else rnd.randint(50, 25_000),
            currency="EUR",
            category_id=salary if income else rnd.choice(categories),
            payee=rnd.choice(PAYEES),
            note=f"Ref {n:06d}",
            booked_on=booked,
        )
        burst.append(envelope(payload, uuid4()))
    return tenant, setup, burst


def records(topic: str, envelopes: Sequence[Envelope], first_position: int) -> list[ConsumerRecord[Any, Any]]:
    """Kafka records as the relay publishes them: key = household, the outbox id in a header."""
    return [
        ConsumerRecord(topic=topic, partition=0, offset=n, timestamp=0, timestamp_type=0,
                       key=str(e.tenant_id).encode(), value=e.to_json(), checksum=None,
                       serialized_key_size=36, serialized_value_size=0,
                       headers=((positions.RECORD_HEADER, str(first_position + n).encode()),))
        for n, e in enumerate(envelopes)
    ]


MODES = {
    "one_at_a_time": "one at a time",
    "batched_before": "batches, each event by itself (before: `consumer_batches` off)",
    "batched": "batches, batch handlers (now)",
}


async def measure(name: str, consumers: dict[bool, EventConsumer], events: int, batch: int,
                  profile: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for mode in MODES:
        consumer = consumers[mode != "batched_before"]
        topic = consumer.settings.topic("ledger.events")
        tenant, setup, burst = household(events)
        for record in records(topic, setup, 1):
            await consumer.handle(record.value, position=consumer.position_of(record))
        burst_records = records(topic, burst, 1 + len(setup))
        profiler = cProfile.Profile() if profile and mode != "one_at_a_time" else None
        started, cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        if mode == "one_at_a_time":
            for record in burst_records:
                await consumer.handle(record.value, position=consumer.position_of(record))
        else:
            for at in range(0, len(burst_records), batch):
                assert await consumer.handle_together(burst_records[at:at + batch]), "the batch failed"
        if profiler:
            profiler.disable()
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(40)
            print(text.getvalue())
        seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu
        await check_applied(consumer.db, tenant, len(setup) + len(burst))
        out[mode] = {"seconds": seconds, "cpu_s": cpu_s, "events_per_s": events / seconds,
                     "ms_per_event": 1000 * seconds / events, "cpu_ms_per_event": 1000 * cpu_s / events}
        print(f"  {name} {mode}: {seconds:.2f} s ({events / seconds:,.0f} events/s, "
              f"{1000 * cpu_s / events:.2f} ms Python CPU per event)")
    return out


async def check_applied(db: Database, tenant: UUID, position: int) -> None:
    """Every event was applied: the household's ledger position is the last one's."""
    async with db.read() as session:
        applied = (await session.execute(
            select(applied_positions.c.position).where(applied_positions.c.source == "ledger",
                                                       applied_positions.c.tenant_id == tenant))).scalar()
    assert applied == position, f"applied {applied}, expected {position}"


async def run(events: int, batch: int, profile: bool) -> dict[str, Any]:
    from tally_analytics.consumers import ledger_consumer as analytics_consumer
    from tally_analytics.main import MIGRATIONS as ANALYTICS_MIGRATIONS
    from tally_analytics.settings import AnalyticsSettings
    from tally_budget.consumers import ledger_consumer as budget_consumer
    from tally_budget.main import MIGRATIONS as BUDGET_MIGRATIONS
    from tally_budget.settings import BudgetSettings

    services: list[tuple[str, Path, type[ServiceSettings], Callable[..., EventConsumer]]] = [
        ("budget", BUDGET_MIGRATIONS, BudgetSettings, budget_consumer),
        ("analytics", ANALYTICS_MIGRATIONS, AnalyticsSettings, analytics_consumer),
    ]
    result: dict[str, Any] = {"events": events, "batch": batch, "load_before": os.getloadavg()[0]}
    for name, migrations, settings_cls, make in services:
        async with postgres.scratch_database(migrations) as url:
            db = Database(url)
            consumers = {on: make(db, settings_cls(database_url=url, environment="test", log_level="WARNING",
                                                  consumer_batches=on)) for on in (False, True)}
            try:
                result[name] = await measure(name, consumers, events, batch, profile)
            finally:
                await db.dispose()
    result["load_after"] = os.getloadavg()[0]
    return result


def report(result: dict[str, Any]) -> str:
    events, batch = result["events"], result["batch"]
    lines = [
        f"# Consumer burst benchmark ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"{events:,} `ledger.TransactionRecorded` events of one household (an import's burst) handed to "
        f"each service's ledger consumer in-process, on {platform.machine()} ({os.cpu_count()} cores, load "
        f"average {result['load_before']:.1f} before and {result['load_after']:.1f} after: "
        f"{sharing(max(result['load_before'], result['load_after']))}), Python {platform.python_version()}, "
        "embedded PostgreSQL. No broker: the consumer's own work. One at a time: each event in a "
        f"transaction of its own; batches: {batch:,} records per `handle_together` (one partition's poll), "
        "each event applied by itself as before, or the runs of money events by the batch handlers.",
        "",
        "| service | path | seconds | events/s | ms per event | Python CPU ms per event |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for name in ("budget", "analytics"):
        for mode, label in MODES.items():
            m = result[name][mode]
            lines.append(f"| {name} | {label} | {m['seconds']:.2f} | {m['events_per_s']:,.0f} | "
                         f"{m['ms_per_event']:.2f} | {m['cpu_ms_per_event']:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-save", action="store_true", help="print only (a profiling run)")
    args = parser.parse_args()
    result = asyncio.run(run(args.events, args.batch, args.profile))
    text = report(result)
    print()
    print(text)
    if not args.no_save:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "consumer_burst.md").write_text(text)
        (RESULTS / "consumer_burst.json").write_text(json.dumps(result, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
