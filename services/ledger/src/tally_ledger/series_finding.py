"""Recurring series found in the history, in the service: the worker that finds them, its tables, the
proposals the routes list, accept and dismiss (docs/recurring.md).

**What changed** is counted by the worker (`Finder`, every `series_interval_s`) following the event store
by position (a one-row cursor, locked with `SKIP LOCKED`: one replica counts): per household, the
transactions recorded, amended, deleted or restored and the schedules set up or cancelled. Nothing is
added to a write's path.

**Finding.** A household is due when something changed, or when a series found may have stopped by today
(`recheck_on`: nothing changes when a payment does not come). A replica claims it with a lease
(`detecting_since`, 15 minutes, `FOR UPDATE SKIP LOCKED`), reads its newest transactions, runs the
detector outside any database transaction — from `series_in_process_from` transactions on in a worker
process (`tallykit.workers`: spawned when first needed, stopped after `worker_pool_idle_s` without a
task), since it holds the interpreter lock for seconds on a large household — and then, in one
transaction, tells what is new: each series is a stream (`SeriesProposal`), and its events go on the
outbox to the notifier. The detection itself is kept in `detected_series` (derived data, like a trained
categoriser: the worker writes it again from the transactions whenever they change), where the routes
read the proposals from.

**Which stream.** A series found again keeps its stream when it shares payments with one found last time
(a new price, a longer history); otherwise its stream is named by the household and the series' first
payment (`uuid5`), so a dismissed series that a later detection drops and finds again stays dismissed.
"""

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid5

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    delete,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import categorising, due_dates, recurring_commands, repository, store, tables
from tally_ledger.commands import domain_errors_as_problems
from tally_ledger.repository import Context, load
from tally_ledger.series.detect import Booking, Series, covers, detect
from tally_ledger.series.proposal import SeriesProposal
from tally_ledger.settings import LedgerSettings
from tallykit.contracts import registry
from tallykit.db import Database
from tallykit.errors import InvalidInput, NotFound
from tallykit.events import SYSTEM, Envelope
from tallykit.eventstore import ConcurrencyConflict
from tallykit.logging import get_logger
from tallykit.periodic import every
from tallykit.tables import event_store, uuid_column
from tallykit.workers import WorkerPool

log = get_logger(__name__)

LEASE_MINUTES = 15
_LEASE_OVER = f"now() - interval '{LEASE_MINUTES} minutes'"
COUNT_BATCH = 10_000
WRITE_ATTEMPTS = 3

metadata = MetaData()

# One row per household with transactions: what changed since its last detection, and what that gave.
series_households = Table(
    "series_households",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    Column("changes", Integer, nullable=False, server_default="0"),
    Column("changed_at", DateTime(timezone=True)),
    Column("detected_at", DateTime(timezone=True)),
    Column("recheck_on", Date),  # the first day a series found may count as stopped
    Column("detecting_since", DateTime(timezone=True)),  # a replica's lease while it detects
    Column("transactions", Integer, nullable=False, server_default="0"),
    Column("seconds", Float),
)

# The series of a household's last detection (`Series.to_json`), by the id of its stream.
detected_series = Table(
    "detected_series",
    metadata,
    uuid_column("id", primary_key=True),
    uuid_column("tenant_id", nullable=False),
    Column("series", JSONB, nullable=False),
)
Index("detected_series_tenant", detected_series.c.tenant_id)

# How far the worker has counted the event store (one row, id 1).
series_cursor = Table(
    "series_cursor",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("position", BigInteger, nullable=False),
)

TENANT_TABLES = (detected_series, series_households)
_CHANGES = ("ledger.TransactionRecorded", "ledger.TransactionAmended", "ledger.TransactionDeleted",
            "ledger.TransactionRestored", "ledger.RecurringScheduled", "ledger.RecurringCancelled")


def _now() -> datetime:
    return datetime.now(UTC)


# --- counting what changed -------------------------------------------------------------------------------

_COUNT = text("""
WITH batch AS (
    SELECT position, tenant_id, type FROM event_store WHERE position > :cursor ORDER BY position LIMIT :limit
)
SELECT tenant_id, max(position) AS last, count(*) FILTER (WHERE type = ANY(:types)) AS changes,
       count(*) AS events
FROM batch GROUP BY tenant_id
""")


