"""Recurring transactions and bills: one async function per command a request asks for (create, change,
cancel, skip an occurrence, mark one paid: load the schedule, decide, save, in one transaction), and the
list of upcoming occurrences. The worker that makes occurrences fall due is `scheduler`."""

from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import repository, store
from tally_ledger.commands import domain_errors_as_problems
from tally_ledger.domain import Account, Aggregate, Category
from tally_ledger.recurring import Occurrence, Recurring
from tally_ledger.repository import Context, load
from tally_ledger.settings import LedgerSettings
from tallykit.contracts.ledger import EntryKind, RecurringScheduled, TransactionKind
from tallykit.db import Database
from tallykit.errors import InvalidInput, NotFound
from tallykit.logging import get_logger

log = get_logger(__name__)

MAX_UPCOMING_DAYS = 400


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
