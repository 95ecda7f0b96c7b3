"""Forecasts: plain functions on plain lists, run in a process pool (Prophet's fit is CPU work that must
not block the event loop).

A series is a daily amount (a net cash flow, or a category's spending). With at least `MIN_HISTORY_DAYS`
of history and `MIN_ACTIVE_DAYS` days with any movement, Prophet fits trend + weekly + monthly (and,
with two years, yearly) seasonality and draws sample paths of the future; otherwise the fallback
draws paths by resampling the days seen so far (a bootstrap) and the result says so. Sums over paths
give honest bands for balances and period totals (the band of a sum is not the sum of bands).

Known future items (recurring transactions and bills) are not learned: their past occurrences are left
out of the history by the caller and their future occurrences are added to every path here.
"""

import calendar
import logging
import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

MIN_HISTORY_DAYS = 30
MIN_ACTIVE_DAYS = 10
SAMPLES = 200
BAND = (10.0, 90.0)  # an 80 % band
YEARLY_AFTER_DAYS = 730
MAX_HISTORY_DAYS = 1_100


@dataclass(frozen=True)
class SeriesInput:
    key: str
    history: list[tuple[date, int]]  # (day, amount) with gaps meaning zero
    today: date
    horizon: int  # days after today
    known: list[tuple[date, int]] = field(default_factory=list)  # future items on top of the model
    seed: int = 0


@dataclass(frozen=True)
class SeriesForecast:
    key: str
    method: str  # "prophet" or "fallback"
    fallback_reason: str | None
    days: list[date]
    mean: list[float]  # expected daily amount (model + known items)
    paths: Any  # numpy array horizon x SAMPLES of daily amounts, known items included


def dense(history: list[tuple[date, int]], end: date) -> tuple[date, list[float]]:
    """Daily values from the first day with data up to `end` (inclusive), zeros filled in."""
    if not history:
        return end, []
    start = max(min(d for d, _ in history), end - timedelta(days=MAX_HISTORY_DAYS - 1))
    values = [0.0] * ((end - start).days + 1)
    for day, amount in history:
        if start <= day <= end:
            values[(day - start).days] += amount
    return start, values


def _known_matrix(series: SeriesInput, days: list[date]) -> np.ndarray:
    known = np.zeros(len(days))
    index = {d: i for i, d in enumerate(days)}
    for day, amount in series.known:
        if day in index:
            known[index[day]] += amount
    return known


def fit(series: SeriesInput) -> SeriesForecast:
    """Forecast one series (runs in a worker process)."""
    end = series.today - timedelta(days=1)  # today is not over: the model learns from complete days
    start, values = dense(series.history, end)
    days = [series.today + timedelta(days=i) for i in range(series.horizon)]
    if not days:
        return SeriesForecast(series.key, "none", None, [], [], np.zeros((0, SAMPLES)))
    known = _known_matrix(series, days)
    active = sum(1 for v in values if v)
    reason = None
    if len(values) < MIN_HISTORY_DAYS:
        reason = f"only {len(values)} days of history (a model needs {MIN_HISTORY_DAYS})"
    elif active < MIN_ACTIVE_DAYS:
        reason = f"only {active} days with any amount (a model needs {MIN_ACTIVE_DAYS})"
    if reason is not None:
        paths = _bootstrap(values, series.horizon, series.seed)
        method = "fallback"
    else:
        paths = _prophet(start, values, series.horizon)
        method = "prophet"
    paths = paths + known[:, None]
    return SeriesForecast(
        key=series.key,
        method=method,
        fallback_reason=reason,
        days=days,
        mean=[float(x) for x in paths.mean(axis=1)],
        paths=paths,
    )


def _bootstrap(values: list[float], horizon: int, seed: int) -> np.ndarray:
    """Paths made of days drawn from the history (all zeros without history)."""
    if not values:
        return np.zeros((horizon, SAMPLES))
    rng = np.random.default_rng(seed)
    return rng.choice(np.asarray(values), size=(horizon, SAMPLES), replace=True)


