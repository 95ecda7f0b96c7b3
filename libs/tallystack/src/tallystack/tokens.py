"""Access tokens for tests of a single service: a throwaway Ed25519 key and its JWKS."""

import json
import time
import uuid
from typing import Any
from uuid import UUID

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


class TokenMinter:
    def __init__(self, issuer: str = "tally-auth", audience: str = "tally") -> None:
        self.key = Ed25519PrivateKey.generate()
        self.kid = uuid.uuid4().hex
        self.issuer = issuer
        self.audience = audience

    @property
    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(self.key.public_key()))
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "EdDSA"}]}

    def mint(
        self, user_id: UUID, tenant_id: UUID, role: str = "owner", ttl_s: int = 600, **extra: Any
    ) -> str:
        now = int(time.time())
        claims = {
            "sub": str(user_id),
            "tid": str(tenant_id),
            "role": role,
            "iat": now,
            "exp": now + ttl_s,
            "iss": self.issuer,
            "aud": self.audience,
            **extra,
        }
        return jwt.encode(claims, self.key, algorithm="EdDSA", headers={"kid": self.kid})

    def headers(self, user_id: UUID, tenant_id: UUID, role: str = "owner") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.mint(user_id, tenant_id, role)}"}
