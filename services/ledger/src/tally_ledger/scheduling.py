"""Recurring transactions and bills: the commands, the upcoming list, and the scheduler.

The scheduler is a background worker of every ledger replica. Each run claims schedules that have
something to do today, one at a time, with `FOR UPDATE SKIP LOCKED` on their row: two replicas never
work on the same schedule at once, and a schedule claimed by one is skipped, not waited for, by the
other. The claimed schedule is then loaded from its stream, and its due events and reminders are
appended at the version seen, projected (which inserts the occurrence's unique key) and put on the
outbox in that one transaction. So each occurrence's event exists exactly once, whatever the number
of replicas, and a crash before the commit leaves nothing behind for the next run to trip over.
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import commands, repository, schedule, store
from tally_ledger.commands import domain_errors_as_problems
from tally_ledger.domain import Account, Aggregate, Category, DomainError, Transaction
from tally_ledger.recurring import Occurrence, Recurring, occurrence_transaction_id
from tally_ledger.repository import Context, load
from tally_ledger.rules import RuleBook
from tally_ledger.settings import LedgerSettings
from tallykit import eventstore
from tallykit.contracts.ledger import EntryKind, RecurringScheduled, TransactionKind, TransactionState
from tallykit.db import Database
from tallykit.errors import InvalidInput, NotFound
from tallykit.events import SYSTEM
from tallykit.logging import get_logger
from tallykit.periodic import every

log = get_logger(__name__)

MAX_UPCOMING_DAYS = 400


def _now() -> datetime:
    return datetime.now(UTC)


async def _check_refs(
    session: AsyncSession, ctx: Context, values: dict[str, Any], before: RecurringScheduled | None
) -> dict[str, Any]:
    """The account must be open (unless the schedule already had it); the category usable for the kind;
    the currency is the account's."""
    account = await load(session, ctx, Account, values["account_id"])
    with domain_errors_as_problems():
        account.require_exists()
        if before is None or before.account_id != account.id:
            account.require_open()
        if values.get("category_id") is not None:
            category = await load(session, ctx, Category, values["category_id"])
            if before is None or before.category_id != category.id:
                category.require_usable(EntryKind(TransactionKind(values["kind"]).value))
            else:
                category.require_exists()
    return values | {"currency": account.currency}


async def _row(session: AsyncSession, ctx: Context, schedule_id: UUID) -> store.RecurringRow:
    row = await store.get_recurring(session, ctx.tenant_id, schedule_id)
    if row is None:
        raise RuntimeError(f"schedule {schedule_id} missing from its read model")
    return row


async def create(
    db: Database,
    settings: LedgerSettings,
    ctx: Context,
    values: dict[str, Any],
    *,
    today: date,
    along: Callable[[AsyncSession, UUID], Awaitable[Sequence[Aggregate]]] | None = None,
) -> store.RecurringRow:
    """`along` gives aggregates saved in the same unit of work, from the new schedule's id (a proposal
    accepted as this schedule)."""
    async with db.transaction() as session:
        values = await _check_refs(session, ctx, values, None)
        with domain_errors_as_problems():
            recurring = Recurring.create(uuid4(), values, today=today)
        others = await along(session, recurring.id) if along is not None else ()
        await repository.save(session, settings, ctx, recurring, *others)
        row = await _row(session, ctx, recurring.id)
    log.info("recurring_scheduled", schedule_id=str(recurring.id))
    return row


async def change(
    db: Database,
    settings: LedgerSettings,
    ctx: Context,
    schedule_id: UUID,
    values: dict[str, Any],
    *,
    expected_version: int,
    today: date,
) -> store.RecurringRow:
    async with db.transaction() as session:
        recurring = await load(session, ctx, Recurring, schedule_id)
        with domain_errors_as_problems():
            recurring.require_exists()
            merged = recurring.current.model_dump(include={"account_id", "kind", "category_id"}) | values
        merged = await _check_refs(session, ctx, merged, recurring.current)
        with domain_errors_as_problems():
            recurring.change(merged, today=today, expected_version=expected_version)
        await repository.save(session, settings, ctx, recurring)
        return await _row(session, ctx, schedule_id)


