"""The scheduler of recurring transactions and bills: a background worker of every ledger replica.

Each run claims schedules that have something to do today, one at a time, with `FOR UPDATE SKIP LOCKED`
on their row: two replicas never work on the same schedule at once, and a schedule claimed by one is
skipped, not waited for, by the other. The claimed schedule is then loaded from its stream, and its due
events and reminders are appended at the version seen, projected (which inserts the occurrence's unique
key) and put on the outbox in that one transaction. So each occurrence's event exists exactly once,
whatever the number of replicas, and a crash before the commit leaves nothing behind for the next run to
trip over.
"""

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import commands, due_dates, repository, store, tables
from tally_ledger.domain import Account, Category, DomainError, Transaction
from tally_ledger.recurring import Recurring, occurrence_transaction_id
from tally_ledger.repository import Context, load
from tally_ledger.rules import RuleBook
from tally_ledger.settings import LedgerSettings
from tallykit import eventstore
from tallykit.contracts.ledger import EntryKind, RecurringScheduled, TransactionState
from tallykit.db import Database
from tallykit.events import SYSTEM
from tallykit.logging import get_logger
from tallykit.periodic import every

log = get_logger(__name__)


def _now() -> datetime:
    return datetime.now(UTC)


class Scheduler:
    """Emits RecurringTransactionDue (posting the transaction when the schedule says so) and BillDueSoon,
    once per occurrence. `clock` gives "now" (tests pass their own)."""

    def __init__(self, db: Database, settings: LedgerSettings, clock: Callable[[], datetime] = _now) -> None:
        self.db, self.settings, self.clock = db, settings, clock

    async def run(self, stop: asyncio.Event) -> None:
        await every(self.settings.scheduler_interval_s, self.run_once, stop, failed="scheduler_run_failed")

    async def run_once(self, now: datetime | None = None) -> int:
        """Handle every schedule with something to do today; returns how many events were written."""
        today = due_dates.today_in(now or self.clock(), self.settings.scheduler_timezone)
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
        r = tables.recurring.c
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