async def count_changes(db: Database) -> int:
    """Add the event store's new events that change what households' series are to their counts; returns
    how many events were read (0 also when another replica is counting)."""
    read = 0
    while True:
        async with db.transaction() as session:
            cursor = (await session.execute(select(series_cursor.c.position).where(
                series_cursor.c.id == 1).with_for_update(skip_locked=True))).scalar()
            if cursor is None:
                return read
            rows = (await session.execute(_COUNT, {"cursor": cursor, "limit": COUNT_BATCH,
                                                   "types": list(_CHANGES)})).all()
            if not rows:
                return read
            changed = [{"tenant_id": tenant, "changes": changes, "changed_at": _now()}
                       for tenant, _, changes, _ in rows if changes]
            if changed:
                new = pg_insert(series_households).values(changed)
                await session.execute(new.on_conflict_do_update(
                    index_elements=[series_households.c.tenant_id],
                    set_={"changes": series_households.c.changes + new.excluded.changes,
                          "changed_at": new.excluded.changed_at}))
            events = int(sum(n for *_, n in rows))
            await session.execute(update(series_cursor).where(series_cursor.c.id == 1)
                                  .values(position=max(last for _, last, _, _ in rows)))
            read += events
        if events < COUNT_BATCH:
            return read


# --- what the detector reads, and the streams ------------------------------------------------------------

async def load_bookings(session: AsyncSession, tenant_id: UUID, limit: int) -> list[Booking]:
    """The household's newest live expenses and incomes (transfers are no payments to anyone)."""
    t = tables.transactions.c
    rows = (await session.execute(
        select(t.id, t.payee, t.note, t.kind, t.amount_minor, t.currency, t.account_id, t.booked_on,
               t.category_id)
        .where(t.tenant_id == tenant_id, ~t.deleted, t.kind.in_(("expense", "income")))
        .order_by(t.booked_on.desc(), t.recorded_at.desc(), t.id.desc()).limit(limit))).all()
    return [Booking(str(i), payee, amount if kind == "income" else -amount, booked_on, currency,
                    str(account), note, str(category) if category else None)
            for i, payee, note, kind, amount, currency, account, booked_on, category in reversed(rows)]


async def proposals_of(session: AsyncSession, tenant_id: UUID,
                       ids: Sequence[UUID]) -> dict[UUID, SeriesProposal]:
    """The streams of these series, in one query (one that was never told reads as new)."""
    histories: dict[UUID, list[Any]] = defaultdict(list)
    if ids:
        rows = await session.execute(
            select(event_store.c.stream_id, event_store.c.envelope)
            .where(event_store.c.tenant_id == tenant_id, event_store.c.stream_id.in_(ids))
            .order_by(event_store.c.stream_id, event_store.c.stream_version))
        for stream_id, envelope in rows:
            histories[stream_id].append(registry.payload(Envelope.model_validate(envelope)))
    return {i: SeriesProposal.from_history(i, histories[i]) for i in ids}


def identify(tenant_id: UUID, found: Sequence[Series], before: dict[UUID, set[str]]) -> list[UUID]:
    """Each series' stream: the one found last time it shares the most payments with, else its own."""
    ids: list[UUID] = []
    for series in found:
        paid = set(series.transaction_ids)
        shared = sorted(((len(paid & earlier), str(i), i) for i, earlier in before.items()
                         if i not in ids and paid & earlier), reverse=True)
        own = uuid5(tenant_id, series.key)
        ids.append(shared[0][2] if shared else own if own not in ids else uuid5(own, str(len(ids))))
    return ids


async def _schedules(session: AsyncSession, tenant_id: UUID) -> list[tuple[str, bool, int]]:
    """The household's live schedules as `covers` reads them: (payee or name, income, amount)."""
    return [(row.schedule.get("payee") or row.schedule["name"], row.schedule["kind"] == "income",
             row.schedule["amount_minor"])
            for row in await store.list_recurring(session, tenant_id, include_cancelled=False)]


def _covered(series: Series, schedules: Sequence[tuple[str, bool, int]]) -> bool:
    return any(covers(payee, income, amount, series) for payee, income, amount in schedules)


