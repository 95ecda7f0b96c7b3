"""The notifier's tables and the small queries over them.

- `households`, `recipients`: who lives in which tenant (membership, address, locale, time zone), learned
  from `auth.events`.
- `pending_alerts`: household alerts that arrived before anyone of their tenant was known (the topics are
  not ordered with each other); fanned out when the first recipient is known.
- `notifications`: the in-app feed, one row per (event, user); `seq` orders the live stream.
- `deliveries`: one row per (event, channel, recipient, target) for e-mail, Web Push and webhooks — the
  unique key is what makes a redelivered event or a second replica a no-op; the dispatcher claims due
  rows with SKIP LOCKED. `failed` rows are the dead-letter record.
- `user_settings`, `preferences`: quiet hours, digest-only, and per (type, channel) choices.
- `push_subscriptions`, `webhooks`, `service_keys` (VAPID and token keys made on first start).
- `rate_windows`: per user and channel, how many were sent and held in a fixed window.
- `known_devices`, `rollup`, `digests`: for new-sign-in alerts and the weekly and monthly digest.
"""

from collections.abc import Collection
from datetime import datetime
from typing import Any, TypedDict
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    false,
    func,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession
from typing_extensions import Unpack

from tallykit.tables import uuid_column

metadata = MetaData()

households = Table(
    "households",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    Column("name", String(100), nullable=False),
    Column("base_currency", String(3), nullable=False),
)

