"""Reporting rules: plain Python, integer minor units only.

The read model keeps signed *deltas*: every ledger event turns into rows to add (a recorded transaction),
to subtract (a deleted one) or both (an amendment: take out `before`, add `after`). Sums commute, so the
order events arrive in does not change the figures, and the inbox makes redeliveries harmless.
"""

import calendar
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tallykit.contracts.ledger import EntryKind, TransactionState

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
PERIOD_PATTERN = r"^(\d{4}|\d{4}-(0[1-9]|1[0-2])|\d{4}-Q[1-4])$"
# Transactions without a category are rolled up under this id (a primary key cannot hold NULL).
NO_CATEGORY = UUID(int=0)
UNCATEGORISED = "Uncategorised"
UNKNOWN_CATEGORY = "Unknown category"
UNGROUPED = "Other"
# An account's opening balance is the balance before anything recorded in Tally, so it counts from the
# beginning of time (net worth on any day includes it).
OPENING_DAY = date(1900, 1, 1)
MAX_CUSTOM_DAYS = 3 * 366 + 1


class InvalidPeriod(ValueError):
    """A report's period that cannot be read or lies out of range; the message says which (the edge
    answers it as invalid input: main.py)."""


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def current_month() -> str:
    return month_of(datetime.now(UTC).date())


def today_in(time_zone: str) -> date:
    """Today in the household's time zone (a broken zone name falls back to UTC, never fails a report)."""
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.now(zone).date()


# --- read-model deltas ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowDelta:
    """Income/expense on one day, account, category, payee and currency (one row of `flows`)."""

    day: date
    account_id: UUID
    category_id: UUID
    payee: str
    currency: str
    income_minor: int
    expense_minor: int
    entries: int


@dataclass(frozen=True)
class TagDelta:
    day: date
    tag: str
    category_id: UUID
    currency: str
    income_minor: int
    expense_minor: int


@dataclass(frozen=True)
class BalanceDelta:
    day: date
    account_id: UUID
    currency: str
    delta_minor: int


@dataclass
class Deltas:
    flows: list[FlowDelta] = field(default_factory=list)
    tags: list[TagDelta] = field(default_factory=list)
    balances: list[BalanceDelta] = field(default_factory=list)

    def extend(self, other: "Deltas") -> None:
        self.flows += other.flows
        self.tags += other.tags
        self.balances += other.balances


def deltas_of(state: TransactionState, sign: int) -> Deltas:
    """What one transaction adds to the read model (`sign` +1), or takes out of it (-1).

    A transfer moves balances only: it is never income or spending. A split transaction counts each part
    on its own category; tags count the whole transaction per category part."""
    out = Deltas()
    amount = state.amount_minor * sign
    if state.kind == EntryKind.transfer:
        out.balances.append(BalanceDelta(state.booked_on, state.account_id, state.currency, -amount))
        if state.counter_account_id is not None:
            out.balances.append(
                BalanceDelta(state.booked_on, state.counter_account_id, state.currency, amount)
            )
        return out
    income = state.kind == EntryKind.income
    out.balances.append(
        BalanceDelta(state.booked_on, state.account_id, state.currency, amount if income else -amount)
    )
    parts = (
        [(s.category_id, s.amount_minor * sign) for s in state.splits]
        if state.splits
        else [(state.category_id or NO_CATEGORY, amount)]
    )
    payee = state.payee.strip()
    for category_id, part in parts:
        out.flows.append(
            FlowDelta(
                day=state.booked_on,
                account_id=state.account_id,
                category_id=category_id,
                payee=payee,
                currency=state.currency,
                income_minor=part if income else 0,
                expense_minor=0 if income else part,
                entries=sign,
            )
        )
        for tag in sorted(set(state.tags)):
            out.tags.append(
                TagDelta(
                    state.booked_on,
                    tag,
                    category_id,
                    state.currency,
                    part if income else 0,
                    0 if income else part,
                )
            )
    return out


# --- periods ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """An inclusive range of days with a label; `kind` is month, quarter, year or custom."""

    kind: str
    start: date
    end: date
    label: str

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Period":
        """The period just before: the previous month/quarter/year, or as many days just before."""
        if self.kind == "custom":
            end = self.start - timedelta(days=1)
            return Period("custom", end - timedelta(days=self.days - 1), end, "previous period")
        return _shift(self, {"month": -1, "quarter": -3, "year": -12}[self.kind])

    def year_before(self) -> "Period":
        if self.kind == "custom":
            start, end = _minus_year(self.start), _minus_year(self.end)
            return Period("custom", start, end, f"{start.isoformat()}..{end.isoformat()}")
        return _shift(self, -12)


