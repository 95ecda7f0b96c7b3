"""What the gateway tells the auth service about the caller, and the refresh cookie: forwarded to and
from the auth service only."""

import uuid

import httpx

from tallystack.tokens import TokenMinter


async def test_refresh_cookie_travels_to_and_from_auth_only(
    gateway: httpx.AsyncClient, upstream, token_minter: TokenMinter
) -> None:
    probe = uuid.uuid4().hex
    to_auth = await gateway.post(f"/api/auth/refresh?probe={probe}&set_cookie=r1", json={},
                                 headers={"Cookie": "tally_refresh=r0"})
    (hit,) = upstream.hits_with_query(f"probe={probe}&set_cookie=r1")
    assert hit["headers"]["cookie"] == "tally_refresh=r0"
    assert to_auth.headers["set-cookie"].startswith("tally_refresh=r1;")

    probe = uuid.uuid4().hex
    auth = token_minter.headers(uuid.uuid4(), uuid.uuid4())
    to_ledger = await gateway.get(f"/api/ledger/accounts?probe={probe}&set_cookie=evil",
                                  headers={**auth, "Cookie": "tally_refresh=r0"})
    (hit,) = upstream.hits_with_query(f"probe={probe}&set_cookie=evil")
    assert "cookie" not in hit["headers"]
    assert "set-cookie" not in to_ledger.headers


async def test_client_address_and_device_reach_auth_and_a_claimed_address_does_not(
    gateway: httpx.AsyncClient, upstream
) -> None:
    probe = uuid.uuid4().hex
    await gateway.post(f"/api/auth/login?probe={probe}", json={},
                       headers={"X-Forwarded-For": "10.9.8.7", "User-Agent": "Firefox/128.0"})
    (hit,) = upstream.hits_with_query(f"probe={probe}")
    assert hit["headers"]["x-forwarded-for"] == "127.0.0.1"  # the peer the gateway saw
    assert hit["headers"]["user-agent"] == "Firefox/128.0"
