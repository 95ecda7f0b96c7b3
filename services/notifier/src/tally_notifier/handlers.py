"""What the notifier does with each incoming event and each request. No FastAPI, no commits:
consumer handlers run inside the consumer's inbox transaction, request handlers open their own."""

from email.utils import parseaddr
from uuid import UUID, uuid5

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tally_notifier import store
from tally_notifier.domain import BudgetAlert, BudgetAlertPayload, Channel, DeliveryStatus
from tally_notifier.settings import NotifierSettings
from tally_notifier.templates import render_account_email, render_budget_alert
from tallykit.contracts import registry
from tallykit.contracts.auth import (
    EmailVerificationRequested,
    PasswordResetRequested,
    TenantCreated,
    UserRegistered,
)
from tallykit.contracts.budget import BudgetExceeded, BudgetThresholdReached
from tallykit.db import Database
from tallykit.errors import NotFound
from tallykit.events import Envelope
from tallykit.logging import get_logger
from tallykit.meters import NOTIFICATIONS_SENT
from tallykit.tokens import Principal

log = get_logger(__name__)

# Ids derived from (event, recipient) make a replayed fan-out produce the very same rows.
_IDS = UUID("6f1c8a52-3d0e-4c1b-9a57-0b7e3f6d2c11")
UNNAMED_HOUSEHOLD = "your household"


def derived_id(event_id: UUID, user_id: UUID, kind: str) -> UUID:
    return uuid5(_IDS, f"{kind}:{event_id}:{user_id}")


