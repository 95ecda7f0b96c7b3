"""What each request does: one function per command, its own transaction, scoped to the caller's
household *and* person (the token says both; nothing here takes a tenant or user from the request).

Preferences, push subscriptions and the feed are personal: a viewer may change their own. Webhooks send
household data to a URL outside Tally, so they need a writer (`require_write`)."""

import secrets
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from sqlalchemy import func, select
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
        subscriptions = tables.push_subscriptions
        others = await store.count_persons_rows(session, subscriptions, principal.tenant_id,
                                                principal.user_id, subscriptions.c.endpoint != endpoint)
        if others >= MAX_PUSH_SUBSCRIPTIONS:
            raise Conflict(f"at most {MAX_PUSH_SUBSCRIPTIONS} devices can receive push notifications")
        return await store.save_push_subscription(session, uuid4(), endpoint, {
            "tenant_id": principal.tenant_id, "user_id": principal.user_id, "p256dh": body.keys.p256dh,
            "auth": body.keys.auth, "user_agent": user_agent[:300]})


async def push_subscriptions(db: Database, principal: Principal) -> list[RowMapping]:
    async with db.read() as session:
        return await store.persons_rows(
            session, tables.push_subscriptions, principal.tenant_id, principal.user_id
        )


async def unsubscribe_push(db: Database, principal: Principal, subscription_id: UUID) -> None:
    async with db.transaction() as session:
        if not await store.delete_persons_row(session, tables.push_subscriptions, principal.tenant_id,
                                              principal.user_id, subscription_id):
            raise NotFound(f"push subscription {subscription_id} not found")


# --- webhooks ----------------------------------------------------------------------------------------------


async def create_webhook(
    db: Database, settings: NotifierSettings, principal: Principal, body: WebhookCreate
) -> RowMapping:
    principal.require_write()
    await _check_url(str(body.url), settings, what="webhook URL")
    async with db.transaction() as session:
        if await store.count_persons_rows(session, tables.webhooks, principal.tenant_id,
                                          principal.user_id) >= settings.webhooks_per_user:
            raise Conflict(f"at most {settings.webhooks_per_user} webhooks per person")
        row = await store.add_webhook(session, {
            "id": uuid4(), "tenant_id": principal.tenant_id, "user_id": principal.user_id,
            "url": str(body.url), "description": body.description,
            "event_types": [t.value for t in body.event_types],
            "secret": "whsec_" + secrets.token_urlsafe(32)})
        log.info("webhook_created", webhook_id=str(row["id"]))
        return row


async def webhooks(db: Database, principal: Principal) -> list[RowMapping]:
    async with db.read() as session:
        return await store.persons_rows(session, tables.webhooks, principal.tenant_id, principal.user_id)


async def webhook(db: Database, principal: Principal, hook_id: UUID) -> RowMapping:
    async with db.read() as session:
        row = await store.persons_webhook(session, principal.tenant_id, principal.user_id, hook_id)
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
        row = await store.persons_webhook(session, principal.tenant_id, principal.user_id, hook_id, values)
    if row is None:
        raise NotFound(f"webhook {hook_id} not found")
    return row


async def delete_webhook(db: Database, principal: Principal, hook_id: UUID) -> None:
    principal.require_write()
    async with db.transaction() as session:
        if not await store.delete_persons_row(session, tables.webhooks, principal.tenant_id,
                                              principal.user_id, hook_id):
            raise NotFound(f"webhook {hook_id} not found")


async def webhook_deliveries(
    db: Database, principal: Principal, hook_id: UUID, limit: int
) -> list[RowMapping]:
    await webhook(db, principal, hook_id)  # 404 unless it is theirs
    async with db.read() as session:
        return await store.webhook_deliveries(session, principal.tenant_id, hook_id, limit,
                                              Channel.webhook.value)


async def delivery_statuses(db: Database, tenant_id: UUID) -> list[RowMapping]:
    """Deliveries of a tenant, oldest first (for operators and tests)."""
    async with db.read() as session:
        return await store.deliveries_of(session, tenant_id)
