"""The fan-out of one message to one person, and the ids that make it happen once. No FastAPI, no
commits: it runs inside the consumer's inbox transaction, so every row it writes (feed, deliveries,
counters) commits with the event id, or not at all.

The fan-out for one event and one person, per channel:
- in-app: a feed row (unique per event and user), then `pg_notify` so open streams pick it up;
- e-mail and push: unless switched off or the person is in digest-only mode, a delivery row per target
  (unique per event, channel, recipient, target) due now, or when their quiet hours end; past the rate
  limit, no row but a count, and one summary delivery per window;
- webhooks: a delivery per matching webhook of theirs (never rate limited: machines want every event).
"""

import json
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Any
from uuid import UUID, uuid5

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tally_notifier import keys, store, tables
from tally_notifier.domain import (
    TYPES,
    Audience,
    BudgetAlert,
    Channel,
    Message,
    NotificationType,
    Unsubscribe,
    channel_enabled,
    quiet_until,
    summary_message,
    unsubscribe_token,
    window_start,
)
from tally_notifier.settings import NotifierSettings
from tally_notifier.templates import RenderedEmail, render_message
from tallykit.contracts.budget import (
    BudgetExceeded,
    BudgetThresholdReached,
)
from tallykit.events import Envelope, EventPayload
from tallykit.logging import get_logger
from tallykit.meters import NOTIFICATIONS_SENT

log = get_logger(__name__)

# Ids derived from (event, recipient) make a replayed fan-out produce the very same rows.
_IDS = UUID("6f1c8a52-3d0e-4c1b-9a57-0b7e3f6d2c11")
STREAM_CHANNEL = "tally_notifier_feed"


def derived_id(event_id: UUID, user_id: UUID, kind: str) -> UUID:
    return uuid5(_IDS, f"{kind}:{event_id}:{user_id}")


