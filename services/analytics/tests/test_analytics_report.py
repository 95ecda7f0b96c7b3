"""GET /reports/monthly over ledger events handed to the analytics consumer, on a real database."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING
from uuid import uuid4

import pytest

if TYPE_CHECKING:
    from conftest import Analytics


async def test_monthly_report_hand_computed(analytics: Analytics) -> None:
    groceries = await analytics.category("Groceries")
    rent = await analytics.category("Rent")
    salary = await analytics.category("Salary", kind="income")
    march, april = date(2025, 3, 14), date(2025, 4, 1)
    events = [
        await analytics.record("expense", groceries, 1_250, march),
        await analytics.record("expense", groceries, 3_499, date(2025, 3, 31)),
        await analytics.record("expense", rent, 90_000, date(2025, 3, 1)),
        await analytics.record("income", salary, 250_000, march),
        await analytics.record("expense", groceries, 2_000, march, currency="USD"),
        await analytics.record("expense", None, 500, march),
        await analytics.record("expense", groceries, 700, april),
    ]
    expected_march = {
        "month": "2025-03",
        "totals": [
            {"currency": "EUR", "income_minor": 250_000, "expense_minor": 95_249, "net_minor": 154_751},
            {"currency": "USD", "income_minor": 0, "expense_minor": 2_000, "net_minor": -2_000},
        ],
        "by_category": [
            {
                "category_id": str(groceries),
                "category_name": "Groceries",
                "currency": "EUR",
                "income_minor": 0,
                "expense_minor": 4_749,
            },
            {
                "category_id": str(rent),
                "category_name": "Rent",
                "currency": "EUR",
                "income_minor": 0,
                "expense_minor": 90_000,
            },
            {
                "category_id": str(salary),
                "category_name": "Salary",
                "currency": "EUR",
                "income_minor": 250_000,
                "expense_minor": 0,
            },
            {
                "category_id": None,
                "category_name": "Uncategorised",
                "currency": "EUR",
                "income_minor": 0,
                "expense_minor": 500,
            },
            {
                "category_id": str(groceries),
                "category_name": "Groceries",
                "currency": "USD",
                "income_minor": 0,
                "expense_minor": 2_000,
            },
        ],
    }
    expected_april = {
        "month": "2025-04",
        "totals": [{"currency": "EUR", "income_minor": 0, "expense_minor": 700, "net_minor": -700}],
        "by_category": [
            {
                "category_id": str(groceries),
                "category_name": "Groceries",
                "currency": "EUR",
                "income_minor": 0,
                "expense_minor": 700,
            }
        ],
    }
    assert await analytics.report("2025-03") == expected_march
    assert await analytics.report("2025-04") == expected_april
    assert await analytics.report("2025-02") == {"month": "2025-02", "totals": [], "by_category": []}

    # Redelivered events (at-least-once) change nothing.
    for envelope in events:
        assert await analytics.deliver(envelope) is False
    assert await analytics.report("2025-03") == expected_march
    assert await analytics.report("2025-04") == expected_april


async def test_default_month_is_this_month(analytics: Analytics) -> None:
    month_before = datetime.now(UTC).strftime("%Y-%m")  # the services' month, read around the calls
    food = await analytics.category("Food")
    await analytics.record("expense", food, 1_999)
    report = await analytics.report()
    assert report["month"] in {month_before, datetime.now(UTC).strftime("%Y-%m")}
    assert report["totals"] == [
        {"currency": "EUR", "income_minor": 0, "expense_minor": 1_999, "net_minor": -1_999}
    ]


async def test_category_names_arrive_later_or_never(analytics: Analytics) -> None:
    later, never = uuid4(), uuid4()
    await analytics.record("expense", later, 100, date(2025, 5, 5))
    await analytics.record("expense", never, 200, date(2025, 5, 5))
    names = [c["category_name"] for c in (await analytics.report("2025-05"))["by_category"]]
    assert names == ["Unknown category", "Unknown category"]
    await analytics.category("Books", category_id=later)
    by_category = (await analytics.report("2025-05"))["by_category"]
    assert [(c["category_id"], c["category_name"], c["expense_minor"]) for c in by_category] == [
        (str(later), "Books", 100),
        (str(never), "Unknown category", 200),
    ]


async def test_tenants_are_isolated(analytics: Analytics) -> None:
    food = await analytics.category("Food")
    await analytics.record("expense", food, 1_000, date(2025, 6, 1))
    other = uuid4()
    assert await analytics.report("2025-06", tenant=other) == {
        "month": "2025-06",
        "totals": [],
        "by_category": [],
    }
    # The other tenant's events with the same category id stay theirs.
    await analytics.record("expense", food, 5_000, date(2025, 6, 2), tenant=other)
    mine = await analytics.report("2025-06")
    assert [(c["category_name"], c["expense_minor"]) for c in mine["by_category"]] == [("Food", 1_000)]
    theirs = await analytics.report("2025-06", tenant=other)
    assert [(c["category_name"], c["expense_minor"]) for c in theirs["by_category"]] == [
        ("Unknown category", 5_000)
    ]


@pytest.mark.parametrize("month", ["2025-13", "2025-00", "2025-1", "2025-01-01", "june", ""])
async def test_a_bad_month_is_a_problem(analytics: Analytics, month: str) -> None:
    response = await analytics.client.get(
        "/reports/monthly", params={"month": month}, headers=analytics.auth()
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 422


async def test_needs_a_token(analytics: Analytics) -> None:
    response = await analytics.client.get("/reports/monthly")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"from": "2025-03-10", "to": "2025-03-01"}, "to must not be before from"),
        ({"from": "2025-03-10"}, "a custom period needs both from and to"),
        (
            {"period": "2025", "from": "2025-01-01", "to": "2025-01-02"},
            "give either period or from/to, not both",
        ),
    ],
)
async def test_a_period_the_rules_refuse_is_invalid_input(
    analytics: Analytics, params: dict[str, str], detail: str
) -> None:
    """The domain raises its own InvalidPeriod; the edge answers it as a 422 problem carrying its message."""
    response = await analytics.client.get("/reports/summary", params=params, headers=analytics.auth())
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert (response.json()["title"], response.json()["detail"]) == ("Invalid input", detail)
