"""Goals: progress, the monthly amount needed, on track or behind, and where the recent pace leads. Plain
Python, no I/O.

A savings goal counts what was saved towards a target. A debt goal ("paying off debt") follows a loan or
credit-card account whose balance is negative (owed) to zero: its target is what was owed when the goal
was set, and what it has "saved" is what was paid off since (`paid_off`), so the same arithmetic gives
its percent, the amount needed each month (the debt left over the months left), on track or behind.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum


class GoalKind(StrEnum):
    savings = "savings"
    debt = "debt"


DEBT_ACCOUNT_KINDS = frozenset({"loan", "credit_card"})  # the ledger's account kinds a debt goal can follow


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


def owed(balance_minor: int) -> int:
    """What an account's balance owes (a debt is a negative balance); 0 when it owes nothing."""
    return max(-balance_minor, 0)


def paid_off(starting_debt_minor: int, balance_minor: int) -> int:
    """How much of the starting debt is paid off at a balance: the debt's progress, as saving is a savings
    goal's (more than the debt once the account is in credit, less than nothing when it owes more)."""
    return starting_debt_minor + balance_minor


PACE_WINDOW_DAYS = 91  # the recent pace is the progress of about the last three months
MIN_PACE_DAYS = 28  # less history than this gives no pace to project from
MAX_PROJECTION_DAYS = 100 * 365  # a target further away than this at the pace is "not at this pace"


@dataclass(frozen=True)
class Projection:
    pace_per_month_minor: int  # progress per month over the recent window (negative when it went back)
    projected_date: date | None  # when the target is reached at that pace; None: reached or never


def _amount_on(opening: int, moves: Mapping[date, int], day: date) -> int:
    return opening + sum(v for d, v in moves.items() if d <= day)


def projection(
    opening: int, moves: Mapping[date, int], target_minor: int, since: date | None, today: date
) -> Projection | None:
    """Where the recent pace leads: the progress over the last PACE_WINDOW_DAYS (from `since` if that is
    later: the first day anything could move), per month, and the day the rest is done at that pace.
    None when fewer than MIN_PACE_DAYS of history say what the pace is."""
    if since is None:
        return None
    first = max(today - timedelta(days=PACE_WINDOW_DAYS), since)
    days = (today - first).days
    if days < MIN_PACE_DAYS:
        return None
    now = _amount_on(opening, moves, today)
    gain = now - _amount_on(opening, moves, first)
    per_month = abs(gain) * 365 // (12 * days)
    pace = per_month if gain >= 0 else -per_month
    rest = target_minor - now
    if rest <= 0 or gain <= 0:
        return Projection(pace, None)
    days_needed = -(-rest * days // gain)
    if days_needed > MAX_PROJECTION_DAYS:
        return Projection(pace, None)
    return Projection(pace, today + timedelta(days=days_needed))


def history(opening: int, moves: dict[date, int], start: date, today: date) -> Sequence[tuple[date, int]]:
    """Saved amount after each day that moved it, from the goal's start (what came before is one point)."""
    points = [(start, opening + sum(v for d, v in moves.items() if d <= start))]
    running = points[0][1]
    for day in sorted(d for d in moves if start < d <= today):
        running += moves[day]
        points.append((day, running))
    return points
