"""`ledger.events` → categories and spending, and the alerts spending may fire."""

from sqlalchemy.ext.asyncio import AsyncSession

from tally_budget import handlers, projections
from tallykit.consumer import EventConsumer
from tallykit.contracts import registry
from tallykit.contracts.ledger import TransactionRecorded
from tallykit.db import Database
from tallykit.events import Envelope
from tallykit.settings import ServiceSettings


def ledger_consumer(db: Database, settings: ServiceSettings) -> EventConsumer:
    async def transaction_recorded(
        session: AsyncSession, envelope: Envelope, payload: TransactionRecorded
    ) -> None:
        changed = await projections.transaction_recorded(session, envelope, payload)
        if changed is not None:
            category_id, month, total = changed
            await handlers.spending_changed(
                session, settings, envelope, category_id, month, payload.currency, total
            )

    return EventConsumer(
        db=db,
        settings=settings,
        registry=registry,
        topics=["ledger.events"],
        handlers={
            "ledger.CategoryCreated": projections.category_created,
            "ledger.TransactionRecorded": transaction_recorded,
        },
    )