def message_id(event_id: UUID, user_id: UUID, mail_from: str) -> str:
    """The same alert to the same person always has the same Message-ID, so a resend can be recognised."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "tally.local"
    return f"<{event_id}.{user_id}@{domain}>"


def summary_event_id(tenant_id: UUID, user_id: UUID, channel: Channel, window: datetime) -> UUID:
    """One summary per person, channel and window, whichever replica or redelivery gets there first."""
    return uuid5(_IDS, f"summary:{tenant_id}:{user_id}:{channel.value}:{window.isoformat()}")


def email_delivery(email: RenderedEmail, *, address: str, message_id: str,
                   payload: dict[str, Any] | None = None) -> store.DeliveryContent:
    """A rendered e-mail to `address` as what its delivery carries."""
    return {"address": address, "subject": email.subject, "text_body": email.text, "html_body": email.html,
            "message_id": message_id, "payload": payload}


def unsubscribe_url(
    public_url: str, key: bytes, tenant_id: UUID, user_id: UUID, kind: NotificationType
) -> str:
    token = unsubscribe_token(key, Unsubscribe(tenant_id, user_id, kind))
    return f"{public_url.rstrip('/')}/api/notifier/unsubscribe?token={token}"





async def notify(
    session: AsyncSession,
    envelope: Envelope,
    message: Message,
    person: RowMapping,
    settings: NotifierSettings,
    *,
    household: str,
    payload: EventPayload | None = None,
) -> None:
    tenant_id, user_id = envelope.tenant_id, person["user_id"]
    overrides = await store.overrides_of(session, tenant_id, user_id)
    personal = await store.settings_of(session, tenant_id, user_id)
    now = datetime.now(UTC)
    info = TYPES.get(message.type)
    digest_only = bool(personal and personal["digest_only"]) and not (
        info and info.audience is Audience.person
    )
    held_until = quiet_until(
        now,
        person["time_zone"],
        personal["quiet_start"] if personal else None,
        personal["quiet_end"] if personal else None,
    )
    due = held_until or now

    if channel_enabled(message.type, Channel.in_app, overrides):
        await _in_app(session, envelope, message, user_id, settings, now, person["locale"])

    for channel in (Channel.email, Channel.push):
        if digest_only or not channel_enabled(message.type, channel, overrides):
            continue
        if channel is Channel.push and not await _has_devices(session, tenant_id, user_id):
            continue
        if not await _within_rate(session, tenant_id, user_id, channel, message.type, settings, now, due):
            continue
        if channel is Channel.email:
            alert = (
                BudgetAlert.from_payload(payload, household, person["locale"])
                if isinstance(payload, BudgetThresholdReached | BudgetExceeded)
                else None
            )
            await _queue_email(session, envelope, message, person, settings, household, due, alert)
        else:
            await _queue_push(session, envelope, message, user_id, due, settings)

    if channel_enabled(message.type, Channel.webhook, overrides):
        await _queue_webhooks(session, envelope, message, user_id, payload, settings)


async def _has_devices(session: AsyncSession, tenant_id: UUID, user_id: UUID) -> bool:
    subs = tables.push_subscriptions
    found = await session.scalar(
        select(subs.c.id).where(subs.c.tenant_id == tenant_id, subs.c.user_id == user_id).limit(1)
    )
    return found is not None


async def _in_app(
    session: AsyncSession,
    envelope: Envelope,
    message: Message,
    user_id: UUID,
    settings: NotifierSettings,
    now: datetime,
    locale: str | None = None,
) -> None:
    window = window_start(now, settings.rate_window_s)
    counted = await _count(session, envelope.tenant_id, user_id, Channel.in_app, window)
    if counted > settings.rate_limit_per_window:
        held, counts = await _hold(session, envelope.tenant_id, user_id, Channel.in_app, window, message.type)
        summary = summary_message(held, counts, locale)
        event_id = summary_event_id(envelope.tenant_id, user_id, Channel.in_app, window)
        values = {"title": summary.title[:200], "body": summary.body, "read": False, "read_at": None}
        await session.execute(
            pg_insert(tables.notifications)
            .values(
                id=derived_id(event_id, user_id, "notification"),
                tenant_id=envelope.tenant_id,
                user_id=user_id,
                event_id=event_id,
                type=summary.type.value,
                created_at=now,
                link=summary.link_path,
                **values,
            )
            .on_conflict_do_update(constraint="notifications_event_user", set_=values)
        )
        # The same row moves to the top of the live stream with its new count.
        await session.execute(
            text(
                "UPDATE notifications SET seq = nextval(pg_get_serial_sequence('notifications', 'seq')) "
                "WHERE event_id = :e AND user_id = :u"
            ),
            {"e": event_id, "u": user_id},
        )
    else:
        stored = await session.execute(
            pg_insert(tables.notifications)
            .values(
                id=derived_id(envelope.id, user_id, "notification"),
                tenant_id=envelope.tenant_id,
                user_id=user_id,
                event_id=envelope.id,
                type=message.type.value,
                title=message.title[:200],
                body=message.body,
                created_at=envelope.occurred_at,
                link=message.link_path[:500],
            )
            .on_conflict_do_nothing()
        )
        if not stored.rowcount:  # type: ignore[attr-defined]
            return
        NOTIFICATIONS_SENT.labels("in_app").inc()
    await session.execute(select(func.pg_notify(STREAM_CHANNEL, f"{envelope.tenant_id}:{user_id}")))


async def _count(
    session: AsyncSession, tenant_id: UUID, user_id: UUID, channel: Channel, window: datetime
) -> int:
    counted = await session.scalar(
        pg_insert(tables.rate_windows)
        .values(tenant_id=tenant_id, user_id=user_id, channel=channel.value, window_start=window, sent=1)
        .on_conflict_do_update(
            index_elements=[
                tables.rate_windows.c.tenant_id,
                tables.rate_windows.c.user_id,
                tables.rate_windows.c.channel,
                tables.rate_windows.c.window_start,
            ],
            set_={"sent": tables.rate_windows.c.sent + 1},
        )
        .returning(tables.rate_windows.c.sent)
    )
    return int(counted or 0)


async def _hold(
    session: AsyncSession,
    tenant_id: UUID,
    user_id: UUID,
    channel: Channel,
    window: datetime,
    kind: NotificationType,
) -> tuple[int, dict[str, int]]:
    result = (
        await session.execute(
            text(
                "UPDATE rate_windows SET held = held + 1, "
                "counts = jsonb_set(counts, ARRAY[CAST(:k AS text)], "
                "to_jsonb(coalesce(CAST(counts->>CAST(:k AS text) AS integer), 0) + 1)) "
                "WHERE tenant_id = :t AND user_id = :u AND channel = :c AND window_start = :w "
                "RETURNING held, counts"
            ),
            {"k": kind.value, "t": tenant_id, "u": user_id, "c": channel.value, "w": window},
        )
    ).one()
    return int(result.held), dict(result.counts)


async def _within_rate(
    session: AsyncSession,
    tenant_id: UUID,
    user_id: UUID,
    channel: Channel,
    kind: NotificationType,
    settings: NotifierSettings,
    now: datetime,
    due: datetime,
) -> bool:
    """False when past the limit: the notification is counted, and one summary for the window is queued
    for when the window ends (or the quiet hours do)."""
    window = window_start(now, settings.rate_window_s)
    if await _count(session, tenant_id, user_id, channel, window) <= settings.rate_limit_per_window:
        return True
    await _hold(session, tenant_id, user_id, channel, window, kind)
    event_id = summary_event_id(tenant_id, user_id, channel, window)
    ends = window + timedelta(seconds=settings.rate_window_s)
    await store.add_delivery(
        session, delivery_id=derived_id(event_id, user_id, channel.value), tenant_id=tenant_id,
        event_id=event_id, recipient=user_id, channel=channel.value, kind=NotificationType.summary.value,
        due=max(ends, due), payload={"window_start": window.isoformat(), "rate_channel": channel.value},
    )
    return False


async def _queue_email(
    session: AsyncSession,
    envelope: Envelope,
    message: Message,
    person: RowMapping,
    settings: NotifierSettings,
    household: str,
    due: datetime,
    alert: BudgetAlert | None,
) -> None:
    user_id: UUID = person["user_id"]
    the_keys = await keys.load(session, settings)
    info = TYPES.get(message.type)
    # A type whose e-mail cannot be switched off (security) gets no unsubscribe link.
    unsubscribe = (
        unsubscribe_url(settings.public_url, the_keys.unsubscribe, envelope.tenant_id, user_id, message.type)
        if info is not None and Channel.email not in info.locked
        else None
    )
    email = render_message(
        message,
        display_name=person["display_name"],
        household=household,
        public_url=settings.public_url,
        unsubscribe_url=unsubscribe,
        alert=alert,
        locale=person["locale"],
    )
    stored = await store.add_delivery(
        session, delivery_id=derived_id(envelope.id, user_id, Channel.email.value),
        tenant_id=envelope.tenant_id, event_id=envelope.id, recipient=user_id, channel=Channel.email.value,
        kind=message.type.value, due=due,
        **email_delivery(email, address=person["email"],
                         message_id=message_id(envelope.id, user_id, settings.mail_from),
                         payload={"unsubscribe": unsubscribe} if unsubscribe else None),
    )
    if stored and due > datetime.now(UTC):
        log.info("email_held_for_quiet_hours", user_id=str(user_id), until=due.isoformat())


async def _queue_push(
    session: AsyncSession,
    envelope: Envelope,
    message: Message,
    user_id: UUID,
    due: datetime,
    settings: NotifierSettings,
) -> None:
    subscriptions = await session.execute(
        select(tables.push_subscriptions.c.id).where(
            tables.push_subscriptions.c.tenant_id == envelope.tenant_id,
            tables.push_subscriptions.c.user_id == user_id,
        )
    )
    for (subscription_id,) in subscriptions.all():
        delivery_id = derived_id(envelope.id, user_id, f"push:{subscription_id}")
        await store.add_delivery(
            session, delivery_id=delivery_id, tenant_id=envelope.tenant_id, event_id=envelope.id,
            recipient=user_id, channel=Channel.push.value, kind=message.type.value, due=due,
            target_key=str(subscription_id), payload=push_payload(message, delivery_id, settings.public_url),
        )


def push_payload(message: Message, delivery_id: UUID, public_url: str) -> dict[str, Any]:
    """What the service worker shows. `tag` is the delivery id: a repeated push replaces the shown one."""
    return {
        "title": message.title,
        "body": message.body,
        "url": message.link(public_url),
        "type": message.type.value,
        "tag": str(delivery_id),
    }


async def _queue_webhooks(
    session: AsyncSession,
    envelope: Envelope,
    message: Message,
    user_id: UUID,
    payload: EventPayload | None,
    settings: NotifierSettings,
) -> None:
    hooks = await session.execute(
        select(tables.webhooks.c.id).where(
            tables.webhooks.c.tenant_id == envelope.tenant_id,
            tables.webhooks.c.user_id == user_id,
            tables.webhooks.c.enabled,
            tables.webhooks.c.event_types.contains([message.type.value]),
        )
    )
    for (hook_id,) in hooks.all():
        delivery_id = derived_id(envelope.id, hook_id, Channel.webhook.value)
        body = {
            "id": str(delivery_id),
            "type": message.type.value,
            "event_id": str(envelope.id),
            "event_type": envelope.type,
            "occurred_at": envelope.occurred_at.isoformat(),
            "household_id": str(envelope.tenant_id),
            "title": message.title,
            "body": message.body,
            "link": message.link(settings.public_url),
            "data": payload.model_dump(mode="json") if payload is not None else {},
        }
        await store.add_delivery(
            session, delivery_id=delivery_id, tenant_id=envelope.tenant_id, event_id=envelope.id,
            recipient=user_id, channel=Channel.webhook.value, kind=message.type.value,
            target_key=str(hook_id), payload=json.loads(json.dumps(body)),
        )
