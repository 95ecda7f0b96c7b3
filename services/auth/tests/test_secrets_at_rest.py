"""TOTP seeds encrypted at rest, the legacy plaintext ones sealed at start-up, and recovery-code
regeneration (password and a current code). docs/security.md links here."""

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pyotp
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, update

from tally_auth import twofactor
from tally_auth.main import MIGRATIONS, create_app
from tally_auth.secretbox import SecretBox
from tally_auth.settings import AuthSettings
from tally_auth.tables import users

FAST_HASHING = {"argon2_time_cost": 1, "argon2_memory_cost_kib": 1024, "argon2_parallelism": 1}
PASSWORD = "correct horse battery"
KEY = Fernet.generate_key().decode()


@pytest.fixture
async def auth(service_client: Any) -> httpx.AsyncClient:
    client: httpx.AsyncClient = await service_client(
        create_app, AuthSettings, MIGRATIONS, secret_keys=KEY, **FAST_HASHING
    )
    return client


async def signed_in(auth: httpx.AsyncClient) -> dict[str, str]:
    body = {"email": "ada@example.com", "password": PASSWORD, "display_name": "Ada"}
    assert (await auth.post("/register", json=body)).status_code == 201
    pair = (await auth.post("/login", json={"email": body["email"], "password": PASSWORD})).json()
    return {"Authorization": f"Bearer {pair['access_token']}"}


async def stored_secret(auth: httpx.AsyncClient) -> str:
    async with auth.app.state.db.read() as s:  # type: ignore[attr-defined]
        return str(await s.scalar(select(users.c.totp_secret)))


async def test_totp_seed_is_encrypted_at_rest(auth: httpx.AsyncClient) -> None:
    headers = await signed_in(auth)
    secret = (await auth.post("/2fa/setup", headers=headers)).json()["secret"]
    r = await auth.post("/2fa/enable", json={"code": pyotp.TOTP(secret).now()}, headers=headers)
    assert r.status_code == 200
    stored = await stored_secret(auth)
    assert secret not in stored
    assert stored.startswith("f1:")
    assert SecretBox([KEY.encode()]).open(stored) == secret
    # Another key cannot open it.
    with pytest.raises(RuntimeError):
        SecretBox([Fernet.generate_key()]).open(stored)


async def test_a_plaintext_seed_from_before_is_sealed_and_keeps_working(auth: httpx.AsyncClient) -> None:
    headers = await signed_in(auth)
    secret = pyotp.random_base32()
    async with auth.app.state.db.transaction() as s:  # type: ignore[attr-defined]
        await s.execute(update(users).values(totp_secret=secret, totp_enabled_at=datetime.now(UTC)))
    assert await twofactor.seal_legacy_secrets(auth.app.state.auth) == 1  # type: ignore[attr-defined]
    assert await twofactor.seal_legacy_secrets(auth.app.state.auth) == 0  # type: ignore[attr-defined]
    assert (await stored_secret(auth)).startswith("f1:")
    challenge = (await auth.post("/login", json={"email": "ada@example.com", "password": PASSWORD})).json()
    r = await auth.post(
        "/login/2fa", json={"challenge_token": challenge["challenge_token"], "code": pyotp.TOTP(secret).now()}
    )
    assert r.status_code == 200, r.text
    assert headers


async def test_recovery_codes_are_regenerated_with_password_and_code(auth: httpx.AsyncClient) -> None:
    headers = await signed_in(auth)
    totp = pyotp.TOTP((await auth.post("/2fa/setup", headers=headers)).json()["secret"])
    old = (await auth.post("/2fa/enable", json={"code": totp.now()}, headers=headers)).json()[
        "recovery_codes"
    ]
    next_code = totp.at(datetime.now(UTC) + timedelta(seconds=30))
    wrong = [
        {"password": "not the password", "code": next_code},
        {"password": PASSWORD, "code": "000000"},
        {"password": PASSWORD, "code": old[0]},  # a recovery code does not mint new ones
    ]
    for body in wrong:
        assert (await auth.post("/2fa/recovery-codes", json=body, headers=headers)).status_code == 401
    r = await auth.post(
        "/2fa/recovery-codes", json={"password": PASSWORD, "code": next_code}, headers=headers
    )
    assert r.status_code == 200, r.text
    new = r.json()["recovery_codes"]
    assert len(new) == 10
    assert not set(new) & set(old)
    log = (await auth.get("/security-log", headers=headers)).json()["items"]
    assert log[0]["type"] == "RecoveryCodesRegenerated"
    # The old codes no longer sign in; a new one does.
    for code, status in ((old[1], 401), (new[0], 200)):
        challenge = (
            await auth.post("/login", json={"email": "ada@example.com", "password": PASSWORD})
        ).json()
        r = await auth.post(
            "/login/2fa", json={"challenge_token": challenge["challenge_token"], "code": code}
        )
        assert r.status_code == status, code


def test_production_refuses_to_start_without_a_key() -> None:
    with pytest.raises(RuntimeError, match="SECRET_KEYS"):
        SecretBox.from_settings(AuthSettings(environment="production", log_format="json"))


def test_a_local_key_is_generated_once_readable_by_its_owner_only(tmp_path: Any) -> None:
    path = tmp_path / "dir" / "auth.key"
    settings = AuthSettings(secret_key_file=path)
    sealed = SecretBox.from_settings(settings).seal("JBSWY3DPEHPK3PXP")
    assert path.stat().st_mode & 0o777 == 0o600
    assert SecretBox.from_settings(settings).open(sealed) == "JBSWY3DPEHPK3PXP"
