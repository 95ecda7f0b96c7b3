"""Identity and session security through HTTP on a real PostgreSQL: password policy and rehashing,
lock-out and rate limits, mailed links, password reset without enumeration, sessions, two-factor sign-in,
key rotation, the refresh cookie and the security log. docs/security.md links here."""

import asyncio
import logging
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pyotp
import pytest
from argon2 import PasswordHasher
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update

from tally_auth import keys
from tally_auth.main import MIGRATIONS, create_app, rotate_key
from tally_auth.settings import AuthSettings
from tally_auth.tables import one_time_tokens, refresh_tokens, sessions, signing_keys, users
from tallykit.events import Envelope
from tallykit.tables import outbox

FAST_HASHING = {"argon2_time_cost": 1, "argon2_memory_cost_kib": 1024, "argon2_parallelism": 1}
PASSWORD = "correct horse battery"
NEW_PASSWORD = "a different, longer secret"
FIREFOX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)


async def make_auth(service_client: Any, **overrides: Any) -> httpx.AsyncClient:
    client: httpx.AsyncClient = await service_client(
        create_app, AuthSettings, MIGRATIONS, **{**FAST_HASHING, **overrides}
    )
    return client


@pytest.fixture
async def auth(service_client: Any) -> httpx.AsyncClient:
    return await make_auth(service_client)


def db_of(client: httpx.AsyncClient) -> Any:
    return client.app.state.db  # type: ignore[attr-defined]


async def register(client: httpx.AsyncClient, email: str = "ada@example.com") -> dict[str, Any]:
    r = await client.post("/register", json={"email": email, "password": PASSWORD, "display_name": "Ada"})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def login(
    client: httpx.AsyncClient, email: str = "ada@example.com", password: str = PASSWORD, **headers: str
) -> httpx.Response:
    return await client.post("/login", json={"email": email, "password": password}, headers=headers)


def bearer(pair: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {pair['access_token']}"}


async def events(client: httpx.AsyncClient, type_name: str | None = None) -> list[Envelope]:
    async with db_of(client).read() as s:
        found = [
            Envelope.model_validate(e)
            for (e,) in await s.execute(select(outbox.c.envelope).order_by(outbox.c.id))
        ]
    return [e for e in found if type_name is None or e.type == type_name]


async def mailed_token(client: httpx.AsyncClient, type_name: str) -> str:
    """The secret of the last link auth asked the notifier to mail."""
    path = (await events(client, type_name))[-1].data["path"]
    return parse_qs(urlsplit(path).fragment.partition("?")[2])["token"][0]


async def expire_tokens(client: httpx.AsyncClient) -> None:
    async with db_of(client).transaction() as s:
        await s.execute(update(one_time_tokens).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))


# --- passwords ----------------------------------------------------------------------------------------------


async def test_common_and_personal_passwords_are_refused(auth: httpx.AsyncClient) -> None:
    for password in ("password1234", "qwertyuiop123", "ada.lovelace@example.com", "Ada Lovelace Ada"):
        r = await auth.post(
            "/register",
            json={"email": "ada.lovelace@example.com", "password": password, "display_name": "Ada Lovelace"},
        )
        assert r.status_code == 422, password
        assert "too easy to guess" in r.json()["detail"]
    assert await events(auth) == []


async def test_login_rehashes_a_password_hashed_with_older_parameters(auth: httpx.AsyncClient) -> None:
    user = await register(auth)
    old = PasswordHasher(time_cost=1, memory_cost=512, parallelism=1).hash(PASSWORD)
    async with db_of(auth).transaction() as s:
        await s.execute(update(users).where(users.c.email == user["email"]).values(password_hash=old))
    assert (await login(auth)).status_code == 200
    async with db_of(auth).read() as s:
        new = await s.scalar(select(users.c.password_hash).where(users.c.email == user["email"]))
    assert new != old
    assert new.startswith("$argon2id$v=19$m=1024,t=1,p=1$")  # the service's current parameters
    assert (await login(auth)).status_code == 200


