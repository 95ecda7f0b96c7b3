"""Auth through HTTP on a real PostgreSQL: register, log in, refresh rotation, JWKS, events in the outbox."""

import asyncio
import time
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import select

from tally_auth.main import MIGRATIONS, create_app
from tally_auth.settings import AuthSettings
from tallykit.contracts import registry
from tallykit.events import Envelope
from tallykit.settings import ServiceSettings
from tallykit.tables import outbox
from tallykit.tokens import TokenVerifier

FAST_HASHING = {"argon2_time_cost": 1, "argon2_memory_cost_kib": 1024, "argon2_parallelism": 1}
PASSWORD = "correct horse battery"


@pytest.fixture
async def auth(service_client: Any) -> httpx.AsyncClient:
    client: httpx.AsyncClient = await service_client(create_app, AuthSettings, MIGRATIONS, **FAST_HASHING)
    return client


async def _register(client: httpx.AsyncClient, email: str = "ada@example.com") -> dict[str, Any]:
    r = await client.post("/register", json={"email": email, "password": PASSWORD, "display_name": "Ada"})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def _login(client: httpx.AsyncClient, email: str = "ada@example.com") -> dict[str, Any]:
    r = await client.post("/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_register_creates_household_and_publishes_events(auth: httpx.AsyncClient) -> None:
    user = await _register(auth, "Ada@Example.com")
    assert user["email"] == "ada@example.com"
    async with auth.app.state.db.read() as s:  # type: ignore[attr-defined]
        rows = [
            Envelope.model_validate(e)
            for (e,) in await s.execute(select(outbox.c.envelope).order_by(outbox.c.id))
        ]
    assert [e.type for e in rows] == [
        "auth.UserRegistered",
        "auth.TenantCreated",
        "auth.MemberJoined",
        "auth.EmailVerificationRequested",
    ]
    assert {str(e.tenant_id) for e in rows} == {user["tenant_id"]}
    tenant_created = registry.payload(rows[1])
    assert str(tenant_created.owner_user_id) == user["user_id"]  # type: ignore[attr-defined]
    assert rows[0].correlation_id == rows[1].correlation_id


async def test_sign_up_events_carry_every_setting_of_what_they_create(auth: httpx.AsyncClient) -> None:
    """Issue #16: the first event of a thing sets all of it, so consumers have the whole thing at once:
    TenantCreated the household's settings (those of its row, defaults included), UserRegistered the
    person's profile, MemberJoined how to write to them."""
    r = await auth.post("/register", json={"email": "ada@example.com", "password": PASSWORD,
                                           "display_name": "Ada", "base_currency": "EUR", "locale": "de-DE"})
    assert r.status_code == 201, r.text
    user = r.json()
    async with auth.app.state.db.read() as s:  # type: ignore[attr-defined]
        rows = {
            e.type: e
            for (raw,) in await s.execute(select(outbox.c.envelope).order_by(outbox.c.id))
            for e in (Envelope.model_validate(raw),)
        }
    assert rows["auth.TenantCreated"].data == {
        "name": "Ada's household",
        "owner_user_id": user["user_id"],
        "base_currency": "EUR",
        "time_zone": "UTC",
        "week_start": "monday",
    }
    registered = rows["auth.UserRegistered"].data
    assert (registered["locale"], registered["time_zone"], registered["week_start"]) == (
        "de-DE", "UTC", "monday"
    )
    joined = rows["auth.MemberJoined"].data
    assert (joined["role"], joined["locale"], joined["time_zone"]) == ("owner", "de-DE", "UTC")
    for envelope in rows.values():
        registry.payload(envelope)  # each keeps its contract
    # What the events say is what auth stores and shows.
    tokens = await _login(auth)
    household = await auth.get("/household", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert household.status_code == 200, household.text
    assert {k: household.json()[k] for k in ("name", "base_currency", "time_zone", "week_start")} == {
        k: v for k, v in rows["auth.TenantCreated"].data.items() if k != "owner_user_id"
    }


def test_sign_up_events_written_before_they_carried_every_setting_still_read() -> None:
    """The fields added for issue #16 default to what auth stored then (no new schema version)."""
    from uuid import uuid4

    from tallykit.contracts.auth import MemberJoined, TenantCreated, UserRegistered, WeekStart

    user = uuid4()
    old = {
        TenantCreated: {"name": "Home", "owner_user_id": str(user), "base_currency": "EUR"},
        UserRegistered: {"user_id": str(user), "email": "ada@example.com", "display_name": "Ada"},
        MemberJoined: {"user_id": str(user), "email": "ada@example.com", "display_name": "Ada",
                       "role": "owner"},
    }
    read = {}
    for model, data in old.items():
        envelope = registry.envelope(model.model_validate(data), tenant_id=user, stream_id=user,
                                     stream_version=1, actor="system")
        assert envelope.schema_version == 1
        read[model] = registry.payload(envelope.model_copy(update={"data": data}))
    assert (read[TenantCreated].time_zone, read[TenantCreated].week_start) == ("UTC", WeekStart.monday)
    assert (read[UserRegistered].time_zone, read[UserRegistered].week_start) == ("UTC", WeekStart.monday)
    assert (read[MemberJoined].locale, read[MemberJoined].time_zone) == (None, None)  # not said


async def test_access_token_verifies_against_the_published_jwks(auth: httpx.AsyncClient) -> None:
    user = await _register(auth)
    tokens = await _login(auth)
    jwks = (await auth.get("/.well-known/jwks.json")).json()
    assert "d" not in jwks["keys"][0]  # never the private part
    verifier = TokenVerifier(ServiceSettings(), jwks=jwks)
    principal = await verifier.verify(tokens["access_token"])
    assert str(principal.user_id) == user["user_id"]
    assert str(principal.tenant_id) == user["tenant_id"]
    assert principal.role == "owner"
    me = await auth.get("/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.status_code == 200
    assert me.json()["tenant_name"] == "Ada's household"


async def test_wrong_password_and_unknown_email_get_the_same_answer(auth: httpx.AsyncClient) -> None:
    await _register(auth)
    wrong = await auth.post("/login", json={"email": "ada@example.com", "password": "not the password"})
    unknown = await auth.post("/login", json={"email": "nobody@example.com", "password": "not the password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert wrong.headers["content-type"] == "application/problem+json"


async def test_refresh_rotates_and_reuse_revokes_the_family(auth: httpx.AsyncClient) -> None:
    await _register(auth)
    first = await _login(auth)
    second = await auth.post("/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    # The spent token comes back (stolen?): refused, and the whole family is revoked.
    replay = await auth.post("/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    after = await auth.post("/refresh", json={"refresh_token": second.json()["refresh_token"]})
    assert after.status_code == 401


async def test_logout_revokes_the_session(auth: httpx.AsyncClient) -> None:
    await _register(auth)
    tokens = await _login(auth)
    assert (await auth.post("/logout", json={"refresh_token": tokens["refresh_token"]})).status_code == 204
    assert (await auth.post("/refresh", json={"refresh_token": tokens["refresh_token"]})).status_code == 401


async def test_bad_input_is_refused_and_writes_nothing(auth: httpx.AsyncClient) -> None:
    cases = [
        (b"{not json", 400),
        (b'{"email": "not-an-email", "password": "long enough pw", "display_name": "A"}', 422),
        (b'{"email": "a@example.com", "password": "short", "display_name": "A"}', 422),
        (b'{"email": "a@example.com", "password": "aaaaaaaaaaaa", "display_name": "A"}', 422),
        (b'{"email": "a@example.com", "password": "long enough pw", "display_name": ""}', 422),
        (
            b'{"email": "a@example.com", "password": "long enough pw", "display_name": "A", "role": "admin"}',
            422,
        ),
        (
            b'{"email": "a@example.com", "password": "long enough pw", "display_name": "A", '
            b'"base_currency": "XYZ"}',
            422,
        ),
    ]
    for body, status in cases:
        r = await auth.post("/register", content=body, headers={"content-type": "application/json"})
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    async with auth.app.state.db.read() as s:  # type: ignore[attr-defined]
        assert (await s.execute(select(outbox.c.id))).first() is None
    await _register(auth)
    duplicate = await auth.post(
        "/register", json={"email": "ADA@example.com", "password": PASSWORD, "display_name": "B"}
    )
    assert duplicate.status_code == 409


async def test_tokens_that_must_not_pass(auth: httpx.AsyncClient) -> None:
    await _register(auth)
    good = (await _login(auth))["access_token"]
    header, payload, signature = good.split(".")
    claims = jwt.decode(good, options={"verify_signature": False})
    none_alg = jwt.encode({**claims}, key=None, algorithm="none")
    expired_claims = {**claims, "exp": int(time.time()) - 10}
    forged = jwt.encode(
        expired_claims,
        "an attacker-chosen hmac secret!!",
        algorithm="HS256",
        headers={"kid": jwt.get_unverified_header(good)["kid"]},
    )
    tampered = f"{header}.{payload[:-2]}AA.{signature}"
    for token in (none_alg, forged, tampered, "garbage", ""):
        r = await auth.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, token
    assert (await auth.get("/me")).status_code == 401


async def test_concurrent_registrations_with_one_email_create_one_user(auth: httpx.AsyncClient) -> None:
    body = {"email": "twin@example.com", "password": PASSWORD, "display_name": "Twin"}
    results = await asyncio.gather(*(auth.post("/register", json=body) for _ in range(3)))
    assert sorted(r.status_code for r in results) == [201, 409, 409]


async def test_the_language_of_the_sign_up_is_kept_and_published(auth: httpx.AsyncClient) -> None:
    response = await auth.post("/register", json={"email": "jo@example.com", "password": PASSWORD,
                                                  "display_name": "Jo", "locale": "de-AT"})
    assert response.status_code == 201, response.text
    async with auth.app.state.db.read() as s:  # type: ignore[attr-defined]
        stored = (await s.execute(select(outbox.c.envelope).order_by(outbox.c.id))).scalar()
    first = Envelope.model_validate(stored)
    assert registry.payload(first).locale == "de-AT"  # type: ignore[attr-defined]
    tokens = await _login(auth, "jo@example.com")
    me = await auth.get("/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert me.json()["locale"] == "de-AT"
    bad = await auth.post("/register", json={"email": "jo2@example.com", "password": PASSWORD,
                                             "display_name": "Jo", "locale": "<script>"})
    assert bad.status_code == 422