# --- the worker ------------------------------------------------------------------------------------------

class Finder:
    """The background worker: counts changes, then finds the series of each household that is due."""

    def __init__(self, db: Database, settings: LedgerSettings) -> None:
        self.db, self.settings = db, settings
        self._workers = WorkerPool(settings.series_processes, settings.worker_pool_idle_s)

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await every(self.settings.series_interval_s, self.run_once, stop, failed="series_run_failed")
        finally:
            # A detection under way is dropped; its household is still due (its lease runs out).
            self._workers.close()

    def today(self) -> date:
        return due_dates.today_in(_now(), self.settings.scheduler_timezone)

    async def run_once(self, today: date | None = None) -> int:
        """Count, then find the series of every household that is due; returns how many were done."""
        await count_changes(self.db)
        today = today or self.today()
        done = 0
        while (claimed := await self._claim(today)) is not None:
            tenant_id, changes = claimed
            try:
                await self.find(tenant_id, today, changes)
                done += 1
            except Exception:
                # Its lease stays: it is tried again once the lease runs out, not at every run.
                log.exception("series_detection_failed", tenant_id=str(tenant_id))
        return done

    async def _claim(self, today: date) -> tuple[UUID, int] | None:
        h = series_households.c
        due = (select(h.tenant_id).where(
            (h.changes > 0) | (h.recheck_on <= today),
            h.detecting_since.is_(None) | (h.detecting_since < text(_LEASE_OVER)))
            .order_by(h.changed_at).limit(1).with_for_update(skip_locked=True).scalar_subquery())
        async with self.db.transaction() as session:
            row = (await session.execute(update(series_households).where(h.tenant_id == due)
                                         .values(detecting_since=text("now()"))
                                         .returning(h.tenant_id, h.changes))).first()
        return (row[0], row[1]) if row else None

    async def find(self, tenant_id: UUID, today: date, changes: int = 0) -> list[Series]:
        """Find the household's series as of `today`, tell what is new, and keep them; `changes` of its
        count are settled by it."""
        started = asyncio.get_running_loop().time()
        async with self.db.read() as session:
            bookings = await load_bookings(session, tenant_id, self.settings.series_max_transactions)
        if self.settings.series_processes == 0 or len(bookings) < self.settings.series_in_process_from:
            found = await asyncio.to_thread(detect, bookings, today)
        else:
            found = await self._workers.run(detect, bookings, today)
        seconds = asyncio.get_running_loop().time() - started
        for attempt in range(WRITE_ATTEMPTS):
            try:
                await self._keep(tenant_id, found, changes, len(bookings), seconds)
                break
            except ConcurrencyConflict:  # a person accepted or dismissed one meanwhile: read them again
                if attempt == WRITE_ATTEMPTS - 1:
                    raise
        log.info("series_found", tenant_id=str(tenant_id), transactions=len(bookings), series=len(found),
                 seconds=round(seconds, 2))
        return found

    async def _keep(self, tenant_id: UUID, found: Sequence[Series], changes: int, transactions: int,
                    seconds: float) -> None:
        h = series_households.c
        ctx = Context(tenant_id=tenant_id, actor=SYSTEM)
        async with self.db.transaction() as session:
            if (await session.execute(select(h.tenant_id).where(h.tenant_id == tenant_id)
                                      .with_for_update())).first() is None:
                return  # erased while it was detected
            d = detected_series.c
            before = {i: set(series["transaction_ids"]) for i, series in await session.execute(
                select(d.id, d.series).where(d.tenant_id == tenant_id))}
            ids = identify(tenant_id, found, before)
            proposals = await proposals_of(session, tenant_id, ids)
            schedules = await _schedules(session, tenant_id)
            for stream_id, series in zip(ids, found, strict=True):
                proposals[stream_id].notice(series, account_id=UUID(series.account),
                                            covered=_covered(series, schedules))
            told = [p for p in proposals.values() if p.pending]
            if told:
                await repository.save(session, self.settings, ctx, *told)
            await session.execute(delete(detected_series).where(d.tenant_id == tenant_id))
            if found:
                await session.execute(insert(detected_series), [
                    {"id": i, "tenant_id": tenant_id, "series": s.to_json()}
                    for i, s in zip(ids, found, strict=True)])
            live = [s.stops_on for s in found if not s.stopped]
            await session.execute(update(series_households).where(h.tenant_id == tenant_id).values(
                changes=text(f"greatest(changes - {int(changes)}, 0)"), detected_at=_now(),
                recheck_on=min(live) if live else None, detecting_since=None, transactions=transactions,
                seconds=seconds))


