"""Ledger events → the budget service's read models (categories, spending per month)."""

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from tally_budget import store
from tally_budget.domain import month_of
from tallykit.contracts.ledger import CategoryCreated, TransactionKind, TransactionRecorded
from tallykit.events import Envelope


async def category_created(session: AsyncSession, envelope: Envelope, payload: CategoryCreated) -> None:
    """A category's id is its ledger stream id."""
    category = store.Category(id=envelope.stream_id, name=payload.name, kind=payload.kind.value)
    await store.save_category(session, envelope.tenant_id, category)


async def transaction_recorded(
    session: AsyncSession, envelope: Envelope, payload: TransactionRecorded
) -> tuple[UUID, str, int] | None:
    """Count an expense as spending in its booking month: (category, month, new total), or None if the
    transaction does not count (an income, or no category)."""
    if payload.kind != TransactionKind.expense or payload.category_id is None:
        return None
    month = month_of(payload.booked_on)
    total = await store.add_spending(
        session, envelope.tenant_id, payload.category_id, month, payload.currency, payload.amount_minor
    )
    return payload.category_id, month, total
