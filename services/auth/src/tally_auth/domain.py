"""Rules of passwords, refresh tokens, single-use tokens, devices and recovery codes, free of I/O."""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

import pyotp
import ua_parser
from zxcvbn import zxcvbn

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024
# zxcvbn's score (0-4, from guess counts against its shipped lists of common passwords, words, names
# and keyboard patterns); 3 = "safely unguessable: moderate protection from offline slow-hash attacks".
MIN_PASSWORD_SCORE = 3
# zxcvbn's cost grows with length; what it cannot judge past this is length, which only adds strength.
_ZXCVBN_PREFIX = 100


class WeakPassword(ValueError):
    pass


def check_password_policy(password: str, *, user_inputs: tuple[str, ...] = ()) -> None:
    """At least 10 characters, and not guessable: not a common password, word, name or keyboard walk,
    nor built from the person's own email or name."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(set(password)) < 4:
        raise WeakPassword("the password repeats too few characters to be safe")
    result = zxcvbn(password[:_ZXCVBN_PREFIX], user_inputs=[u for u in user_inputs if u])
    if result["score"] < MIN_PASSWORD_SCORE:
        warning = str(result["feedback"].get("warning") or "").rstrip(".")
        reason = f" ({warning[:1].lower()}{warning[1:]})" if warning else ""
        raise WeakPassword(f"the password is too easy to guess{reason}; choose a longer or less common one")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def household_name(display_name: str) -> str:
    return f"{display_name}'s household"[:100]


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    """Refresh tokens are stored hashed: a database leak does not hand out sessions."""
    return hash_secret(token)


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


def new_secret() -> str:
    """A 256-bit URL-safe secret for a mailed link or a login challenge."""
    return secrets.token_urlsafe(32)


def hash_secret(token: str) -> str:
    """Single-use tokens and recovery codes are high-entropy, so one SHA-256 is enough to store them:
    a copy of the database does not hand out working links or codes."""
    return hashlib.sha256(token.encode()).hexdigest()


class TokenPurpose:
    verify_email = "verify_email"
    reset_password = "reset_password"
    login_challenge = "login_challenge"


@dataclass(frozen=True)
class StoredOneTimeToken:
    purpose: str
    expires_at: datetime
    used_at: datetime | None


class OneTimeTokenRefused(Exception):
    pass


def check_one_time_token(token: StoredOneTimeToken | None, purpose: str, now: datetime) -> None:
    if token is None or token.purpose != purpose:
        raise OneTimeTokenRefused("this link is not valid")
    if token.used_at is not None:
        raise OneTimeTokenRefused("this link was already used")
    if token.expires_at <= now:
        raise OneTimeTokenRefused("this link has expired")


RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def new_recovery_codes() -> list[str]:
    """Ten codes of 10 characters from 31 symbols (about 49 bits each), shown as xxxxx-xxxxx."""
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def normalise_recovery_code(code: str) -> str:
    raw = "".join(ch for ch in code.lower() if ch.isalnum())
    return f"{raw[:5]}-{raw[5:]}"


def looks_like_totp(code: str) -> bool:
    digits = code.replace(" ", "")
    return len(digits) == 6 and digits.isdigit()


def device_label(user_agent: str | None) -> str:
    """ "Firefox 128 on Ubuntu" from a User-Agent header; what a person recognises in a session list."""
    if not user_agent:
        return "Unknown device"
    parsed = ua_parser.parse(user_agent[:500])
    if parsed.user_agent is None:
        label = user_agent[:60]
    else:
        browser, major = parsed.user_agent.family, parsed.user_agent.major
        label = f"{browser} {major}" if major else browser
    if parsed.os is not None and parsed.os.family != "Other":
        label = f"{label} on {parsed.os.family}"
    return label[:200]


TOTP_ISSUER = "Tally"


def new_totp_secret() -> str:
    return pyotp.random_base32()  # 160 bits, as RFC 4226 recommends


def totp_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=TOTP_ISSUER)


def accept_totp(secret: str, code: str, last_step: int | None, now: datetime) -> int | None:
    """The time step the code belongs to (this one or its neighbours, for clock drift), or None.
    A step at or before the last one accepted is refused: a code is good once."""
    totp = pyotp.TOTP(secret)
    digits = code.replace(" ", "")
    if not (digits.isascii() and digits.isdigit()):
        return None  # compare_digest refuses non-ASCII text, and such a code cannot be right anyway
    current = totp.timecode(now)
    for step in (current - 1, current, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), digits):
            return step
    return None