def _minus_year(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def _shift(period: Period, months: int) -> Period:
    """The same kind of period, `months` earlier (or later)."""
    year, month = divmod(period.start.year * 12 + period.start.month - 1 + months, 12)
    if period.kind == "year":
        return parse_period(f"{year:04d}")
    if period.kind == "quarter":
        return parse_period(f"{year:04d}-Q{month // 3 + 1}")
    return parse_period(f"{year:04d}-{month + 1:02d}")


def parse_period(text: str) -> Period:
    """`YYYY`, `YYYY-Qn` or `YYYY-MM`."""
    if not re.fullmatch(PERIOD_PATTERN, text):
        raise InvalidPeriod("period must be YYYY, YYYY-Qn or YYYY-MM")
    year = int(text[:4])
    if year < 1901 or year > 9998:
        raise InvalidPeriod("period year out of range")
    if len(text) == 4:
        return Period("year", date(year, 1, 1), date(year, 12, 31), text)
    if text[5] == "Q":
        quarter = int(text[6])
        first = 3 * (quarter - 1) + 1
        last = first + 2
        return Period(
            "quarter", date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1]), text
        )
    month = int(text[5:7])
    return Period("month", date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]), text)


def custom_period(start: date, end: date) -> Period:
    if end < start:
        raise InvalidPeriod("to must not be before from")
    if (end - start).days + 1 > MAX_CUSTOM_DAYS:
        raise InvalidPeriod(f"a custom period spans at most {MAX_CUSTOM_DAYS} days")
    if start <= OPENING_DAY:
        raise InvalidPeriod("from is out of range")
    return Period("custom", start, end, f"{start.isoformat()}..{end.isoformat()}")


def resolve_period(period: str | None, start: date | None, end: date | None, today: date) -> Period:
    """A report's period from its query: a named period, a custom range, or (neither) this month."""
    if period is not None and (start is not None or end is not None):
        raise InvalidPeriod("give either period or from/to, not both")
    if start is not None or end is not None:
        if start is None or end is None:
            raise InvalidPeriod("a custom period needs both from and to")
        return custom_period(start, end)
    return parse_period(period or month_of(today))


def buckets(period: Period, granularity: str) -> list[tuple[date, date]]:
    """The period cut into days, ISO weeks (clipped to the period) or calendar months."""
    out: list[tuple[date, date]] = []
    day = period.start
    while day <= period.end:
        if granularity == "day":
            last = day
        elif granularity == "week":
            last = day + timedelta(days=6 - day.weekday())
        else:
            last = date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])
        last = min(last, period.end)
        out.append((day, last))
        day = last + timedelta(days=1)
    return out


def default_granularity(period: Period) -> str:
    if period.days <= 62:
        return "day"
    if period.days <= 190:
        return "week"
    return "month"


# --- classification and report figures --------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryInfo:
    id: UUID
    name: str
    group: str
    kind: str  # "income" or "expense"
    merged_into: UUID | None = None


def resolve_category(categories: dict[UUID, CategoryInfo], category_id: UUID) -> UUID:
    """Follow merges to the category that now holds what `category_id` counted (cycles stop)."""
    seen = {category_id}
    current = category_id
    while (info := categories.get(current)) is not None and info.merged_into is not None:
        if info.merged_into in seen:
            break
        seen.add(info.merged_into)
        current = info.merged_into
    return current


def resolve_payee(merges: dict[str, str], payee: str) -> str:
    """Follow payee merges (case-insensitive, as the ledger matches them) to today's name."""
    seen = {payee.casefold()}
    current = payee
    while (target := merges.get(current.casefold())) is not None and target.casefold() not in seen:
        seen.add(target.casefold())
        current = target
    return current


def side_of(
    categories: dict[UUID, CategoryInfo], category_id: UUID, income_minor: int, expense_minor: int
) -> str:
    """Whether a row counts as income or expense. A category's kind decides (an income on an expense
    category is a refund and lowers spending); without a category the transaction's own kind decides."""
    info = categories.get(category_id)
    if info is not None:
        return info.kind
    return "income" if income_minor > expense_minor else "expense"


def signed_amount(side: str, income_minor: int, expense_minor: int) -> int:
    """The row's amount on its side: spending net of refunds, or income net of charge-backs."""
    return income_minor - expense_minor if side == "income" else expense_minor - income_minor


