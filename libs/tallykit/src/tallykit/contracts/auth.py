"""Events published by the auth service on `auth.events`."""

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from pydantic import EmailStr, Field

from tallykit.contracts import registry
from tallykit.events import EventPayload
from tallykit.money import CurrencyCode

# The event that creates a thing (a person, a household, a membership) carries all of its settings,
# defaults included, so every consumer has the whole thing at once instead of a default of its own
# until a later event. Fields added for this default to what auth stored before they existed, so events
# recorded earlier still read (no new schema version).


class WeekStart(StrEnum):
    monday = "monday"
    sunday = "sunday"
    saturday = "saturday"


@registry.event("auth.UserRegistered", consumers=("notifier",))
class UserRegistered(EventPayload):
    """A person signed up. The envelope's tenant is the household created for them."""

    user_id: UUID
    email: EmailStr
    display_name: str = Field(max_length=100)
    # The language they signed up in (the browser's), so the first e-mail is already in it; events
    # recorded before this field existed read as English.
    locale: str = Field(
        default="en", min_length=2, max_length=35, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
    )
    # The rest of their profile as it starts (ProfileUpdated changes it): their time zone (an IANA name)
    # and the first day of their weeks.
    time_zone: str = Field(default="UTC", min_length=1, max_length=64)
    week_start: WeekStart = WeekStart.monday


@registry.event("auth.TenantCreated", consumers=("ledger", "budget", "analytics", "notifier"))
class TenantCreated(EventPayload):
    """A household (tenant) was created with all its settings (as in HouseholdSettingsChanged, which
    carries later changes); its owner is its first member."""

    name: str = Field(min_length=1, max_length=100)
    owner_user_id: UUID
    base_currency: CurrencyCode
    time_zone: str = Field(default="UTC", min_length=1, max_length=64)
    week_start: WeekStart = WeekStart.monday


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


@registry.event("auth.LoginSucceeded", consumers=("notifier",))
class LoginSucceeded(SecurityEvent):
    """A person signed in (after the second factor, when they have one); a new session began."""

    session_id: UUID


@registry.event("auth.LoginFailed")
class LoginFailed(SecurityEvent):
    """A sign-in to an existing account failed (wrong password or wrong second-factor code)."""

    reason: str = Field(max_length=100)


@registry.event("auth.PasswordChanged", consumers=("notifier",))
class PasswordChanged(SecurityEvent):
    """The password was changed (or reset by email link); other sessions were signed out."""

    by_reset: bool = False


@registry.event("auth.EmailVerified")
class EmailVerified(SecurityEvent):
    """The person proved they own their email address."""

    email: EmailStr


@registry.event("auth.TwoFactorEnabled", consumers=("notifier",))
class TwoFactorEnabled(SecurityEvent):
    """TOTP two-factor sign-in was switched on."""


@registry.event("auth.TwoFactorDisabled", consumers=("notifier",))
class TwoFactorDisabled(SecurityEvent):
    """TOTP two-factor sign-in was switched off."""


@registry.event("auth.RecoveryCodeUsed")
class RecoveryCodeUsed(SecurityEvent):
    """A two-factor recovery code was spent; `remaining` are left."""

    remaining: int = Field(ge=0)


@registry.event("auth.RecoveryCodesRegenerated")
class RecoveryCodesRegenerated(SecurityEvent):
    """New two-factor recovery codes were made (password and code given); the old ones stopped working."""


@registry.event("auth.SessionRevoked")
class SessionRevoked(SecurityEvent):
    """A session ended before its time: signed out, revoked from the list, or its refresh token was
    replayed (`reason`)."""

    session_id: UUID
    reason: str = Field(max_length=100)


# --- profile and household settings ----------------------------------------------------------------------


@registry.event("auth.ProfileUpdated", consumers=("notifier",))
class ProfileUpdated(EventPayload):
    """A person's profile changed (the whole profile each time): how to address them, and when and in
    which language to write to them."""

    user_id: UUID
    display_name: str = Field(min_length=1, max_length=100)
    locale: str = Field(min_length=2, max_length=35, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
    time_zone: str = Field(min_length=1, max_length=64)  # an IANA zone name, e.g. "Europe/Berlin"
    week_start: WeekStart = WeekStart.monday


@registry.event("auth.HouseholdSettingsChanged", consumers=("ledger", "budget", "analytics"))
class HouseholdSettingsChanged(EventPayload):
    """A household's settings changed (all of them each time): the name, the currency its budgets and
    reports use, the time zone its days and months are counted in, and the first day of its weeks."""

    name: str = Field(min_length=1, max_length=100)
    base_currency: CurrencyCode
    time_zone: str = Field(min_length=1, max_length=64)
    week_start: WeekStart = WeekStart.monday


# --- household membership --------------------------------------------------------------------------------
# The stream of these events is the household (tenant); `role` is one of owner, member, viewer.


@registry.event("auth.MemberInvited", consumers=("notifier",))
class MemberInvited(EventPayload):
    """Someone was invited by email to join a household; the link (single use, expiring) carries a secret
    that travels only to the notifier's mail queue. Never log it."""

    invitation_id: UUID
    email: EmailStr
    role: str = Field(pattern=r"^(owner|member|viewer)$")
    household_name: str = Field(min_length=1, max_length=100)
    invited_by_name: str = Field(max_length=100)
    path: str = Field(max_length=2000, pattern=r"^/")
    expires_at: datetime


@registry.event("auth.MemberJoined", consumers=("ledger", "notifier"))
class MemberJoined(EventPayload):
    """A person became a member of a household (by accepting an invitation, or creating it)."""

    user_id: UUID
    email: EmailStr
    display_name: str = Field(max_length=100)
    role: str = Field(pattern=r"^(owner|member|viewer)$")
    # How to write to them (their profile's language and time zone when they joined): a household may be
    # the only one a consumer knows them in (one founded for them when they left their last one). None in
    # events recorded before these fields existed.
    locale: str | None = Field(
        default=None, min_length=2, max_length=35, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
    )
    time_zone: str | None = Field(default=None, min_length=1, max_length=64)


@registry.event("auth.MemberRoleChanged", consumers=("notifier",))
class MemberRoleChanged(EventPayload):
    """A member's role in the household changed (including a transfer of ownership: two of these)."""

    user_id: UUID
    role: str = Field(pattern=r"^(owner|member|viewer)$")


@registry.event("auth.MemberLeft", consumers=("ledger", "notifier"))
class MemberLeft(EventPayload):
    """A person is no longer a member of the household: they left, or an owner removed them."""

    user_id: UUID
    removed_by: UUID | None = None


@registry.event("auth.UserDeleted", consumers=("ledger", "analytics", "budget", "notifier"))
class UserDeleted(EventPayload):
    """A person deleted their account: every service forgets what it holds about them (personal data,
    preferences, subscriptions); households they alone owned are deleted with their data."""

    user_id: UUID
    deleted_household_ids: tuple[UUID, ...] = ()