# --- lock-out and rate limits -------------------------------------------------------------------------------


async def test_wrong_password_n_times_locks_the_account_with_retry_after(service_client: Any) -> None:
    auth = await make_auth(service_client, login_failures_per_account=3, login_lockout_window_s=600)
    await register(auth)
    for _ in range(3):
        assert (await login(auth, password="not the password")).status_code == 401
    locked = await login(auth)  # even the right password, while locked
    assert locked.status_code == 429
    assert locked.headers["content-type"] == "application/problem+json"
    assert 590 <= int(locked.headers["Retry-After"]) <= 600
    # An unknown email behaves the same, so the lock-out does not reveal which emails have accounts.
    for _ in range(3):
        assert (await login(auth, email="nobody@example.com", password="x" * 12)).status_code == 401
    assert (await login(auth, email="nobody@example.com", password="x" * 12)).status_code == 429
    assert [e.data["reason"] for e in await events(auth, "auth.LoginFailed")] == ["wrong password"] * 3


async def test_too_many_failed_sign_ins_from_one_address_are_refused(service_client: Any) -> None:
    auth = await make_auth(service_client, login_failures_per_ip=4, login_ip_window_s=60)
    await register(auth)
    here = {"X-Forwarded-For": "203.0.113.7"}
    for i in range(4):
        assert (await login(auth, email=f"guess{i}@example.com", **here)).status_code == 401
    refused = await login(auth, **here)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    # Another address is not affected, and signing in successfully never counts.
    office = {"X-Forwarded-For": "198.51.100.9"}
    for _ in range(6):
        assert (await login(auth, **office)).status_code == 200


# --- email verification -------------------------------------------------------------------------------------


