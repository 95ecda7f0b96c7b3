"""Profile, household settings, membership, invitations and switching, through HTTP on a real PostgreSQL.
docs/security.md links here."""

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pyotp
import pytest
from sqlalchemy import func, select, update

from tally_auth.main import MIGRATIONS, create_app
from tally_auth.settings import AuthSettings
from tally_auth.tables import invitations, memberships, security_log, sessions, tenants, users
from tallykit.contracts import registry
from tallykit.events import Envelope

FAST_HASHING = {"argon2_time_cost": 1, "argon2_memory_cost_kib": 1024, "argon2_parallelism": 1}
PASSWORD = "correct horse battery"


@pytest.fixture
async def auth(service_client: Any) -> httpx.AsyncClient:
    client: httpx.AsyncClient = await service_client(create_app, AuthSettings, MIGRATIONS, **FAST_HASHING)
    return client


class Person:
    def __init__(self, client: httpx.AsyncClient, email: str, name: str) -> None:
        self.client, self.email, self.name = client, email, name
        self.pair: dict[str, Any] = {}
        self.user_id = ""

    async def sign_up(self) -> "Person":
        r = await self.client.post(
            "/register", json={"email": self.email, "password": PASSWORD, "display_name": self.name}
        )
        assert r.status_code == 201, r.text
        self.user_id = r.json()["user_id"]
        r = await self.client.post("/login", json={"email": self.email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        self.pair = r.json()
        return self

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.pair['access_token']}"}

    @property
    def claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = jwt.decode(self.pair["access_token"], options={"verify_signature": False})
        return claims

    async def call(self, method: str, path: str, json: Any = None) -> httpx.Response:
        return await self.client.request(method, path, json=json, headers=self.headers)

    async def switch(self, tenant_id: str) -> httpx.Response:
        r = await self.call(
            "POST", "/switch", {"tenant_id": tenant_id, "refresh_token": self.pair["refresh_token"]}
        )
        if r.status_code == 200:
            self.pair = r.json()
        return r


async def events(client: httpx.AsyncClient, type_name: str) -> list[Envelope]:
    from tallykit.tables import outbox

    async with client.app.state.db.read() as s:  # type: ignore[attr-defined]
        found = [
            Envelope.model_validate(e)
            for (e,) in await s.execute(select(outbox.c.envelope).order_by(outbox.c.id))
        ]
    return [e for e in found if e.type == type_name]


async def invitation_token(client: httpx.AsyncClient) -> str:
    path = (await events(client, "auth.MemberInvited"))[-1].data["path"]
    return parse_qs(urlsplit(path).fragment.partition("?")[2])["token"][0]


async def household_of_two(auth: httpx.AsyncClient, role: str = "member") -> tuple[Person, Person]:
    ada = await Person(auth, "ada@example.com", "Ada").sign_up()
    bob = await Person(auth, "bob@example.com", "Bob").sign_up()
    r = await ada.call("POST", "/household/invitations", {"email": "Bob@Example.com", "role": role})
    assert r.status_code == 201, r.text
    r = await bob.call("POST", "/invitations/accept", {"token": await invitation_token(auth)})
    assert r.status_code == 200, r.text
    assert r.json()["id"] == ada.claims["tid"]
    return ada, bob


# --- profile and settings -----------------------------------------------------------------------------------


async def test_profile_update_is_validated_and_published(auth: httpx.AsyncClient) -> None:
    ada = await Person(auth, "ada@example.com", "Ada").sign_up()
    for bad in (
        {"time_zone": "Mars/Olympus"},
        {"time_zone": "../../etc/passwd"},
        {"locale": "English"},
        {"week_start": "friday"},
        {"display_name": ""},
        {"email": "x@example.com"},
    ):
        r = await ada.call("PATCH", "/profile", bad)
        assert r.status_code == 422, bad
    assert await events(auth, "auth.ProfileUpdated") == []
    r = await ada.call(
        "PATCH", "/profile", {"display_name": "Ada L.", "time_zone": "Europe/Berlin", "locale": "de-DE"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["week_start"] == "monday"
    (event,) = await events(auth, "auth.ProfileUpdated")
    assert event.data["time_zone"] == "Europe/Berlin"
    assert event.data["display_name"] == "Ada L."
    me = (await ada.call("GET", "/me")).json()
    assert (me["time_zone"], me["locale"], me["display_name"]) == ("Europe/Berlin", "de-DE", "Ada L.")


async def test_household_settings_are_for_owners(auth: httpx.AsyncClient) -> None:
    ada, bob = await household_of_two(auth)
    await bob.switch(ada.claims["tid"])
    change = {"name": "Home", "base_currency": "CHF", "time_zone": "Europe/Zurich", "week_start": "sunday"}
    assert (await bob.call("PATCH", "/household", change)).status_code == 403
    assert (await ada.call("PATCH", "/household", {"base_currency": "ABC"})).status_code == 422
    assert (await ada.call("PATCH", "/household", {"time_zone": "Nowhere"})).status_code == 422
    assert await events(auth, "auth.HouseholdSettingsChanged") == []
    r = await ada.call("PATCH", "/household", change)
    assert r.status_code == 200, r.text
    (event,) = await events(auth, "auth.HouseholdSettingsChanged")
    assert event.data == change
    assert str(event.tenant_id) == ada.claims["tid"]
    assert (await bob.call("GET", "/household")).json()["base_currency"] == "CHF"


# --- households and members ---------------------------------------------------------------------------------


async def test_create_a_household_and_switch_to_it(auth: httpx.AsyncClient) -> None:
    ada = await Person(auth, "ada@example.com", "Ada").sign_up()
    home = ada.claims["tid"]
    r = await ada.call("POST", "/households", {"name": "Holiday flat", "base_currency": "GBP"})
    assert r.status_code == 201, r.text
    flat = r.json()["id"]
    created = await events(auth, "auth.TenantCreated")
    assert [str(e.tenant_id) for e in created] == [home, flat]
    assert [str(e.tenant_id) for e in await events(auth, "auth.MemberJoined")] == [home, flat]
    listed = (await ada.call("GET", "/households")).json()["items"]
    assert [(h["id"], h["role"], h["current"]) for h in listed] == [
        (home, "owner", True),
        (flat, "owner", False),
    ]
    old_refresh = ada.pair["refresh_token"]
    r = await ada.switch(flat)
    assert r.status_code == 200
    assert (ada.claims["tid"], ada.claims["role"]) == (flat, "owner")
    # The switch spent the refresh token (rotation), and the family now refreshes into the new household.
    assert (await auth.post("/refresh", json={"refresh_token": r.json()["refresh_token"]})).status_code == 200
    assert (await auth.post("/refresh", json={"refresh_token": old_refresh})).status_code == 401


async def test_a_new_household_and_membership_events_carry_their_settings(auth: httpx.AsyncClient) -> None:
    """Issue #16: TenantCreated carries the new household's settings (the given ones, else the founder's
    time zone and week start), MemberJoined the joiner's language and time zone."""
    ada = await Person(auth, "ada@example.com", "Ada").sign_up()
    profile = {"time_zone": "Europe/Berlin", "locale": "de-DE", "week_start": "sunday"}
    assert (await ada.call("PATCH", "/profile", profile)).status_code == 200
    r = await ada.call("POST", "/households", {"name": "Holiday flat", "base_currency": "GBP"})
    assert r.status_code == 201, r.text
    flat = r.json()["id"]
    (created,) = [e for e in await events(auth, "auth.TenantCreated") if str(e.tenant_id) == flat]
    settings = {"name": "Holiday flat", "base_currency": "GBP", "time_zone": "Europe/Berlin",
                "week_start": "sunday"}
    assert created.data == {"owner_user_id": ada.user_id, **settings}
    (changed,) = await events(auth, "auth.HouseholdSettingsChanged")
    assert changed.data == settings
    (joined,) = [e for e in await events(auth, "auth.MemberJoined") if str(e.tenant_id) == flat]
    assert (joined.data["locale"], joined.data["time_zone"]) == ("de-DE", "Europe/Berlin")

    bob = await Person(auth, "bob@example.com", "Bob").sign_up()
    r = await ada.call("POST", "/household/invitations", {"email": "bob@example.com", "role": "member"})
    assert r.status_code == 201, r.text
    r = await bob.call("POST", "/invitations/accept", {"token": await invitation_token(auth)})
    assert r.status_code == 200, r.text
    joined = (await events(auth, "auth.MemberJoined"))[-1]
    said = (joined.data["user_id"], joined.data["locale"], joined.data["time_zone"])
    assert said == (bob.user_id, "en", "UTC")


async def test_switching_to_a_household_one_is_not_in_is_refused(auth: httpx.AsyncClient) -> None:
    ada = await Person(auth, "ada@example.com", "Ada").sign_up()
    eve = await Person(auth, "eve@example.com", "Eve").sign_up()
    assert (await eve.switch(ada.claims["tid"])).status_code == 404
    # Nor with someone else's refresh token.
    r = await eve.call(
        "POST", "/switch", {"tenant_id": eve.claims["tid"], "refresh_token": ada.pair["refresh_token"]}
    )
    assert r.status_code == 401


async def test_invitation_roles_and_the_last_owner(auth: httpx.AsyncClient) -> None:
    ada, bob = await household_of_two(auth, role="viewer")
    home = ada.claims["tid"]
    (joined,) = [
        e
        for e in await events(auth, "auth.MemberJoined")
        if str(e.tenant_id) == home and e.data["role"] != "owner"
    ]
    assert joined.data["user_id"] == bob.user_id
    r = await bob.switch(home)
    assert (bob.claims["tid"], bob.claims["role"]) == (home, "viewer")
    members = (await bob.call("GET", "/household/members")).json()
    assert [(m["email"], m["role"]) for m in members["members"]] == [
        ("ada@example.com", "owner"),
        ("bob@example.com", "viewer"),
    ]
    assert members["invitations"] == []  # viewers do not see pending invitations
    # Only owners manage members.
    assert (
        await bob.call("PATCH", f"/household/members/{ada.user_id}", {"role": "viewer"})
    ).status_code == 403
    assert (await bob.call("POST", "/household/invitations", {"email": "c@example.com"})).status_code == 403
    # The last owner can neither step down nor leave.
    assert (
        await ada.call("PATCH", f"/household/members/{ada.user_id}", {"role": "member"})
    ).status_code == 409
    assert (await ada.call("POST", f"/households/{home}/leave")).status_code == 409
    # Promotion takes effect at the next refresh (the role is in the token).
    assert (
        await ada.call("PATCH", f"/household/members/{bob.user_id}", {"role": "member"})
    ).status_code == 204
    r = await auth.post("/refresh", json={"refresh_token": bob.pair["refresh_token"]})
    bob.pair = r.json()
    assert bob.claims["role"] == "member"
    # Transfer: Bob owns, Ada is a member; now Ada may leave.
    assert (await ada.call("POST", "/household/transfer", {"user_id": bob.user_id})).status_code == 204
    roles = {m["email"]: m["role"] for m in (await bob.call("GET", "/household/members")).json()["members"]}
    assert roles == {"ada@example.com": "member", "bob@example.com": "owner"}
    changed = [(e.data["user_id"], e.data["role"]) for e in await events(auth, "auth.MemberRoleChanged")]
    assert changed[-2:] == [(bob.user_id, "owner"), (ada.user_id, "member")]
    assert (await ada.call("PATCH", "/household", {"name": "Ada's"})).status_code == 403
    assert (await ada.call("POST", f"/households/{home}/leave")).status_code == 204
    # Ada's session was on that household: it ended. She had no other household, so she got a new one.
    assert (await auth.post("/refresh", json={"refresh_token": ada.pair["refresh_token"]})).status_code == 401
    r = await auth.post("/login", json={"email": "ada@example.com", "password": PASSWORD})
    ada.pair = r.json()
    assert ada.claims["tid"] != home
    assert ada.claims["role"] == "owner"
    left = await events(auth, "auth.MemberLeft")
    assert left[-1].data == {"user_id": ada.user_id, "removed_by": None}


async def test_removed_member_loses_the_household(auth: httpx.AsyncClient) -> None:
    ada, bob = await household_of_two(auth)
    home = ada.claims["tid"]
    await bob.switch(home)
    assert (await bob.call("DELETE", f"/household/members/{ada.user_id}")).status_code == 403
    assert (await ada.call("DELETE", f"/household/members/{bob.user_id}")).status_code == 204
    # Bob's refresh token for that household no longer works, nor can he switch back.
    assert (await auth.post("/refresh", json={"refresh_token": bob.pair["refresh_token"]})).status_code == 401
    r = await auth.post("/login", json={"email": "bob@example.com", "password": PASSWORD})
    bob.pair = r.json()
    assert bob.claims["tid"] != home
    assert (await bob.switch(home)).status_code == 404
    assert (await ada.call("DELETE", f"/household/members/{bob.user_id}")).status_code == 404
    left = await events(auth, "auth.MemberLeft")
    assert left[-1].data == {"user_id": bob.user_id, "removed_by": ada.user_id}


async def test_invitation_link_is_single_use_expiring_and_for_its_address(auth: httpx.AsyncClient) -> None:
    ada = await Person(auth, "ada@example.com", "Ada").sign_up()
    bob = await Person(auth, "bob@example.com", "Bob").sign_up()
    eve = await Person(auth, "eve@example.com", "Eve").sign_up()
    assert (
        await ada.call("POST", "/household/invitations", {"email": "bob@example.com", "role": "admin"})
    ).status_code == 422
    assert (await ada.call("POST", "/household/invitations", {"email": "ada@example.com"})).status_code == 409
    r = await ada.call("POST", "/household/invitations", {"email": "bob@example.com", "role": "viewer"})
    invited = await events(auth, "auth.MemberInvited")
    assert invited[-1].data["household_name"] == "Ada's household"
    assert invited[-1].data["role"] == "viewer"
    token = await invitation_token(auth)
    # The link is for Bob's address: Eve, holding it, cannot join.
    assert (await eve.call("POST", "/invitations/accept", {"token": token})).status_code == 403
    assert (await bob.call("POST", "/invitations/accept", {"token": "x" * 43})).status_code == 400
    assert (await bob.call("POST", "/invitations/accept", {"token": token})).status_code == 200
    again = await bob.call("POST", "/invitations/accept", {"token": token})
    assert again.status_code == 400
    assert "already used" in again.json()["detail"]
    # Expired.
    await ada.call("POST", "/household/invitations", {"email": "eve@example.com"})
    async with auth.app.state.db.transaction() as s:  # type: ignore[attr-defined]
        await s.execute(update(invitations).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    expired = await eve.call("POST", "/invitations/accept", {"token": await invitation_token(auth)})
    assert expired.status_code == 400
    assert "expired" in expired.json()["detail"]
    # Revoked (and a new invitation to the same address replaces the pending one).
    await ada.call("POST", "/household/invitations", {"email": "eve@example.com"})
    first = await invitation_token(auth)
    second = (await ada.call("POST", "/household/invitations", {"email": "eve@example.com"})).json()
    assert (await eve.call("POST", "/invitations/accept", {"token": first})).status_code == 400
    pending = (await ada.call("GET", "/household/members")).json()["invitations"]
    assert [p["id"] for p in pending] == [second["id"]]
    assert (await ada.call("DELETE", f"/household/invitations/{second['id']}")).status_code == 204
    assert (
        await eve.call("POST", "/invitations/accept", {"token": await invitation_token(auth)})
    ).status_code == 400
    assert r.status_code == 201


async def test_payloads_are_valid_contract_events(auth: httpx.AsyncClient) -> None:
    await household_of_two(auth)
    for type_name in ("auth.MemberInvited", "auth.MemberJoined", "auth.TenantCreated"):
        for envelope in await events(auth, type_name):
            registry.payload(envelope)  # raises when a payload breaks its contract


# --- your data ----------------------------------------------------------------------------------------------


async def test_export_holds_the_person_and_no_secret(auth: httpx.AsyncClient) -> None:
    ada, bob = await household_of_two(auth)
    r = await bob.call("GET", "/account/export")
    assert r.status_code == 200
    data = r.json()
    assert data["profile"]["email"] == "bob@example.com"
    assert {h["id"] for h in data["households"]} == {ada.claims["tid"], bob.claims["tid"]}
    assert data["sessions"]
    assert data["security_log"][0]["type"] == "LoginSucceeded"
    text = r.text
    for secret in ("password_hash", "argon2", "totp_secret", "token_hash", bob.pair["refresh_token"]):
        assert secret not in text
    assert ada.email not in text  # the other members' details are theirs


async def test_delete_account_needs_the_password_and_the_second_factor(auth: httpx.AsyncClient) -> None:
    ada = await Person(auth, "ada@example.com", "Ada").sign_up()
    totp = pyotp.TOTP((await ada.call("POST", "/2fa/setup")).json()["secret"])
    assert (await ada.call("POST", "/2fa/enable", {"code": totp.now()})).status_code == 200
    later = totp.at(datetime.now(UTC) + timedelta(seconds=30))
    assert (await ada.call("POST", "/account/delete", {"password": "wrong password!"})).status_code == 401
    assert (await ada.call("POST", "/account/delete", {"password": PASSWORD})).status_code == 401
    assert (
        await ada.call("POST", "/account/delete", {"password": PASSWORD, "code": "123456"})
    ).status_code == 401
    assert await events(auth, "auth.UserDeleted") == []
    r = await ada.call("POST", "/account/delete", {"password": PASSWORD, "code": later})
    assert r.status_code == 200, r.text
    assert r.json()["deleted_household_ids"] == [ada.claims["tid"]]
    (deleted,) = await events(auth, "auth.UserDeleted")
    assert deleted.data == {"user_id": ada.user_id, "deleted_household_ids": [ada.claims["tid"]]}
    async with auth.app.state.db.read() as s:  # type: ignore[attr-defined]
        for table in (users, tenants, memberships, sessions, security_log):
            assert await s.scalar(select(func.count()).select_from(table)) == 0, table.name
    # Gone: the session does not work any more and the email can sign up again.
    assert (await ada.call("GET", "/me")).status_code == 401
    assert (await auth.post("/login", json={"email": ada.email, "password": PASSWORD})).status_code == 401
    await Person(auth, "ada@example.com", "Ada again").sign_up()


async def test_the_only_owner_of_a_shared_household_transfers_before_deleting(
    auth: httpx.AsyncClient,
) -> None:
    ada, bob = await household_of_two(auth)
    home = ada.claims["tid"]
    r = await ada.call("POST", "/account/delete", {"password": PASSWORD})
    assert r.status_code == 409
    assert "transfer" in r.json()["detail"]
    # Bob (a member there, alone in his own household) may go: he leaves Ada's, his own is deleted.
    r = await bob.call("POST", "/account/delete", {"password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json() == {"deleted_household_ids": [bob.claims["tid"]], "left_household_ids": [home]}
    members = (await ada.call("GET", "/household/members")).json()["members"]
    assert [m["email"] for m in members] == ["ada@example.com"]
    assert (await events(auth, "auth.MemberLeft"))[-1].data == {"user_id": bob.user_id, "removed_by": None}