recipients = Table(
    "recipients",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("user_id", primary_key=True),
    Column("email", String(320), nullable=False),
    Column("display_name", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("locale", String(35), nullable=False, server_default="en"),
    Column("time_zone", String(64), nullable=False, server_default="UTC"),
    Column("role", String(10), nullable=False, server_default="member"),
)

pending_alerts = Table(
    "pending_alerts",
    metadata,
    uuid_column("event_id", primary_key=True),
    uuid_column("tenant_id", nullable=False, index=True),
    Column("envelope", JSONB, nullable=False),
)

# Only ids: which households were deleted, so their late alerts are dropped (holds no personal data).
forgotten_households = Table(
    "forgotten_households",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    Column("forgotten_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

notifications = Table(
    "notifications",
    metadata,
    uuid_column("id", primary_key=True),
    uuid_column("tenant_id", nullable=False),
    uuid_column("user_id", nullable=False),
    uuid_column("event_id", nullable=False),
    Column("type", String(100), nullable=False),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("read", Boolean, nullable=False, server_default=false()),
    Column("read_at", DateTime(timezone=True)),
    Column("seq", BigInteger, Identity(), nullable=False),
    Column("link", String(500), nullable=False, server_default=""),
    UniqueConstraint("event_id", "user_id", name="notifications_event_user"),
)
Index("notifications_feed", notifications.c.tenant_id, notifications.c.user_id, notifications.c.created_at)
Index("notifications_stream", notifications.c.tenant_id, notifications.c.user_id, notifications.c.seq)

deliveries = Table(
    "deliveries",
    metadata,
    uuid_column("id", primary_key=True),
    uuid_column("tenant_id", nullable=False),
    uuid_column("event_id", nullable=False),
    uuid_column("recipient", nullable=False),
    Column("channel", String(20), nullable=False),
    Column("type", String(100), nullable=False, server_default=""),
    Column("target_key", String(64), nullable=False, server_default=""),
    Column("address", String(320)),
    Column("subject", String(300)),
    Column("text_body", Text),
    Column("html_body", Text),
    Column("message_id", String(300)),
    Column("payload", JSONB),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True)),
    UniqueConstraint("event_id", "channel", "recipient", "target_key", name="deliveries_once"),
)
Index("deliveries_due", deliveries.c.next_attempt_at, postgresql_where=deliveries.c.status == "pending")

user_settings = Table(
    "user_settings",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("user_id", primary_key=True),
    Column("quiet_start", Time),
    Column("quiet_end", Time),
    Column("digest_only", Boolean, nullable=False, server_default=false()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

preferences = Table(
    "preferences",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("user_id", primary_key=True),
    Column("type", String(100), primary_key=True),
    Column("channel", String(20), primary_key=True),
    Column("enabled", Boolean, nullable=False),
)

service_keys = Table(
    "service_keys",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("value", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

push_subscriptions = Table(
    "push_subscriptions",
    metadata,
    uuid_column("id", primary_key=True),
    uuid_column("tenant_id", nullable=False),
    uuid_column("user_id", nullable=False),
    Column("endpoint", String(2000), nullable=False, unique=True),
    Column("p256dh", String(200), nullable=False),
    Column("auth", String(100), nullable=False),
    Column("user_agent", String(300), nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_success_at", DateTime(timezone=True)),
)

webhooks = Table(
    "webhooks",
    metadata,
    uuid_column("id", primary_key=True),
    uuid_column("tenant_id", nullable=False),
    uuid_column("user_id", nullable=False),
    Column("url", String(2000), nullable=False),
    Column("description", String(200), nullable=False, server_default=""),
    Column("event_types", JSONB, nullable=False),
    Column("secret", String(100), nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=true()),
    Column("consecutive_failures", Integer, nullable=False, server_default="0"),
    Column("disabled_reason", String(300)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

rate_windows = Table(
    "rate_windows",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("user_id", primary_key=True),
    Column("channel", String(20), primary_key=True),
    Column("window_start", DateTime(timezone=True), primary_key=True),
    Column("sent", Integer, nullable=False, server_default="0"),
    Column("held", Integer, nullable=False, server_default="0"),
    Column("counts", JSONB, nullable=False, server_default="{}"),
)

known_devices = Table(
    "known_devices",
    metadata,
    uuid_column("user_id", primary_key=True),
    Column("device", String(64), primary_key=True),
    Column("first_seen", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

rollup = Table(
    "rollup",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("day", Date, nullable=False),
    Column("data", JSONB, nullable=False),
)

digests = Table(
    "digests",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("user_id", primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("period", String(20), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)


async def household_name(session: AsyncSession, tenant_id: UUID) -> str | None:
    query = select(households.c.name).where(households.c.tenant_id == tenant_id)
    name: str | None = await session.scalar(query)
    return name


async def tenant_recipients(session: AsyncSession, tenant_id: UUID) -> list[RowMapping]:
    query = select(recipients).where(recipients.c.tenant_id == tenant_id).order_by(recipients.c.created_at)
    return list((await session.execute(query)).mappings())


async def recipient(session: AsyncSession, tenant_id: UUID, user_id: UUID) -> RowMapping | None:
    query = select(recipients).where(recipients.c.tenant_id == tenant_id, recipients.c.user_id == user_id)
    return (await session.execute(query)).mappings().first()


async def settings_of(session: AsyncSession, tenant_id: UUID, user_id: UUID) -> RowMapping | None:
    query = select(user_settings).where(
        user_settings.c.tenant_id == tenant_id, user_settings.c.user_id == user_id
    )
    return (await session.execute(query)).mappings().first()


async def overrides_of(session: AsyncSession, tenant_id: UUID, user_id: UUID) -> dict[tuple[str, str], bool]:
    query = select(preferences.c.type, preferences.c.channel, preferences.c.enabled).where(
        preferences.c.tenant_id == tenant_id, preferences.c.user_id == user_id
    )
    return {(t, c): e for t, c, e in (await session.execute(query)).all()}


async def feed(
    session: AsyncSession, tenant_id: UUID, user_id: UUID, limit: int, *, unread_only: bool = False
) -> tuple[list[RowMapping], int]:
    mine = (notifications.c.tenant_id == tenant_id) & (notifications.c.user_id == user_id)
    shown = mine & ~notifications.c.read if unread_only else mine
    rows = await session.execute(
        select(notifications)
        .where(shown)
        .order_by(notifications.c.created_at.desc(), notifications.c.seq.desc())
        .limit(limit)
    )
    return list(rows.mappings()), await unread_count(session, tenant_id, user_id)


async def unread_count(session: AsyncSession, tenant_id: UUID, user_id: UUID) -> int:
    mine = (notifications.c.tenant_id == tenant_id) & (notifications.c.user_id == user_id)
    unread = await session.scalar(
        select(func.count()).select_from(notifications).where(mine & ~notifications.c.read)
    )
    return int(unread or 0)


async def feed_after(
    session: AsyncSession, tenant_id: UUID, user_id: UUID, after_seq: int, limit: int = 100
) -> list[RowMapping]:
    query = (
        select(notifications)
        .where(
            notifications.c.tenant_id == tenant_id,
            notifications.c.user_id == user_id,
            notifications.c.seq > after_seq,
        )
        .order_by(notifications.c.seq)
        .limit(limit)
    )
    return list((await session.execute(query)).mappings())


async def last_seq(session: AsyncSession, tenant_id: UUID, user_id: UUID) -> int:
    query = select(func.max(notifications.c.seq)).where(
        notifications.c.tenant_id == tenant_id, notifications.c.user_id == user_id
    )
    return int(await session.scalar(query) or 0)


async def mark_read(session: AsyncSession, tenant_id: UUID, user_id: UUID, notification_id: UUID) -> bool:
    """True when the notification is the user's (already read or not)."""
    result = await session.execute(
        update(notifications)
        .where(
            notifications.c.id == notification_id,
            notifications.c.tenant_id == tenant_id,
            notifications.c.user_id == user_id,
        )
        .values(read=True, read_at=func.coalesce(notifications.c.read_at, func.now()))
        .returning(notifications.c.id)
    )
    return result.first() is not None


async def mark_all_read(session: AsyncSession, tenant_id: UUID, user_id: UUID) -> int:
    result = await session.execute(
        update(notifications)
        .where(
            notifications.c.tenant_id == tenant_id,
            notifications.c.user_id == user_id,
            ~notifications.c.read,
        )
        .values(read=True, read_at=func.now())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def claim_due_delivery(session: AsyncSession, skip: Collection[UUID] = ()) -> RowMapping | None:
    """Lock one due delivery for this transaction; rows another replica holds are skipped, and so are
    `skip` (those this round already tried: a short backoff must not make a round retry at once)."""
    query = (
        select(deliveries)
        .where(
            deliveries.c.status == "pending",
            deliveries.c.next_attempt_at <= func.now(),
            deliveries.c.id.not_in(list(skip)) if skip else true(),
        )
        .order_by(deliveries.c.next_attempt_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(query)).mappings().first()


async def update_delivery(session: AsyncSession, delivery_id: UUID, **values: Any) -> None:
    query = update(deliveries).where(deliveries.c.id == delivery_id).values(**values)
    await session.execute(query)


class DeliveryContent(TypedDict, total=False):
    """What a delivery carries besides who and when, by channel: an e-mail's address, subject, bodies and
    Message-ID; a push subscription's or webhook's `target_key`; the `payload` each channel sends."""

    address: str
    subject: str
    text_body: str
    html_body: str
    message_id: str
    target_key: str
    payload: dict[str, Any] | None


async def add_delivery(
    session: AsyncSession,
    *,
    delivery_id: UUID,
    tenant_id: UUID,
    event_id: UUID,
    recipient: UUID,
    channel: str,
    kind: str,
    due: datetime | None = None,
    **content: Unpack[DeliveryContent],
) -> bool:
    """Queue one pending delivery, once: its unique key (event, channel, recipient, target) makes an
    event handled again, or by a second replica, change nothing. `content` holds the channel's columns
    (address, subject, bodies, message_id, target_key, payload); `due` None means now. True when new."""
    values = {"next_attempt_at": due} if due is not None else {}
    stored = await session.execute(
        pg_insert(deliveries)
        .values(id=delivery_id, tenant_id=tenant_id, event_id=event_id, recipient=recipient, channel=channel,
                type=kind, status="pending", **values, **content)
        .on_conflict_do_nothing()
    )
    return bool(stored.rowcount)  # type: ignore[attr-defined]


async def is_forgotten(session: AsyncSession, tenant_id: UUID) -> bool:
    """Whether the household was deleted: what arrives for it afterwards is not kept."""
    found = await session.execute(
        select(forgotten_households.c.tenant_id).where(forgotten_households.c.tenant_id == tenant_id)
    )
    return found.first() is not None