async def _command(
    db: Database,
    settings: LedgerSettings,
    ctx: Context,
    schedule_id: UUID,
    command: Callable[[Recurring], None],
) -> store.RecurringRow:
    async with db.transaction() as session:
        recurring = await load(session, ctx, Recurring, schedule_id)
        with domain_errors_as_problems():
            recurring.require_exists()
            command(recurring)
        await repository.save(session, settings, ctx, recurring)
        return await _row(session, ctx, schedule_id)


async def cancel(
    db: Database, settings: LedgerSettings, ctx: Context, schedule_id: UUID, *, expected_version: int
) -> store.RecurringRow:
    return await _command(
        db, settings, ctx, schedule_id, lambda r: r.cancel(expected_version=expected_version)
    )


async def skip(
    db: Database, settings: LedgerSettings, ctx: Context, schedule_id: UUID, due_on: date
) -> store.RecurringRow:
    return await _command(db, settings, ctx, schedule_id, lambda r: r.skip(due_on))


async def mark_paid(
    db: Database,
    settings: LedgerSettings,
    ctx: Context,
    schedule_id: UUID,
    due_on: date,
    transaction_id: UUID | None,
) -> store.RecurringRow:
    """Mark one occurrence of a bill paid by hand, by a transaction of the household's or without one."""
    amount = 0
    if transaction_id is not None:
        async with db.read() as session:
            transaction = await store.get_transaction(session, ctx.tenant_id, transaction_id)
        if transaction is None:
            raise NotFound(f"transaction {transaction_id} does not exist")
        amount = transaction.amount_minor
    return await _command(
        db,
        settings,
        ctx,
        schedule_id,
        lambda r: r.mark_paid(due_on, transaction_id=transaction_id, amount_minor=amount),
    )


async def upcoming(db: Database, ctx: Context, first: date, last: date) -> list[Occurrence]:
    """Every schedule's occurrences between two days, with what became of each, by date."""
    if last < first:
        raise InvalidInput("the range ends before it starts")
    if (last - first).days > MAX_UPCOMING_DAYS:
        raise InvalidInput(f"a range of at most {MAX_UPCOMING_DAYS} days, please")
    async with db.read() as session:
        ids = [row.id for row in await store.list_recurring(session, ctx.tenant_id)]
        schedules = [await load(session, ctx, Recurring, i) for i in ids]
    found = [o for s in schedules for o in s.occurrences_between(first, last)]
    return sorted(found, key=lambda o: (o.due_on, o.name, o.schedule_id))


