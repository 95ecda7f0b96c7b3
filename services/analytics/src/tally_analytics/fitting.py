"""The fitting itself, run in the worker processes only (numpy here, pandas and Prophet on first use): the
service process never imports them.

A series is a daily amount (a net cash flow, or a category's spending). With at least `MIN_HISTORY_DAYS`
of history and `MIN_ACTIVE_DAYS` days with any movement, Prophet fits trend + weekly + monthly (and,
with two years, yearly) seasonality and draws sample paths of the future; otherwise the fallback
draws paths by resampling the days seen so far (a bootstrap) and the result says so. Sums over paths
give honest bands for balances and period totals (the band of a sum is not the sum of bands), and they
are summed here, so that only a few numbers per day go back to the service.
"""

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np

from tally_analytics.forecast_tasks import SeriesInput

MIN_HISTORY_DAYS = 30
MIN_ACTIVE_DAYS = 10
SAMPLES = 200
BAND = (10.0, 90.0)  # an 80 % band
YEARLY_AFTER_DAYS = 730
MAX_HISTORY_DAYS = 1_100


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
    """Forecast one series."""
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
    import pandas as pd  # on first use: a worker that only draws statements never pays for it
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
