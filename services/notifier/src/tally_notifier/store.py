"""The notifier's tables and the small queries over them.

- `households`, `recipients`: who lives in which tenant, learned from `auth.events`.
- `pending_alerts`: budget alerts that arrived before anyone of their tenant was known (the two topics
  are not ordered with each other); they are fanned out when the first recipient registers.
- `notifications`: the in-app feed, one row per (event, user).
- `email_deliveries`: the email outbox, one row per (event, recipient, channel), worked by the mailer.
"""

from typing import Any
from uuid import UUID

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

metadata = MetaData()

households = Table(
    "households",
    metadata,
    Column("tenant_id", PgUUID(as_uuid=True), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("base_currency", String(3), nullable=False),
)

recipients = Table(
    "recipients",
    metadata,
    Column("tenant_id", PgUUID(as_uuid=True), primary_key=True),
    Column("user_id", PgUUID(as_uuid=True), primary_key=True),
    Column("email", String(320), nullable=False),
    Column("display_name", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

pending_alerts = Table(
    "pending_alerts",
    metadata,
    Column("event_id", PgUUID(as_uuid=True), primary_key=True),
    Column("tenant_id", PgUUID(as_uuid=True), nullable=False, index=True),
    Column("envelope", JSONB, nullable=False),
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("tenant_id", PgUUID(as_uuid=True), nullable=False),
    Column("user_id", PgUUID(as_uuid=True), nullable=False),
    Column("event_id", PgUUID(as_uuid=True), nullable=False),
    Column("type", String(100), nullable=False),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("read", Boolean, nullable=False, server_default=false()),
    Column("read_at", DateTime(timezone=True)),
    UniqueConstraint("event_id", "user_id", name="notifications_event_user"),
)
Index("notifications_feed", notifications.c.tenant_id, notifications.c.user_id, notifications.c.created_at)

email_deliveries = Table(
    "email_deliveries",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("tenant_id", PgUUID(as_uuid=True), nullable=False),
    Column("event_id", PgUUID(as_uuid=True), nullable=False),
    Column("recipient", PgUUID(as_uuid=True), nullable=False),
    Column("channel", String(20), nullable=False),
    Column("address", String(320), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("text_body", Text, nullable=False),
    Column("html_body", Text, nullable=False),
    Column("message_id", String(300), nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True)),
    UniqueConstraint("event_id", "recipient", "channel", name="email_deliveries_event_recipient_channel"),
)
Index(
    "email_deliveries_due",
    email_deliveries.c.next_attempt_at,
    postgresql_where=email_deliveries.c.status == "pending",
)


async def household_name(session: AsyncSession, tenant_id: UUID) -> str | None:
    query = select(households.c.name).where(households.c.tenant_id == tenant_id)
    name: str | None = await session.scalar(query)
    return name


async def tenant_recipients(session: AsyncSession, tenant_id: UUID) -> list[RowMapping]:
    query = select(recipients).where(recipients.c.tenant_id == tenant_id).order_by(recipients.c.created_at)
    return list((await session.execute(query)).mappings())


async def feed(
    session: AsyncSession, tenant_id: UUID, user_id: UUID, limit: int
) -> tuple[list[RowMapping], int]:
    mine = (notifications.c.tenant_id == tenant_id) & (notifications.c.user_id == user_id)
    rows = await session.execute(
        select(notifications)
        .where(mine)
        .order_by(notifications.c.created_at.desc(), notifications.c.id.desc())
        .limit(limit)
    )
    unread = await session.scalar(
        select(func.count()).select_from(notifications).where(mine & ~notifications.c.read)
    )
    return list(rows.mappings()), int(unread or 0)


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


async def claim_due_delivery(session: AsyncSession) -> RowMapping | None:
    """Lock one due delivery for this transaction; rows another replica holds are skipped."""
    query = (
        select(email_deliveries)
        .where(email_deliveries.c.status == "pending", email_deliveries.c.next_attempt_at <= func.now())
        .order_by(email_deliveries.c.next_attempt_at)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(query)).mappings().first()


async def update_delivery(session: AsyncSession, delivery_id: UUID, **values: Any) -> None:
    query = update(email_deliveries).where(email_deliveries.c.id == delivery_id).values(**values)
    await session.execute(query)
