"""What the notifier does with each incoming event. No FastAPI, no commits: these run inside the
consumer's inbox transaction, so every row they write (feed, deliveries, counters) commits with the
event id, or not at all.

The fan-out for one event and one person, per channel:
- in-app: a feed row (unique per event and user), then `pg_notify` so open streams pick it up;
- e-mail and push: unless switched off or the person is in digest-only mode, a delivery row per target
  (unique per event, channel, recipient, target) due now, or when their quiet hours end; past the rate
  limit, no row but a count, and one summary delivery per window;
- webhooks: a delivery per matching webhook of theirs (never rate limited: machines want every event).
"""

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from email.utils import parseaddr
from typing import Any
from uuid import UUID, uuid5

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tally_notifier import keys, store
from tally_notifier.domain import (
    TYPES,
    Audience,
    BudgetAlert,
    Channel,
    DeliveryStatus,
    Message,
    NotificationType,
    SeriesFinding,
    Unsubscribe,
    bill_message,
    channel_enabled,
    goal_message,
    pace_message,
    quiet_until,
    recurring_message,
    security_message,
    series_message,
    summary_message,
    unsubscribe_token,
    unusual_message,
    window_start,
)
from tally_notifier.settings import NotifierSettings
from tally_notifier.templates import RenderedEmail, render_account_email, render_invitation, render_message
from tally_notifier.wording import words
from tallykit.contracts import registry
from tallykit.contracts.analytics import SavingsOpportunitiesFound, UnusualSpendingDetected
from tallykit.contracts.auth import (
    EmailVerificationRequested,
    LoginSucceeded,
    MemberInvited,
    MemberJoined,
    MemberLeft,
    MemberRoleChanged,
    PasswordChanged,
    PasswordResetRequested,
    ProfileUpdated,
    TenantCreated,
    TwoFactorDisabled,
    TwoFactorEnabled,
    UserDeleted,
    UserRegistered,
)
from tallykit.contracts.budget import (
    BudgetExceeded,
    BudgetPaceWarning,
    BudgetThresholdReached,
    GoalBehind,
    GoalReached,
)
from tallykit.contracts.ledger import (
    BillDueSoon,
    RecurringSeriesFound,
    RecurringSeriesPriceChanged,
    RecurringSeriesStopped,
    RecurringTransactionDue,
)
from tallykit.events import Envelope, EventPayload
from tallykit.logging import get_logger
from tallykit.meters import NOTIFICATIONS_SENT

log = get_logger(__name__)

# Ids derived from (event, recipient) make a replayed fan-out produce the very same rows.
_IDS = UUID("6f1c8a52-3d0e-4c1b-9a57-0b7e3f6d2c11")
UNNAMED_HOUSEHOLD = "your household"
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


# --- people and households ---------------------------------------------------------------------------------


async def record_household(session: AsyncSession, envelope: Envelope, payload: TenantCreated) -> None:
    values = {"name": payload.name, "base_currency": payload.base_currency}
    await session.execute(
        pg_insert(store.households)
        .values(tenant_id=envelope.tenant_id, **values)
        .on_conflict_do_update(index_elements=[store.households.c.tenant_id], set_=values)
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
            select(store.recipients.c.locale, store.recipients.c.time_zone)
            .where(store.recipients.c.user_id == user_id)
            .limit(1)
        )
    ).first()
    told = {"locale": locale, "time_zone": time_zone}
    inserted = dict(values) | {k: v for k, v in told.items() if v is not None}
    if known is not None:
        inserted |= {"locale": known.locale, "time_zone": known.time_zone}
    await session.execute(
        pg_insert(store.recipients)
        .values(tenant_id=tenant_id, user_id=user_id, **inserted)
        .on_conflict_do_update(
            index_elements=[store.recipients.c.tenant_id, store.recipients.c.user_id], set_=values
        )
    )
    if first:
        await _release_pending_alerts(session, tenant_id, settings)


async def record_recipient(
    session: AsyncSession, envelope: Envelope, payload: UserRegistered, settings: NotifierSettings
) -> None:
    values = {"email": str(payload.email), "display_name": payload.display_name}
    await _upsert_recipient(
        session,
        envelope.tenant_id,
        payload.user_id,
        values,
        settings,
        locale=payload.locale,
        time_zone=payload.time_zone,
    )


async def member_joined(
    session: AsyncSession, envelope: Envelope, payload: MemberJoined, settings: NotifierSettings
) -> None:
    values = {"email": str(payload.email), "display_name": payload.display_name, "role": payload.role}
    await _upsert_recipient(
        session,
        envelope.tenant_id,
        payload.user_id,
        values,
        settings,
        locale=payload.locale,
        time_zone=payload.time_zone,
    )


