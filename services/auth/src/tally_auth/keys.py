"""The Ed25519 keys that sign access tokens, kept in the auth database, and their JWKS.

The first replica to start creates a key (under an advisory lock, so two replicas agree on one).
`python -m tally_auth rotate-key` retires the active key and creates a new one that signs from then on.
A retired key stays in the JWKS until the tokens it signed have expired (one access-token lifetime),
so they keep verifying; then it leaves the JWKS and is deleted at the next rotation.
"""

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from tally_auth.tables import signing_keys
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
    await _create_key(session)


async def _create_key(session: AsyncSession) -> str:
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    kid = uuid.uuid4().hex
    await session.execute(insert(signing_keys).values(kid=kid, private_pem=pem))
    return kid


async def rotate(session: AsyncSession, access_token_ttl_s: int) -> str:
    """Retires the active key, creates the next one (its kid is returned) and deletes keys whose tokens
    have all expired."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _KEY_CREATION_LOCK})
    now = datetime.now(UTC)
    await session.execute(
        update(signing_keys).where(signing_keys.c.retired_at.is_(None)).values(retired_at=now)
    )
    await session.execute(
        delete(signing_keys).where(signing_keys.c.retired_at <= now - timedelta(seconds=access_token_ttl_s))
    )
    return await _create_key(session)


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


async def jwks(session: AsyncSession, access_token_ttl_s: int) -> dict[str, Any]:
    """The active key and every retired key that may still have unexpired tokens out there."""
    still_verifying = datetime.now(UTC) - timedelta(seconds=access_token_ttl_s)
    rows = await session.execute(
        select(signing_keys.c.kid, signing_keys.c.private_pem)
        .where(or_(signing_keys.c.retired_at.is_(None), signing_keys.c.retired_at > still_verifying))
        .order_by(signing_keys.c.created_at.desc())
    )
    return {"keys": [_load(r.kid, r.private_pem).public_jwk() for r in rows]}


def access_claims(
    *,
    user_id: uuid.UUID,
    tenant_id: uuid.UUID,
    role: str,
    issuer: str,
    audience: str,
    ttl_s: int,
    session_id: uuid.UUID,
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
        "sid": str(session_id),
    }
