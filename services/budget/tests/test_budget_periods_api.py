"""Budgets of other periods, changes from a chosen period on, rollover, available to budget, removal,
the overview, bad input and isolation, through HTTP on a real database."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import pytest

if TYPE_CHECKING:
    from conftest import Budget


async def _post(budget: Budget, body: dict[str, Any], **kwargs: Any) -> Any:
    return await budget.client.post("/budgets", headers=kwargs.get("headers") or budget.auth(), json=body)


async def test_weekly_fortnightly_and_pay_month_budgets(budget: Budget) -> None:
    food, rent, fun = (
        await budget.category("Food"),
        await budget.category("Rent"),
        await budget.category("Fun"),
    )
    week = await budget.set(food, 5_000, period="week", effective_from="2025-01-01")
    fortnight = await budget.set(
        rent, 90_000, period="fortnight", anchor="2025-01-03", effective_from="2025-01-01"
    )
    pay = await budget.set(fun, 20_000, start_day=25, effective_from="2024-12-01")
    assert (week["period_kind"], fortnight["anchor"], pay["start_day"]) == ("week", "2025-01-03", 25)

    await budget.spend(food, 1_000, booked_on=date(2025, 1, 13))  # Monday
    await budget.spend(food, 2_000, booked_on=date(2025, 1, 19))  # Sunday: same week
    await budget.spend(food, 4_000, booked_on=date(2025, 1, 20))  # next week
    await budget.spend(rent, 50_000, booked_on=date(2025, 1, 16))
    await budget.spend(fun, 3_000, booked_on=date(2025, 1, 24))  # the pay month from 25 December
    await budget.spend(fun, 7_000, booked_on=date(2025, 1, 25))  # the next pay month

    listed = (await budget.client.get("/budgets", params={"on": "2025-01-16"}, headers=budget.auth())).json()
    by_name = {i["category_name"]: i for i in listed["items"]}
    assert (
        by_name["Food"]["period_start"],
        by_name["Food"]["period_end"],
        by_name["Food"]["spent_minor"],
    ) == (
        "2025-01-13",
        "2025-01-19",
        3_000,
    )
    assert by_name["Food"]["previous_spent_minor"] == 0
    rent_item = by_name["Rent"]
    assert (rent_item["period_start"], rent_item["period_end"], rent_item["spent_minor"]) == (
        "2025-01-03",
        "2025-01-16",
        50_000,
    )
    assert (by_name["Fun"]["period_start"], by_name["Fun"]["spent_minor"]) == ("2024-12-25", 3_000)
    next_week = (
        await budget.client.get("/budgets", params={"on": "2025-01-20"}, headers=budget.auth())
    ).json()
    food_next = next(i for i in next_week["items"] if i["category_name"] == "Food")
    assert (food_next["spent_minor"], food_next["previous_spent_minor"], food_next["trend_percent"]) == (
        4_000,
        3_000,
        33,
    )
    # The month listing shows the pay month labelled with that month (from the 25th of it).
    january = (await budget.client.get("/budgets", params={"month": "2025-01"}, headers=budget.auth())).json()
    assert next(i for i in january["items"] if i["category_name"] == "Fun")["spent_minor"] == 7_000


async def test_a_change_from_a_chosen_period_keeps_the_past(budget: Budget) -> None:
    food = await budget.category("Food")
    body = await budget.set(food, 10_000, effective_from="2025-01-01")
    await budget.spend(food, 9_000, booked_on=date(2025, 2, 10))
    changed = await budget.client.patch(
        f"/budgets/{body['id']}",
        headers=budget.auth(),
        json={"amount_minor": 20_000, "effective_from": "2025-03-15"},
    )
    assert changed.status_code == 200, changed.text
    february = (
        await budget.client.get("/budgets", params={"month": "2025-02"}, headers=budget.auth())
    ).json()
    march = (await budget.client.get("/budgets", params={"month": "2025-03"}, headers=budget.auth())).json()
    assert [(i["amount_minor"], i["spent_minor"], i["percent"]) for i in february["items"]] == [
        (10_000, 9_000, 90)
    ]
    assert [i["amount_minor"] for i in march["items"]] == [20_000]
    detail = (
        await budget.client.get(f"/budgets/{body['id']}", params={"on": "2025-03-10"}, headers=budget.auth())
    ).json()
    assert [(v["effective_from"], v["amount_minor"]) for v in detail["versions"]] == [
        ("2025-01-01", 10_000),
        ("2025-03-01", 20_000),
    ]
    assert [(h["period_start"], h["available_minor"], h["spent_minor"]) for h in detail["history"]] == [
        ("2025-01-01", 10_000, 0),
        ("2025-02-01", 10_000, 9_000),
        ("2025-03-01", 20_000, 0),
    ]
    # Before its first period the budget does not exist.
    december = (
        await budget.client.get("/budgets", params={"month": "2024-12"}, headers=budget.auth())
    ).json()
    assert december["items"] == []


async def test_rollover_carries_leftovers_and_overspending(budget: Budget) -> None:
    food = await budget.category("Food")
    body = await budget.set(food, 10_000, rollover=True, effective_from="2025-01-01")
    await budget.spend(food, 6_000, booked_on=date(2025, 1, 5))
    await budget.spend(food, 16_000, booked_on=date(2025, 2, 5))
    february = (
        await budget.client.get("/budgets", params={"month": "2025-02"}, headers=budget.auth())
    ).json()
    [item] = february["items"]
    assert (
        item["amount_minor"],
        item["carried_minor"],
        item["available_minor"],
        item["remaining_minor"],
    ) == (
        10_000,
        4_000,
        14_000,
        -2_000,
    )
    assert item["rollover"] is True
    [march] = (
        await budget.client.get("/budgets", params={"month": "2025-03"}, headers=budget.auth())
    ).json()["items"]
    assert (march["carried_minor"], march["available_minor"]) == (-2_000, 8_000)
    # Turned off from March: April gets nothing carried.
    off = await budget.client.patch(
        f"/budgets/{body['id']}",
        headers=budget.auth(),
        json={"rollover": False, "effective_from": "2025-03-01"},
    )
    assert off.status_code == 200
    [april] = (
        await budget.client.get("/budgets", params={"month": "2025-04"}, headers=budget.auth())
    ).json()["items"]
    assert (april["carried_minor"], april["available_minor"]) == (0, 10_000)


async def test_available_to_budget(budget: Budget) -> None:
    salary = await budget.category("Salary", kind="income")
    food, rent = await budget.category("Food"), await budget.category("Rent")
    await budget.set(food, 40_000, effective_from="2025-01-01")
    await budget.set(rent, 100_000, effective_from="2025-01-01")
    await budget.set(await budget.category("Fun"), 5_000, period="week", effective_from="2025-01-01")
    await budget.spend(salary, 250_000, kind="income", booked_on=date(2025, 1, 25))
    await budget.spend(salary, 1_000, kind="income", booked_on=date(2025, 2, 1))  # February's
    response = await budget.client.get(
        "/budgets/available", params={"month": "2025-01"}, headers=budget.auth()
    )
    assert response.json() == {
        "month": "2025-01",
        "currency": "EUR",
        "basis": "this_month",
        "income_minor": 250_000,
        "income_this_month_minor": 250_000,
        "income_last_month_minor": 0,
        "budgeted_minor": 140_000,  # the monthly budgets only
        "available_minor": 110_000,
    }


async def test_available_to_budget_on_last_months_income(budget: Budget) -> None:
    """A salary on the 25th: early in February this month's income is nothing yet; a household that
    budgets with last month's pay chooses that basis."""
    salary = await budget.category("Salary", kind="income")
    await budget.set(await budget.category("Rent"), 95_000, effective_from="2025-01-01")
    await budget.spend(salary, 250_000, kind="income", booked_on=date(2025, 1, 25))
    await budget.spend(salary, 2_000, kind="income", booked_on=date(2025, 2, 3))  # a refund, say
    february = {"month": "2025-02"}

    async def available() -> tuple[str, int, int, int, int]:
        body = (await budget.client.get("/budgets/available", params=february, headers=budget.auth())).json()
        figures = ("income_minor", "income_this_month_minor", "income_last_month_minor", "available_minor")
        return (body["basis"], *(body[f] for f in figures))

    assert await available() == ("this_month", 2_000, 2_000, 250_000, -93_000)
    chosen = {"income_basis": "last_month"}
    viewer = await budget.client.put("/settings", json=chosen, headers=budget.auth(role="viewer"))
    assert viewer.status_code == 403
    bad = await budget.client.put("/settings", json={"income_basis": "expected"}, headers=budget.auth())
    assert bad.status_code == 422
    assert await available() == ("this_month", 2_000, 2_000, 250_000, -93_000)  # nothing changed
    assert (await budget.client.put("/settings", json=chosen, headers=budget.auth())).json() == chosen
    assert (await budget.client.get("/settings", headers=budget.auth())).json() == chosen
    assert await available() == ("last_month", 250_000, 2_000, 250_000, 155_000)