# --- proposals -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Proposal:
    id: UUID
    series: Series
    version: int


async def proposals(db: Database, ctx: Context) -> tuple[list[Proposal], datetime | None]:
    """The household's open proposals (told, neither dismissed nor accepted, not stopped, no schedule
    standing for them), likeliest first, and when its history was last looked at."""
    d, h = detected_series.c, series_households.c
    async with db.read() as session:
        rows = (await session.execute(select(d.id, d.series).where(d.tenant_id == ctx.tenant_id))).all()
        found = {i: Series.from_json(series) for i, series in rows}
        states = await proposals_of(session, ctx.tenant_id, list(found))
        schedules = await _schedules(session, ctx.tenant_id)
        detected_at = (await session.execute(select(h.detected_at).where(h.tenant_id == ctx.tenant_id))
                       ).scalar()
    open_ = [Proposal(i, s, states[i].version) for i, s in found.items()
             if states[i].open and not s.stopped and not _covered(s, schedules)]
    return sorted(open_, key=lambda p: (-p.series.occurrences, p.series.name, str(p.id))), detected_at


async def _open(session: AsyncSession, ctx: Context, proposal_id: UUID) -> tuple[Series, SeriesProposal]:
    d = detected_series.c
    kept = (await session.execute(select(d.series).where(d.tenant_id == ctx.tenant_id, d.id == proposal_id))
            ).scalar()
    proposal = await load(session, ctx, SeriesProposal, proposal_id)
    if kept is None or not proposal.exists:
        raise NotFound(f"recurring proposal {proposal_id} does not exist")
    return Series.from_json(kept), proposal


def schedule_values(series: Series, category: str | None) -> dict[str, Any]:
    """The schedule a series becomes: a bill (reminded of, matched to its payments) when money goes out,
    never posted automatically (the bank's statement brings the payment)."""
    return {
        "name": series.name, "account_id": UUID(series.account),
        "kind": "income" if series.income else "expense", "amount_minor": series.amount_minor,
        "category_id": UUID(category) if category else None, "payee": series.payee,
        "cadence": series.period.cadence, "interval": series.period.interval,
        "day_of_month": series.day_of_month, "starts_on": series.next_on, "ends_on": None, "count": None,
        "is_bill": not series.income, "auto_post": False, "remind_days_before": 3,
        "tolerance_pct": series.tolerance_pct, "note": "",
    }


async def accept(db: Database, settings: LedgerSettings, ctx: Context, proposal_id: UUID,
                 *, today: date) -> store.RecurringRow:
    """Make the proposal a schedule (the existing code path: `recurring_commands.create`), in one unit of work
    with the proposal's acceptance."""
    async with db.read() as session:
        series, proposal = await _open(session, ctx, proposal_id)
        usable = await categorising.usable_categories(session, ctx.tenant_id)
    with domain_errors_as_problems():
        proposal.require_open()  # checked again in the unit of work below
    if series.stopped:
        raise InvalidInput(f"{series.name!r} has stopped: no schedule is proposed for it")
    category = usable.resolve(series.category) if series.category else None
    if category is not None and usable.kinds.get(category) != series.income:
        category = None  # archived, or of the other kind by now

    async def along(session: AsyncSession, schedule_id: UUID) -> list[SeriesProposal]:
        current = await load(session, ctx, SeriesProposal, proposal_id)
        with domain_errors_as_problems():
            current.accept(schedule_id)
        return [current]

    return await recurring_commands.create(db, settings, ctx, schedule_values(series, category), today=today,
                                   along=along)


async def dismiss(db: Database, settings: LedgerSettings, ctx: Context, proposal_id: UUID) -> SeriesProposal:
    async with db.transaction() as session:
        _, proposal = await _open(session, ctx, proposal_id)
        with domain_errors_as_problems():
            proposal.dismiss()
        await repository.save(session, settings, ctx, proposal)
    return proposal
