"""Budgets of a history imported from another app, handed to the budget consumer as the ledger publishes
them (ledger.BudgetsImported, ledger.ImportedBudgetsRemoved): the Actual fixture's budgets (made by
Actual's own code, services/ledger/tests/histories) come out with Actual's amounts per category and month
and, where Actual carries the same way, its balances; twice sets nothing twice; what the person set by
hand stays; undo takes out what the import set and only that; another household is never touched."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4, uuid5

from tallykit.contracts import registry
from tallykit.contracts.ledger import (
    BudgetMonth,
    BudgetsImported,
    ImportedBudgetsRemoved,
    TransactionKind,
    TransactionRecorded,
)
from tallykit.events import Envelope

if TYPE_CHECKING:
    from conftest import Budget

FIGURES: dict[str, Any] = json.loads(
    (Path(__file__).parents[2] / "ledger/tests/histories/actual_household.json").read_text()
)
MONTHS = FIGURES["months"]
LAST = MONTHS[-1]


def _day(month: str, day: int = 1) -> date:
    return date(int(month[:4]), int(month[5:]), day)


def _imported(
    budget: Budget, migration: UUID, category: UUID, amounts: dict[str, int], tenant: UUID | None = None
) -> Envelope:
    """What the ledger writes for one category: its months from the first budgeted above nothing to the
    last month the history budgets (the fixture's envelope budget: every month carries over)."""
    first = min(m for m, amount in amounts.items() if amount)
    months = tuple(
        BudgetMonth(month=_day(m), amount_minor=amount, rollover=True)
        for m, amount in sorted(amounts.items())
        if first <= m <= LAST
    )
    payload = BudgetsImported(
        migration_id=migration,
        category_id=category,
        currency="EUR",
        source="Actual Budget export",
        months=months,
    )
    return _envelope(budget, payload, category, 1, migration, tenant)


def _removed(
    budget: Budget,
    migration: UUID,
    category: UUID,
    months: list[str],
    version: int,
    tenant: UUID | None = None,
) -> Envelope:
    payload = ImportedBudgetsRemoved(
        migration_id=migration, category_id=category, months=tuple(_day(m) for m in months)
    )
    return _envelope(budget, payload, category, version, uuid4(), tenant)


def _envelope(
    budget: Budget, payload: Any, category: UUID, version: int, correlation: UUID, tenant: UUID | None
) -> Envelope:
    household = tenant or budget.tenant
    return registry.envelope(
        payload,
        tenant_id=household,
        stream_id=uuid5(household, f"history:budgets:{category}"),  # the ledger's stream of it
        stream_version=version,
        actor=str(budget.user),
        correlation_id=correlation,
    )


async def _spend_as_in_actual(budget: Budget, categories: dict[str, UUID]) -> None:
    """Each category's total of each month, as Actual's transactions have it."""
    for name, category in categories.items():
        for month, total in FIGURES["category_month_minor"].get(name, {}).items():
            kind = TransactionKind.expense if total < 0 else TransactionKind.income
            payload = TransactionRecorded(
                account_id=uuid4(),
                kind=kind,
                amount_minor=abs(total),
                currency="EUR",
                category_id=category,
                booked_on=_day(month, 15),
            )
            assert await budget.deliver(budget.event(payload))


async def _month(budget: Budget, month: str, tenant: UUID | None = None) -> dict[str, dict[str, Any]]:
    response = await budget.client.get("/budgets", params={"month": month}, headers=budget.auth(tenant))
    assert response.status_code == 200, response.text
    return {i["category_name"]: i for i in response.json()["items"]}


def _budget_sets(published: list[dict[str, Any]]) -> list[tuple[str, str | None, int, bool]]:
    return [
        (
            e["data"]["category_name"],
            e["data"]["effective_from"],
            e["data"]["amount_minor"],
            e["data"]["rollover"],
        )
        for e in published
        if e["type"] == "budget.BudgetSet"
    ]


async def _actual_household(budget: Budget) -> UUID:
    categories = {name: await budget.category(name) for name in FIGURES["budgeted_minor"]}
    await _spend_as_in_actual(budget, categories)
    migration = uuid4()
    for name, amounts in FIGURES["budgeted_minor"].items():
        assert await budget.deliver(_imported(budget, migration, categories[name], amounts))
    return migration


async def test_the_actual_fixture_s_budgets_arrive_with_actual_s_amounts(budget: Budget) -> None:
    migration = await _actual_household(budget)
    for month in MONTHS:
        items = await _month(budget, month)
        for name, amounts in FIGURES["budgeted_minor"].items():
            if name not in items:  # not budgeted yet that month: nothing in Actual either
                assert all(amounts[m] == 0 for m in MONTHS if m <= month), (name, month)
                continue
            assert items[name]["amount_minor"] == amounts[month], (name, month)
            assert items[name]["rollover"] is True
            actual = FIGURES["category_balance_minor"][name][month]
            if name == "Restaurants" and month > "2025-02":
                # February was overspent by 12.00 without Actual's carryover flag: Actual takes it from
                # March's "To budget", Tally's rollover carries it in the category (docs/importing.md).
                assert items[name]["remaining_minor"] == actual - 1200, month
            else:
                assert items[name]["remaining_minor"] == actual, (name, month)
    assert set(await _month(budget, LAST)) == set(FIGURES["budgeted_minor"])

    # One BudgetSet per version, in order, carrying the migration's id; a month budgeted nothing is 0.
    published = await budget.published()
    assert _budget_sets(published) == [
        ("Entertainment", "2025-04-01", 3000, True),
        ("Groceries", "2025-01-01", 25000, True),
        ("Groceries", "2025-03-01", 27000, True),
        ("Rent", "2025-01-01", 95000, True),
        ("Restaurants", "2025-01-01", 5000, True),
        ("Restaurants", "2025-02-01", 0, True),
        ("Restaurants", "2025-03-01", 8000, True),
        ("Restaurants", "2025-04-01", 0, True),
        ("Travel", "2025-01-01", 5000, True),
    ]
    assert {e["correlation_id"] for e in published if e["type"] == "budget.BudgetSet"} == {str(migration)}
    # From the last month on the last amounts hold, as any budget's: Restaurants at nothing.
    today = await _month(budget, budget.today().strftime("%Y-%m"))
    assert {name: i["amount_minor"] for name, i in today.items()} == {
        "Entertainment": 3000,
        "Groceries": 27000,
        "Rent": 95000,
        "Restaurants": 0,
        "Travel": 5000,
    }
    detail = (await budget.client.get(f"/budgets/{today['Restaurants']['id']}", headers=budget.auth())).json()
    assert [(v["effective_from"], v["amount_minor"]) for v in detail["versions"]] == [
        ("2025-01-01", 5000),
        ("2025-02-01", 0),
        ("2025-03-01", 8000),
        ("2025-04-01", 0),
    ]


async def test_the_same_months_twice_set_nothing_twice(budget: Budget) -> None:
    food = await budget.category("Food")
    amounts = {"2025-01": 300, "2025-02": 300, "2025-03": 350, "2025-04": 350}
    first = _imported(budget, uuid4(), food, amounts)
    assert await budget.deliver(first)
    before = await budget.published()
    assert await budget.deliver(first) is False  # redelivered: the inbox knows it
    # Another import of the same months (the ledger sends only new ones, but if it did): the months
    # stay the first import's, nothing changes.
    again = _imported(budget, uuid4(), food, amounts)
    assert await budget.deliver(again)
    assert await budget.published() == before
    [item] = (await _month(budget, "2025-03")).values()
    detail = (await budget.client.get(f"/budgets/{item['id']}", headers=budget.auth())).json()
    assert [(v["effective_from"], v["amount_minor"]) for v in detail["versions"]] == [
        ("2025-01-01", 300),
        ("2025-03-01", 350),
    ]


async def test_a_budget_set_by_hand_is_not_overwritten(budget: Budget) -> None:
    food, fun = await budget.category("Food"), await budget.category("Fun")
    await budget.set(food, 40_000, effective_from="2025-03-01")
    weekly = await budget.client.post(
        "/budgets",
        headers=budget.auth(),
        json={"category_id": str(fun), "amount_minor": 2_000, "currency": "EUR", "period": "week"},
    )
    assert weekly.status_code == 201, weekly.text
    before = await budget.published()
    migration = uuid4()
    amounts = {"2025-01": 300, "2025-02": 300, "2025-03": 350, "2025-04": 0}
    assert await budget.deliver(_imported(budget, migration, food, amounts))
    assert await budget.deliver(_imported(budget, migration, fun, amounts))
    # The months before the person's own version come in; from it on, theirs holds. Their amount stays
    # the budget's latest, so nothing is announced; the weekly budget is left alone.
    assert {m: (await _month(budget, m))["Food"]["amount_minor"] for m in MONTHS} == {
        "2025-01": 300,
        "2025-02": 300,
        "2025-03": 40_000,
        "2025-04": 40_000,
    }
    assert await budget.published() == before
    detail = (await budget.client.get(f"/budgets/{weekly.json()['id']}", headers=budget.auth())).json()
    assert [v["amount_minor"] for v in detail["versions"]] == [2_000]

    # Undone: the imported January goes, the person's version stays, the budget too.
    assert await budget.deliver(
        _removed(budget, migration, food, ["2025-01", "2025-02", "2025-03", "2025-04"], 2)
    )
    assert "Food" not in await _month(budget, "2025-01")
    assert (await _month(budget, "2025-03"))["Food"]["amount_minor"] == 40_000
    assert not [e for e in await budget.published() if e["type"] == "budget.BudgetRemoved"]


async def test_undo_takes_out_what_the_import_set_and_only_that(budget: Budget) -> None:
    food, home = await budget.category("Food"), await budget.category("Home")
    migration = uuid4()
    months = ["2025-01", "2025-02", "2025-03"]
    assert await budget.deliver(
        _imported(budget, migration, food, dict(zip(months, (300, 300, 350), strict=True)))
    )
    assert await budget.deliver(
        _imported(budget, migration, home, dict(zip(months, (900, 900, 900), strict=True)))
    )
    item = (await _month(budget, "2025-02"))["Food"]
    # The person changes February by hand (it becomes theirs) and sets an amount from this month on.
    changed = await budget.client.patch(
        f"/budgets/{item['id']}",
        headers=budget.auth(),
        json={"amount_minor": 320, "effective_from": "2025-02-01"},
    )
    assert changed.status_code == 200, changed.text
    now = await budget.client.patch(
        f"/budgets/{item['id']}", headers=budget.auth(), json={"amount_minor": 500}
    )
    assert now.status_code == 200, now.text

    assert await budget.deliver(_removed(budget, migration, food, months, 2))
    assert await budget.deliver(_removed(budget, migration, home, months, 2))
    detail = (await budget.client.get(f"/budgets/{item['id']}", headers=budget.auth())).json()
    this_month = budget.today().replace(day=1).isoformat()
    assert [(v["effective_from"], v["amount_minor"]) for v in detail["versions"]] == [
        ("2025-02-01", 320),
        (this_month, 500),
    ]
    # Home had only what the import set: removed, and said so.
    assert "Home" not in await _month(budget, budget.today().strftime("%Y-%m"))
    removed = [e for e in await budget.published() if e["type"] == "budget.BudgetRemoved"]
    assert [e["data"]["category_name"] for e in removed] == ["Home"]

    # A budget removed by hand does not come back when another import of its months is undone.
    other = uuid4()
    assert await budget.deliver(_imported(budget, other, home, {"2025-01": 700}))
    again = (await _month(budget, "2025-01"))["Home"]
    assert (await budget.client.delete(f"/budgets/{again['id']}", headers=budget.auth())).status_code == 204
    assert await budget.deliver(_removed(budget, other, home, ["2025-01"], 4))
    assert "Home" not in await _month(budget, "2025-01")


async def test_another_household_s_events_never_touch_this_one_s_budgets(budget: Budget) -> None:
    food = await budget.category("Food")
    migration = uuid4()
    assert await budget.deliver(_imported(budget, migration, food, {"2025-01": 300}))
    before = await budget.published()
    stranger = uuid4()
    # The same ids in another household's events: its category is unknown there, and the undo there
    # finds nothing of its own to take out.
    assert await budget.deliver(_imported(budget, migration, food, {"2025-01": 999}, tenant=stranger))
    assert await budget.deliver(_removed(budget, migration, food, ["2025-01"], 2, tenant=stranger))
    assert (await _month(budget, "2025-01"))["Food"]["amount_minor"] == 300
    assert await budget.published() == before
    assert await _month(budget, "2025-01", tenant=stranger) == {}