@dataclass(frozen=True)
class FlowRow:
    """An aggregated row as the store returns it (already restricted to one currency and period)."""

    category_id: UUID
    payee: str
    income_minor: int
    expense_minor: int
    entries: int


@dataclass
class Line:
    key: str
    label: str
    side: str
    amount_minor: int
    entries: int = 0
    group: str = ""
    category_id: UUID | None = None


@dataclass
class Totals:
    income_minor: int
    expense_minor: int

    @property
    def net_minor(self) -> int:
        return self.income_minor - self.expense_minor

    @property
    def savings_rate(self) -> float | None:
        """Net savings as a share of income (None without income: a rate of nothing means nothing)."""
        if self.income_minor <= 0:
            return None
        return round(self.net_minor / self.income_minor, 4)


def category_lines(rows: list[FlowRow], categories: dict[UUID, CategoryInfo]) -> list[Line]:
    sums: dict[UUID, Line] = {}
    for row in rows:
        target = resolve_category(categories, row.category_id)
        side = side_of(categories, target, row.income_minor, row.expense_minor)
        # Uncategorised income and uncategorised spending are two lines, never netted against each other.
        key = target if target != NO_CATEGORY else UUID(int=1 if side == "income" else 0)
        info = categories.get(target)
        line = sums.get(key)
        if line is None:
            if target == NO_CATEGORY:
                label, group = UNCATEGORISED, UNGROUPED
            else:
                label = info.name if info else UNKNOWN_CATEGORY
                group = info.group if info else UNGROUPED
            line = sums[key] = Line(
                key=str(key),
                label=label,
                side=side,
                amount_minor=0,
                group=group,
                category_id=None if target == NO_CATEGORY else target,
            )
        line.amount_minor += signed_amount(side, row.income_minor, row.expense_minor)
        line.entries += row.entries
    return sorted(
        (line for line in sums.values() if line.amount_minor or line.entries),
        key=lambda x: (x.side, -x.amount_minor, x.label.casefold()),
    )


def totals_of(lines: list[Line]) -> Totals:
    return Totals(
        income_minor=sum(x.amount_minor for x in lines if x.side == "income"),
        expense_minor=sum(x.amount_minor for x in lines if x.side == "expense"),
    )


def group_lines(lines: list[Line]) -> list[Line]:
    sums: dict[tuple[str, str], Line] = {}
    for line in lines:
        key = (line.side, line.group)
        total = sums.setdefault(key, Line(key=line.group, label=line.group, side=line.side, amount_minor=0))
        total.amount_minor += line.amount_minor
        total.entries += line.entries
    return sorted(sums.values(), key=lambda x: (x.side, -x.amount_minor, x.label.casefold()))


def payee_lines(
    rows: list[FlowRow], categories: dict[UUID, CategoryInfo], merges: dict[str, str]
) -> list[Line]:
    sums: dict[tuple[str, str], Line] = {}
    for row in rows:
        side = side_of(
            categories, resolve_category(categories, row.category_id), row.income_minor, row.expense_minor
        )
        payee = resolve_payee(merges, row.payee) if row.payee else ""
        key = (side, payee.casefold())
        line = sums.setdefault(key, Line(key=payee, label=payee or "(no payee)", side=side, amount_minor=0))
        line.amount_minor += signed_amount(side, row.income_minor, row.expense_minor)
        line.entries += row.entries
    return sorted(
        (x for x in sums.values() if x.amount_minor or x.entries),
        key=lambda x: (x.side, -x.amount_minor, x.label.casefold()),
    )


@dataclass(frozen=True)
class Change:
    key: str
    label: str
    side: str
    current_minor: int
    previous_minor: int

    @property
    def change_minor(self) -> int:
        return self.current_minor - self.previous_minor


def top_changes(current: list[Line], previous: list[Line], limit: int = 5) -> list[Change]:
    """The lines that moved most (by absolute amount) between two periods."""
    before = {(x.side, x.key): x for x in previous}
    now = {(x.side, x.key): x for x in current}
    changes = [
        Change(
            key=key[1],
            label=(now.get(key) or before[key]).label,
            side=key[0],
            current_minor=now[key].amount_minor if key in now else 0,
            previous_minor=before[key].amount_minor if key in before else 0,
        )
        for key in now.keys() | before.keys()
    ]
    changes = [c for c in changes if c.change_minor]
    return sorted(changes, key=lambda c: (-abs(c.change_minor), c.label.casefold()))[:limit]


def percent_change(current: int, previous: int) -> float | None:
    if previous == 0:
        return None
    return round((current - previous) / abs(previous) * 100, 1)