def _prophet(start: date, values: list[float], horizon: int) -> np.ndarray:
    import pandas as pd  # imported in the worker: the web process never pays for it
    from prophet import Prophet

    # Prophet's notes (e.g. yearly seasonality near two years of history) are not errors of ours.
    logging.getLogger("cmdstanpy").setLevel(logging.ERROR)
    logging.getLogger("prophet").setLevel(logging.ERROR)
    frame = pd.DataFrame({"ds": pd.date_range(start, periods=len(values), freq="D"), "y": values})
    model = Prophet(
        yearly_seasonality=len(values) >= YEARLY_AFTER_DAYS,
        weekly_seasonality=True,
        daily_seasonality=False,
        interval_width=0.8,
        uncertainty_samples=SAMPLES,
        n_changepoints=min(15, max(1, len(values) // 20)),
    )
    model.add_seasonality(name="monthly", period=30.5, fourier_order=5)
    model.fit(frame)
    future = model.make_future_dataframe(periods=horizon, include_history=False)
    samples: np.ndarray = model.predictive_samples(future)["yhat"]
    return samples


def quantiles(paths: np.ndarray) -> tuple[list[float], list[float]]:
    low, high = np.percentile(paths, BAND, axis=1)
    return [float(x) for x in low], [float(x) for x in high]


def cumulative(paths: np.ndarray, start_value: float) -> dict[str, list[float]]:
    """Balance paths from daily flows: the mean and 80 % band of the running balance."""
    running = start_value + np.cumsum(paths, axis=0)
    low, high = quantiles(running)
    return {"mean": [float(x) for x in running.mean(axis=1)], "lower": low, "upper": high}


def period_total(paths: np.ndarray, spent: float, budget: float | None) -> dict[str, Any]:
    """Where a period's total lands: spent so far plus each path's remaining days; and, with a budget,
    the share of paths that end above it (the probability the budget is exceeded). Spending paths are
    floored at zero per day (a model may dip below zero; a day cannot be negative spending here)."""
    totals = spent + np.clip(paths, 0, None).sum(axis=0)
    low, high = np.percentile(totals, BAND)
    out: dict[str, Any] = {
        "expected": float(totals.mean()),
        "lower": float(low),
        "upper": float(high),
        "probability_over_budget": None,
    }
    if budget is not None:
        out["probability_over_budget"] = round(float((totals > budget).mean()), 3)
    return out


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


# --- known future items ---------------------------------------------------------------------------------


def _add_months(day: date, months: int, day_of_month: int | None) -> date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    month += 1
    last = calendar.monthrange(year, month)[1]
    wanted = day_of_month if day_of_month is not None else day.day
    return date(year, month, last if wanted == -1 else min(wanted, last))


def occurrences(schedule: dict[str, Any], after: date, until: date) -> list[date]:
    """Occurrences of a recurring schedule (the ledger's RecurringScheduled payload) in (after, until]."""
    cadence, interval = schedule["cadence"], int(schedule.get("interval") or 1)
    first = date.fromisoformat(schedule["starts_on"])
    ends = date.fromisoformat(schedule["ends_on"]) if schedule.get("ends_on") else None
    count = schedule.get("count")
    day_of_month = schedule.get("day_of_month")
    out: list[date] = []
    n = 0
    current = first if cadence != "monthly" or day_of_month is None else _add_months(first, 0, day_of_month)
    while current <= until and (ends is None or current <= ends) and (count is None or n < count):
        if current > after:
            out.append(current)
        n += 1
        if cadence == "daily":
            current = first + timedelta(days=interval * n)
        elif cadence == "weekly":
            current = first + timedelta(weeks=interval * n)
        elif cadence == "monthly":
            current = _add_months(first, interval * n, day_of_month)
        else:
            current = _add_months(first, 12 * interval * n, day_of_month)
        if n > 100_000:  # a daily schedule from long ago: enough
            break
    return out


def worker_count() -> int:
    return max(1, min(4, (os.cpu_count() or 2)))


def warm_up() -> bool:
    """Import Prophet in a worker ahead of the first request."""
    from prophet import Prophet  # noqa: F401

    return True
