"""Events from other services → ledger commands."""

from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import handlers
from tallykit.consumer import EventConsumer
from tallykit.contracts import registry
from tallykit.contracts.auth import TenantCreated
from tallykit.db import Database
from tallykit.events import Envelope
from tallykit.settings import ServiceSettings


def auth_events_consumer(db: Database, settings: ServiceSettings) -> EventConsumer:
    async def on_tenant_created(session: AsyncSession, envelope: Envelope, payload: TenantCreated) -> None:
        await handlers.create_default_categories(session, settings, handlers.Context.caused_by(envelope))

    return EventConsumer(db=db, settings=settings, registry=registry, topics=["auth.events"],
                         handlers={"auth.TenantCreated": on_tenant_created})
