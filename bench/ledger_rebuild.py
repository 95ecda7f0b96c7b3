"""Benchmark: the ledger's read-model rebuild (`projections.rebuild`, what `python -m tally_ledger rebuild`
runs) over a household's history, against reading the events alone and against writing the finished rows.

    uv run python bench/ledger_rebuild.py [--events 100000] [--keep]

It starts an embedded PostgreSQL in a temporary folder, migrates a fresh ledger database and writes three
years of one household through the ledger's command handlers, month by month, so the event store and the
read models are what the live write path made of them: statement imports (`record_many`: expenses,
income, transfers, some split, some tagged), recurring schedules the scheduler posts and reminds at
each month's end, bulk recategorisations (one undone now and then), single amendments, bulk and single
deletions with undos, a category renamed and one merged, payees merged, an account renamed. It takes a
checksum of every read-model table (the search totals as a reader adds them up: sums plus changes),
rebuilds, and checks the checksums again. Baselines in the same run: reading and decoding every event
(as `eventstore.read_all` pages and `registry.payload`, and as bare JSON), and the COPY of the finished
read-model rows into empty copies of their tables with their indexes (the floor for writing them).
Prints a table and writes bench/results/ledger_rebuild.{json,md}. Goal (issue #19): 50,000 events/s.
"""

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import time
from calendar import monthrange
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

import asyncpg

from tally_ledger import (
    bulk_editing,
    commands,
    projections,
    recurring_commands,
    repository,
    sharing_store,
    store,
)
from tally_ledger.domain import DEFAULT_CATEGORIES
from tally_ledger.main import MIGRATIONS
from tally_ledger.scheduler import Scheduler
from tally_ledger.settings import LedgerSettings
from tally_ledger.tables import READ_MODELS
from tally_ledger.totals import DIMENSIONS, transaction_sum_changes, transaction_sums
from tallykit import eventstore
from tallykit.contracts import registry
from tallykit.contracts.ledger import AccountKind, CategoryKind, Split, TransactionKind
from tallykit.db import Database
from tallykit.logging import configure_logging
from tallystack import postgres
from tallystack.measure import sharing

RESULTS = Path(__file__).parent / "results"
GOAL_PER_S = 50_000
MONTHS = 36
PAYEES = ["Market", "Corner shop", "Bakery Miller", "City Transport", "Power & Light", "Phone Co",
          "Online Store", "Pharmacy", "Fuel Station", "Streaming", "Insurance Ltd", "Cinema", "Cafe Central",
          "Hardware Store", "Book Shop", "Restaurant Roma", "Gym", "Airline", "Hotel", "Employer"]
EXPENSES = [c.name for c in DEFAULT_CATEGORIES if c.kind.value == "expense"]
_TOTALS = (transaction_sums, transaction_sum_changes)
_KEY = ", ".join(DIMENSIONS)
# The search totals as a reader adds them up (sums plus changes; a group that nets to nothing is none).
_FOLDED = (f"SELECT {_KEY}, sum(entries) AS entries, sum(amount_minor) AS amount_minor"  # noqa: S608
           f" FROM (SELECT * FROM transaction_sums UNION ALL SELECT * FROM transaction_sum_changes) AS both_"
           f" GROUP BY {_KEY} HAVING sum(entries) <> 0 OR sum(amount_minor) <> 0")


def show(line: str) -> None:
    sys.stdout.write(f"\r{line}")
    sys.stdout.flush()


