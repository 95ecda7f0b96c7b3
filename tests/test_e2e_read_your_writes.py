"""Read your own writes across services, through the gateway, as a new user meets it: sign up, and at once
(no polling, no waiting in the test) set a budget for a default category the ledger made in reaction to
the sign-up, spend, and see the spending in the budget and in the reports on the very next call. Each
call carries the last Tally-Position token (tallystack.people.Person, as the web client does)."""

from datetime import UTC, datetime

import httpx
import pytest

from tallykit.positions import Position
from tallystack.people import Person
from tallystack.stack import Stack

pytestmark = pytest.mark.e2e
TODAY = datetime.now(UTC).date()


def test_sign_up_then_at_once_a_budget_for_a_default_category_and_spending_seen_everywhere(
    stack: Stack,
) -> None:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        ada = Person(client, "ada.ryw@example.com", "Ada", base_currency="EUR")
        assert ada.position is not None
        assert str(ada.position.tenant_id) == ada.home
        assert ada.position.services["auth"] > 0  # sign-up answered auth's position

        # The ledger makes the default categories when auth's TenantCreated reaches it: the token makes
        # this read wait for that, so they are there on the first call.
        r = ada.call("GET", "/ledger/categories")
        assert r.status_code == 200, r.text
        groceries = next(c["id"] for c in r.json()["items"] if c["name"] == "Groceries")
        assert ada.position.services["ledger"] > 0  # the read answered what it showed

        # The budget service learns categories from the ledger and the currency from auth: the token
        # names both. No currency given: the household's (EUR, set at sign-up) is taken.
        r = ada.call("POST", "/budget/budgets", {
            "category_id": groceries, "amount_minor": 20_000, "effective_from": TODAY.isoformat(),
            "pace_alerts": False,
        })
        assert r.status_code == 201, r.text
        assert r.json()["currency"] == "EUR"

        r = ada.call("POST", "/ledger/accounts", {
            "name": "Checking", "kind": "checking", "currency": "EUR", "opening_balance_minor": 0,
        })
        assert r.status_code == 201, r.text
        r = ada.call("POST", "/ledger/transactions", {
            "account_id": r.json()["id"], "kind": "expense", "amount_minor": 4_250,
            "category_id": groceries, "booked_on": TODAY.isoformat(),
        })
        assert r.status_code == 201, r.text

        # The very next reads, at two other services, show the expense.
        r = ada.call("GET", f"/budget/budgets?month={TODAY:%Y-%m}")
        assert r.status_code == 200, r.text
        assert [b["spent_minor"] for b in r.json()["items"]] == [4_250]
        r = ada.call("GET", f"/analytics/reports/summary?period={TODAY:%Y-%m}")
        assert r.status_code == 200, r.text
        assert r.json()["totals"]["expense_minor"] == 4_250


def test_a_token_is_validated_and_a_service_that_cannot_catch_up_says_so(stack: Stack) -> None:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        bo = Person(client, "bo.ryw@example.com", "Bo")
        assert bo.position is not None
        bad = client.get("/api/budget/budgets", headers={**bo.auth, "Tally-Position": "ledger=1"})
        assert bad.status_code == 400, bad.text
        assert bad.json()["type"].endswith("/bad-position")

        # A position the ledger has not written (yet): the budget service waits its bound, then answers
        # 503 with Retry-After, having changed nothing.
        ahead = Position(bo.position.tenant_id, {"ledger": 2**62})
        r = client.post("/api/budget/goals", headers={**bo.auth, "Tally-Position": str(ahead)},
                        json={"name": "Bike", "target_minor": 50_000, "currency": "EUR"})
        assert r.status_code == 503, r.text
        assert r.headers["Retry-After"] == "1"
        assert r.json()["type"].endswith("/not-caught-up")
        assert bo.call("GET", "/budget/goals").json()["items"] == []
