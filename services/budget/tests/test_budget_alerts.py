"""Threshold alerts from ledger events handed to the budget consumer: once per budget, month and threshold."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from aiokafka import ConsumerRecord

from tally_budget.domain import month_of

if TYPE_CHECKING:
    from conftest import Budget


def _alerts(events: list[dict[str, Any]]) -> list[tuple[str, int, int, str]]:
    return [
        (
            e["type"].removeprefix("budget."),
            e["data"]["threshold_percent"],
            e["data"]["spent_minor"],
            e["data"]["period"],
        )
        for e in events
        if e["type"] != "budget.BudgetSet"
    ]


async def test_crossing_80_then_100_alerts_once_each_despite_redelivery(budget: Budget) -> None:
    groceries = await budget.category("Groceries")
    body = await budget.set(groceries, 10_000)
    month = month_of(budget.today())

    await budget.spend(groceries, 5_000)
    crossing_80 = await budget.spend(groceries, 3_000)  # exactly 80 %
    assert await budget.deliver(crossing_80) is False  # redelivered: no second effect
    await budget.spend(groceries, 1_000)  # 90 %: already alerted
    crossing_100 = await budget.spend(groceries, 1_000)  # exactly 100 %
    assert await budget.deliver(crossing_100) is False
    assert await budget.deliver(crossing_80) is False
    await budget.spend(groceries, 500)  # more spending after: nothing new

    events = await budget.published()
    assert _alerts(events) == [
        ("BudgetThresholdReached", 80, 8_000, month),
        ("BudgetExceeded", 100, 10_000, month),
    ]
    assert [(e["stream_id"], e["stream_version"]) for e in events] == [(body["id"], v) for v in (1, 2, 3)]
    reached, exceeded = events[1], events[2]
    assert reached["causation_id"] == str(crossing_80.id)
    assert reached["correlation_id"] == str(crossing_80.correlation_id)
    assert exceeded["causation_id"] == str(crossing_100.id)
    assert exceeded["data"] == {
        "budget_id": body["id"],
        "category_id": str(groceries),
        "category_name": "Groceries",
        "period": month,
        "threshold_percent": 100,
        "spent_minor": 10_000,
        "budget_minor": 10_000,
        "currency": "EUR",
        "period_start": exceeded["data"]["period_start"],
        "period_end": exceeded["data"]["period_end"],
        "period_kind": "month",
    }
    assert exceeded["data"]["period_start"] == f"{month}-01"
    assert {e["tenant_id"] for e in events} == {str(budget.tenant)}

    [item] = (await budget.client.get("/budgets", headers=budget.auth())).json()["items"]
    assert (item["spent_minor"], item["remaining_minor"], item["percent"], item["alerts"]) == (
        10_500,
        -500,
        105,
        [80, 100],
    )


async def test_just_under_80_percent_does_not_alert(budget: Budget) -> None:
    fuel = await budget.category("Fuel")
    await budget.set(fuel, 10_000)
    await budget.spend(fuel, 7_999)
    assert _alerts(await budget.published()) == []
    await budget.spend(fuel, 1)
    assert [a[:2] for a in _alerts(await budget.published())] == [("BudgetThresholdReached", 80)]


async def test_crossing_both_at_once_emits_80_first(budget: Budget) -> None:
    fuel = await budget.category("Fuel")
    body = await budget.set(fuel, 10_000)
    await budget.spend(fuel, 12_000)
    events = await budget.published()
    assert [a[:3] for a in _alerts(events)] == [
        ("BudgetThresholdReached", 80, 12_000),
        ("BudgetExceeded", 100, 12_000),
    ]
    assert [e["stream_version"] for e in events] == [1, 2, 3]
    assert {e["stream_id"] for e in events} == {body["id"]}


async def test_a_burst_applied_together_checks_alerts_once_on_what_it_leaves(budget: Budget) -> None:
    """An import arrives as a burst: its events are applied in one transaction and the budgets checked
    once, after them; each threshold the burst crossed still fires once, caused by its last event."""
    fuel, rent = await budget.category("Fuel"), await budget.category("Rent")
    await budget.set(fuel, 10_000)
    await budget.set(rent, 100_000)
    burst = [budget.transaction(fuel, 3_000) for _ in range(4)] + [budget.transaction(rent, 500)]
    records = [ConsumerRecord("ledger.events", 0, n, 0, 0, None, e.to_json(), None, 0, 0, [])
               for n, e in enumerate(burst)]
    assert await budget.consumer.handle_together(records) is True
    events = await budget.published()
    assert [a[:3] for a in _alerts(events)] == [
        ("BudgetThresholdReached", 80, 12_000),
        ("BudgetExceeded", 100, 12_000),
    ]
    assert {e["causation_id"] for e in events if e["type"] != "budget.BudgetSet"} == {str(burst[-1].id)}
    items = (await budget.client.get("/budgets", headers=budget.auth())).json()["items"]
    assert sorted((i["spent_minor"], i["alerts"]) for i in items) == [(500, []), (12_000, [80, 100])]


async def test_each_month_alerts_on_its_own(budget: Budget) -> None:
    rent = await budget.category("Rent")
    await budget.set(rent, 1_000, effective_from="2024-01-01")
    await budget.spend(rent, 900, booked_on=date(2024, 1, 10))
    await budget.spend(rent, 100, booked_on=date(2024, 1, 20))
    await budget.spend(rent, 850, booked_on=date(2024, 2, 1))
    await budget.spend(rent, 50, booked_on=date(2024, 2, 2))
    assert _alerts(await budget.published()) == [
        ("BudgetThresholdReached", 80, 900, "2024-01"),
        ("BudgetExceeded", 100, 1_000, "2024-01"),
        ("BudgetThresholdReached", 80, 850, "2024-02"),
    ]
    january = (await budget.client.get("/budgets", params={"month": "2024-01"}, headers=budget.auth())).json()
    february = (
        await budget.client.get("/budgets", params={"month": "2024-02"}, headers=budget.auth())
    ).json()
    assert [(i["spent_minor"], i["alerts"]) for i in january["items"]] == [(1_000, [80, 100])]
    assert [(i["spent_minor"], i["alerts"]) for i in february["items"]] == [(900, [80])]


async def test_changing_the_budget_reevaluates_and_rearms(budget: Budget) -> None:
    food = await budget.category("Food")
    await budget.set(food, 10_000)
    await budget.spend(food, 8_500)  # 85 %: 80 fires
    raised = await budget.set(food, 20_000)  # 42 %: below 80 again, so 80 is armed again
    assert raised["alerts"] == []
    await budget.spend(food, 500)  # 45 %: nothing
    await budget.spend(food, 7_500)  # 82 % of the new amount: a new crossing of 80
    lowered = await budget.set(food, 16_000)  # now 103 %: 100 fires, from the change itself
    assert lowered["alerts"] == [80, 100]
    events = await budget.published()
    assert [(e["type"].removeprefix("budget."), e["stream_version"]) for e in events] == [
        ("BudgetSet", 1),
        ("BudgetThresholdReached", 2),
        ("BudgetSet", 3),
        ("BudgetThresholdReached", 4),
        ("BudgetSet", 5),
        ("BudgetExceeded", 6),
    ]
    assert events[3]["data"]["spent_minor"] == 16_500
    assert events[5]["data"]["budget_minor"] == 16_000
    assert events[5]["actor"] == str(budget.user)


async def test_other_currencies_and_uncategorised_do_not_count_a_refund_counts_negative(
    budget: Budget,
) -> None:
    food = await budget.category("Food")
    await budget.set(food, 1_000, currency="EUR")
    await budget.spend(food, 5_000, currency="USD")
    assert await budget.deliver(budget.transaction(None, 5_000))
    await budget.spend(food, 300, kind="income")  # money back on an expense category: a refund
    assert _alerts(await budget.published()) == []
    [item] = (await budget.client.get("/budgets", headers=budget.auth())).json()["items"]
    assert (item["spent_minor"], item["remaining_minor"], item["alerts"]) == (-300, 1_300, [])


async def test_categories_and_spending_before_any_budget_are_kept(budget: Budget) -> None:
    food = await budget.category("Food")
    envelope = await budget.spend(food, 700)
    assert await budget.deliver(envelope) is False
    body = await budget.set(food, 1_000)
    assert (body["spent_minor"], body["alerts"]) == (700, [])
