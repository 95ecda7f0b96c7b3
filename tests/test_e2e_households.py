"""Households through the gateway on the whole stack: invite, accept, switch, roles enforced by every
service (not only the gateway), removal ends the member's sessions there. docs/security.md links here."""

import asyncio
import concurrent.futures

import asyncpg
import httpx
import pytest

from tallystack import postgres
from tallystack.people import Person, invitation_token, join
from tallystack.polling import eventually, settled
from tallystack.stack import Stack

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"


def test_roles_are_enforced_by_every_service(stack: Stack) -> None:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        olga = Person(client, "olga@example.com", "Olga")
        vera = Person(client, "vera@example.com", "Vera")
        max_ = Person(client, "max@example.com", "Max")
        account = olga.call(
            "POST", "/ledger/accounts", {"name": "Joint", "kind": "checking", "currency": "EUR"}
        )
        assert account.status_code == 201, account.text
        join(stack, olga, vera, "viewer")
        join(stack, olga, max_, "member")

        # The viewer reads the household's books…
        names = [a["name"] for a in vera.call("GET", "/ledger/accounts").json()["items"]]
        assert names == ["Joint"]
        # …and every service refuses her writes (the services check the role, not only the gateway).
        writes = [
            ("POST", "/ledger/accounts", {"name": "Mine", "kind": "cash", "currency": "EUR"}),
            (
                "POST",
                "/ledger/transactions",
                {"account_id": account.json()["id"], "kind": "expense", "amount_minor": 100},
            ),
            (
                "POST",
                "/budget/budgets",
                {"category_id": account.json()["id"], "amount_minor": 100, "currency": "EUR"},
            ),
            ("PATCH", "/auth/household", {"name": "Vera's now"}),
            ("POST", "/auth/household/invitations", {"email": "friend@example.com"}),
        ]
        for method, path, body in writes:
            r = vera.call(method, path, body)
            assert r.status_code == 403, (path, r.status_code, r.text)
        # The member writes.
        r = max_.call("POST", "/ledger/accounts", {"name": "Max's wallet", "kind": "cash", "currency": "EUR"})
        assert r.status_code == 201, r.text

        # Promoting the viewer takes effect at her next refresh.
        assert (
            olga.call("PATCH", f"/auth/household/members/{vera.user_id}", {"role": "member"}).status_code
            == 204
        )
        r = client.post("/api/auth/refresh", json={"refresh_token": vera.pair["refresh_token"]})
        vera.pair = r.json()
        assert vera.claims["role"] == "member"
        r = vera.call(
            "POST", "/ledger/accounts", {"name": "Vera's card", "kind": "credit_card", "currency": "EUR"}
        )
        assert r.status_code == 201, r.text

        # Removing Max ends his sessions in the household: his refresh token stops working there.
        assert olga.call("DELETE", f"/auth/household/members/{max_.user_id}").status_code == 204
        assert (
            client.post("/api/auth/refresh", json={"refresh_token": max_.pair["refresh_token"]}).status_code
            == 401
        )
        r = client.post("/api/auth/login", json={"email": max_.email, "password": PASSWORD})
        max_.pair = r.json()
        assert max_.claims["tid"] == max_.home
        assert max_.switch(olga.home).status_code == 404
        members = olga.call("GET", "/auth/household/members").json()["members"]
        assert [(m["email"], m["role"]) for m in members] == [
            ("olga@example.com", "owner"),
            ("vera@example.com", "member"),
        ]


def test_invitation_used_twice_or_by_another_account_is_refused(stack: Stack) -> None:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        owner = Person(client, "inviter@example.com", "Ines")
        guest = Person(client, "guest@example.com", "Gus")
        other = Person(client, "other@example.com", "Otto")
        assert owner.call("POST", "/auth/household/invitations", {"email": guest.email}).status_code == 201
        token = invitation_token(stack, guest.email)
        assert other.call("POST", "/auth/invitations/accept", {"token": token}).status_code == 403
        assert guest.call("POST", "/auth/invitations/accept", {"token": token}).status_code == 200
        assert guest.call("POST", "/auth/invitations/accept", {"token": token}).status_code == 400
        # Without a token the gateway does not even pass the request on.
        assert client.post("/api/auth/invitations/accept", json={"token": token}).status_code == 401
        households = guest.call("GET", "/auth/households").json()["items"]
        assert {h["id"] for h in households} == {guest.home, owner.home}


