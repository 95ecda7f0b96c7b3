"""Access-token verification against the auth service's JWKS, and the principal a request acts as.

Tokens are EdDSA-signed JWTs with a key id. Only EdDSA is accepted (never `none`, never a symmetric
algorithm an attacker could pick); an unknown key id refreshes the key set, at most every 10 s.
"""

import asyncio
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any
from uuid import UUID

import httpx
import jwt
from fastapi import Depends, Request

from tallykit.errors import Forbidden, Unauthorized
from tallykit.logging import bind_context
from tallykit.positions import CatchUp
from tallykit.settings import ServiceSettings

ALGORITHM = "EdDSA"
_REFRESH_AT_MOST_EVERY_S = 10.0


class Role(StrEnum):
    owner = "owner"
    member = "member"
    viewer = "viewer"


@dataclass(frozen=True)
class Principal:
    user_id: UUID
    tenant_id: UUID
    role: Role

    @property
    def actor(self) -> str:
        return str(self.user_id)

    def require_write(self) -> None:
        if self.role == Role.viewer:
            raise Forbidden("viewers of a household cannot change it")


class TokenVerifier:
    def __init__(self, settings: ServiceSettings, jwks: dict[str, Any] | None = None) -> None:
        self.settings = settings
        self._keys: dict[str, Any] = {}
        self._fetched_at = 0.0
        self._static = jwks is not None
        self._refreshing = asyncio.Lock()
        if jwks is not None:
            self._load(jwks)

    def _load(self, jwks: dict[str, Any]) -> None:
        self._keys = {k.key_id: k.key for k in jwt.PyJWKSet.from_dict(jwks).keys if k.key_id}

    async def _refresh(self) -> None:
        # Requests that arrive while a fetch is under way wait for it rather than fail.
        async with self._refreshing:
            if self._static or time.monotonic() - self._fetched_at < _REFRESH_AT_MOST_EVERY_S:
                return
            async with httpx.AsyncClient(timeout=5.0) as client:
                response = await client.get(self.settings.jwks_url)
                response.raise_for_status()
                self._load(response.json())
            self._fetched_at = time.monotonic()

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("the access token is malformed") from None
        if header.get("alg") != ALGORITHM:
            raise Unauthorized("the access token is not signed with an accepted algorithm")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Unauthorized("the access token has no key id")
        if kid not in self._keys:
            try:
                await self._refresh()
            except httpx.HTTPError:
                raise Unauthorized("the signing keys could not be fetched") from None
        key = self._keys.get(kid)
        if key is None:
            raise Unauthorized("the access token was signed by an unknown key")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                options={"require": ["exp", "iat", "sub", "tid", "role"]},
            )
            return Principal(UUID(claims["sub"]), UUID(claims["tid"]), Role(claims["role"]))
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the access token has expired") from None
        except (jwt.PyJWTError, ValueError, KeyError):
            raise Unauthorized("the access token is not valid") from None


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("an access token is required (Authorization: Bearer …)")
    return token.strip()


async def current_principal(request: Request) -> Principal:
    verifier: TokenVerifier = request.app.state.verifier
    principal = await verifier.verify(bearer_token(request))
    # Every later log line of this request says whose it was.
    bind_context(tenant_id=str(principal.tenant_id), user_id=str(principal.user_id))
    # Before the request reads or decides anything: what the person just did elsewhere is applied (an app
    # not made by create_service_app has nothing to catch up with).
    catch_up: CatchUp | None = getattr(request.app.state, "catch_up", None)
    if catch_up is not None:
        await catch_up(request.scope, principal.tenant_id)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
