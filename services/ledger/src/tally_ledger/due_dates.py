"""When a recurring transaction falls due: plain date arithmetic, no clock, no I/O.

Schedules are whole days (a rent is due on the 1st, not at 00:00 of some time zone), so daylight
saving time cannot move an occurrence; only "which day is today" depends on a zone (`today_in`).

Not dateutil's rrule: a monthly rule on the 31st there *skips* months without a 31st (and a yearly
rule on 29 February skips three years in four), where a household expects the bill on the month's
last day (28 February). Clamping is the rule here, and the arithmetic is a few lines.
"""

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from tallykit.contracts.ledger import Cadence

LAST_DAY = -1
# A guard against a schedule walking forever (e.g. searching past a far end date day by day).
MAX_STEPS = 100_000


class ScheduleError(ValueError):
    """A schedule that cannot be (e.g. ends before it starts)."""


@dataclass(frozen=True)
class Spec:
    """Every `interval` days/weeks/months/years from `starts_on`; monthly ones on `day_of_month` (-1: the
    last day; None: the day `starts_on` has); weekly ones on `starts_on`'s weekday; yearly ones on its
    month and day (29 February → the 28th in common years); until `ends_on` and/or `count` occurrences."""

    cadence: Cadence
    starts_on: date
    interval: int = 1
    day_of_month: int | None = None
    ends_on: date | None = None
    count: int | None = None

    def __post_init__(self) -> None:
        if self.interval < 1:
            raise ScheduleError("interval must be at least 1")
        if self.day_of_month is not None and not (
            self.day_of_month == LAST_DAY or 1 <= self.day_of_month <= 31
        ):
            raise ScheduleError("day_of_month is 1-31, or -1 for the last day of the month")
        if self.day_of_month is not None and self.cadence != Cadence.monthly:
            raise ScheduleError("day_of_month is for monthly schedules only")
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise ScheduleError("the schedule ends before it starts")
        if self.count is not None and self.count < 1:
            raise ScheduleError("count must be at least 1")


def add_months(day: date, months: int, day_of_month: int | None = None) -> date:
    """The same day `months` later (or `day_of_month`, -1 = last), clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    wanted = day.day if day_of_month is None else (last if day_of_month == LAST_DAY else day_of_month)
    return date(year, month + 1, min(wanted, last))


def _unbounded(spec: Spec) -> Iterator[date]:
    """Every occurrence on or after `starts_on`, ignoring the end date and count."""
    if spec.cadence in (Cadence.daily, Cadence.weekly):
        step = timedelta(days=spec.interval * (7 if spec.cadence == Cadence.weekly else 1))
        day = spec.starts_on
        while True:
            yield day
            day += step
    months = spec.interval * (12 if spec.cadence == Cadence.yearly else 1)
    # Counted from the start each time (never from the previous, clamped occurrence): 31 Jan → 28 Feb
    # → 31 Mar, not → 28 Mar.
    n = 0
    if spec.cadence == Cadence.monthly and spec.day_of_month is not None:
        first = add_months(spec.starts_on, 0, spec.day_of_month)
        anchor = (
            first if first >= spec.starts_on else add_months(spec.starts_on, spec.interval, spec.day_of_month)
        )
        while True:
            yield add_months(anchor, n * months, spec.day_of_month)
            n += 1
    while True:
        yield add_months(spec.starts_on, n * months)
        n += 1


def occurrences(spec: Spec) -> Iterator[date]:
    """Every occurrence, in order, as far as the end date and count allow (and the calendar: a schedule
    simply ends at the year 9999)."""
    days = _unbounded(spec)
    for n in range(MAX_STEPS * 10):
        try:
            day = next(days)
        except (ValueError, OverflowError):  # past date.max
            return
        if (spec.count is not None and n >= spec.count) or (spec.ends_on is not None and day > spec.ends_on):
            return
        yield day


def between(spec: Spec, first: date, last: date) -> list[date]:
    """The occurrences from `first` to `last`, both included."""
    found = []
    for steps, day in enumerate(occurrences(spec)):
        if day > last or steps > MAX_STEPS:
            break
        if day >= first:
            found.append(day)
    return found


def next_on_or_after(
    spec: Spec, day: date, *, excluding: frozenset[date] | set[date] = frozenset()
) -> date | None:
    """The first occurrence on or after `day` that is not in `excluding` (None when the schedule ends)."""
    for steps, occurrence in enumerate(occurrences(spec)):
        if steps > MAX_STEPS:
            return None
        if occurrence >= day and occurrence not in excluding:
            return occurrence
    return None


def is_occurrence(spec: Spec, day: date) -> bool:
    return next_on_or_after(spec, day) == day


def today_in(now: datetime, zone: str) -> date:
    """The calendar day it is at `now` (an aware datetime) in a time zone."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(ZoneInfo(zone)).date()
