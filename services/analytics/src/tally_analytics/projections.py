"""Ledger events → the reporting read model, inside the consumer's inbox transaction."""

from sqlalchemy.ext.asyncio import AsyncSession

from tally_analytics import store
from tally_analytics.domain import NO_CATEGORY, month_of
from tallykit.contracts.ledger import CategoryCreated, TransactionKind, TransactionRecorded
from tallykit.events import Envelope


async def category_created(session: AsyncSession, envelope: Envelope, payload: CategoryCreated) -> None:
    """A category's id is its ledger stream id."""
    await store.save_category(
        session, envelope.tenant_id, envelope.stream_id, payload.name, payload.kind.value
    )


async def transaction_recorded(
    session: AsyncSession, envelope: Envelope, payload: TransactionRecorded
) -> None:
    income = payload.amount_minor if payload.kind == TransactionKind.income else 0
    await store.add_to_month(
        session,
        envelope.tenant_id,
        month_of(payload.booked_on),
        payload.category_id or NO_CATEGORY,
        payload.currency,
        income_minor=income,
        expense_minor=payload.amount_minor - income,
    )
