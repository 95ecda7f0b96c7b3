"""Who lives in which household, learnt from `auth.events`: households, recipients (address, locale,
time zone, role), members joining, changing role and leaving, profiles, and people deleted."""

from typing import Any
from uuid import UUID

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tally_notifier import store, tables
from tally_notifier.domain import (
    DeliveryStatus,
)
from tally_notifier.reactions import release_pending_alerts
from tally_notifier.settings import NotifierSettings
from tallykit.contracts.auth import (
    MemberJoined,
    MemberLeft,
    MemberRoleChanged,
    ProfileUpdated,
    TenantCreated,
    UserDeleted,
    UserRegistered,
)
from tallykit.events import Envelope
from tallykit.logging import get_logger

log = get_logger(__name__)



async def record_household(session: AsyncSession, envelope: Envelope, payload: TenantCreated) -> None:
    values = {"name": payload.name, "base_currency": payload.base_currency}
    await session.execute(
        pg_insert(tables.households)
        .values(tenant_id=envelope.tenant_id, **values)
        .on_conflict_do_update(index_elements=[tables.households.c.tenant_id], set_=values)
    )


async def _upsert_recipient(
    session: AsyncSession,
    tenant_id: UUID,
    user_id: UUID,
    values: dict[str, Any],
    settings: NotifierSettings,
    *,
    locale: str | None,
    time_zone: str | None,
) -> None:
    """`locale`, `time_zone`: the person's as the event says (None: it does not say), to start with when
    we do not know them yet (not an update)."""
    first = not await store.tenant_recipients(session, tenant_id)
    # A person joining a second household keeps the locale and time zone we already know (a ProfileUpdated
    # since the event was written has changed them); else they start with the event's.
    known = (
        await session.execute(
            select(tables.recipients.c.locale, tables.recipients.c.time_zone)
            .where(tables.recipients.c.user_id == user_id)
            .limit(1)
        )
    ).first()
    told = {"locale": locale, "time_zone": time_zone}
    inserted = dict(values) | {k: v for k, v in told.items() if v is not None}
    if known is not None:
        inserted |= {"locale": known.locale, "time_zone": known.time_zone}
    await session.execute(
        pg_insert(tables.recipients)
        .values(tenant_id=tenant_id, user_id=user_id, **inserted)
        .on_conflict_do_update(
            index_elements=[tables.recipients.c.tenant_id, tables.recipients.c.user_id], set_=values
        )
    )
    if first:
        await release_pending_alerts(session, tenant_id, settings)


async def record_recipient(session: AsyncSession, envelope: Envelope, payload: UserRegistered | MemberJoined,
                           settings: NotifierSettings) -> None:
    """Someone who signed up (in the household they created) or joined a household (with their role)."""
    values = {"email": str(payload.email), "display_name": payload.display_name}
    if isinstance(payload, MemberJoined):
        values["role"] = payload.role
    await _upsert_recipient(session, envelope.tenant_id, payload.user_id, values, settings,
                            locale=payload.locale, time_zone=payload.time_zone)


async def member_role_changed(session: AsyncSession, envelope: Envelope, payload: MemberRoleChanged) -> None:
    await session.execute(
        update(tables.recipients)
        .where(
            tables.recipients.c.tenant_id == envelope.tenant_id,
            tables.recipients.c.user_id == payload.user_id,
        )
        .values(role=payload.role)
    )


async def _forget_in_tenant(session: AsyncSession, tenant_id: UUID, user_id: UUID, reason: str) -> None:
    mine = {"tenant_id": tenant_id, "user_id": user_id}
    for table in (
        tables.recipients,
        tables.user_settings,
        tables.preferences,
        tables.push_subscriptions,
        tables.webhooks,
        tables.rate_windows,
        tables.digests,
    ):
        await session.execute(delete(table).where(*(table.c[k] == v for k, v in mine.items())))
    await session.execute(
        update(tables.deliveries)
        .where(
            tables.deliveries.c.tenant_id == tenant_id,
            tables.deliveries.c.recipient == user_id,
            tables.deliveries.c.status == DeliveryStatus.pending.value,
        )
        .values(status=DeliveryStatus.failed.value, last_error=reason)
    )


async def member_left(session: AsyncSession, envelope: Envelope, payload: MemberLeft) -> None:
    """They stop getting this household's alerts; their devices and webhooks here go too."""
    await _forget_in_tenant(
        session, envelope.tenant_id, payload.user_id, "no longer a member of the household"
    )


async def profile_updated(session: AsyncSession, envelope: Envelope, payload: ProfileUpdated) -> None:
    await session.execute(
        update(tables.recipients)
        .where(tables.recipients.c.user_id == payload.user_id)
        .values(display_name=payload.display_name, locale=payload.locale, time_zone=payload.time_zone)
    )


async def user_deleted(session: AsyncSession, envelope: Envelope, payload: UserDeleted) -> None:
    """Forget the person everywhere: address, preferences, devices, webhooks, feed; pending sends to them
    are dropped and the bodies of past ones (which hold their name and address) are blanked."""
    user = payload.user_id
    for table in (
        tables.recipients,
        tables.user_settings,
        tables.preferences,
        tables.push_subscriptions,
        tables.webhooks,
        tables.rate_windows,
        tables.digests,
        tables.notifications,
        tables.known_devices,
    ):
        await session.execute(delete(table).where(table.c.user_id == user))
    await session.execute(
        delete(tables.deliveries).where(
            tables.deliveries.c.recipient == user, tables.deliveries.c.status == DeliveryStatus.pending.value
        )
    )
    await session.execute(
        update(tables.deliveries)
        .where(tables.deliveries.c.recipient == user)
        .values(address=None, subject=None, text_body=None, html_body=None, payload=None)
    )
    for tenant in payload.deleted_household_ids:
        for table in (
            tables.households,
            tables.recipients,
            tables.notifications,
            tables.deliveries,
            tables.pending_alerts,
            tables.rollup,
            tables.webhooks,
            tables.push_subscriptions,
            tables.preferences,
            tables.user_settings,
            tables.rate_windows,
            tables.digests,
        ):
            await session.execute(delete(table).where(table.c.tenant_id == tenant))
        await session.execute(
            pg_insert(tables.forgotten_households).values(tenant_id=tenant).on_conflict_do_nothing()
        )
    log.info("user_forgotten", user_id=str(user), households=len(payload.deleted_household_ids))