async def test_email_verification_link_works_once_and_never_reaches_the_logs(
    auth: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    root = logging.getLogger()
    root.addHandler(caplog.handler)  # the app's logging set-up replaced the root handlers
    try:
        await register(auth)
        [requested] = await events(auth, "auth.EmailVerificationRequested")
        assert requested.data["email"] == "ada@example.com"
        assert requested.data["path"].startswith("/#/verify?token=")
        token = await mailed_token(auth, "auth.EmailVerificationRequested")
        pair = (await login(auth)).json()
        assert (await auth.get("/me", headers=bearer(pair))).json()["email_verified"] is False
        assert (await auth.post("/verify-email", json={"token": token})).status_code == 204
        again = await auth.post("/verify-email", json={"token": token})
    finally:
        root.removeHandler(caplog.handler)
    assert again.status_code == 400
    assert again.json()["detail"] == "this link was already used"
    assert (await auth.get("/me", headers=bearer(pair))).json()["email_verified"] is True
    assert token not in caplog.text
    assert [e.type for e in await events(auth, "auth.EmailVerified")] == ["auth.EmailVerified"]
    resend = await auth.post("/verify-email/resend", headers=bearer(pair))
    assert resend.status_code == 409  # already verified


async def test_expired_or_forged_verification_link_is_refused(auth: httpx.AsyncClient) -> None:
    await register(auth)
    pair = (await login(auth)).json()
    await expire_tokens(auth)
    expired = await auth.post(
        "/verify-email", json={"token": await mailed_token(auth, "auth.EmailVerificationRequested")}
    )
    assert (expired.status_code, expired.json()["detail"]) == (400, "this link has expired")
    forged = await auth.post("/verify-email", json={"token": "x" * 43})
    assert (forged.status_code, forged.json()["detail"]) == (400, "this link is not valid")
    # Ask again: a fresh link works.
    assert (await auth.post("/verify-email/resend", headers=bearer(pair))).status_code == 202
    fresh = await mailed_token(auth, "auth.EmailVerificationRequested")
    assert (await auth.post("/verify-email", json={"token": fresh})).status_code == 204


async def test_too_many_bad_links_from_one_address_are_refused(service_client: Any) -> None:
    auth = await make_auth(service_client, token_failures_per_ip=2)
    await register(auth)
    token = await mailed_token(auth, "auth.EmailVerificationRequested")
    for guess in ("a" * 43, "b" * 43):
        assert (await auth.post("/verify-email", json={"token": guess})).status_code == 400
    refused = await auth.post("/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    elsewhere = await auth.post(
        "/verify-email", json={"token": token}, headers={"X-Forwarded-For": "192.0.2.1"}
    )
    assert elsewhere.status_code == 204  # the real link, from another address, still works


# --- password reset and change ------------------------------------------------------------------------------


async def test_password_reset_link_sets_the_password_once_and_ends_every_session(
    auth: httpx.AsyncClient,
) -> None:
    await register(auth)
    before = (await login(auth)).json()
    r = await auth.post("/password-reset/request", json={"email": "ADA@example.com"})
    assert r.status_code == 202
    token = await mailed_token(auth, "auth.PasswordResetRequested")
    weak = await auth.post("/password-reset/confirm", json={"token": token, "new_password": "password1234"})
    assert weak.status_code == 422  # refused, and the link is still good
    done = await auth.post("/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD})
    assert done.status_code == 204
    assert (await auth.post("/refresh", json={"refresh_token": before["refresh_token"]})).status_code == 401
    assert (await login(auth)).status_code == 401
    assert (await login(auth, password=NEW_PASSWORD)).status_code == 200
    twice = await auth.post(
        "/password-reset/confirm", json={"token": token, "new_password": "yet another secret!"}
    )
    assert (twice.status_code, twice.json()["detail"]) == (400, "this link was already used")
    [changed] = await events(auth, "auth.PasswordChanged")
    assert changed.data["by_reset"] is True


async def test_expired_reset_link_is_refused(auth: httpx.AsyncClient) -> None:
    await register(auth)
    await auth.post("/password-reset/request", json={"email": "ada@example.com"})
    await expire_tokens(auth)
    token = await mailed_token(auth, "auth.PasswordResetRequested")
    r = await auth.post("/password-reset/confirm", json={"token": token, "new_password": NEW_PASSWORD})
    assert (r.status_code, r.json()["detail"]) == (400, "this link has expired")
    assert (await login(auth)).status_code == 200


async def test_reset_answers_the_same_in_the_same_time_for_known_and_unknown_emails(
    service_client: Any,
) -> None:
    auth = await make_auth(
        service_client, reset_response_floor_s=0.05, mail_requests_per_ip=1000, mail_requests_per_account=1000
    )
    await register(auth)
    known, unknown = "ada@example.com", "nobody@example.com"
    timings: dict[str, list[float]] = {known: [], unknown: []}
    bodies: dict[str, set[str]] = {known: set(), unknown: set()}
    for _ in range(2):  # warm-up
        for email in (known, unknown):
            await auth.post("/password-reset/request", json={"email": email})
    for _ in range(15):
        for email in (known, unknown):
            started = time.perf_counter()
            r = await auth.post("/password-reset/request", json={"email": email})
            timings[email].append(time.perf_counter() - started)
            assert r.status_code == 202
            bodies[email].add(r.text)
    assert bodies[known] == bodies[unknown]
    assert len(bodies[known]) == 1
    median_known, median_unknown = statistics.median(timings[known]), statistics.median(timings[unknown])
    spread = statistics.stdev(timings[known] + timings[unknown])
    print(f"reset timing: known {median_known * 1000:.1f} ms, unknown {median_unknown * 1000:.1f} ms")
    assert abs(median_known - median_unknown) < max(0.005, 2 * spread)
    assert len(await events(auth, "auth.PasswordResetRequested")) == 17  # only the known email got links


async def test_password_change_keeps_this_session_and_ends_the_others(auth: httpx.AsyncClient) -> None:
    await register(auth)
    here, there = (await login(auth)).json(), (await login(auth)).json()
    wrong = await auth.post(
        "/password",
        json={"current_password": "not it at all", "new_password": NEW_PASSWORD},
        headers=bearer(here),
    )
    assert wrong.status_code == 401
    r = await auth.post(
        "/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}, headers=bearer(here)
    )
    assert r.status_code == 204
    assert (await auth.post("/refresh", json={"refresh_token": here["refresh_token"]})).status_code == 200
    assert (await auth.post("/refresh", json={"refresh_token": there["refresh_token"]})).status_code == 401
    assert (await login(auth, password=NEW_PASSWORD)).status_code == 200


# --- sessions -----------------------------------------------------------------------------------------------


async def test_sessions_list_devices_and_revoke_one_or_all(auth: httpx.AsyncClient) -> None:
    await register(auth)
    laptop = (await login(auth, **{"User-Agent": FIREFOX})).json()
    phone = (await login(auth, **{"User-Agent": IPHONE})).json()
    listed = (await auth.get("/sessions", headers=bearer(laptop))).json()["items"]
    devices = {s["device"]: s for s in listed}
    assert set(devices) == {"Firefox 128 on Ubuntu", "Mobile Safari 17 on iOS"}
    assert devices["Firefox 128 on Ubuntu"]["current"] is True
    assert devices["Mobile Safari 17 on iOS"]["current"] is False
    phone_id = devices["Mobile Safari 17 on iOS"]["id"]

    assert (await auth.delete(f"/sessions/{phone_id}", headers=bearer(laptop))).status_code == 204
    assert (await auth.post("/refresh", json={"refresh_token": phone["refresh_token"]})).status_code == 401
    # Its access token has not expired, but the account's own settings want a live session.
    assert (await auth.get("/me", headers=bearer(phone))).status_code == 401
    assert (await auth.post("/2fa/setup", headers=bearer(phone))).status_code == 401
    assert (await auth.delete(f"/sessions/{phone_id}", headers=bearer(laptop))).status_code == 404
    assert (await auth.delete(f"/sessions/{uuid.uuid4()}", headers=bearer(laptop))).status_code == 404
    # Someone else's session is not found either.
    await register(auth, "eve@example.com")
    eve = (await login(auth, email="eve@example.com")).json()
    eve_session = jwt.decode(eve["access_token"], options={"verify_signature": False})["sid"]
    laptop_id = devices["Firefox 128 on Ubuntu"]["id"]
    assert (await auth.delete(f"/sessions/{laptop_id}", headers=bearer(eve))).status_code == 404

    refreshed = await auth.post("/refresh", json={"refresh_token": laptop["refresh_token"]})
    assert refreshed.status_code == 200
    assert (await auth.post("/logout-all", headers=bearer(laptop))).status_code == 204
    assert (
        await auth.post("/refresh", json={"refresh_token": refreshed.json()["refresh_token"]})
    ).status_code == 401
    assert (await auth.get("/sessions", headers=bearer(laptop))).status_code == 401
    async with db_of(auth).read() as s:
        live = (await s.execute(select(sessions.c.id).where(sessions.c.revoked_at.is_(None)))).scalars().all()
    assert live == [uuid.UUID(eve_session)]
    reasons = [e.data["reason"] for e in await events(auth, "auth.SessionRevoked")]
    assert reasons == ["revoked from the session list", "signed out everywhere"]


async def test_replayed_refresh_token_revokes_the_session_and_says_so(auth: httpx.AsyncClient) -> None:
    await register(auth)
    first = (await login(auth)).json()
    second = (await auth.post("/refresh", json={"refresh_token": first["refresh_token"]})).json()
    assert (await auth.post("/refresh", json={"refresh_token": first["refresh_token"]})).status_code == 401
    assert (await auth.post("/refresh", json={"refresh_token": second["refresh_token"]})).status_code == 401
    assert (await auth.get("/sessions", headers=bearer(second))).status_code == 401
    third = (await login(auth)).json()
    log = (await auth.get("/security-log", headers=bearer(third))).json()["items"]
    assert [entry["type"] for entry in log][:3] == ["LoginSucceeded", "SessionRevoked", "LoginSucceeded"]
    assert log[1]["detail"] == "refresh token replayed"


async def test_a_sign_in_from_before_the_session_list_gets_its_session_on_refresh(
    auth: httpx.AsyncClient,
) -> None:
    await register(auth)
    old = (await login(auth)).json()
    async with db_of(auth).transaction() as s:  # as the first release left it: a family, no session row
        await s.execute(sessions.delete())
    assert (await auth.get("/me", headers=bearer(old))).status_code == 401
    r = await auth.post(
        "/refresh", json={"refresh_token": old["refresh_token"]}, headers={"User-Agent": FIREFOX}
    )
    assert r.status_code == 200
    [listed] = (await auth.get("/sessions", headers=bearer(r.json()))).json()["items"]
    assert (listed["device"], listed["current"]) == ("Firefox 128 on Ubuntu", True)
    async with db_of(auth).read() as s:
        families = set((await s.execute(select(refresh_tokens.c.family_id))).scalars())
    assert families == {uuid.UUID(listed["id"])}


async def test_web_client_refresh_token_is_an_httponly_strict_cookie(auth: httpx.AsyncClient) -> None:
    await register(auth)
    r = await auth.post("/login", json={"email": "ada@example.com", "password": PASSWORD, "cookie": True})
    assert r.status_code == 200
    assert r.json()["refresh_token"] is None  # never readable by scripts
    cookie = r.headers["set-cookie"]
    for attribute in ("HttpOnly", "SameSite=strict", "Path=/api/auth", "Secure"):
        assert attribute.lower() in cookie.lower(), attribute
    value = cookie.split(";")[0]
    # A cross-site form post cannot send JSON: refused, and nothing is rotated.
    forged = await auth.post(
        "/refresh", content=b"refresh_token=", headers={"Cookie": value, "Content-Type": "text/plain"}
    )
    assert forged.status_code == 422
    r2 = await auth.post("/refresh", json={}, headers={"Cookie": value})
    assert r2.status_code == 200
    assert r2.json()["refresh_token"] is None
    rotated = r2.headers["set-cookie"].split(";")[0]
    assert rotated != value
    assert (await auth.post("/refresh", json={}, headers={"Cookie": value})).status_code == 401  # spent
    out = await auth.post("/logout", json={}, headers={"Cookie": rotated})
    assert out.status_code == 204
    assert 'tally_refresh=""' in out.headers["set-cookie"] or "Max-Age=0" in out.headers["set-cookie"]
    assert (await auth.post("/refresh", json={})).status_code == 401


# --- two-factor ---------------------------------------------------------------------------------------------


async def test_two_factor_enrol_required_at_login_recovery_code_once_and_disable(
    auth: httpx.AsyncClient,
) -> None:
    await register(auth)
    pair = (await login(auth)).json()
    setup = (await auth.post("/2fa/setup", headers=bearer(pair))).json()
    assert setup["qr_svg"].startswith("data:image/svg+xml")
    assert setup["otpauth_uri"].startswith("otpauth://totp/Tally:ada%40example.com?secret=")
    totp = pyotp.TOTP(setup["secret"])
    assert (await auth.post("/2fa/enable", json={"code": "000000"}, headers=bearer(pair))).status_code == 422
    enabled = await auth.post("/2fa/enable", json={"code": totp.now()}, headers=bearer(pair))
    assert enabled.status_code == 200
    codes = enabled.json()["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10
    assert (await auth.get("/me", headers=bearer(pair))).json()["two_factor_enabled"] is True

    # The password alone no longer signs in: it gives a challenge for the second step.
    challenge = (await login(auth)).json()
    assert challenge["two_factor_required"] is True
    assert "access_token" not in challenge
    step = {"challenge_token": challenge["challenge_token"]}
    assert (
        await auth.post("/login/2fa", json={**step, "code": totp.now()})
    ).status_code == 401  # used at enrolment
    later = totp.at(datetime.now(UTC) + timedelta(seconds=30))
    signed_in = await auth.post("/login/2fa", json={**step, "code": later})
    assert signed_in.status_code == 200
    assert (await auth.post("/login/2fa", json={**step, "code": later})).status_code == 401  # challenge spent

    def second_step(code: str) -> Any:
        async def go() -> httpx.Response:
            token = (await login(auth)).json()["challenge_token"]
            return await auth.post("/login/2fa", json={"challenge_token": token, "code": code})

        return go()

    assert (await second_step(codes[0].upper().replace("-", " "))).status_code == 200  # typed loosely
    assert (await second_step(codes[0])).status_code == 401  # a recovery code works once
    used = await events(auth, "auth.RecoveryCodeUsed")
    assert [e.data["remaining"] for e in used] == [9]

    me = bearer(signed_in.json())
    refused = await auth.post(
        "/2fa/disable", json={"password": "wrong password!", "code": codes[1]}, headers=me
    )
    assert refused.status_code == 401
    off = await auth.post("/2fa/disable", json={"password": PASSWORD, "code": codes[1]}, headers=me)
    assert off.status_code == 204
    assert "access_token" in (await login(auth)).json()
    log = [entry["type"] for entry in (await auth.get("/security-log", headers=me)).json()["items"]]
    for expected in (
        "TwoFactorEnabled",
        "TwoFactorDisabled",
        "RecoveryCodeUsed",
        "LoginFailed",
        "LoginSucceeded",
    ):
        assert expected in log


async def test_wrong_second_factor_codes_lock_the_second_step(service_client: Any) -> None:
    auth = await make_auth(service_client, login_failures_per_account=3)
    await register(auth)
    pair = (await login(auth)).json()
    secret = (await auth.post("/2fa/setup", headers=bearer(pair))).json()["secret"]
    await auth.post("/2fa/enable", json={"code": pyotp.TOTP(secret).now()}, headers=bearer(pair))
    token = (await login(auth)).json()["challenge_token"]
    for _ in range(3):
        assert (
            await auth.post("/login/2fa", json={"challenge_token": token, "code": "123456"})
        ).status_code == 401
    later = pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))
    locked = await auth.post("/login/2fa", json={"challenge_token": token, "code": later})
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0


# --- keys -------------------------------------------------------------------------------------------------


async def test_rotated_key_verifies_its_tokens_until_they_expire_then_leaves_the_jwks(
    service_client: Any,
) -> None:
    auth = await make_auth(service_client, access_token_ttl_s=2)
    await register(auth)
    old = (await login(auth)).json()
    old_kid = jwt.get_unverified_header(old["access_token"])["kid"]
    await rotate_key(auth.app.state.settings)  # type: ignore[attr-defined]
    new = (await login(auth)).json()
    new_kid = jwt.get_unverified_header(new["access_token"])["kid"]
    assert new_kid != old_kid
    assert {k["kid"] for k in (await auth.get("/.well-known/jwks.json")).json()["keys"]} == {old_kid, new_kid}
    assert (await auth.get("/me", headers=bearer(old))).status_code == 200
    async with asyncio.timeout(30):  # one token lifetime (2 s) after the rotation, the old key goes
        while old_kid in {k["kid"] for k in (await auth.get("/.well-known/jwks.json")).json()["keys"]}:
            await asyncio.sleep(0.1)
    assert [k["kid"] for k in (await auth.get("/.well-known/jwks.json")).json()["keys"]] == [new_kid]
    assert (await auth.get("/me", headers=bearer(old))).status_code == 401
    # The next rotation deletes the key whose tokens have all expired.
    async with db_of(auth).transaction() as s:
        await keys.rotate(s, 2)
    async with db_of(auth).read() as s:
        assert old_kid not in set((await s.execute(select(signing_keys.c.kid))).scalars())


async def test_token_signed_with_another_key_under_a_known_key_id_is_refused(auth: httpx.AsyncClient) -> None:
    await register(auth)
    good = (await login(auth)).json()["access_token"]
    claims = jwt.decode(good, options={"verify_signature": False})
    kid = jwt.get_unverified_header(good)["kid"]
    impostor = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": kid})
    assert (await auth.get("/me", headers={"Authorization": f"Bearer {impostor}"})).status_code == 401
