"""Events from other services → ledger commands."""

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import commands, sharing_store, tables
from tally_ledger.attachments import LocalStorage
from tally_ledger.erasure import erase_households
from tally_ledger.repository import Context
from tally_ledger.settings import LedgerSettings
from tallykit.consumer import EventConsumer
from tallykit.contracts import registry
from tallykit.contracts.auth import (
    HouseholdSettingsChanged,
    MemberJoined,
    MemberLeft,
    TenantCreated,
    UserDeleted,
)
from tallykit.db import Database
from tallykit.events import Envelope
from tallykit.settings import ServiceSettings


async def _set_base_currency(
    session: AsyncSession, envelope: Envelope, currency: str, *, created: bool = False
) -> None:
    """`created` (the household's first settings, from TenantCreated) never replaces a base currency
    already stored, which can only be a later one."""
    h = tables.households
    statement = pg_insert(h).values(tenant_id=envelope.tenant_id, base_currency=currency)
    await session.execute(
        statement.on_conflict_do_nothing(index_elements=[h.c.tenant_id])
        if created
        else statement.on_conflict_do_update(index_elements=[h.c.tenant_id], set_={"base_currency": currency})
    )


def auth_events_consumer(db: Database, settings: ServiceSettings) -> EventConsumer:
    storage = LocalStorage(settings.attachments_dir) if isinstance(settings, LedgerSettings) else None

    async def on_tenant_created(session: AsyncSession, envelope: Envelope, payload: TenantCreated) -> None:
        await commands.create_default_categories(session, settings, Context.caused_by(envelope))
        await _set_base_currency(session, envelope, payload.base_currency, created=True)

    async def on_settings_changed(
        session: AsyncSession, envelope: Envelope, payload: HouseholdSettingsChanged
    ) -> None:
        await _set_base_currency(session, envelope, payload.base_currency)

    async def on_user_deleted(session: AsyncSession, envelope: Envelope, payload: UserDeleted) -> None:
        await erase_households(session, payload.deleted_household_ids, storage)

    async def on_member_joined(session: AsyncSession, envelope: Envelope, payload: MemberJoined) -> None:
        await sharing_store.member_joined(session, envelope.tenant_id, payload.user_id, payload.display_name,
                                          envelope.occurred_at)

    async def on_member_left(session: AsyncSession, envelope: Envelope, payload: MemberLeft) -> None:
        await sharing_store.member_left(session, envelope.tenant_id, payload.user_id)

    return EventConsumer(
        db=db,
        settings=settings,
        registry=registry,
        topics=["auth.events"],
        handlers={
            "auth.TenantCreated": on_tenant_created,
            "auth.HouseholdSettingsChanged": on_settings_changed,
            "auth.UserDeleted": on_user_deleted,
            "auth.MemberJoined": on_member_joined,
            "auth.MemberLeft": on_member_left,
        },
    )
