"""Budget periods: which days a budget's period covers, in plain Python (no I/O).

A period is a closed range of days [start, end]. Kinds:

- `week`: seven days from the household's first day of the week (Monday, Sunday or Saturday).
- `fortnight`: fourteen days, counted from an anchor date (a pay date); every two weeks from it, both
  forwards and backwards.
- `month`: a calendar month, or a pay month starting on day N (1-28) of each month: with N = 25 the
  period "January" runs from 25 January to 24 February.
- `quarter`, `year`: calendar quarters and years.

Days are the ledger's booking dates (already in the household's own calendar), so no time zone is
involved here; "today" is computed by the caller in the household's time zone.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class PeriodKind(StrEnum):
    week = "week"
    fortnight = "fortnight"
    month = "month"
    quarter = "quarter"
    year = "year"


WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
MAX_START_DAY = 28  # every month has it, so a pay month never skips or doubles
# Fortnights without an anchor count from this Monday (any fixed Monday would do: it just has to stay put).
DEFAULT_FORTNIGHT_ANCHOR = date(2024, 1, 1)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    @property
    def month_label(self) -> str:
        """ "YYYY-MM" of the period's first day: what month-only consumers (the notifier) show."""
        return f"{self.start.year:04d}-{self.start.month:02d}"


@dataclass(frozen=True)
class PeriodSpec:
    kind: PeriodKind = PeriodKind.month
    start_day: int = 1  # month: the day each period starts on
    anchor: date | None = None  # fortnight: a day a period starts on
    week_start: str = "monday"  # week: the household's first day of the week

    def __post_init__(self) -> None:
        if not 1 <= self.start_day <= MAX_START_DAY:
            raise ValueError(f"a month's periods start on day 1 to {MAX_START_DAY}")
        if self.week_start not in WEEKDAYS:
            raise ValueError(f"unknown first day of the week {self.week_start!r}")
        if self.start_day != 1 and self.kind is not PeriodKind.month:
            raise ValueError("only monthly budgets start on another day than the 1st")
        if self.anchor is not None and self.kind is not PeriodKind.fortnight:
            raise ValueError("only fortnightly budgets have an anchor date")


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _month_start(year: int, month: int, start_day: int) -> date:
    return date(year, month, min(start_day, calendar.monthrange(year, month)[1]))


def period_containing(spec: PeriodSpec, day: date) -> Period:
    """The period of this kind that `day` falls in."""
    if spec.kind is PeriodKind.week:
        start = day - timedelta(days=(day.weekday() - WEEKDAYS[spec.week_start]) % 7)
        return Period(start, start + timedelta(days=6))
    if spec.kind is PeriodKind.fortnight:
        anchor = spec.anchor or DEFAULT_FORTNIGHT_ANCHOR
        start = anchor + timedelta(days=((day - anchor).days // 14) * 14)  # floor division: works backwards
        return Period(start, start + timedelta(days=13))
    if spec.kind is PeriodKind.month:
        year, month = (day.year, day.month)
        if day.day < spec.start_day:
            year, month = _add_months(year, month, -1)
        start = _month_start(year, month, spec.start_day)
        next_year, next_month = _add_months(year, month, 1)
        return Period(start, _month_start(next_year, next_month, spec.start_day) - timedelta(days=1))
    if spec.kind is PeriodKind.quarter:
        first_month = (day.month - 1) // 3 * 3 + 1
        start = date(day.year, first_month, 1)
        next_year, next_month = _add_months(day.year, first_month, 3)
        return Period(start, date(next_year, next_month, 1) - timedelta(days=1))
    return Period(date(day.year, 1, 1), date(day.year, 12, 31))


def next_period(spec: PeriodSpec, period: Period) -> Period:
    return period_containing(spec, period.end + timedelta(days=1))


def previous_period(spec: PeriodSpec, period: Period) -> Period:
    return period_containing(spec, period.start - timedelta(days=1))


def periods_between(spec: PeriodSpec, first: date, last: date) -> list[Period]:
    """Every period from the one containing `first` to the one containing `last`, in order."""
    result = [period_containing(spec, first)]
    while result[-1].end < last:
        result.append(next_period(spec, result[-1]))
    return result
