"""Budget rules: plain Python, integer arithmetic only (money is minor units, never a float)."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tally_budget.flows import UNCATEGORISED
from tally_budget.periods import Period, PeriodSpec, period_containing, previous_period

# Alerts fire when spending reaches these percentages of a budget, by default.
THRESHOLDS: tuple[int, ...] = (80, 100)
EXCEEDED_THRESHOLD = 100
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
MAX_MERGE_DEPTH = 50  # merges form chains (A→B→C); a cycle cannot come from the ledger, but never loop
MAX_ROLLOVER_PERIODS = 1_000  # ~19 years of weeks: carries are summed over at most this many periods


def month_of(day: date) -> str:
    """The calendar month ("YYYY-MM") a booking date falls in."""
    return f"{day.year:04d}-{day.month:02d}"


def today_in(time_zone: str | None) -> date:
    """Today in the household's time zone (UTC when it has none or an unknown one)."""
    try:
        zone = ZoneInfo(time_zone) if time_zone else UTC
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return datetime.now(zone).date()


def current_month() -> str:
    return month_of(datetime.now(UTC).date())


@dataclass(frozen=True)
class Total:
    """Budgets in one currency added up: what they make available, what was spent, what is left."""

    currency: str
    available_minor: int = 0
    spent_minor: int = 0
    remaining_minor: int = 0


def totals_by_currency(budgets: Iterable[Total]) -> list[Total]:
    """Each currency's budgets added up (a household may budget in several), in currency order."""
    totals: dict[str, Total] = {}
    for b in budgets:
        t = totals.get(b.currency, Total(b.currency))
        totals[b.currency] = Total(
            currency=b.currency,
            available_minor=t.available_minor + b.available_minor,
            spent_minor=t.spent_minor + b.spent_minor,
            remaining_minor=t.remaining_minor + b.remaining_minor,
        )
    return sorted(totals.values(), key=lambda t: t.currency)


def overview_day(month: str | None, on: date | None, today: date) -> date:
    """The day an overview is of: `on`, else the first of `month`, else today."""
    if on is not None:
        return on
    return date(int(month[:4]), int(month[5:]), 1) if month else today


def percent_used(spent_minor: int, budget_minor: int) -> int:
    """Whole percent of the budget spent, rounded down (79.99 % is 79); 0 of nothing is 0 %, anything of
    nothing (an envelope emptied by overspending carried over) is shown as 999 %."""
    if budget_minor <= 0:
        return 0 if spent_minor <= 0 else 999
    return spent_minor * 100 // budget_minor


def threshold_reached(threshold: int, spent_minor: int, budget_minor: int) -> bool:
    """spent * 100 >= budget * threshold, and something was spent (so an empty envelope with nothing
    spent has reached nothing)."""
    return spent_minor > 0 and spent_minor * 100 >= budget_minor * threshold


def thresholds_reached(
    spent_minor: int, budget_minor: int, thresholds: Sequence[int] = THRESHOLDS
) -> list[int]:
    """The thresholds this much spending has reached, lowest first."""
    return [t for t in sorted(thresholds) if threshold_reached(t, spent_minor, budget_minor)]


@dataclass(frozen=True)
class Crossings:
    fired: tuple[int, ...]  # thresholds reached now that were armed: alert, lowest first
    rearmed: tuple[int, ...]  # thresholds that had fired and spending is below them again


def evaluate_thresholds(
    thresholds: Iterable[int], fired_before: Iterable[int], spent_minor: int, budget_minor: int
) -> Crossings:
    """Each threshold is armed until spending reaches it (it fires, once) and armed again only when
    spending drops back below it (a refund, a deleted expense), so it fires at most once per crossing."""
    already = set(fired_before)
    fired, rearmed = [], []
    for threshold in sorted(set(thresholds)):
        reached = threshold_reached(threshold, spent_minor, budget_minor)
        if reached and threshold not in already:
            fired.append(threshold)
        elif not reached and threshold in already:
            rearmed.append(threshold)
    return Crossings(tuple(fired), tuple(rearmed))


# --- pace ------------------------------------------------------------------------------------------------

MIN_PACE_DAYS = 3  # a projection from one or two days of spending is noise


def pace_projection(spent_minor: int, period: Period, today: date) -> int | None:
    """Spending by the period's end if it goes on at the rate so far (rounded down); None outside the
    period or too early in it to say."""
    if today not in period:
        return None
    elapsed = (today - period.start).days + 1
    if elapsed < min(MIN_PACE_DAYS, period.days) or elapsed * 5 < period.days:  # 20 % of the period
        return None
    return spent_minor * period.days // elapsed


def pace_warning(spent_minor: int, budget_minor: int, period: Period, today: date) -> int | None:
    """The projection when it runs past the budget while spending is still under it (over it, the
    100 % alert speaks instead); None otherwise."""
    projected = pace_projection(spent_minor, period, today)
    if projected is None or spent_minor >= budget_minor or projected <= budget_minor:
        return None
    return projected


# --- which categories a budget counts --------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryInfo:
    name: str
    group: str
    kind: str  # "expense" or "income"


