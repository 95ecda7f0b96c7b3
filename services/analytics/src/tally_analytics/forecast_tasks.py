"""Forecast tasks: plain data in, plain data out, fitted in the worker pool (Prophet's fit is CPU work
that must not block the event loop). What fits and how is `fitting` (numpy, pandas, Prophet), imported by the
worker processes only; this module is what the service itself needs: the series it sends, the outlook
it gets back, the tasks it names, and the known future items (recurring transactions and bills).

Known future items are not learned: their past occurrences are left out of the history by the caller
and their future occurrences are added to every path by the fit.
"""

import calendar
import os
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any


@dataclass(frozen=True)
class SeriesInput:
    key: str
    history: list[tuple[date, int]]  # (day, amount) with gaps meaning zero
    today: date
    horizon: int  # days after today
    known: list[tuple[date, int]] = field(default_factory=list)  # future items on top of the model
    seed: int = 0


@dataclass(frozen=True)
class Outlook:
    """A fitted series summed up in the worker: per day (`balance`) or over the period (`landing`)."""

    key: str
    method: str  # "prophet" or "fallback"
    fallback_reason: str | None
    days: list[date]
    summary: dict[str, Any]


def balance(series: SeriesInput, start_value: float) -> Outlook:
    """A worker's task: the running balance from `start_value`, its mean and 80 % band per day."""
    from tally_analytics.fitting import cumulative, fit

    f = fit(series)
    return Outlook(f.key, f.method, f.fallback_reason, f.days, cumulative(f.paths, start_value))


def landing(series: SeriesInput, spent: float, budget: float | None) -> Outlook:
    """A worker's task: where the period's total lands from `spent` so far, and the chance it passes
    `budget`."""
    from tally_analytics.fitting import fit, period_total

    f = fit(series)
    return Outlook(f.key, f.method, f.fallback_reason, f.days, period_total(f.paths, spent, budget))


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
