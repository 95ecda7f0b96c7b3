"""The notifier's own keys: the VAPID key pair for Web Push and the key that signs unsubscribe links.

Made on first start and kept in the database (`service_keys`), so every replica uses the same ones and
they survive restarts; an operator may give the VAPID key in settings instead. Two replicas starting at
once both try to insert; the primary key lets one win and both read the winner."""

import base64
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tally_notifier import tables
from tally_notifier.settings import NotifierSettings

VAPID = "vapid_private_pem"
UNSUBSCRIBE = "unsubscribe_hmac"

# One lookup per database and process: the keys never change once made.
_cache: dict[str, "Keys"] = {}


@dataclass(frozen=True)
class Keys:
    vapid_private_pem: str
    unsubscribe: bytes

    @property
    def vapid(self) -> Vapid:
        return Vapid.from_pem(self.vapid_private_pem.encode())

    @property
    def application_server_key(self) -> str:
        """The public key a browser subscribes with (uncompressed P-256 point, base64url, no padding)."""
        raw = self.vapid.public_key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _new_vapid_pem() -> str:
    vapid = Vapid()
    vapid.generate_keys()
    pem: bytes = vapid.private_pem()
    return pem.decode()


async def _ensure(session: AsyncSession, name: str, make: str) -> str:
    await session.execute(
        pg_insert(tables.service_keys).values(name=name, value=make).on_conflict_do_nothing()
    )
    value: str | None = await session.scalar(
        select(tables.service_keys.c.value).where(tables.service_keys.c.name == name)
    )
    assert value is not None  # inserted just above, or by whoever won
    return value


async def load(session: AsyncSession, settings: NotifierSettings) -> Keys:
    bind = session.bind
    cache_key = str(getattr(bind, "url", id(bind)))
    if cache_key in _cache:
        return _cache[cache_key]
    given = settings.vapid_private_key_pem.get_secret_value() if settings.vapid_private_key_pem else None
    pem = given or await _ensure(session, VAPID, _new_vapid_pem())
    unsubscribe = await _ensure(session, UNSUBSCRIBE, secrets.token_urlsafe(32))
    keys = Keys(vapid_private_pem=pem, unsubscribe=unsubscribe.encode())
    _cache[cache_key] = keys
    return keys
