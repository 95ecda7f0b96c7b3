"""People and households on a running stack, through the gateway, for the end-to-end tests: sign up,
switch household, invite and accept (the invitation's secret read from auth's outbox, where it waits
for the notifier)."""

import asyncio
import concurrent.futures
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import jwt

from tallykit.positions import Position
from tallystack import postgres
from tallystack.client import PositionedClient
from tallystack.stack import Stack

PASSWORD = "correct horse battery"


def invitation_token(stack: Stack, email: str) -> str:
    """The secret of the last invitation auth asked the notifier to mail to `email` (read from auth's
    outbox: the notifier's mail is another service's concern). Run in a thread: the browser tests keep
    an event loop on the main thread."""

    async def read() -> str:
        url = postgres.asyncpg_dsn(postgres.database_url(stack.admin_url, "tally_auth"))
        connection = await asyncpg.connect(url)
        try:
            path = await connection.fetchval(
                "SELECT envelope->'data'->>'path' FROM outbox WHERE envelope->>'type' = 'auth.MemberInvited'"
                " AND envelope->'data'->>'email' = $1 ORDER BY id DESC LIMIT 1",
                email,
            )
        finally:
            await connection.close()
        assert path, f"no invitation for {email}"
        return str(parse_qs(urlsplit(path).fragment.partition("?")[2])["token"][0])

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, read()).result()


class Person:
    """Someone using Tally through the gateway as the web client does (`PositionedClient`: what they just
    did is there on the next call, whichever service answers it)."""

    def __init__(self, client: httpx.Client, email: str, name: str, **sign_up: Any) -> None:
        self.client, self.email = client, email
        self.session = PositionedClient(client)
        r = self.session.request("POST", "/api/auth/register",
                                 json={"email": email, "password": PASSWORD, "display_name": name, **sign_up})
        assert r.status_code == 201, r.text
        self.user_id = r.json()["user_id"]
        self.home = r.json()["tenant_id"]
        r = self.session.request("POST", "/api/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        self.pair: dict[str, Any] = r.json()

    @property
    def position(self) -> Position | None:
        return self.session.position

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.pair['access_token']}"}

    @property
    def claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(self.pair["access_token"], options={"verify_signature": False})
        return claims

    def call(self, method: str, path: str, json: Any = None) -> httpx.Response:
        return self.session.request(method, f"/api{path}", json=json, headers=self.auth)

    def switch(self, tenant_id: str) -> httpx.Response:
        r = self.call(
            "POST", "/auth/switch", {"tenant_id": tenant_id, "refresh_token": self.pair["refresh_token"]}
        )
        if r.status_code == 200:
            self.pair = r.json()
        return r


def join(stack: Stack, owner: Person, person: Person, role: str) -> None:
    r = owner.call("POST", "/auth/household/invitations", {"email": person.email, "role": role})
    assert r.status_code == 201, r.text
    r = person.call("POST", "/auth/invitations/accept", {"token": invitation_token(stack, person.email)})
    assert r.status_code == 200, r.text
    assert person.switch(owner.home).status_code == 200
    assert (person.claims["tid"], person.claims["role"]) == (owner.home, role)
