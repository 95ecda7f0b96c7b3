from uuid import UUID

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from tally_auth.domain import MAX_PASSWORD_LENGTH
from tallykit.money import CurrencyCode


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class RegisterRequest(_In):
    email: EmailStr = Field(max_length=320)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)
    display_name: str = Field(min_length=1, max_length=100)
    base_currency: CurrencyCode | None = None


class LoginRequest(_In):
    email: EmailStr = Field(max_length=320)
    password: str = Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)


class RefreshRequest(_In):
    refresh_token: str = Field(min_length=10, max_length=200)


class UserPublic(BaseModel):
    user_id: UUID
    tenant_id: UUID
    email: str
    display_name: str


class TokenPair(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str


class MePublic(BaseModel):
    user_id: UUID
    email: str
    display_name: str
    tenant_id: UUID
    role: str
    tenant_name: str
    base_currency: str