def root_of(category_id: UUID, merges: Mapping[UUID, UUID]) -> UUID:
    """The category a (possibly merged) category's spending counts on now: follow merges to the end."""
    current = category_id
    for _ in range(MAX_MERGE_DEPTH):
        nxt = merges.get(current)
        if nxt is None or nxt == category_id:
            return current
        current = nxt
    return current


@dataclass(frozen=True)
class Target:
    """What a budget counts: one category (and whatever was merged into it), or a group's categories."""

    category_id: UUID | None = None
    group: str | None = None

    def __post_init__(self) -> None:
        if (self.category_id is None) == (self.group is None):
            raise ValueError("a budget is for one category or one group")


def members(
    target: Target,
    known: Iterable[UUID],
    categories: Mapping[UUID, CategoryInfo],
    merges: Mapping[UUID, UUID],
) -> set[UUID]:
    """The category ids (of `known`, those that have any spending or are known) that count for the
    target. Merges are resolved when reading, so a merge changes the figures whenever it arrives."""
    result: set[UUID] = set()
    for category_id in set(known) | set(merges) | set(categories):
        root = root_of(category_id, merges)
        if target.category_id is not None:
            if root == target.category_id:
                result.add(category_id)
        else:
            info = categories.get(root)
            if info is not None and info.kind == "expense" and info.group == target.group:
                result.add(category_id)
    return result


class IncomeBasis(StrEnum):
    """What "available to budget" counts as the month's income, as the household chooses: what came in
    this month so far (income early in the month, a salary on the 25th, shows a month's budgets as not
    covered until then), or what came in the whole of last month (budgeting this month with last
    month's pay)."""

    this_month = "this_month"
    last_month = "last_month"


def income_for(basis: IncomeBasis, this_month_minor: int, last_month_minor: int) -> int:
    return last_month_minor if basis is IncomeBasis.last_month else this_month_minor


def income_categories(
    known: Iterable[UUID], categories: Mapping[UUID, CategoryInfo], merges: Mapping[UUID, UUID]
) -> set[UUID]:
    """Categories whose money counts as income for "available to budget" (and uncategorised money)."""
    result = {UNCATEGORISED}
    for category_id in set(known) | set(merges) | set(categories):
        info = categories.get(root_of(category_id, merges))
        if info is not None and info.kind == "income":
            result.add(category_id)
    return result


# --- amounts, versions and rollover ----------------------------------------------------------------------


@dataclass(frozen=True)
class AmountVersion:
    """From the period starting on `effective_from` on (until a later version), the budget is `amount`
    per period; `rollover` carries what is left (or overspent) of each period into the next."""

    effective_from: date
    amount_minor: int
    rollover: bool = False


def version_for(versions: Sequence[AmountVersion], period: Period) -> AmountVersion | None:
    """The version in force for a period: the latest one effective on or before its start."""
    current = None
    for version in sorted(versions, key=lambda v: v.effective_from):
        if version.effective_from <= period.start:
            current = version
    return current


def rollover_start(spec: PeriodSpec, versions: Sequence[AmountVersion], target: Period) -> Period | None:
    """The first period whose leftover may carry into `target`; None when nothing carries."""
    starts = [v.effective_from for v in versions if v.rollover and v.effective_from < target.start]
    if not starts:
        return None
    return period_containing(spec, min(starts))


@dataclass(frozen=True)
class Limit:
    amount_minor: int  # budgeted for the period
    carried_minor: int  # left over from earlier periods (negative: overspent), with rollover

    @property
    def available_minor(self) -> int:
        return self.amount_minor + self.carried_minor


def limit_for(
    spec: PeriodSpec,
    versions: Sequence[AmountVersion],
    spent_by_day: Mapping[date, int],
    target: Period,
) -> Limit | None:
    """What a budget allows in `target`: its amount plus, with rollover, what carried from before.

    Carry into P = (available in P-1 - spent in P-1) when P-1's version has rollover on, else 0; a
    period before the budget's first version carries nothing. `spent_by_day` must cover the periods
    from `rollover_start` on."""
    version = version_for(versions, target)
    if version is None:
        return None
    first = rollover_start(spec, versions, target)
    if first is None:
        return Limit(version.amount_minor, 0)
    chain = [target]
    while chain[-1].start > first.start and len(chain) <= MAX_ROLLOVER_PERIODS:
        chain.append(previous_period(spec, chain[-1]))
    chain.reverse()
    carried = 0
    for period in chain[:-1]:
        in_force = version_for(versions, period)
        if in_force is None or not in_force.rollover:
            carried = 0
            continue
        spent = sum(v for d, v in spent_by_day.items() if d in period)
        carried = in_force.amount_minor + carried - spent
    return Limit(version.amount_minor, carried)


def same_point(period: Period, previous: Period, today: date | None) -> date:
    """The day of `previous` as far into it as `today` is into `period`: a period under way is compared
    with the same stretch of the one before (its pace), not with all of it; a period over (or none
    given) with the whole previous one. Clamped to the previous period's end (31 March -> 28 February)."""
    if today is None or today not in period:
        return previous.end
    return min(previous.start + (today - period.start), previous.end)


def trend_percent(spent_minor: int, previous_minor: int) -> int | None:
    """Change against the previous period (or its same stretch) in whole percent (None when there was
    nothing before)."""
    if previous_minor <= 0:
        return None
    return (spent_minor - previous_minor) * 100 // previous_minor
