"""Forecasts: Prophet on a synthetic series with known seasonality and trend stays within a stated error;
too little history falls back and says so; recurring items are added on top; results are cached until
the household's next event. Kept small: one model fit per unit test, one API round trip."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import numpy as np

from tally_analytics import forecasting
from tally_analytics.fitting import cumulative, fit, period_total
from tally_analytics.forecast_tasks import SeriesInput, occurrences
from tallykit.contracts.ledger import (
    AccountKind,
    AccountOpened,
    Cadence,
    CategoryCreated,
    CategoryKind,
    RecurringScheduled,
    TransactionKind,
    TransactionRecorded,
)
from tallykit.workers import WorkerPool

if TYPE_CHECKING:
    from conftest import Analytics

TODAY = date(2025, 6, 1)
# The stated bound: mean absolute percentage error of the 30-day forecast against the noise-free truth.
MAPE_BOUND = 0.08


def truth(t: int) -> float:
    """A daily amount in minor units: level, trend, weekly and monthly seasonality."""
    return 10_000 + 20 * t + 2_500 * math.sin(2 * math.pi * t / 7) + 1_500 * math.sin(2 * math.pi * t / 30.5)


def test_prophet_recovers_weekly_and_monthly_seasonality_with_trend() -> None:
    n = 240
    start = TODAY - timedelta(days=n)
    rng = np.random.default_rng(7)
    history = [(start + timedelta(days=t), round(truth(t) + rng.normal(0, 300))) for t in range(n)]
    result = fit(SeriesInput("s", history, TODAY, 30))
    assert result.method == "prophet"
    assert result.fallback_reason is None
    expected = [truth(n + k) for k in range(30)]
    mape = sum(abs(f - e) / e for f, e in zip(result.mean, expected, strict=True)) / 30
    assert mape < MAPE_BOUND, mape
    # A naive forecast (the last week's mean) is clearly worse: the model learned the shape.
    naive = sum(v for _, v in history[-7:]) / 7
    assert mape < sum(abs(naive - e) / e for e in expected) / 30
    # The band holds most of the truth.
    low, high = np.percentile(result.paths, [10, 90], axis=1)
    inside = sum(1 for k in range(30) if low[k] - 1_000 <= expected[k] <= high[k] + 1_000)
    assert inside >= 24


def test_five_days_of_history_fall_back_and_say_so() -> None:
    history = [(TODAY - timedelta(days=d), 1_000 * d) for d in range(1, 6)]
    result = fit(SeriesInput("s", history, TODAY, 30, known=[(TODAY + timedelta(days=2), 50_000)]))
    assert result.method == "fallback"
    assert result.fallback_reason is not None
    assert "5 days" in result.fallback_reason
    # Resampled days: every path lies within the days seen, plus the known item on its day.
    assert result.paths.shape == (30, 200)
    assert result.paths[2].min() >= 51_000
    assert result.paths[2].max() <= 55_000
    assert 1_000 <= result.mean[0] <= 5_000
    balance = cumulative(result.paths, 100_000)
    assert balance["lower"][-1] <= balance["mean"][-1] <= balance["upper"][-1]
    landing = period_total(result.paths[:3], 0, 56_000)
    assert 0 < landing["probability_over_budget"] < 1


def test_occurrences_of_schedules() -> None:
    monthly = {"cadence": "monthly", "interval": 1, "starts_on": "2025-01-31", "day_of_month": -1}
    assert occurrences(monthly, date(2025, 1, 31), date(2025, 4, 30)) == [
        date(2025, 2, 28),
        date(2025, 3, 31),
        date(2025, 4, 30),
    ]
    weekly = {"cadence": "weekly", "interval": 2, "starts_on": "2025-01-01", "count": 3}
    assert occurrences(weekly, date(2024, 12, 31), date(2025, 12, 31)) == [
        date(2025, 1, 1),
        date(2025, 1, 15),
        date(2025, 1, 29),
    ]
    yearly = {"cadence": "yearly", "interval": 1, "starts_on": "2024-02-29", "ends_on": "2026-12-31"}
    assert occurrences(yearly, date(2024, 3, 1), date(2030, 1, 1)) == [date(2025, 2, 28), date(2026, 2, 28)]


async def test_forecast_endpoints_known_items_fallback_and_cache(analytics: Analytics) -> None:
    """Five days of spending: the fallback is used and flagged; rent scheduled in 10 days lands on
    the balance path on its day; a second call is cached, a new event invalidates it."""
    account, groceries, rent = uuid4(), uuid4(), uuid4()
    today = date.today()
    events = [
        (
            AccountOpened(
                name="Main", kind=AccountKind.checking, currency="EUR", opening_balance_minor=500_000
            ),
            account,
        ),
        (CategoryCreated(name="Groceries", group="Everyday", kind=CategoryKind.expense), groceries),
        (CategoryCreated(name="Rent", group="Housing", kind=CategoryKind.expense), rent),
    ]
    for payload, stream in events:
        await analytics.deliver(analytics.envelope(payload, stream))
    for d in range(1, 6):
        await analytics.deliver(
            analytics.envelope(
                TransactionRecorded(
                    account_id=account,
                    kind=TransactionKind.expense,
                    amount_minor=2_000,
                    currency="EUR",
                    category_id=groceries,
                    payee="Shop",
                    booked_on=today - timedelta(days=d),
                )
            )
        )
    due = today + timedelta(days=10)
    schedule = RecurringScheduled(
        name="Rent",
        account_id=account,
        kind=TransactionKind.expense,
        amount_minor=100_000,
        currency="EUR",
        category_id=rent,
        payee="Landlord",
        cadence=Cadence.monthly,
        starts_on=due,
        next_due_on=due,
        count=1,
    )
    await analytics.deliver(analytics.envelope(schedule))
    body = await analytics.get("/forecasts/cash-flow", horizon=30)
    assert body["cached"] is False
    assert body["fallback_used"] is True
    assert body["total"]["method"] == "fallback"
    assert "days of history" in body["total"]["fallback_reason"]
    assert [(i["day"], i["amount_minor"]) for i in body["known_items"]] == [(due.isoformat(), -100_000)]
    points = body["total"]["points"]
    assert len(points) == 30
    assert body["total"]["start_balance_minor"] == 490_000
    # Every day spends exactly 2,000 in the history, so the paths are exact: 2,000 a day, rent on its day.
    assert points[9]["expected_minor"] == 490_000 - 10 * 2_000
    assert points[10]["expected_minor"] == 490_000 - 11 * 2_000 - 100_000
    assert points[10]["lower_minor"] == points[10]["upper_minor"]
    assert [a["name"] for a in body["accounts"]] == ["Main"]

    again = await analytics.get("/forecasts/cash-flow", horizon=30)
    assert again["cached"] is True
    assert again["total"] == body["total"]
    categories = await analytics.get("/forecasts/categories")
    groceries_forecast = next(c for c in categories["categories"] if c["name"] == "Groceries")
    assert groceries_forecast["method"] == "fallback"
    await analytics.deliver(
        analytics.envelope(
            TransactionRecorded(
                account_id=account,
                kind=TransactionKind.expense,
                amount_minor=7_000,
                currency="EUR",
                category_id=groceries,
                booked_on=today - timedelta(days=6),
            )
        )
    )
    fresh = await analytics.get("/forecasts/cash-flow", horizon=30)
    assert fresh["cached"] is False
    assert fresh["total"]["start_balance_minor"] == 483_000
    bad = await analytics.client.get(
        "/forecasts/cash-flow", params={"horizon": 400}, headers=analytics.auth()
    )
    assert bad.status_code == 422


async def test_the_cache_and_its_locks_keep_a_bounded_number_of_keys(monkeypatch: Any) -> None:
    """Keys name a day and a household: kept without bound, the cache or its locks would grow for ever."""
    monkeypatch.setattr(forecasting, "CACHE_SIZE", 3)
    forecaster = forecasting.Forecaster(WorkerPool(workers=1, idle_s=1))

    async def compute() -> dict[str, Any]:
        return {"fitted": True}

    for day in range(10):
        assert await forecaster.cached(("cash", day), 1, compute) == ({"fitted": True}, False)
    assert await forecaster.cached(("cash", 9), 1, compute) == ({"fitted": True}, True)
    assert len(forecaster._cache) == 3
    assert len(forecaster._locks) == 3
