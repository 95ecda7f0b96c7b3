from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from tally_auth.domain import MAX_PASSWORD_LENGTH
from tallykit.money import CurrencyCode


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