class Household:
    """One household's three years, written through the command handlers."""

    def __init__(self, db: Database, settings: LedgerSettings, events: int) -> None:
        self.db, self.settings = db, settings
        self.ctx = repository.Context(tenant_id=uuid4(), actor=str(uuid4()))
        self.rnd = random.Random(19)
        self.events = events
        # Per month: the imported entries, plus ~6 % more events changing them, plus the month's own.
        self.per_month = max(20, int(events / MONTHS / 1.07))
        self.accounts: dict[str, UUID] = {}
        self.categories: dict[str, UUID] = {}
        self.schedules: dict[str, UUID] = {}

    async def write(self) -> None:
        started = time.perf_counter()
        await self._open()
        scheduler = Scheduler(self.db, self.settings)
        first = date(2023, 1, 1)
        for month in range(MONTHS):
            start = date(first.year + month // 12, month % 12 + 1, 1)
            await self._month(month, start)
            end = start.replace(day=monthrange(start.year, start.month)[1])
            await scheduler.run_once(datetime(end.year, end.month, end.day, 12, tzinfo=UTC))
            written = await self.count()
            show(f"  month {month + 1:>2}/{MONTHS}: {written:>7,} events, "
                 f"{written / (time.perf_counter() - started):6.0f} events/s written ")
            if written >= self.events:
                break
        missing = self.events - await self.count()
        if missing > 0:  # the last statement import tops the history up to the size asked for
            await self._import(date(2026, 1, 1), missing)
        print()

    async def count(self) -> int:
        async with self.db.read() as session:
            return await eventstore.count(session)

    async def _open(self) -> None:
        db, settings, ctx = self.db, self.settings, self.ctx
        for name, kind in (("Checking", AccountKind.checking), ("Card", AccountKind.credit_card),
                           ("Savings", AccountKind.savings), ("Cash", AccountKind.cash)):
            row = await commands.open_account(db, settings, ctx, name=name, kind=kind, currency="EUR",
                                              opening_balance_minor=100_000)
            self.accounts[name] = row.id
        async with db.transaction() as session:
            await commands.create_default_categories(session, settings, ctx)
        self.categories = {c.name: c.id_for(ctx.tenant_id) for c in DEFAULT_CATEGORIES}
        coffee = await commands.create_category(db, settings, ctx, name="Coffee", group="Food",
                                                kind=CategoryKind.expense)
        self.categories["Coffee"] = coffee.id
        today = date(2023, 1, 1)
        plans: list[dict[str, Any]] = [
            {"name": "Rent", "account_id": self.accounts["Checking"], "amount_minor": 95_000,
             "category_id": self.categories["Rent"], "payee": "Landlord", "cadence": "monthly",
             "day_of_month": 1, "auto_post": True},
            {"name": "Salary", "account_id": self.accounts["Checking"], "kind": TransactionKind.income,
             "amount_minor": 320_000, "category_id": self.categories["Salary"], "payee": "Employer",
             "cadence": "monthly", "day_of_month": 25, "auto_post": True},
            {"name": "Internet", "account_id": self.accounts["Checking"], "amount_minor": 3_999,
             "category_id": self.categories["Internet & phone"], "payee": "Phone Co", "cadence": "monthly",
             "day_of_month": 10, "is_bill": True},
            {"name": "Power", "account_id": self.accounts["Checking"], "amount_minor": 8_500,
             "category_id": self.categories["Utilities"], "payee": "Power & Light", "cadence": "monthly",
             "day_of_month": 15, "is_bill": True},
            {"name": "Streaming", "account_id": self.accounts["Card"], "amount_minor": 1_299,
             "payee": "Streaming", "cadence": "monthly", "day_of_month": 3, "auto_post": True},
            {"name": "Gym", "account_id": self.accounts["Card"], "amount_minor": 2_900, "payee": "Gym",
             "cadence": "monthly", "day_of_month": 5, "auto_post": True},
            {"name": "Insurance", "account_id": self.accounts["Checking"], "amount_minor": 45_000,
             "payee": "Insurance Ltd", "cadence": "yearly", "is_bill": True},
        ]
        for plan in plans:
            values = {"kind": TransactionKind.expense, "category_id": None, "note": "", "interval": 1,
                      "day_of_month": None, "ends_on": None, "count": None, "is_bill": False,
                      "auto_post": False, "remind_days_before": 3, "tolerance_pct": 5,
                      "starts_on": date(2023, 1, 2)} | plan
            schedule = await recurring_commands.create(db, self.settings, ctx, values, today=today)
            self.schedules[plan["name"]] = schedule.id

    def _entry(self, day: date, n: int) -> commands.NewEntry:
        rnd, accounts, categories = self.rnd, self.accounts, self.categories
        if n % 25 == 0:
            return commands.NewEntry(account_id=accounts["Checking"], to_account_id=accounts[
                rnd.choice(["Savings", "Card", "Cash"])], amount_minor=rnd.randint(1, 500) * 100,
                booked_on=day, note="transfer")
        payee = rnd.choice(PAYEES)
        income = payee == "Employer"
        amount = rnd.randint(250_000, 400_000) if income else rnd.randint(50, 20_000)
        splits: tuple[Split, ...] = ()
        category: UUID | None = categories["Salary" if income else rnd.choice(EXPENSES)]
        if not income and n % 30 == 1 and amount > 100:
            part = amount // 3
            splits = (Split(category_id=categories["Groceries"], amount_minor=amount - part),
                      Split(category_id=categories["Coffee"], amount_minor=part, note="coffee"))
            category = None
        elif n % 17 == 0:
            category = None  # still to be categorised
        return commands.NewEntry(
            account_id=accounts[rnd.choice(["Checking", "Checking", "Card", "Card", "Cash"])],
            kind=TransactionKind.income if income else TransactionKind.expense, amount_minor=amount,
            booked_on=day, category_id=category, splits=splits, payee=payee,
            note=f"ref {n:06d}" + (" weekend away" if n % 20 == 0 else ""),
            tags=("trip",) if n % 20 == 0 else ("work",) if n % 33 == 0 else ())

    async def _import(self, start: date, entries: int) -> list[tuple[UUID, commands.NewEntry]]:
        """A statement import: entries spread over the month, in chunks of up to 1,000 (one unit of work
        each, as the import does)."""
        recorded: list[tuple[UUID, commands.NewEntry]] = []
        for first in range(0, entries, 1_000):
            batch = [self._entry(start + timedelta(days=n * 28 // entries), n)
                     for n in range(first, min(first + 1_000, entries))]
            ids = await commands.record_many(self.db, self.settings, self.ctx, batch)
            recorded += zip(ids, batch, strict=True)
        return recorded

    async def _month(self, month: int, start: date) -> None:
        db, settings, ctx, rnd = self.db, self.settings, self.ctx, self.rnd
        recorded = await self._import(start, self.per_month)
        rnd.shuffle(recorded)
        # An expense category goes on expenses with one only (not on a transfer, not on a split one).
        plain = [i for i, e in recorded if e.category_id is not None and e.kind == TransactionKind.expense]
        others = [i for i, e in recorded if i not in set(plain)]
        share = len(recorded) // 100
        recategorised, rest = plain[:4 * share], plain[4 * share:] + others
        amended, deleted, undone = rest[:share], rest[share:2 * share], rest[2 * share:2 * share + 3]
        if recategorised:
            edited = await bulk_editing.apply(db, settings, ctx, bulk_editing.Edit(
                category_id=self.categories[rnd.choice(EXPENSES)]), ids=recategorised)
            if month % 6 == 5:
                await bulk_editing.undo(db, settings, ctx, edited.id)
        for transaction_id in amended:
            await commands.amend_transaction(db, settings, ctx, transaction_id,
                                             {"note": "checked", "tags": ("checked",)}, expected_version=1)
        if deleted:
            await bulk_editing.apply(db, settings, ctx, bulk_editing.Edit(delete=True), ids=deleted)
        for transaction_id in undone:
            await commands.delete_transaction(db, settings, ctx, transaction_id, expected_version=1)
            await commands.undo_transaction(db, settings, ctx, transaction_id, expected_version=2)
        if month == 3:
            await commands.rename_account(db, settings, ctx, self.accounts["Cash"], name="Wallet",
                                          expected_version=1)
        if month == 6:
            await commands.rename_category(db, settings, ctx, self.categories["Coffee"], name="Coffee & tea",
                                           group=None)
        if month == 18:
            await commands.merge_category(db, settings, ctx, self.categories["Coffee"],
                                          into_category_id=self.categories["Eating out"])
            self.categories["Coffee"] = self.categories["Eating out"]
        if month in (12, 24):
            name, into = ("Corner shop", "Market") if month == 12 else ("Cafe Central", "Restaurant Roma")
            await commands.merge_payee(db, settings, ctx, name=name, into_name=into)
        if month == 8:
            await recurring_commands.skip(db, settings, ctx, self.schedules["Gym"], date(2023, 10, 5))
        if month == 20:
            async with db.read() as session:
                gym = await store.get_recurring(session, ctx.tenant_id, self.schedules["Gym"])
            assert gym is not None
            await recurring_commands.cancel(db, settings, ctx, gym.id, expected_version=gym.version)


class Cpu:
    """CPU seconds used by this process and by the PostgreSQL backends serving one database: what a
    path costs whatever else shares the machine (its wall-clock time is not)."""

    def __init__(self, database: str) -> None:
        self.title = f" {database} ".encode()

    def _backends(self) -> float:
        ticks = 0
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if (entry / "cmdline").read_bytes().startswith(b"postgres: ") and self.title in (
                            entry / "cmdline").read_bytes():
                        fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                        ticks += int(fields[11]) + int(fields[12])  # utime, stime
                except (OSError, IndexError, ValueError):
                    continue  # gone meanwhile
        return ticks / os.sysconf("SC_CLK_TCK")

    def now(self) -> tuple[float, float]:
        return time.process_time(), self._backends()

    def since(self, then: tuple[float, float]) -> dict[str, float]:
        python, postgres_ = self.now()
        return {"python_cpu_s": python - then[0], "postgres_cpu_s": postgres_ - then[1]}


async def checksums(connection: asyncpg.Connection) -> dict[str, tuple[int, str]]:
    """(rows, md5 of the rows in order) of every read model; the search totals as a reader sees them
    (sums plus changes, groups that net to nothing left out), since when the compactor folded is no part
    of what the rows mean."""
    queries = {t.name: f"SELECT * FROM {t.name}"  # noqa: S608 - table names of the ledger
               for t in (*READ_MODELS, *sharing_store.READ_MODELS) if t not in _TOTALS}
    queries["search totals"] = _FOLDED
    sums = {}
    for name, query in queries.items():
        row = await connection.fetchrow(
            f"SELECT count(*), md5(coalesce(string_agg(r::text, E'\\n' ORDER BY r::text), ''))"  # noqa: S608
            f" FROM ({query}) AS r")
        sums[name] = (row[0], row[1])
    return sums


async def read_and_decode(db: Database) -> None:
    """Read every event as `read_all` pages and decode its payload (what the rebuild reads)."""
    async with db.read() as session:
        position = 0
        while page := await eventstore.read_all(session, after_position=position):
            for _, envelope in page:
                registry.payload(envelope)
            position = page[-1][0]


async def read_json(connection: asyncpg.Connection) -> None:
    """Read every envelope as text and parse its JSON: the floor for reading them."""
    async with connection.transaction():
        async for record in connection.cursor("SELECT envelope::text FROM event_store ORDER BY position"):
            json.loads(record[0])


async def copy_rows(connection: asyncpg.Connection,
                    timed: Callable[[Callable[[], Awaitable[None]]], Awaitable[None]]) -> int:
    """COPY the read models' rows (the search totals folded, as the compactor leaves them) into empty
    copies of their tables with their indexes, in one transaction rolled back, the COPY alone `timed`;
    returns how many rows."""
    rows: dict[str, list[asyncpg.Record]] = {}
    for table in (*READ_MODELS, *sharing_store.READ_MODELS):
        if table is transaction_sum_changes:
            continue
        query = _FOLDED if table is transaction_sums else f"SELECT * FROM {table.name}"  # noqa: S608
        rows[table.name] = await connection.fetch(query)

    async def copy() -> None:
        for name, records in rows.items():
            await connection.copy_records_to_table(f"copy_{name}", records=[tuple(r) for r in records])

    transaction = connection.transaction()
    await transaction.start()
    try:
        for name in rows:
            await connection.execute(f"CREATE TABLE copy_{name} (LIKE {name} INCLUDING ALL)")
        await timed(copy)
    finally:
        await transaction.rollback()
    return sum(len(r) for r in rows.values())


async def measure(events: int, keep: bool) -> dict[str, Any]:
    async with postgres.scratch_database(MIGRATIONS, keep=keep) as url:
        settings = LedgerSettings(environment="test", database_url=url, log_level="WARNING",
                                  kafka_bootstrap_servers="127.0.0.1:9")
        configure_logging(settings)
        cpu = Cpu(urlsplit(url).path.lstrip("/"))
        db = Database.from_settings(settings)
        connection = await asyncpg.connect(postgres.asyncpg_dsn(url))
        try:
            print(f"Writing a household's history of {events:,} events through the handlers ...")
            started = time.perf_counter()
            await Household(db, settings, events).write()
            write_s = time.perf_counter() - started
            stored = await connection.fetchval("SELECT count(*) FROM event_store")
            mix = Counter({r[0].split(".", 1)[1]: r[1] for r in await connection.fetch(
                "SELECT type, count(*) FROM event_store GROUP BY type")})
            await connection.execute("VACUUM ANALYZE")
            before = await checksums(connection)
            load_before = os.getloadavg()[0]
            paths: dict[str, dict[str, float]] = {}

            async def timed(name: str, run: Callable[[], Awaitable[Any]]) -> Any:
                print(f"{name} ...")
                then, started = cpu.now(), time.perf_counter()
                result = await run()
                paths[name] = {"seconds": time.perf_counter() - started, **cpu.since(then)}
                return result

            await timed("json", lambda: read_json(connection))
            await timed("decode", lambda: read_and_decode(db))
            replayed = await timed("rebuild", lambda: projections.rebuild(db))
            after = await checksums(connection)
            copied = await copy_rows(connection, lambda run: timed("copy", run))
            load_after = os.getloadavg()[0]
        finally:
            await connection.close()
            await db.dispose()
    return {
        "events": stored, "replayed": replayed, "mix": dict(mix.most_common()), "write_s": write_s,
        "paths": paths, "rows": copied, "load_before": load_before, "load_after": load_after,
        "tables": {name: {"rows": rows, "before": digest, "after": after[name][1],
                          "rows_after": after[name][0], "equal": after[name] == (rows, digest)}
                   for name, (rows, digest) in before.items()},
    }


def report(r: dict[str, Any]) -> str:
    events = r["events"]
    equal = all(t["equal"] for t in r["tables"].values())
    load = max(r["load_before"], r["load_after"])
    lines = [
        f"# Ledger read-model rebuild ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"One household's {events:,} events, written through the ledger's command handlers (three years of "
        f"statement imports, recurring posts, bulk and single edits, deletions, merges), rebuilt by "
        f"`projections.rebuild` on an embedded PostgreSQL; {platform.machine()} ({os.cpu_count()} cores, "
        f"load average {r['load_before']:.1f} before and {r['load_after']:.1f} after: {sharing(load)}), "
        f"Python {platform.python_version()}. Goal (issue #19): {GOAL_PER_S:,} events/s. CPU seconds: "
        "this process's, and those of the PostgreSQL backends serving the bench's database.",
        "",
        "| path | events | seconds | events/s | CPU s: Python + PostgreSQL |",
        "|---|---:|---:|---:|---:|",
        *(f"| {label} | {count:,} | {p['seconds']:.2f} | {count / p['seconds']:,.0f} | "
          f"{p['python_cpu_s']:.2f} + {p['postgres_cpu_s']:.2f} |"
          for label, count, p in (
              ("baseline: read every envelope as text and parse its JSON", events, r["paths"]["json"]),
              ("baseline: read every event (`eventstore.read_all` pages) and decode its payload "
               "(`registry.payload`)", events, r["paths"]["decode"]),
              (f"baseline: COPY the finished read-model rows ({r['rows']:,}) into empty copies of their "
               "tables with their indexes", events, r["paths"]["copy"]),
              ("**ledger rebuild (`projections.rebuild`)**", r["replayed"], r["paths"]["rebuild"]))),
        "",
        f"Rebuilt rows equal to the ones the live writes made: **{'yes' if equal else 'NO'}** "
        "(count and md5 of each read model's rows in order, before the rebuild and after; the search totals "
        "as a reader adds them up).",
        "",
        "| read model | rows | equal after rebuild |",
        "|---|---:|---|",
        *(f"| {name} | {t['rows']:,} | {'yes' if t['equal'] else 'NO (' + str(t['rows_after']) + ' rows)'} |"
          for name, t in r["tables"].items()),
        "",
        f"The events (written at {events / r['write_s']:,.0f} events/s through the handlers):",
        "",
        "| event | count |",
        "|---|---:|",
        *(f"| {kind} | {count:,} |" for kind, count in r["mix"].items()),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the embedded PostgreSQL's folder")
    args = parser.parse_args()
    result = asyncio.run(measure(args.events, args.keep))
    text_ = report(result)
    print(text_)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ledger_rebuild.md").write_text(text_)
    (RESULTS / "ledger_rebuild.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
