"""What each request does: one function per command, its own transaction, scoped to the caller's
household *and* person (the token says both; nothing here takes a tenant or user from the request).

Preferences, push subscriptions and the feed are personal: a viewer may change their own. Webhooks send
household data to a URL outside Tally, so they need a writer (`require_write`)."""

import secrets
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import RowMapping

from tally_notifier import keys, store, tables
from tally_notifier.dispatcher import PermanentFailure, check_target
from tally_notifier.domain import (
    CONFIGURABLE,
    TYPES,
    Channel,
    channel_enabled,
    read_unsubscribe_token,
)
from tally_notifier.schemas import (
    PreferencesPublic,
    PreferencesUpdate,
    PushSubscriptionCreate,
    QuietHours,
    TypePreference,
    WebhookCreate,
    WebhookUpdate,
)
from tally_notifier.settings import NotifierSettings
from tallykit.db import Database
from tallykit.errors import Conflict, InvalidInput, NotFound
from tallykit.logging import get_logger
from tallykit.tokens import Principal

log = get_logger(__name__)
MAX_PUSH_SUBSCRIPTIONS = 20

# --- the feed ----------------------------------------------------------------------------------------------


async def list_notifications(
    db: Database, principal: Principal, limit: int, unread_only: bool = False
) -> tuple[list[RowMapping], int]:
    async with db.read() as session:
        return await store.feed(
            session, principal.tenant_id, principal.user_id, limit, unread_only=unread_only
        )


async def mark_read(db: Database, principal: Principal, notification_id: UUID) -> None:
    async with db.transaction() as session:
        if not await store.mark_read(session, principal.tenant_id, principal.user_id, notification_id):
            raise NotFound(f"notification {notification_id} not found")
        await _notify_stream(session, principal)


async def mark_all_read(db: Database, principal: Principal) -> int:
    async with db.transaction() as session:
        marked = await store.mark_all_read(session, principal.tenant_id, principal.user_id)
        await _notify_stream(session, principal)
        return marked


async def _notify_stream(session: Any, principal: Principal) -> None:
    """Other open tabs of the same person update their unread count."""
    from tally_notifier.fanout import STREAM_CHANNEL

    await session.execute(
        select(func.pg_notify(STREAM_CHANNEL, f"{principal.tenant_id}:{principal.user_id}"))
    )


# --- preferences -------------------------------------------------------------------------------------------


async def preferences(db: Database, principal: Principal) -> PreferencesPublic:
    async with db.read() as session:
        return await _preferences(session, principal)


async def _preferences(session: Any, principal: Principal) -> PreferencesPublic:
    overrides = await store.overrides_of(session, principal.tenant_id, principal.user_id)
    personal = await store.settings_of(session, principal.tenant_id, principal.user_id)
    person = await store.recipient(session, principal.tenant_id, principal.user_id)
    quiet = None
    if personal and personal["quiet_start"] is not None and personal["quiet_end"] is not None:
        quiet = QuietHours(
            start=personal["quiet_start"].strftime("%H:%M"), end=personal["quiet_end"].strftime("%H:%M")
        )
    return PreferencesPublic(
        types=[
            TypePreference(
                type=kind,
                label=TYPES[kind].label,
                channels={c: channel_enabled(kind, c, overrides) for c in Channel},
                locked=sorted(TYPES[kind].locked),
            )
            for kind in CONFIGURABLE
        ],
        quiet_hours=quiet,
        digest_only=bool(personal and personal["digest_only"]),
        time_zone=person["time_zone"] if person else "UTC",
    )


async def update_preferences(
    db: Database, principal: Principal, change: PreferencesUpdate
) -> PreferencesPublic:
    for kind, channels in change.channels.items():
        for channel, enabled in channels.items():
            if not enabled and channel in TYPES[kind].locked:
                raise InvalidInput(
                    f"{TYPES[kind].label} {channel.value} notifications cannot be switched off"
                )
    if change.quiet_hours is not None:
        start, end = change.quiet_hours.times()
        if start == end:
            raise InvalidInput("quiet hours must start and end at different times")
        if change.clear_quiet_hours:
            raise InvalidInput("give quiet_hours or clear_quiet_hours, not both")
    async with db.transaction() as session:
        for kind, channels in change.channels.items():
            for channel, enabled in channels.items():
                await store.set_preference(
                    session, principal.tenant_id, principal.user_id, kind.value, channel.value, enabled
                )
        values: dict[str, Any] = {}
        if change.quiet_hours is not None:
            values["quiet_start"], values["quiet_end"] = change.quiet_hours.times()
        if change.clear_quiet_hours:
            values["quiet_start"] = values["quiet_end"] = None
        if change.digest_only is not None:
            values["digest_only"] = change.digest_only
        if values:
            await store.set_user_settings(session, principal.tenant_id, principal.user_id, **values)
        return await _preferences(session, principal)


