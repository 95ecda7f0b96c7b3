"""Every /api route needs a valid access token, except the public auth routes; a bad token never
reaches a service."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import TYPE_CHECKING

import httpx
import pytest

from tallystack.tokens import TokenMinter

USER, TENANT = uuid.uuid4(), uuid.uuid4()

if TYPE_CHECKING:
    from conftest import Upstream


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(minter: TokenMinter, **changes: object) -> dict[str, object]:
    now = int(time.time())
    return {"sub": str(USER), "tid": str(TENANT), "role": "owner", "iat": now, "exp": now + 600,
            "iss": minter.issuer, "aud": minter.audience, **changes}


def _tampered(minter: TokenMinter) -> str:
    header, _, signature = minter.mint(USER, TENANT).split(".")
    return f"{header}.{_b64(_claims(minter, tid=str(uuid.uuid4())))}.{signature}"


def _alg_none(minter: TokenMinter) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': minter.kid})}.{_b64(_claims(minter))}."


BAD_AUTHORIZATION = {
    "missing": lambda m: None,
    "not bearer": lambda m: f"Basic {base64.b64encode(b'a:b').decode()}",
    "garbage": lambda m: "Bearer not.a.jwt",
    "tampered payload": lambda m: f"Bearer {_tampered(m)}",
    "alg none": lambda m: f"Bearer {_alg_none(m)}",
    "expired": lambda m: f"Bearer {m.mint(USER, TENANT, ttl_s=-60)}",
    "unknown key id": lambda m: f"Bearer {TokenMinter().mint(USER, TENANT)}",
    "wrong audience": lambda m: f"Bearer {m.mint(USER, TENANT, aud='someone-else')}",
}


@pytest.mark.parametrize("case", list(BAD_AUTHORIZATION))
async def test_bad_or_missing_token_is_401_and_never_reaches_the_service(
    gateway: httpx.AsyncClient, upstream: Upstream, token_minter: TokenMinter, case: str
) -> None:
    authorization = BAD_AUTHORIZATION[case](token_minter)
    headers = {"Authorization": authorization} if authorization else {}
    probe = uuid.uuid4().hex

    response = await gateway.post(f"/api/ledger/accounts?probe={probe}", json={"name": "x"}, headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Unauthorized"
    assert upstream.hits_with_query(f"probe={probe}") == []


async def test_valid_token_is_forwarded(
    gateway: httpx.AsyncClient, upstream: Upstream, token_minter: TokenMinter
) -> None:
    headers = token_minter.headers(USER, TENANT, role="viewer")
    probe = uuid.uuid4().hex

    response = await gateway.get(f"/api/auth/me?probe={probe}", headers=headers)

    assert response.status_code == 200
    (hit,) = upstream.hits_with_query(f"probe={probe}")
    assert hit["path"] == "/me"
    assert hit["headers"]["authorization"] == headers["Authorization"]


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/api/auth/register"), ("POST", "/api/auth/login"), ("POST", "/api/auth/refresh"),
    ("POST", "/api/auth/logout"), ("GET", "/api/auth/.well-known/jwks.json"), ("POST", "/api/auth/login/2fa"),
    ("POST", "/api/auth/verify-email"), ("POST", "/api/auth/password-reset/request"),
    ("POST", "/api/auth/password-reset/confirm"),
])
async def test_public_auth_routes_need_no_token(
    gateway: httpx.AsyncClient, upstream: Upstream, method: str, path: str
) -> None:
    probe = uuid.uuid4().hex

    response = await gateway.request(method, f"{path}?probe={probe}")

    assert response.status_code == 200
    (hit,) = upstream.hits_with_query(f"probe={probe}")
    assert (hit["method"], "/api/auth" + hit["path"]) == (method, path)


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/auth/login"), ("GET", "/api/auth/me"), ("POST", "/api/auth/register/extra"),
    ("POST", "/api/ledger/register"), ("GET", "/api/ledger/.well-known/jwks.json"),
])
async def test_only_those_exact_routes_are_public(gateway: httpx.AsyncClient, method: str, path: str) -> None:
    response = await gateway.request(method, path)
    assert response.status_code == 401
