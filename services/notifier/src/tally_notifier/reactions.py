"""What an event says and to whom: household alerts (budgets, goals, bills, recurring series, unusual
spending) to every member who wants them, security alerts to the person concerned, and savings
opportunities kept for the monthly digest. They run inside the consumer's inbox transaction."""

import hashlib
from datetime import date
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tally_notifier import store, tables
from tally_notifier.domain import (
    BudgetAlert,
    Message,
    NotificationType,
    SeriesFinding,
    bill_message,
    goal_message,
    pace_message,
    recurring_message,
    security_message,
    series_message,
    unusual_message,
)
from tally_notifier.fanout import notify
from tally_notifier.settings import NotifierSettings
from tally_notifier.wording import words
from tallykit.contracts import registry
from tallykit.contracts.analytics import SavingsOpportunitiesFound, UnusualSpendingDetected
from tallykit.contracts.auth import (
    LoginSucceeded,
    PasswordChanged,
    TwoFactorDisabled,
    TwoFactorEnabled,
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

log = get_logger(__name__)

UNNAMED_HOUSEHOLD = "your household"


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
    if not people and await store.is_forgotten(session, envelope.tenant_id):
        log.info("alert_for_deleted_household_dropped", event_id=str(envelope.id))
        return
    if not people:
        # auth.events and the other topics are not ordered with each other: hold it until someone is known.
        await session.execute(
            pg_insert(tables.pending_alerts)
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


async def release_pending_alerts(session: AsyncSession, tenant_id: UUID, settings: NotifierSettings) -> None:
    rows = await session.execute(
        delete(tables.pending_alerts)
        .where(tables.pending_alerts.c.tenant_id == tenant_id)
        .returning(tables.pending_alerts.c.envelope)
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
        pg_insert(tables.rollup)
        .values(tenant_id=envelope.tenant_id, kind=kind, key=key[:200], day=day, data=data)
        .on_conflict_do_update(
            index_elements=[tables.rollup.c.tenant_id, tables.rollup.c.kind, tables.rollup.c.key],
            set_={"day": day, "data": data},
        )
    )


async def record_savings(
    session: AsyncSession, envelope: Envelope, payload: SavingsOpportunitiesFound
) -> None:
    """A month's savings opportunities, kept for that month's digest (told nowhere else: the dashboard
    shows them live)."""
    if await store.is_forgotten(session, envelope.tenant_id):
        return
    data = payload.model_dump(mode="json")
    day = date.fromisoformat(f"{payload.month}-01")
    await session.execute(
        pg_insert(tables.rollup)
        .values(tenant_id=envelope.tenant_id, kind="savings", key=payload.month, day=day, data=data)
        .on_conflict_do_update(
            index_elements=[tables.rollup.c.tenant_id, tables.rollup.c.kind, tables.rollup.c.key],
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
        .select_from(tables.known_devices)
        .where(tables.known_devices.c.user_id == payload.user_id)
    )
    added = await session.execute(
        pg_insert(tables.known_devices)
        .values(user_id=payload.user_id, device=device)
        .on_conflict_do_nothing()
        .returning(tables.known_devices.c.device)
    )
    return bool(known) and added.first() is not None