async def member_role_changed(session: AsyncSession, envelope: Envelope, payload: MemberRoleChanged) -> None:
    await session.execute(
        update(store.recipients)
        .where(
            store.recipients.c.tenant_id == envelope.tenant_id, store.recipients.c.user_id == payload.user_id
        )
        .values(role=payload.role)
    )


async def _forget_in_tenant(session: AsyncSession, tenant_id: UUID, user_id: UUID, reason: str) -> None:
    mine = {"tenant_id": tenant_id, "user_id": user_id}
    for table in (
        store.recipients,
        store.user_settings,
        store.preferences,
        store.push_subscriptions,
        store.webhooks,
        store.rate_windows,
        store.digests,
    ):
        await session.execute(delete(table).where(*(table.c[k] == v for k, v in mine.items())))
    await session.execute(
        update(store.deliveries)
        .where(
            store.deliveries.c.tenant_id == tenant_id,
            store.deliveries.c.recipient == user_id,
            store.deliveries.c.status == DeliveryStatus.pending.value,
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
        update(store.recipients)
        .where(store.recipients.c.user_id == payload.user_id)
        .values(display_name=payload.display_name, locale=payload.locale, time_zone=payload.time_zone)
    )


async def user_deleted(session: AsyncSession, envelope: Envelope, payload: UserDeleted) -> None:
    """Forget the person everywhere: address, preferences, devices, webhooks, feed; pending sends to them
    are dropped and the bodies of past ones (which hold their name and address) are blanked."""
    user = payload.user_id
    for table in (
        store.recipients,
        store.user_settings,
        store.preferences,
        store.push_subscriptions,
        store.webhooks,
        store.rate_windows,
        store.digests,
        store.notifications,
        store.known_devices,
    ):
        await session.execute(delete(table).where(table.c.user_id == user))
    await session.execute(
        delete(store.deliveries).where(
            store.deliveries.c.recipient == user, store.deliveries.c.status == DeliveryStatus.pending.value
        )
    )
    await session.execute(
        update(store.deliveries)
        .where(store.deliveries.c.recipient == user)
        .values(address=None, subject=None, text_body=None, html_body=None, payload=None)
    )
    for tenant in payload.deleted_household_ids:
        for table in (
            store.households,
            store.recipients,
            store.notifications,
            store.deliveries,
            store.pending_alerts,
            store.rollup,
            store.webhooks,
            store.push_subscriptions,
            store.preferences,
            store.user_settings,
            store.rate_windows,
            store.digests,
        ):
            await session.execute(delete(table).where(table.c.tenant_id == tenant))
        await session.execute(
            pg_insert(store.forgotten_households).values(tenant_id=tenant).on_conflict_do_nothing()
        )
    log.info("user_forgotten", user_id=str(user), households=len(payload.deleted_household_ids))


# --- what an event says and to whom -------------------------------------------------------------------------

HouseholdAlert = (
    BudgetThresholdReached
    | BudgetExceeded
    | BudgetPaceWarning
    | GoalReached
    | GoalBehind
    | BillDueSoon
    | RecurringTransactionDue
    | SeriesFinding
    | UnusualSpendingDetected
)


def household_message(payload: EventPayload, household: str, locale: str | None = None) -> Message:
    """What a household alert says, in the language of `locale` (English when None)."""
    if isinstance(payload, BudgetThresholdReached | BudgetExceeded):
        return BudgetAlert.from_payload(payload, household, locale).message()
    if isinstance(payload, BudgetPaceWarning):
        return pace_message(payload, locale)
    if isinstance(payload, GoalReached | GoalBehind):
        return goal_message(payload, locale)
    if isinstance(payload, BillDueSoon):
        return bill_message(payload, locale)
    if isinstance(payload, RecurringTransactionDue):
        return recurring_message(payload, locale)
    if isinstance(payload, RecurringSeriesFound | RecurringSeriesPriceChanged | RecurringSeriesStopped):
        return series_message(payload, locale)
    if isinstance(payload, UnusualSpendingDetected):
        return unusual_message(payload, locale)
    raise TypeError(f"not a household alert: {type(payload).__name__}")


async def household_alert(
    session: AsyncSession, envelope: Envelope, payload: EventPayload, settings: NotifierSettings
) -> None:
    """Every member of the household, on the channels each chose."""
    people = await store.tenant_recipients(session, envelope.tenant_id)
    if not people and await _forgotten(session, envelope.tenant_id):
        log.info("alert_for_deleted_household_dropped", event_id=str(envelope.id))
        return
    if not people:
        # auth.events and the other topics are not ordered with each other: hold it until someone is known.
        await session.execute(
            pg_insert(store.pending_alerts)
            .values(
                event_id=envelope.id, tenant_id=envelope.tenant_id, envelope=envelope.model_dump(mode="json")
            )
            .on_conflict_do_nothing()
        )
        log.info("alert_held_no_recipients")
        return
    household = await store.household_name(session, envelope.tenant_id) or UNNAMED_HOUSEHOLD
    message = household_message(payload, household)
    await _roll_up(session, envelope, message)  # the rollup's figures are the same in every language
    for person in people:
        # Each person reads it in their own language: a household can hold an English and a German member.
        theirs = household_message(payload, household, person["locale"])
        await notify(session, envelope, theirs, person, settings, household=household, payload=payload)
    log.info("alert_fanned_out", type=message.type.value, recipients=len(people))


async def _release_pending_alerts(session: AsyncSession, tenant_id: UUID, settings: NotifierSettings) -> None:
    rows = await session.execute(
        delete(store.pending_alerts)
        .where(store.pending_alerts.c.tenant_id == tenant_id)
        .returning(store.pending_alerts.c.envelope)
    )
    for (raw,) in rows.all():
        held = Envelope.model_validate(raw)
        await household_alert(session, held, registry.payload(held), settings)


async def _roll_up(session: AsyncSession, envelope: Envelope, message: Message) -> None:
    """The digest's own small read model: latest spending per budgeted category and period, upcoming
    bills, and how many unusual transactions — from the alerts the notifier received."""
    data = dict(message.rollup)
    kind = str(data.get("kind", ""))
    if kind == "budget":
        key = f"{data['period']}:{data['category']}"
    elif kind == "bill":
        key = f"{data['due_on']}:{data['name']}"
    elif kind == "unusual":
        key = str(envelope.id)
    else:
        return
    day = envelope.occurred_at.date()
    await session.execute(
        pg_insert(store.rollup)
        .values(tenant_id=envelope.tenant_id, kind=kind, key=key[:200], day=day, data=data)
        .on_conflict_do_update(
            index_elements=[store.rollup.c.tenant_id, store.rollup.c.kind, store.rollup.c.key],
            set_={"day": day, "data": data},
        )
    )


async def record_savings(
    session: AsyncSession, envelope: Envelope, payload: SavingsOpportunitiesFound
) -> None:
    """A month's savings opportunities, kept for that month's digest (told nowhere else: the dashboard
    shows them live)."""
    if await _forgotten(session, envelope.tenant_id):
        return
    data = payload.model_dump(mode="json")
    day = date.fromisoformat(f"{payload.month}-01")
    await session.execute(
        pg_insert(store.rollup)
        .values(tenant_id=envelope.tenant_id, kind="savings", key=payload.month, day=day, data=data)
        .on_conflict_do_update(
            index_elements=[store.rollup.c.tenant_id, store.rollup.c.kind, store.rollup.c.key],
            set_={"day": day, "data": data},
        )
    )


async def security_alert(
    session: AsyncSession,
    envelope: Envelope,
    payload: LoginSucceeded | PasswordChanged | TwoFactorEnabled | TwoFactorDisabled,
    settings: NotifierSettings,
) -> None:
    """Only the person it is about, never the rest of the household."""
    if isinstance(payload, LoginSucceeded):
        if not await _new_device(session, payload):
            return
        kind, detail = NotificationType.new_sign_in, "detail_new_device"
    elif isinstance(payload, PasswordChanged):
        kind = NotificationType.password_changed
        detail = "detail_password_reset" if payload.by_reset else "detail_password_changed"
    else:
        kind = NotificationType.two_factor_changed
        detail = "detail_two_factor_on" if isinstance(payload, TwoFactorEnabled) else "detail_two_factor_off"
    person = await store.recipient(session, envelope.tenant_id, payload.user_id)
    if person is None:
        log.warning("security_alert_unknown_person", user_id=str(payload.user_id))
        return
    locale = person["locale"]
    message = security_message(
        kind, device=payload.device, ip=payload.ip, detail=words(locale, detail), locale=locale
    )
    household = await store.household_name(session, envelope.tenant_id) or UNNAMED_HOUSEHOLD
    await notify(session, envelope, message, person, settings, household=household, payload=payload)


async def _new_device(session: AsyncSession, payload: LoginSucceeded) -> bool:
    """True when this person signed in before, but never from this device. The very first sign-in (just
    after signing up) teaches us the device without alarming anyone."""
    device = hashlib.sha256((payload.device or "unknown device").encode()).hexdigest()[:64]
    known = await session.scalar(
        select(func.count())
        .select_from(store.known_devices)
        .where(store.known_devices.c.user_id == payload.user_id)
    )
    added = await session.execute(
        pg_insert(store.known_devices)
        .values(user_id=payload.user_id, device=device)
        .on_conflict_do_nothing()
        .returning(store.known_devices.c.device)
    )
    return bool(known) and added.first() is not None


# --- the fan-out to one person ------------------------------------------------------------------------------


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
    subs = store.push_subscriptions
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
            pg_insert(store.notifications)
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
            pg_insert(store.notifications)
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
        pg_insert(store.rate_windows)
        .values(tenant_id=tenant_id, user_id=user_id, channel=channel.value, window_start=window, sent=1)
        .on_conflict_do_update(
            index_elements=[
                store.rate_windows.c.tenant_id,
                store.rate_windows.c.user_id,
                store.rate_windows.c.channel,
                store.rate_windows.c.window_start,
            ],
            set_={"sent": store.rate_windows.c.sent + 1},
        )
        .returning(store.rate_windows.c.sent)
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
        select(store.push_subscriptions.c.id).where(
            store.push_subscriptions.c.tenant_id == envelope.tenant_id,
            store.push_subscriptions.c.user_id == user_id,
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
        select(store.webhooks.c.id).where(
            store.webhooks.c.tenant_id == envelope.tenant_id,
            store.webhooks.c.user_id == user_id,
            store.webhooks.c.enabled,
            store.webhooks.c.event_types.contains([message.type.value]),
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


# --- mail a person asked for --------------------------------------------------------------------------------


async def send_account_email(
    session: AsyncSession,
    envelope: Envelope,
    payload: EmailVerificationRequested | PasswordResetRequested,
    settings: NotifierSettings,
) -> None:
    """Queues the mail auth asked for, to the address in the event (it may not be verified yet).
    The link inside is a single-use secret: it goes into the mail and nowhere else (never a log line).
    Not subject to preferences, quiet hours or rate limits: the person is waiting for it."""
    template = "verify_email" if isinstance(payload, EmailVerificationRequested) else "password_reset"
    email = render_account_email(
        template,
        display_name=payload.display_name,
        email=str(payload.email),
        link=settings.public_url.rstrip("/") + payload.path,
        expires_at=payload.expires_at,
        locale=await _locale_of(session, user_id=payload.user_id),
    )
    await _queue_direct_email(
        session, envelope, settings, payload.user_id, NotificationType.account, str(payload.email), email
    )
    log.info("account_email_queued", template=template, user_id=str(payload.user_id))


async def send_invitation(
    session: AsyncSession, envelope: Envelope, payload: MemberInvited, settings: NotifierSettings
) -> None:
    """The invitee is not a member yet: the mail goes to the address in the invitation (recipient = the
    invitation id). The link carries a secret: into the mail only."""
    # The invitee's own language when they already use Tally, else the language of whoever invited them.
    locale = await _locale_of(session, email=str(payload.email)) or await _locale_of(
        session, user_id=_user_id(envelope.actor)
    )
    email = render_invitation(
        household=payload.household_name,
        invited_by=payload.invited_by_name,
        role=payload.role,
        link=settings.public_url.rstrip("/") + payload.path,
        expires_at=payload.expires_at,
        locale=locale,
    )
    await _queue_direct_email(
        session,
        envelope,
        settings,
        payload.invitation_id,
        NotificationType.invitation,
        str(payload.email),
        email,
    )
    log.info("invitation_queued", invitation_id=str(payload.invitation_id))


def _user_id(actor: str) -> UUID | None:
    try:
        return UUID(actor)
    except ValueError:
        return None


async def _locale_of(
    session: AsyncSession, *, user_id: UUID | None = None, email: str | None = None
) -> str | None:
    """The locale a person told us (any of their households), found by id or by address; None if unknown."""
    if user_id is None and not email:
        return None
    condition = (
        store.recipients.c.user_id == user_id
        if user_id is not None
        else func.lower(store.recipients.c.email) == (email or "").lower()
    )
    found = await session.scalar(select(store.recipients.c.locale).where(condition).limit(1))
    return str(found) if found else None


async def _queue_direct_email(
    session: AsyncSession,
    envelope: Envelope,
    settings: NotifierSettings,
    recipient: UUID,
    kind: NotificationType,
    address: str,
    email: RenderedEmail,
) -> None:
    """A pending e-mail delivery to an address given by the event, outside preferences and quiet hours;
    at most one per (event, recipient) whatever the redeliveries."""
    await store.add_delivery(
        session, delivery_id=derived_id(envelope.id, recipient, Channel.email.value),
        tenant_id=envelope.tenant_id, event_id=envelope.id, recipient=recipient, channel=Channel.email.value,
        kind=kind.value,
        **email_delivery(email, address=address,
                         message_id=message_id(envelope.id, recipient, settings.mail_from)),
    )


async def _forgotten(session: AsyncSession, tenant_id: UUID) -> bool:
    found = await session.execute(
        select(store.forgotten_households.c.tenant_id).where(
            store.forgotten_households.c.tenant_id == tenant_id
        )
    )
    return found.first() is not None
