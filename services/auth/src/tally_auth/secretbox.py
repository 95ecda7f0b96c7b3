"""Secrets the service must read back (TOTP seeds) are encrypted at rest with Fernet (AES-128-CBC +
HMAC-SHA256), so a copy of the database alone does not let anyone generate a person's codes.

The key comes from settings (`TALLY_AUTH_SECRET_KEYS`, comma-separated Fernet keys: the first encrypts,
all decrypt, so a key can be rotated). Outside production, when none is set, one is generated into a
file readable by the service's user only (`secret_key_file`). The key is never logged.
"""

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from tally_auth.settings import AuthSettings

PREFIX = "f1:"


class SecretBox:
    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("at least one key is needed")
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> "SecretBox":
        configured = settings.secret_keys.get_secret_value() if settings.secret_keys else ""
        keys = [k.strip().encode() for k in configured.split(",") if k.strip()]
        if not keys:
            if settings.environment == "production":
                raise RuntimeError("TALLY_AUTH_SECRET_KEYS must be set in production")
            keys = [_local_key(settings.secret_key_file)]
        return cls(keys)

    def seal(self, secret: str) -> str:
        return PREFIX + self._fernet.encrypt(secret.encode()).decode()

    def open(self, stored: str) -> str:
        """The secret; a value from before encryption (no prefix) is returned as it is."""
        if not stored.startswith(PREFIX):
            return stored
        try:
            return self._fernet.decrypt(stored.removeprefix(PREFIX).encode()).decode()
        except InvalidToken:
            raise RuntimeError("a stored secret does not open with the configured keys") from None

    @staticmethod
    def is_sealed(stored: str) -> bool:
        return stored.startswith(PREFIX)


def _local_key(path: Path) -> bytes:
    path = path.expanduser()
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    # Created with 0600 in one step: never readable by others, not even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, key)
    finally:
        os.close(fd)
    return key