async def unsubscribe(db: Database, settings: NotifierSettings, token: str) -> str:
    """One-click: switch one type's e-mail off for the person the token was made for. Returns the label."""
    async with db.transaction() as session:
        the_keys = await keys.load(session, settings)
        what = read_unsubscribe_token(the_keys.unsubscribe, token)
        if what is None or what.type not in TYPES or Channel.email in TYPES[what.type].locked:
            raise InvalidInput("this unsubscribe link is not valid")
        await store.set_preference(
            session, what.tenant_id, what.user_id, what.type.value, Channel.email.value, enabled=False
        )
        log.info("unsubscribed", user_id=str(what.user_id), type=what.type.value)
        return TYPES[what.type].label


# --- Web Push ----------------------------------------------------------------------------------------------


async def push_key(db: Database, settings: NotifierSettings) -> str:
    async with db.transaction() as session:
        return (await keys.load(session, settings)).application_server_key


async def _check_url(url: str, settings: NotifierSettings, *, what: str) -> None:
    if urlsplit(url).scheme != "https" and not settings.allow_private_targets:
        raise InvalidInput(f"the {what} must be an https URL")
    try:
        await check_target(url, settings.allow_private_targets)
    except PermanentFailure as exc:
        raise InvalidInput(f"the {what} is not allowed: {exc}") from None
    except ConnectionError as exc:
        raise InvalidInput(f"the {what}'s host cannot be found") from exc


async def subscribe_push(
    db: Database,
    settings: NotifierSettings,
    principal: Principal,
    body: PushSubscriptionCreate,
    user_agent: str,
) -> RowMapping:
    endpoint = str(body.endpoint)
    if len(endpoint) > 2000:
        raise InvalidInput("the endpoint is longer than 2000 characters")
    await _check_url(endpoint, settings, what="push endpoint")
    async with db.transaction() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(tables.push_subscriptions)
            .where(
                tables.push_subscriptions.c.tenant_id == principal.tenant_id,
                tables.push_subscriptions.c.user_id == principal.user_id,
                tables.push_subscriptions.c.endpoint != endpoint,
            )
        )
        if (count or 0) >= MAX_PUSH_SUBSCRIPTIONS:
            raise Conflict(f"at most {MAX_PUSH_SUBSCRIPTIONS} devices can receive push notifications")
        # An endpoint belongs to one browser profile: whoever signed in there last receives its pushes.
        values = {
            "tenant_id": principal.tenant_id,
            "user_id": principal.user_id,
            "p256dh": body.keys.p256dh,
            "auth": body.keys.auth,
            "user_agent": user_agent[:300],
        }
        row: RowMapping = (
            (
                await session.execute(
                    pg_insert(tables.push_subscriptions)
                    .values(id=uuid4(), endpoint=endpoint, **values)
                    .on_conflict_do_update(index_elements=[tables.push_subscriptions.c.endpoint], set_=values)
                    .returning(tables.push_subscriptions)
                )
            )
            .mappings()
            .one()
        )
        return row


async def push_subscriptions(db: Database, principal: Principal) -> list[RowMapping]:
    async with db.read() as session:
        return await store.persons_rows(
            session, tables.push_subscriptions, principal.tenant_id, principal.user_id
        )


async def unsubscribe_push(db: Database, principal: Principal, subscription_id: UUID) -> None:
    async with db.transaction() as session:
        gone = await session.execute(
            delete(tables.push_subscriptions)
            .where(
                tables.push_subscriptions.c.id == subscription_id,
                tables.push_subscriptions.c.tenant_id == principal.tenant_id,
                tables.push_subscriptions.c.user_id == principal.user_id,
            )
            .returning(tables.push_subscriptions.c.id)
        )
        if gone.first() is None:
            raise NotFound(f"push subscription {subscription_id} not found")


