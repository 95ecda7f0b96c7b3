"""The notifier's small queries over its tables (tables.py)."""

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any, TypedDict
from uuid import UUID

from sqlalchemy import ColumnElement, Table, delete, func, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession
from typing_extensions import Unpack

from tally_notifier.tables import (
    deliveries,
    forgotten_households,
    households,
    notifications,
    preferences,
    push_subscriptions,
    recipients,
    user_settings,
    webhooks,
)
from tallykit import commits
from tallykit.db import upsert_replacing

DELIVERIES_DUE = "deliveries_due"  # noted by a transaction that queued a delivery due now (tallykit.commits)


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
    new = bool(stored.rowcount)  # type: ignore[attr-defined]
    if new and (due is None or due <= datetime.now(UTC)):
        commits.note(session, DELIVERIES_DUE)  # the dispatcher sends it once this commits
    return new


async def is_forgotten(session: AsyncSession, tenant_id: UUID) -> bool:
    """Whether the household was deleted: what arrives for it afterwards is not kept."""
    found = await session.execute(
        select(forgotten_households.c.tenant_id).where(forgotten_households.c.tenant_id == tenant_id)
    )
    return found.first() is not None


async def set_preference(
    session: AsyncSession, tenant_id: UUID, user_id: UUID, kind: str, channel: str, enabled: bool
) -> None:
    """One person's choice for one type on one channel (a person's own change, or a one-click unsubscribe)."""
    await session.execute(
        upsert_replacing(preferences, ("enabled",)),
        {"tenant_id": tenant_id, "user_id": user_id, "type": kind, "channel": channel, "enabled": enabled},
    )


async def set_user_settings(session: AsyncSession, tenant_id: UUID, user_id: UUID, **values: Any) -> None:
    await session.execute(
        pg_insert(user_settings)
        .values(tenant_id=tenant_id, user_id=user_id, **values)
        .on_conflict_do_update(
            index_elements=[user_settings.c.tenant_id, user_settings.c.user_id],
            set_={**values, "updated_at": func.now()},
        )
    )


async def persons_rows(
    session: AsyncSession, table: Table, tenant_id: UUID, user_id: UUID
) -> list[RowMapping]:
    """One person's rows of a table of theirs (push subscriptions, webhooks), oldest first."""
    query = (
        select(table)
        .where(table.c.tenant_id == tenant_id, table.c.user_id == user_id)
        .order_by(table.c.created_at)
    )
    return list((await session.execute(query)).mappings())


async def count_persons_rows(session: AsyncSession, table: Table, tenant_id: UUID, user_id: UUID,
                             *also: ColumnElement[bool]) -> int:
    """How many rows of a table of theirs one person has (push subscriptions, webhooks)."""
    found = await session.scalar(select(func.count()).select_from(table)
                                 .where(table.c.tenant_id == tenant_id, table.c.user_id == user_id, *also))
    return int(found or 0)


async def delete_persons_row(session: AsyncSession, table: Table, tenant_id: UUID, user_id: UUID,
                             row_id: UUID) -> bool:
    """One of a person's rows gone; False when they have none with that id."""
    gone = await session.execute(
        delete(table).where(table.c.id == row_id, table.c.tenant_id == tenant_id, table.c.user_id == user_id)
        .returning(table.c.id))
    return gone.first() is not None


async def save_push_subscription(session: AsyncSession, row_id: UUID, endpoint: str,
                                 values: dict[str, Any]) -> RowMapping:
    """An endpoint belongs to one browser profile: whoever signed in there last receives its pushes."""
    saved = await session.execute(
        pg_insert(push_subscriptions).values(id=row_id, endpoint=endpoint, **values)
        .on_conflict_do_update(index_elements=[push_subscriptions.c.endpoint], set_=values)
        .returning(push_subscriptions))
    row: RowMapping = saved.mappings().one()
    return row


async def add_webhook(session: AsyncSession, values: dict[str, Any]) -> RowMapping:
    row: RowMapping = (await session.execute(pg_insert(webhooks).values(**values).returning(webhooks))
                       ).mappings().one()
    return row


async def persons_webhook(session: AsyncSession, tenant_id: UUID, user_id: UUID, hook_id: UUID,
                          changes: dict[str, Any] | None = None) -> RowMapping | None:
    """One of a person's webhooks, after `changes` to it if any; None when they have none with that id."""
    mine = (webhooks.c.id == hook_id, webhooks.c.tenant_id == tenant_id, webhooks.c.user_id == user_id)
    if changes:
        await session.execute(update(webhooks).where(*mine).values(**changes))
    return (await session.execute(select(webhooks).where(*mine))).mappings().first()


async def webhook_deliveries(session: AsyncSession, tenant_id: UUID, hook_id: UUID, limit: int,
                             channel: str) -> list[RowMapping]:
    """A webhook's deliveries, newest first."""
    d = deliveries.c
    rows = await session.execute(
        select(deliveries).where(d.tenant_id == tenant_id, d.channel == channel, d.target_key == str(hook_id))
        .order_by(d.created_at.desc(), d.id).limit(limit))
    return list(rows.mappings())


async def deliveries_of(session: AsyncSession, tenant_id: UUID) -> list[RowMapping]:
    """A household's deliveries, oldest first (for operators and tests)."""
    rows = await session.execute(select(deliveries).where(deliveries.c.tenant_id == tenant_id)
                                 .order_by(deliveries.c.created_at, deliveries.c.id))
    return list(rows.mappings())