def leftovers(stack: Stack, tenant_id: str, user_id: str) -> dict[str, int]:
    """Rows any service still holds for the household or the person: every table with a `tenant_id` or
    `user_id` column in every service's database, the kit's inbox, outbox and applied_positions excepted
    (the record of events handled and sent: ids and positions, nothing a person wrote; a consumer records
    the erasing event's own position after erasing), and the notifier's `forgotten_households` (the bare
    id of a deleted household, kept so its late alerts are dropped rather than parked)."""

    async def count() -> dict[str, int]:
        found: dict[str, int] = {}
        for service in ("auth", "ledger", "budget", "analytics", "notifier"):
            url = postgres.asyncpg_dsn(postgres.database_url(stack.admin_url, f"tally_{service}"))
            connection = await asyncpg.connect(url)
            try:
                columns = await connection.fetch(
                    "SELECT table_name, column_name FROM information_schema.columns"
                    " WHERE table_schema = 'public' AND column_name IN ('tenant_id', 'user_id')"
                    " AND table_name NOT IN ('inbox', 'outbox', 'applied_positions', 'forgotten_households')"
                    " AND table_name IN (SELECT table_name FROM information_schema.tables"
                    " WHERE table_schema = 'public' AND table_type = 'BASE TABLE')"
                )
                for table, column in columns:
                    value = tenant_id if column == "tenant_id" else user_id
                    rows = await connection.fetchval(
                        f'SELECT count(*) FROM "{table}" WHERE "{column}" = $1::uuid', value
                    )
                    if rows:
                        found[f"{service}.{table}.{column}"] = rows
            finally:
                await connection.close()
        return found

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, count()).result()


def test_a_deleted_account_is_forgotten_by_every_service(stack: Stack) -> None:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        zoe = Person(client, "zoe@example.com", "Zoe")
        account = zoe.call(
            "POST", "/ledger/accounts", {"name": "Zoe's", "kind": "checking", "currency": "EUR"}
        )
        assert account.status_code == 201, account.text

        def category() -> str | None:
            items = zoe.call("GET", "/ledger/categories").json().get("items", [])
            return next((c["id"] for c in items if c["name"] == "Groceries"), None)

        groceries = eventually(category, "default categories")

        def budget() -> bool:
            body = {"category_id": groceries, "amount_minor": 100_00, "currency": "EUR"}
            return zoe.call("POST", "/budget/budgets", body).status_code == 201

        eventually(budget, "a budget")
        spent = {
            "account_id": account.json()["id"],
            "kind": "expense",
            "amount_minor": 95_00,
            "category_id": groceries,
        }
        assert zoe.call("POST", "/ledger/transactions", spent).status_code == 201

        def held_by() -> set[str]:
            return {where.split(".", 1)[0] for where in leftovers(stack, zoe.home, zoe.user_id)}

        # Nothing of Zoe's in flight when she goes (the 95 % alert has reached the notifier), so the deletion
        # meets the same state on every run; events arriving after a deletion are dropped by each service's
        # own guard, tested with the services.
        settled(stack, [zoe.home])
        assert held_by() == {"auth", "ledger", "budget", "analytics", "notifier"}

        r = zoe.call("POST", "/auth/account/delete", {"password": PASSWORD})
        assert r.status_code == 200, r.text
        assert r.json()["deleted_household_ids"] == [zoe.home]

        def forgotten() -> bool | None:
            return True if leftovers(stack, zoe.home, zoe.user_id) == {} else None

        eventually(
            forgotten,
            lambda: f"every service to forget Zoe; still held: {leftovers(stack, zoe.home, zoe.user_id)}",
            90,
        )
        settled(stack, [zoe.home])  # and nothing still on its way brings any of it back
        assert leftovers(stack, zoe.home, zoe.user_id) == {}
