"""Events published by the auth service on `auth.events`."""

from datetime import datetime
from uuid import UUID

from pydantic import EmailStr, Field

from tallykit.contracts import registry
from tallykit.events import EventPayload
from tallykit.money import CurrencyCode


@registry.event("auth.UserRegistered", consumers=("notifier",))
class UserRegistered(EventPayload):
    """A person signed up. The envelope's tenant is the household created for them."""

    user_id: UUID
    email: EmailStr
    display_name: str = Field(max_length=100)


@registry.event("auth.TenantCreated", consumers=("ledger", "notifier"))
class TenantCreated(EventPayload):
    """A household (tenant) was created; its owner is its first member."""

    name: str = Field(min_length=1, max_length=100)
    owner_user_id: UUID
    base_currency: CurrencyCode


# --- mail that auth asks the notifier to send -------------------------------------------------------------
# The link carries a single-use secret; it travels only to the notifier's mail queue. Never log it.
# `path` is the link below the web client's public address, which the notifier knows (it mails the link).


class MailedLink(EventPayload):
    user_id: UUID
    email: EmailStr
    display_name: str = Field(max_length=100)
    path: str = Field(max_length=2000, pattern=r"^/")
    expires_at: datetime


@registry.event("auth.EmailVerificationRequested", consumers=("notifier",))
class EmailVerificationRequested(MailedLink):
    """Someone signed up (or asked again): mail them a link that proves they own the address."""


@registry.event("auth.PasswordResetRequested", consumers=("notifier",))
class PasswordResetRequested(MailedLink):
    """Someone asked to reset the password of an existing account: mail them a single-use link."""


# --- security events: the user's security log, for audit and alerting -----------------------------------


class SecurityEvent(EventPayload):
    user_id: UUID
    ip: str | None = Field(default=None, max_length=64)
    device: str | None = Field(default=None, max_length=200)


@registry.event("auth.LoginSucceeded")
class LoginSucceeded(SecurityEvent):
    """A person signed in (after the second factor, when they have one); a new session began."""

    session_id: UUID


@registry.event("auth.LoginFailed")
class LoginFailed(SecurityEvent):
    """A sign-in to an existing account failed (wrong password or wrong second-factor code)."""

    reason: str = Field(max_length=100)


@registry.event("auth.PasswordChanged")
class PasswordChanged(SecurityEvent):
    """The password was changed (or reset by email link); other sessions were signed out."""

    by_reset: bool = False


@registry.event("auth.EmailVerified")
class EmailVerified(SecurityEvent):
    """The person proved they own their email address."""

    email: EmailStr


@registry.event("auth.TwoFactorEnabled")
class TwoFactorEnabled(SecurityEvent):
    """TOTP two-factor sign-in was switched on."""


@registry.event("auth.TwoFactorDisabled")
class TwoFactorDisabled(SecurityEvent):
    """TOTP two-factor sign-in was switched off."""


@registry.event("auth.RecoveryCodeUsed")
class RecoveryCodeUsed(SecurityEvent):
    """A two-factor recovery code was spent; `remaining` are left."""

    remaining: int = Field(ge=0)


@registry.event("auth.SessionRevoked")
class SessionRevoked(SecurityEvent):
    """A session ended before its time: signed out, revoked from the list, or its refresh token was
    replayed (`reason`)."""

    session_id: UUID
    reason: str = Field(max_length=100)