# --- webhooks ----------------------------------------------------------------------------------------------


def _mine(principal: Principal, hook_id: UUID) -> Any:
    w = tables.webhooks
    return (w.c.id == hook_id) & (w.c.tenant_id == principal.tenant_id) & (w.c.user_id == principal.user_id)


async def create_webhook(
    db: Database, settings: NotifierSettings, principal: Principal, body: WebhookCreate
) -> RowMapping:
    principal.require_write()
    await _check_url(str(body.url), settings, what="webhook URL")
    async with db.transaction() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(tables.webhooks)
            .where(
                tables.webhooks.c.tenant_id == principal.tenant_id,
                tables.webhooks.c.user_id == principal.user_id,
            )
        )
        if (count or 0) >= settings.webhooks_per_user:
            raise Conflict(f"at most {settings.webhooks_per_user} webhooks per person")
        row: RowMapping = (
            (
                await session.execute(
                    pg_insert(tables.webhooks)
                    .values(
                        id=uuid4(),
                        tenant_id=principal.tenant_id,
                        user_id=principal.user_id,
                        url=str(body.url),
                        description=body.description,
                        event_types=[t.value for t in body.event_types],
                        secret="whsec_" + secrets.token_urlsafe(32),
                    )
                    .returning(tables.webhooks)
                )
            )
            .mappings()
            .one()
        )
        log.info("webhook_created", webhook_id=str(row["id"]))
        return row


async def webhooks(db: Database, principal: Principal) -> list[RowMapping]:
    async with db.read() as session:
        return await store.persons_rows(session, tables.webhooks, principal.tenant_id, principal.user_id)


async def webhook(db: Database, principal: Principal, hook_id: UUID) -> RowMapping:
    async with db.read() as session:
        row = (
            (await session.execute(select(tables.webhooks).where(_mine(principal, hook_id))))
            .mappings()
            .first()
        )
    if row is None:
        raise NotFound(f"webhook {hook_id} not found")
    return row


async def update_webhook(
    db: Database, principal: Principal, hook_id: UUID, change: WebhookUpdate
) -> RowMapping:
    principal.require_write()
    values: dict[str, Any] = {}
    if change.event_types is not None:
        values["event_types"] = [t.value for t in change.event_types]
    if change.description is not None:
        values["description"] = change.description
    if change.enabled is not None:
        values["enabled"] = change.enabled
        if change.enabled:  # switched back on by hand: start counting afresh
            values |= {"consecutive_failures": 0, "disabled_reason": None}
    async with db.transaction() as session:
        query = update(tables.webhooks).where(_mine(principal, hook_id)).values(**values) if values else None
        if query is not None:
            await session.execute(query)
        row = (
            (await session.execute(select(tables.webhooks).where(_mine(principal, hook_id))))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(f"webhook {hook_id} not found")
        return row


async def delete_webhook(db: Database, principal: Principal, hook_id: UUID) -> None:
    principal.require_write()
    async with db.transaction() as session:
        gone = await session.execute(
            delete(tables.webhooks).where(_mine(principal, hook_id)).returning(tables.webhooks.c.id)
        )
        if gone.first() is None:
            raise NotFound(f"webhook {hook_id} not found")


async def webhook_deliveries(
    db: Database, principal: Principal, hook_id: UUID, limit: int
) -> list[RowMapping]:
    await webhook(db, principal, hook_id)  # 404 unless it is theirs
    d = tables.deliveries
    async with db.read() as session:
        rows = await session.execute(
            select(d)
            .where(
                d.c.tenant_id == principal.tenant_id,
                d.c.channel == Channel.webhook.value,
                d.c.target_key == str(hook_id),
            )
            .order_by(d.c.created_at.desc(), d.c.id)
            .limit(limit)
        )
        return list(rows.mappings())


async def delivery_statuses(db: Database, tenant_id: UUID) -> list[RowMapping]:
    """Deliveries of a tenant, oldest first (for operators and tests)."""
    async with db.read() as session:
        rows = await session.execute(
            select(tables.deliveries)
            .where(tables.deliveries.c.tenant_id == tenant_id)
            .order_by(tables.deliveries.c.created_at, tables.deliveries.c.id)
        )
        return list(rows.mappings())
