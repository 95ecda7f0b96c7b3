"""Mail a person asked for: account e-mails (verification, password reset) and invitations, sent to the
address the event names, outside preferences and quiet hours."""

from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tally_notifier import store, tables
from tally_notifier.domain import (
    Channel,
    NotificationType,
)
from tally_notifier.fanout import derived_id, email_delivery, message_id
from tally_notifier.settings import NotifierSettings
from tally_notifier.templates import RenderedEmail, render_account_email, render_invitation
from tallykit.contracts.auth import (
    EmailVerificationRequested,
    MemberInvited,
    PasswordResetRequested,
)
from tallykit.events import Envelope
from tallykit.logging import get_logger

log = get_logger(__name__)



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
        tables.recipients.c.user_id == user_id
        if user_id is not None
        else func.lower(tables.recipients.c.email) == (email or "").lower()
    )
    found = await session.scalar(select(tables.recipients.c.locale).where(condition).limit(1))
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