def message_id(event_id: UUID, user_id: UUID, mail_from: str) -> str:
    """The same alert to the same person always has the same Message-ID, so a resend can be recognised."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "tally.local"
    return f"<{event_id}.{user_id}@{domain}>"


async def record_household(session: AsyncSession, envelope: Envelope, payload: TenantCreated) -> None:
    values = {"name": payload.name, "base_currency": payload.base_currency}
    await session.execute(
        pg_insert(store.households)
        .values(tenant_id=envelope.tenant_id, **values)
        .on_conflict_do_update(index_elements=[store.households.c.tenant_id], set_=values)
    )


async def record_recipient(
    session: AsyncSession, envelope: Envelope, payload: UserRegistered, settings: NotifierSettings
) -> None:
    first = not await store.tenant_recipients(session, envelope.tenant_id)
    values = {"email": str(payload.email), "display_name": payload.display_name}
    await session.execute(
        pg_insert(store.recipients)
        .values(tenant_id=envelope.tenant_id, user_id=payload.user_id, **values)
        .on_conflict_do_update(
            index_elements=[store.recipients.c.tenant_id, store.recipients.c.user_id], set_=values
        )
    )
    if first:
        await _release_pending_alerts(session, envelope.tenant_id, settings)


async def _release_pending_alerts(session: AsyncSession, tenant_id: UUID, settings: NotifierSettings) -> None:
    rows = await session.execute(
        delete(store.pending_alerts)
        .where(store.pending_alerts.c.tenant_id == tenant_id)
        .returning(store.pending_alerts.c.envelope)
    )
    for (raw,) in rows.all():
        held = Envelope.model_validate(raw)
        payload = registry.payload(held)
        assert isinstance(payload, BudgetThresholdReached | BudgetExceeded)
        await raise_budget_alert(session, held, payload, settings)


async def raise_budget_alert(
    session: AsyncSession, envelope: Envelope, payload: BudgetAlertPayload, settings: NotifierSettings
) -> None:
    """One in-app notification and one queued email per person of the tenant, in this transaction."""
    people = await store.tenant_recipients(session, envelope.tenant_id)
    if not people:
        # auth.events and budget.events are not ordered with each other: hold it until someone is known.
        await session.execute(
            pg_insert(store.pending_alerts)
            .values(
                event_id=envelope.id, tenant_id=envelope.tenant_id, envelope=envelope.model_dump(mode="json")
            )
            .on_conflict_do_nothing()
        )
        log.info("budget_alert_held_no_recipients")
        return
    household = await store.household_name(session, envelope.tenant_id) or UNNAMED_HOUSEHOLD
    alert = BudgetAlert.from_payload(payload, household)
    for person in people:
        await _notify(session, envelope, alert, person, settings)
    log.info("budget_alert_fanned_out", type=alert.type.value, recipients=len(people))


async def _notify(
    session: AsyncSession,
    envelope: Envelope,
    alert: BudgetAlert,
    person: RowMapping,
    settings: NotifierSettings,
) -> None:
    user_id: UUID = person["user_id"]
    stored = await session.execute(
        pg_insert(store.notifications)
        .values(
            id=derived_id(envelope.id, user_id, "notification"),
            tenant_id=envelope.tenant_id,
            user_id=user_id,
            event_id=envelope.id,
            type=alert.type.value,
            title=alert.title,
            body=alert.body,
            created_at=envelope.occurred_at,
        )
        .on_conflict_do_nothing()
    )
    if stored.rowcount:  # type: ignore[attr-defined]
        NOTIFICATIONS_SENT.labels("in_app").inc()
    email = render_budget_alert(alert, display_name=person["display_name"], public_url=settings.public_url)
    await session.execute(
        pg_insert(store.email_deliveries)
        .values(
            id=derived_id(envelope.id, user_id, Channel.email.value),
            tenant_id=envelope.tenant_id,
            event_id=envelope.id,
            recipient=user_id,
            channel=Channel.email.value,
            address=person["email"],
            subject=email.subject,
            text_body=email.text,
            html_body=email.html,
            message_id=message_id(envelope.id, user_id, settings.mail_from),
            status=DeliveryStatus.pending.value,
        )
        .on_conflict_do_nothing()
    )


async def send_account_email(
    session: AsyncSession,
    envelope: Envelope,
    payload: EmailVerificationRequested | PasswordResetRequested,
    settings: NotifierSettings,
) -> None:
    """Queues the mail auth asked for, to the address in the event (it may not be verified yet).
    The link inside is a single-use secret: it goes into the mail and nowhere else (never a log line)."""
    template = "verify_email" if isinstance(payload, EmailVerificationRequested) else "password_reset"
    email = render_account_email(
        template,
        display_name=payload.display_name,
        email=str(payload.email),
        link=settings.public_url.rstrip("/") + payload.path,
        expires_at=payload.expires_at,
    )
    await session.execute(
        pg_insert(store.email_deliveries)
        .values(
            id=derived_id(envelope.id, payload.user_id, Channel.email.value),
            tenant_id=envelope.tenant_id,
            event_id=envelope.id,
            recipient=payload.user_id,
            channel=Channel.email.value,
            address=str(payload.email),
            subject=email.subject,
            text_body=email.text,
            html_body=email.html,
            message_id=message_id(envelope.id, payload.user_id, settings.mail_from),
            status=DeliveryStatus.pending.value,
        )
        .on_conflict_do_nothing()
    )
    log.info("account_email_queued", template=template, user_id=str(payload.user_id))


async def list_notifications(db: Database, principal: Principal, limit: int) -> tuple[list[RowMapping], int]:
    async with db.read() as session:
        return await store.feed(session, principal.tenant_id, principal.user_id, limit)


async def mark_read(db: Database, principal: Principal, notification_id: UUID) -> None:
    async with db.transaction() as session:
        if not await store.mark_read(session, principal.tenant_id, principal.user_id, notification_id):
            raise NotFound(f"notification {notification_id} not found")


async def delivery_statuses(db: Database, tenant_id: UUID) -> list[RowMapping]:
    """Email deliveries of a tenant, oldest first (for operators and tests)."""
    async with db.read() as session:
        rows = await session.execute(
            select(store.email_deliveries)
            .where(store.email_deliveries.c.tenant_id == tenant_id)
            .order_by(store.email_deliveries.c.created_at, store.email_deliveries.c.id)
        )
        return list(rows.mappings())
