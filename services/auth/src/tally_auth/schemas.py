from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from tally_auth.domain import MAX_PASSWORD_LENGTH
from tallykit.contracts.auth import WeekStart
from tallykit.money import CurrencyCode
from tallykit.tokens import Role


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class _Secret(BaseModel):
    """Passwords are taken exactly as typed (no stripping)."""

    model_config = ConfigDict(extra="forbid")


Password = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
Token = Field(min_length=20, max_length=200)
Code = Field(min_length=6, max_length=20)


class RegisterRequest(_In):
    email: EmailStr = Field(max_length=320)
    password: str = Password
    display_name: str = Field(min_length=1, max_length=100)
    base_currency: CurrencyCode | None = None
    # The language to write to them in until they change it in their profile (e.g. "de", "en-GB").
    locale: str | None = Field(default=None, min_length=2, max_length=35,
                               pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


class LoginRequest(_In):
    email: EmailStr = Field(max_length=320)
    password: str = Password
    # The web client asks for the refresh token as an HttpOnly cookie instead of in the body.
    cookie: bool = False


class LoginSecondFactorRequest(_In):
    challenge_token: str = Token
    code: str = Code
    cookie: bool = False


class RefreshRequest(_In):
    # Omitted by the web client: its refresh token is the HttpOnly cookie.
    refresh_token: str | None = Field(default=None, min_length=10, max_length=200)


class TokenRequest(_In):
    token: str = Token


class EmailRequest(_In):
    email: EmailStr = Field(max_length=320)


class PasswordResetConfirm(_Secret):
    token: str = Token
    new_password: str = Password


class PasswordChangeRequest(_Secret):
    current_password: str = Password
    new_password: str = Password


class CodeRequest(_In):
    code: str = Code


class TwoFactorDisableRequest(_Secret):
    password: str = Password
    code: str = Code


class UserPublic(BaseModel):
    user_id: UUID
    tenant_id: UUID
    email: str
    display_name: str
    email_verified: bool = False


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    # None when it was set as the HttpOnly cookie instead.
    refresh_token: str | None


class TwoFactorChallenge(BaseModel):
    """The password was right and the account has two-factor sign-in: send a code with this token to
    POST /login/2fa."""

    two_factor_required: bool = True
    challenge_token: str
    expires_in: int


class MePublic(BaseModel):
    user_id: UUID
    email: str
    display_name: str
    tenant_id: UUID
    role: str
    tenant_name: str
    base_currency: str
    email_verified: bool = False
    two_factor_enabled: bool = False
    locale: str = "en"
    time_zone: str = "UTC"
    week_start: WeekStart = WeekStart.monday
    household_time_zone: str = "UTC"


class Accepted(BaseModel):
    detail: str


class SessionPublic(BaseModel):
    id: UUID
    device: str
    ip: str | None
    created_at: datetime
    last_seen_at: datetime
    current: bool


class SessionsPublic(BaseModel):
    items: list[SessionPublic]


class SecurityLogEntry(BaseModel):
    type: str
    occurred_at: datetime
    ip: str | None
    device: str | None
    detail: str | None


class SecurityLogPublic(BaseModel):
    items: list[SecurityLogEntry]


class TwoFactorSetupPublic(BaseModel):
    secret: str
    otpauth_uri: str
    qr_svg: str = Field(description="the otpauth URI as a QR code, an SVG data: URI for an <img>")


class RecoveryCodesPublic(BaseModel):
    recovery_codes: list[str] = Field(description="shown this once; each works one time in place of a code")


# --- profile and households ---------------------------------------------------------------------------------

Locale = Field(default=None, min_length=2, max_length=35, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
TimeZone = Field(
    default=None, min_length=1, max_length=64, description="an IANA zone name, e.g. Europe/Berlin"
)


class ProfilePublic(BaseModel):
    user_id: UUID
    email: str
    display_name: str
    locale: str
    time_zone: str
    week_start: WeekStart


class ProfileUpdate(_In):
    """Only the fields sent change."""

    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    locale: str | None = Locale
    time_zone: str | None = TimeZone
    week_start: WeekStart | None = None


class HouseholdPublic(BaseModel):
    id: UUID
    name: str
    base_currency: str
    time_zone: str
    week_start: WeekStart
    role: Role
    current: bool = False


class HouseholdsPublic(BaseModel):
    items: list[HouseholdPublic]


class HouseholdUpdate(_In):
    """Only the fields sent change."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    base_currency: CurrencyCode | None = None
    time_zone: str | None = TimeZone
    week_start: WeekStart | None = None


class HouseholdCreate(_In):
    name: str = Field(min_length=1, max_length=100)
    base_currency: CurrencyCode | None = None
    time_zone: str | None = TimeZone
    week_start: WeekStart | None = None


class MemberPublic(BaseModel):
    user_id: UUID
    email: str
    display_name: str
    role: Role
    joined_at: datetime
    you: bool = False


class InvitationPublic(BaseModel):
    id: UUID
    email: str
    role: Role
    created_at: datetime
    expires_at: datetime


class MembersPublic(BaseModel):
    members: list[MemberPublic]
    invitations: list[InvitationPublic] = Field(description="pending ones; only owners see them")


class InviteRequest(_In):
    email: EmailStr = Field(max_length=320)
    role: Role = Role.member


class RoleChange(_In):
    role: Role


class TransferRequest(_In):
    user_id: UUID


class SwitchRequest(_In):
    tenant_id: UUID
    # Omitted by the web client: its refresh token is the HttpOnly cookie.
    refresh_token: str | None = Field(default=None, min_length=10, max_length=200)


class AccountDeleteRequest(_Secret):
    password: str = Password
    code: str | None = Field(default=None, min_length=6, max_length=20)


class RecoveryCodesRequest(_Secret):
    password: str = Password
    code: str = Code


class AccountDeleted(BaseModel):
    deleted_household_ids: list[UUID]
    left_household_ids: list[UUID]