async def test_remove_a_budget_and_the_overview_totals(budget: Budget) -> None:
    food, rent = await budget.category("Food"), await budget.category("Rent")
    doomed = await budget.set(food, 10_000)
    await budget.set(rent, 50_000)
    await budget.spend(rent, 20_000)
    overview = (await budget.client.get("/budgets/overview", headers=budget.auth())).json()
    assert overview["totals"] == [
        {"currency": "EUR", "available_minor": 60_000, "spent_minor": 20_000, "remaining_minor": 40_000}
    ]
    assert (
        await budget.client.delete(f"/budgets/{doomed['id']}", headers=budget.auth(role="viewer"))
    ).status_code == 403
    assert (await budget.client.delete(f"/budgets/{doomed['id']}", headers=budget.auth())).status_code == 204
    assert (await budget.client.delete(f"/budgets/{doomed['id']}", headers=budget.auth())).status_code == 404
    items = (await budget.client.get("/budgets", headers=budget.auth())).json()["items"]
    assert [i["category_name"] for i in items] == ["Rent"]
    assert [e["type"] for e in await budget.published()][-1] == "budget.BudgetRemoved"


async def test_a_second_budget_with_another_period_is_a_conflict(budget: Budget) -> None:
    food = await budget.category("Food")
    await budget.set(food, 10_000)
    response = await _post(
        budget, {"category_id": str(food), "amount_minor": 2_000, "currency": "EUR", "period": "week"}
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "extra",
    [
        {"period": "weekly"},
        {"period": "week", "start_day": 5},
        {"start_day": 29},
        {"start_day": 0},
        {"period": "month", "anchor": "2025-01-01"},
        {"thresholds": []},
        {"thresholds": [80, 80]},
        {"thresholds": [0]},
        {"thresholds": [1001]},
        {"thresholds": [10, 20, 30, 40, 50, 60]},
        {"rollover": "yes"},
        {"effective_from": "2025-02-30"},
        {"group": "Food"},  # both a category and a group
    ],
)
async def test_bad_budgets_are_problems(budget: Budget, extra: dict[str, Any]) -> None:
    food = await budget.category("Food", group="Food")
    response = await _post(
        budget, {"category_id": str(food), "amount_minor": 1_000, "currency": "EUR", **extra}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert (await budget.client.get("/budgets", headers=budget.auth())).json()["items"] == []
    assert await budget.published() == []


async def test_bad_changes_and_unknown_groups(budget: Budget) -> None:
    food = await budget.category("Food")
    body = await budget.set(food, 1_000)
    for change in ({}, {"amount_minor": 0}, {"thresholds": [5, 5]}, {"nope": 1}):
        response = await budget.client.patch(f"/budgets/{body['id']}", headers=budget.auth(), json=change)
        assert response.status_code == 422, change
    assert (
        await _post(budget, {"group": "Nowhere", "amount_minor": 1_000, "currency": "EUR"})
    ).status_code == 404
    assert (
        await budget.client.patch(f"/budgets/{uuid4()}", headers=budget.auth(), json={"amount_minor": 5})
    ).status_code == 404
    assert (
        await budget.client.get("/budgets", params={"on": "2025-13-01"}, headers=budget.auth())
    ).status_code == 422


async def test_other_households_see_and_change_nothing(budget: Budget) -> None:
    food = await budget.category("Food")
    mine = await budget.set(food, 10_000)
    other = budget.auth(tenant=uuid4())
    assert (await budget.client.get(f"/budgets/{mine['id']}", headers=other)).status_code == 404
    assert (
        await budget.client.patch(f"/budgets/{mine['id']}", headers=other, json={"amount_minor": 1})
    ).status_code == 404
    assert (await budget.client.delete(f"/budgets/{mine['id']}", headers=other)).status_code == 404
    assert (await budget.client.get("/alerts", headers=other)).json()["items"] == []
    assert (await budget.client.get("/budgets/overview", headers=other)).json()["items"] == []
    viewer = budget.auth(role="viewer")
    assert (
        await budget.client.patch(f"/budgets/{mine['id']}", headers=viewer, json={"amount_minor": 1})
    ).status_code == 403
    [item] = (await budget.client.get("/budgets", headers=budget.auth())).json()["items"]
    assert item["amount_minor"] == 10_000
    today = budget.today()
    assert item["period_start"] == today.replace(day=1).isoformat()
    assert date.fromisoformat(item["period_end"]) + timedelta(days=1) == (
        today.replace(day=28) + timedelta(days=4)
    ).replace(day=1)


async def test_a_pace_warning_fires_once_when_asked_for(budget: Budget) -> None:
    food = await budget.category("Food")
    anchor = budget.today() - timedelta(days=7)  # today is day 8 of a 14-day period, whatever the date
    body = await budget.set(food, 10_000, period="fortnight", anchor=anchor.isoformat(), pace_alerts=True)
    await budget.spend(food, 5_000)  # projects 8,750: fine
    await budget.spend(food, 1_000)  # projects 10,500: over by the period's end
    await budget.spend(food, 500)  # still on that pace: no second warning
    paces = [e for e in await budget.published() if e["type"] == "budget.BudgetPaceWarning"]
    assert [(p["data"]["spent_minor"], p["data"]["projected_minor"], p["data"]["method"]) for p in paces] == [
        (6_000, 10_500, "pace")
    ]
    assert paces[0]["data"]["period_start"] == anchor.isoformat()
    listed = (await budget.client.get("/alerts", headers=budget.auth())).json()["items"]
    assert [(a["type"], a["threshold"]) for a in listed] == [("budget.BudgetPaceWarning", None)]
    [item] = (await budget.client.get("/budgets", headers=budget.auth())).json()["items"]
    assert (item["id"], item["projected_minor"]) == (body["id"], 6_500 * 14 // 8)


async def test_posting_again_keeps_what_it_does_not_say(budget: Budget) -> None:
    food = await budget.category("Food")
    first = await budget.set(food, 10_000, thresholds=[50, 90], pace_alerts=True)
    response = await budget.client.post(
        "/budgets",
        headers=budget.auth(),
        json={"category_id": str(food), "amount_minor": 12_000, "currency": "EUR"},
    )
    assert response.status_code == 201
    again = response.json()
    assert (again["id"], again["amount_minor"], again["thresholds"], again["pace_alerts"]) == (
        first["id"],
        12_000,
        [50, 90],
        True,
    )
