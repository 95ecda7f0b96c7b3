"""A budget through the gateway, as a user would drive it: spend across 80 % and 100 %, a refund back
under both, spend over again → the right alerts, in order, each exactly once (and the notifier's feed
agrees)."""

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tallystack.polling import eventually, settled
from tallystack.stack import Stack

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"
# One day on the services' clock (UTC unless the household says otherwise): spending is booked on it, the
# budget holds from its month, every read names that month (a run passing midnight at a month's end too).
TODAY = datetime.now(UTC).date()
MONTH = TODAY.strftime("%Y-%m")


def _sign_up(client: httpx.Client, email: str) -> dict[str, str]:
    r = client.post("/api/auth/register", json={"email": email, "password": PASSWORD, "display_name": "Bea"})
    assert r.status_code == 201, r.text
    r = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_thresholds_refund_and_again(stack: Stack) -> None:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        bea = _sign_up(client, "bea.budget@example.com")
        tenant = client.get("/api/auth/me", headers=bea).json()["tenant_id"]

        def groceries() -> str | None:
            items = client.get("/api/ledger/categories", headers=bea).json().get("items", [])
            return next((c["id"] for c in items if c["name"] == "Groceries"), None)

        category = eventually(groceries, "default categories")
        r = client.post(
            "/api/ledger/accounts",
            headers=bea,
            json={"name": "Checking", "kind": "checking", "currency": "EUR", "opening_balance_minor": 0},
        )
        assert r.status_code == 201, r.text
        account = r.json()["id"]

        def set_budget() -> dict[str, Any] | None:
            response = client.post(
                "/api/budget/budgets",
                headers=bea,
                # No pace warning: what fires must not depend on the day of the month the test runs.
                json={
                    "category_id": category,
                    "amount_minor": 10_000,
                    "currency": "EUR",
                    "pace_alerts": False,
                    "effective_from": TODAY.isoformat(),
                },
            )
            return response.json() if response.status_code == 201 else None

        budget = eventually(set_budget, "the budget service to know Groceries")

        def spend(minor: int) -> dict[str, Any]:
            response = client.post(
                "/api/ledger/transactions",
                headers=bea,
                json={
                    "account_id": account,
                    "kind": "expense",
                    "amount_minor": minor,
                    "category_id": category,
                    "booked_on": TODAY.isoformat(),
                },
            )
            assert response.status_code == 201, response.text
            body: dict[str, Any] = response.json()
            return body

        def spent() -> int:
            items = client.get("/api/budget/budgets", headers=bea, params={"month": MONTH}).json()["items"]
            return int(items[0]["spent_minor"])

        def alerts() -> list[tuple[str, int, int]]:
            items = client.get("/api/budget/alerts", headers=bea, params={"budget_id": budget["id"]}).json()[
                "items"
            ]
            return [(a["type"].removeprefix("budget."), a["threshold"], a["spent_minor"]) for a in items]

        first = spend(8_500)  # 85 %
        eventually(lambda: alerts() == [("BudgetThresholdReached", 80, 8_500)], "the 80 % alert")
        spend(2_000)  # 105 %
        eventually(lambda: len(alerts()) == 2, "the 100 % alert")

        # A refund: the first purchase was cheaper than booked. 55 %: both thresholds re-arm.
        r = client.patch(
            f"/api/ledger/transactions/{first['id']}",
            headers=bea,
            json={"expected_version": first["version"], "amount_minor": 3_500},
        )
        assert r.status_code == 200, r.text
        eventually(lambda: spent() == 5_500, "the refund counted")
        assert len(alerts()) == 2

        spend(5_000)  # 105 % again: both cross again, 80 first
        eventually(lambda: len(alerts()) == 4, "the alerts of the second crossing")
        settled(stack, [tenant])  # every event handled: a duplicate alert would be here now
        assert alerts() == [
            ("BudgetThresholdReached", 80, 8_500),
            ("BudgetExceeded", 100, 10_500),
            ("BudgetThresholdReached", 80, 10_500),
            ("BudgetExceeded", 100, 10_500),
        ]
        [item] = client.get("/api/budget/budgets", headers=bea, params={"month": MONTH}).json()["items"]
        assert (item["spent_minor"], item["remaining_minor"], item["percent"], item["alerts"]) == (
            10_500,
            -500,
            105,
            [80, 100],
        )

        def feed() -> list[str]:
            items = client.get("/api/notifier/notifications", headers=bea).json()["items"]
            return [n["title"] for n in items if "Groceries" in n["title"]]

        eventually(lambda: len(feed()) >= 4, "four alerts in the notifier's feed")
        settled(stack, [tenant])  # the notifier has read every alert: a fifth would be in the feed now
        titles = feed()
        assert sorted(titles) == sorted(["Groceries budget: 80% used", "Groceries budget exceeded"] * 2), (
            titles
        )
