"""The Ed25519 keys that sign access tokens, kept in the auth database, and their JWKS.

The first replica to start creates a key (under an advisory lock, so two replicas agree on one).
Retired keys stay in the JWKS until the tokens they signed have expired.
"""

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tally_auth.store import signing_keys
from tallykit.tokens import ALGORITHM

_KEY_CREATION_LOCK = 7_240_201


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey

    def public_jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self.private_key.public_key()))
        return {**jwk, "kid": self.kid, "use": "sig", "alg": ALGORITHM}

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.private_key, algorithm=ALGORITHM, headers={"kid": self.kid})


def _load(kid: str, pem: str) -> SigningKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return SigningKey(kid, key)


async def ensure_signing_key(session: AsyncSession) -> None:
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _KEY_CREATION_LOCK})
    active = await session.execute(select(signing_keys.c.kid).where(signing_keys.c.retired_at.is_(None)))
    if active.first() is not None:
        return
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    await session.execute(insert(signing_keys).values(kid=uuid.uuid4().hex, private_pem=pem))


async def active_key(session: AsyncSession) -> SigningKey:
    row = (
        await session.execute(
            select(signing_keys.c.kid, signing_keys.c.private_pem)
            .where(signing_keys.c.retired_at.is_(None))
            .order_by(signing_keys.c.created_at.desc())
            .limit(1)
        )
    ).first()
    if row is None:
        raise RuntimeError("no active signing key; the service creates one at start-up")
    return _load(row.kid, row.private_pem)


async def jwks(session: AsyncSession) -> dict[str, Any]:
    rows = await session.execute(select(signing_keys.c.kid, signing_keys.c.private_pem))
    return {"keys": [_load(r.kid, r.private_pem).public_jwk() for r in rows]}


def access_claims(
    *, user_id: uuid.UUID, tenant_id: uuid.UUID, role: str, issuer: str, audience: str, ttl_s: int
) -> dict[str, Any]:
    now = int(time.time())
    return {
        "sub": str(user_id),
        "tid": str(tenant_id),
        "role": role,
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "exp": now + ttl_s,
        "jti": uuid.uuid4().hex,
    }