class Scheduler:
    """Emits RecurringTransactionDue (posting the transaction when the schedule says so) and BillDueSoon,
    once per occurrence. `clock` gives "now" (tests pass their own)."""

    def __init__(self, db: Database, settings: LedgerSettings, clock: Callable[[], datetime] = _now) -> None:
        self.db, self.settings, self.clock = db, settings, clock

    async def run(self, stop: asyncio.Event) -> None:
        await every(self.settings.scheduler_interval_s, self.run_once, stop, failed="scheduler_run_failed")

    async def run_once(self, now: datetime | None = None) -> int:
        """Handle every schedule with something to do today; returns how many events were written."""
        today = schedule.today_in(now or self.clock(), self.settings.scheduler_timezone)
        written, seen = 0, set[UUID]()
        while True:
            claimed: tuple[UUID, UUID] | None = None
            try:
                async with self.db.transaction() as session:
                    claimed = await self._claim(session, today, seen)
                    if claimed is None:
                        break
                    seen.add(claimed[0])
                    written += await self._handle(session, claimed[1], claimed[0], today)
            except Exception:
                if claimed is None:
                    raise
                # One schedule that cannot be handled (e.g. a clash with a concurrent edit of it) must not
                # stop the others; it is tried again at the next run.
                log.exception("schedule_failed", schedule_id=str(claimed[0]))
        if written:
            log.info("scheduler_ran", today=today.isoformat(), events=written)
        return written

    async def _claim(self, session: AsyncSession, today: date, seen: set[UUID]) -> tuple[UUID, UUID] | None:
        # The append lock first, as every command takes it before the projection touches a schedule's row:
        # taking the row first and the append lock second could deadlock with a payment being recorded.
        await eventstore.lock_appends(session)
        r = store.recurring.c
        query = (
            select(r.id, r.tenant_id)
            .where(r.wake_on <= today, ~r.cancelled)
            .order_by(r.wake_on, r.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if seen:
            query = query.where(r.id.not_in(seen))
        row = (await session.execute(query)).first()
        return (row.id, row.tenant_id) if row else None

    async def _handle(self, session: AsyncSession, tenant_id: UUID, schedule_id: UUID, today: date) -> int:
        ctx = Context(tenant_id=tenant_id, actor=SYSTEM, correlation_id=schedule_id)
        recurring = await load(session, ctx, Recurring, schedule_id)
        posted = await self._poster(session, ctx, recurring)
        recurring.fall_due(today, posted.post)
        recurring.remind(today)
        aggregates = [recurring, *posted.transactions]
        if not recurring.pending:
            return 0
        return len(await repository.save(session, self.settings, ctx, *aggregates))

    async def _poster(self, session: AsyncSession, ctx: Context, recurring: Recurring) -> "_Poster":
        event = recurring.current
        account = await load(session, ctx, Account, event.account_id)
        category = await load(session, ctx, Category, event.category_id) if event.category_id else None
        payee = (await store.payee_merges(session, ctx.tenant_id)).get(event.payee.lower(), event.payee)
        book = await commands.load_rulebook(session, ctx) if event.auto_post else RuleBook([], {})
        return _Poster(recurring.id, event, account, category, payee, book)


class _Poster:
    """Records an auto-posted occurrence's transaction (in memory; saved with the due event)."""

    def __init__(
        self,
        schedule_id: UUID,
        event: RecurringScheduled,
        account: Account,
        category: Category | None,
        payee: str,
        book: RuleBook,
    ) -> None:
        self.schedule_id, self.event, self.account = schedule_id, event, account
        self.category, self.payee, self.book = category, payee, book
        self.transactions: list[Transaction] = []

    def post(self, day: date) -> UUID | None:
        category, payee, note = self.category, self.payee, self.event.note or self.event.name
        tags: tuple[str, ...] = ()
        try:
            if self.book.rules:  # an automatic entry is an entry: the rules fill in what it leaves open
                ruled, _ = self.book.apply(
                    TransactionState(
                        account_id=self.account.id,
                        kind=EntryKind(self.event.kind.value),
                        amount_minor=self.event.amount_minor,
                        currency=self.account.currency,
                        booked_on=day,
                        category_id=category.id if category else None,
                        payee=payee,
                        note=note,
                    )
                )
                payee, note, tags = ruled.payee, ruled.note, ruled.tags
                if ruled.category_id is not None and category is None:
                    category = self.book.categories.get(ruled.category_id)
            transaction = Transaction.record(
                occurrence_transaction_id(self.schedule_id, day),
                account=self.account,
                kind=self.event.kind,
                amount_minor=self.event.amount_minor,
                booked_on=day,
                category=category,
                payee=payee,
                note=note,
                tags=tags,
            )
        except (DomainError, ValueError) as exc:  # e.g. an archived account: remind instead of posting
            log.warning(
                "recurring_not_posted",
                schedule_id=str(self.schedule_id),
                due_on=day.isoformat(),
                reason=str(exc),
            )
            return None
        self.transactions.append(transaction)
        return transaction.id
