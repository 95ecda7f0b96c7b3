"""Savings goals: progress, the monthly amount needed, on track or behind. Plain Python, no I/O."""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class GoalStatus(StrEnum):
    reached = "reached"
    on_track = "on_track"
    behind = "behind"
    no_date = "no_date"  # no target date: progress only


def months_left(today: date, target_date: date) -> int:
    """Monthly contributions still to come before the target: one per month after this one, up to and
    including the target's month (0 when the target is this month or has passed: all of it now)."""
    if target_date < today:
        return 0
    return (target_date.year - today.year) * 12 + target_date.month - today.month


def needed_per_month(saved_minor: int, target_minor: int, today: date, target_date: date | None) -> int:
    """What to put aside each month from now to reach the target by its date (rounded up); the whole
    rest at once when the date has passed; 0 when reached or when there is no date."""
    rest = target_minor - saved_minor
    if rest <= 0 or target_date is None:
        return 0
    months = months_left(today, target_date)
    return rest if months == 0 else -(-rest // months)


def expected_by(start: date, target_date: date, target_minor: int, today: date) -> int:
    """How much a steady saver would have by `today`: the target pro rata of the days elapsed."""
    total = (target_date - start).days
    if total <= 0 or today >= target_date:
        return target_minor
    elapsed = max((today - start).days, 0)
    return target_minor * elapsed // total


@dataclass(frozen=True)
class Progress:
    saved_minor: int
    target_minor: int
    percent: int
    needed_per_month_minor: int
    expected_minor: int | None
    status: GoalStatus


def progress(
    saved_minor: int, target_minor: int, start: date, target_date: date | None, today: date
) -> Progress:
    percent = max(saved_minor, 0) * 100 // target_minor
    expected = None if target_date is None else expected_by(start, target_date, target_minor, today)
    if saved_minor >= target_minor:
        status = GoalStatus.reached
    elif expected is None:
        status = GoalStatus.no_date
    elif saved_minor >= expected:
        status = GoalStatus.on_track
    else:
        status = GoalStatus.behind
    return Progress(
        saved_minor=saved_minor,
        target_minor=target_minor,
        percent=percent,
        needed_per_month_minor=needed_per_month(saved_minor, target_minor, today, target_date),
        expected_minor=expected,
        status=status,
    )
