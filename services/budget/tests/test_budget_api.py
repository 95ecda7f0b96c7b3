"""POST/GET /budgets through HTTP on a real database."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import pytest

from tally_budget.domain import month_of

if TYPE_CHECKING:
    from conftest import Budget


async def test_set_budget_then_change_its_amount(budget: Budget) -> None:
    groceries = await budget.category("Groceries")
    first = await budget.set(groceries, 40_000)
    today = budget.today()
    start = today.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    assert first == {
        "id": first["id"],
        "category_id": str(groceries),
        "group": None,
        "category_name": "Groceries",
        "period_kind": "month",
        "start_day": 1,
        "anchor": None,
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "amount_minor": 40_000,
        "rollover": False,
        "carried_minor": 0,
        "available_minor": 40_000,
        "currency": "EUR",
        "spent_minor": 0,
        "remaining_minor": 40_000,
        "percent": 0,
        "alerts": [],
        "thresholds": [80, 100],
        "pace_alerts": False,
        "previous_spent_minor": 0,
        "previous_to_date_minor": 0,
        "compared_through": (start - timedelta(days=1))
        .replace(day=min(today.day, (start - timedelta(days=1)).day))
        .isoformat(),
        "trend_percent": None,
        "projected_minor": first["projected_minor"],
    }
    assert first["projected_minor"] in (None, 0)
    second = await budget.set(groceries, 50_000)
    assert second["id"] == first["id"]
    assert second["amount_minor"] == 50_000

    listed = (await budget.client.get("/budgets", headers=budget.auth())).json()
    assert listed == {
        "month": month_of(today),
        "on": today.isoformat(),
        "items": [second],
        "totals": [
            {"currency": "EUR", "available_minor": 50_000, "spent_minor": 0, "remaining_minor": 50_000}
        ],
    }

    events = await budget.published()
    assert [(e["type"], e["stream_id"], e["stream_version"]) for e in events] == [
        ("budget.BudgetSet", first["id"], 1),
        ("budget.BudgetSet", first["id"], 2),
    ]
    assert events[1]["data"] == {
        "category_id": str(groceries),
        "category_name": "Groceries",
        "amount_minor": 50_000,
        "currency": "EUR",
        "group": None,
        "period_kind": "month",
        "effective_from": start.isoformat(),
        "rollover": False,
    }
    assert events[1]["tenant_id"] == str(budget.tenant)
    assert events[1]["actor"] == str(budget.user)


async def test_a_budget_set_mid_month_counts_spending_already_done(budget: Budget) -> None:
    groceries = await budget.category("Groceries")
    await budget.spend(groceries, 6_000)
    await budget.spend(groceries, 3_000)
    await budget.spend(groceries, 2_500, currency="USD")  # another currency: not this budget's
    await budget.spend(groceries, 1_000, kind="income")  # a refund: negative spending
    last_month = budget.today().replace(day=1) - timedelta(days=1)
    # Its first day: within the stretch of last month the trend compares with, whatever today is.
    await budget.spend(groceries, 7_000, booked_on=last_month.replace(day=1))

    # In force from last month on (a budget only counts for periods from its first one on).
    body = await budget.set(groceries, 10_000, effective_from=last_month.isoformat())
    assert (body["spent_minor"], body["remaining_minor"], body["percent"], body["alerts"]) == (
        8_000,
        2_000,
        80,
        [80],
    )
    assert (body["previous_spent_minor"], body["trend_percent"]) == (7_000, 14)
    events = await budget.published()
    assert [(e["type"], e["stream_version"]) for e in events] == [
        ("budget.BudgetSet", 1),
        ("budget.BudgetThresholdReached", 2),
    ]
    assert events[1]["causation_id"] == events[0]["id"]
    assert events[1]["data"]["period"] == month_of(budget.today())

    previous = await budget.client.get(
        "/budgets", params={"month": month_of(last_month)}, headers=budget.auth()
    )
    assert previous.json()["month"] == month_of(last_month)
    [item] = previous.json()["items"]
    assert (item["spent_minor"], item["percent"], item["alerts"]) == (7_000, 70, [])


async def test_the_trend_compares_with_the_same_point_of_last_month(budget: Budget) -> None:
    groceries = await budget.category("Groceries")
    today = budget.today()
    this_start = today.replace(day=1)
    last_end = this_start - timedelta(days=1)
    last_start = last_end.replace(day=1)
    through = min(last_start + (today - this_start), last_end)
    await budget.spend(groceries, 4_000, booked_on=last_start)
    if through < last_end:
        await budget.spend(groceries, 30_000, booked_on=last_end)  # later in last month than today is
    await budget.spend(groceries, 5_000)
    body = await budget.set(groceries, 50_000, effective_from=last_start.isoformat())
    whole = 34_000 if through < last_end else 4_000
    assert (body["previous_spent_minor"], body["previous_to_date_minor"], body["compared_through"]) == (
        whole,
        4_000,
        through.isoformat(),
    )
    assert body["trend_percent"] == 25  # 5,000 against 4,000 by the same day, not against 34,000
    # A month that is over compares with the whole month before.
    listed = await budget.client.get(
        "/budgets", params={"month": month_of(last_start)}, headers=budget.auth()
    )
    [item] = listed.json()["items"]
    assert item["compared_through"] == (last_start - timedelta(days=1)).isoformat()


async def test_several_budgets_are_listed_by_category_name(budget: Budget) -> None:
    rent, fuel = await budget.category("Rent"), await budget.category("Fuel")
    await budget.set(rent, 100_000)
    await budget.set(fuel, 9_000, currency="CHF")
    items = (await budget.client.get("/budgets", headers=budget.auth())).json()["items"]
    assert [(i["category_name"], i["currency"]) for i in items] == [("Fuel", "CHF"), ("Rent", "EUR")]


async def _nothing_written(budget: Budget) -> None:
    assert (await budget.client.get("/budgets", headers=budget.auth())).json()["items"] == []
    assert await budget.published() == []


@pytest.mark.parametrize(
    "body",
    [
        {"amount_minor": 0, "currency": "EUR"},
        {"amount_minor": -100, "currency": "EUR"},
        {"amount_minor": 10.5, "currency": "EUR"},
        {"amount_minor": "1000", "currency": "EUR"},
        {"amount_minor": 10**16, "currency": "EUR"},
        {"amount_minor": 1_000, "currency": "EURO"},
        {"amount_minor": 1_000, "currency": "eur"},
        {"amount_minor": 1_000},
        {"amount_minor": 1_000, "currency": "EUR", "period": "weekly"},
    ],
)
async def test_bad_input_is_a_problem_and_writes_nothing(budget: Budget, body: dict[str, Any]) -> None:
    groceries = await budget.category("Groceries")
    response = await budget.client.post(
        "/budgets", headers=budget.auth(), json={"category_id": str(groceries), **body}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 422
    await _nothing_written(budget)


async def test_malformed_json_and_bad_ids_are_problems(budget: Budget) -> None:
    response = await budget.client.post(
        "/budgets", headers={**budget.auth(), "content-type": "application/json"}, content=b"{nope"
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    response = await budget.client.post(
        "/budgets", headers=budget.auth(), json={"category_id": "42", "amount_minor": 1, "currency": "EUR"}
    )
    assert response.status_code == 422
    await _nothing_written(budget)


@pytest.mark.parametrize("month", ["2025-13", "2025-1", "25-01", "2025-00", "2025-01-01", "next"])
async def test_a_bad_month_is_a_problem(budget: Budget, month: str) -> None:
    response = await budget.client.get("/budgets", params={"month": month}, headers=budget.auth())
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


async def test_unknown_and_income_categories_cannot_be_budgeted(budget: Budget) -> None:
    salary = await budget.category("Salary", kind="income")
    unknown = await budget.client.post(
        "/budgets",
        headers=budget.auth(),
        json={"category_id": str(uuid4()), "amount_minor": 1_000, "currency": "EUR"},
    )
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    income = await budget.client.post(
        "/budgets",
        headers=budget.auth(),
        json={"category_id": str(salary), "amount_minor": 1_000, "currency": "EUR"},
    )
    assert income.status_code == 422
    await _nothing_written(budget)


async def test_needs_a_token_and_a_role_that_may_write(budget: Budget) -> None:
    groceries = await budget.category("Groceries")
    body = {"category_id": str(groceries), "amount_minor": 1_000, "currency": "EUR"}
    assert (await budget.client.get("/budgets")).status_code == 401
    assert (await budget.client.post("/budgets", json=body)).status_code == 401
    viewer = await budget.client.post("/budgets", json=body, headers=budget.auth(role="viewer"))
    assert viewer.status_code == 403
    assert viewer.headers["content-type"] == "application/problem+json"
    assert (await budget.client.get("/budgets", headers=budget.auth(role="viewer"))).status_code == 200
    await _nothing_written(budget)


async def test_tenants_are_isolated(budget: Budget) -> None:
    groceries = await budget.category("Groceries")
    mine = await budget.set(groceries, 20_000)
    await budget.spend(groceries, 5_000)

    other = uuid4()
    theirs = await budget.client.get("/budgets", headers=budget.auth(tenant=other))
    assert theirs.json()["items"] == []
    steal = await budget.client.post(
        "/budgets",
        headers=budget.auth(tenant=other),
        json={"category_id": str(groceries), "amount_minor": 1, "currency": "EUR"},
    )
    assert steal.status_code == 404

    # The other tenant's own spending in a category with the same id changes nothing here.
    await budget.spend(groceries, 19_000, tenant=other)
    [item] = (await budget.client.get("/budgets", headers=budget.auth())).json()["items"]
    assert (item["id"], item["amount_minor"], item["spent_minor"], item["alerts"]) == (
        mine["id"],
        20_000,
        5_000,
        [],
    )
    assert len(await budget.published()) == 1
