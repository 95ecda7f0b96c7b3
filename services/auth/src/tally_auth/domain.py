"""Rules of signing up and of refresh tokens, free of I/O."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024


class WeakPassword(ValueError):
    pass


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(set(password)) < 4:
        raise WeakPassword("the password repeats too few characters to be safe")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def household_name(display_name: str) -> str:
    return f"{display_name}'s household"[:100]


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    """Refresh tokens are stored hashed: a database leak does not hand out sessions."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class StoredRefreshToken:
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None


class RefreshRefused(Exception):
    def __init__(self, reason: str, *, revoke_family: bool = False) -> None:
        super().__init__(reason)
        self.revoke_family = revoke_family


def check_refresh(token: StoredRefreshToken, now: datetime) -> None:
    """A refresh token is good once. Presenting a spent one means it was stolen or replayed, so the
    whole family (every token descended from that sign-in) is revoked."""
    if token.revoked_at is not None:
        raise RefreshRefused("this session has been signed out")
    if token.used_at is not None:
        raise RefreshRefused(
            "this refresh token was already used; the session is revoked", revoke_family=True
        )
    if token.expires_at <= now:
        raise RefreshRefused("this session has expired")
