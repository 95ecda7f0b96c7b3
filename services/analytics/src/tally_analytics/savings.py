"""Savings opportunities of a month, in plain Python: where a household could spend less.

- **Above the median.** An expense category whose spending this month (net of refunds) is at least
  `MIN_RISE` (20 %) and `MIN_EXCESS_MINOR` (10.00) above the median of its own 6 months before. Judged
  only when the household's history covers those 6 months (its first booking in the first of them or
  before; a month without spending in the category counts as 0 then); a household with less history is
  not told its categories run high.
- **Subscriptions that rose.** A recurring payment the ledger found (`ledger.RecurringSeries*`) whose price
  rose in the 12 months up to the month's end, still paid: old price → new price, a year at the new
  price and what the rise costs a year.
- **Duplicate subscriptions.** Two or more recurring payments still paid to the same payee (its words,
  any case, without web or company suffixes: "NETFLIX.COM" and "Netflix" are one).
- **Fees and interest.** What categories named like fees, charges or interest (by their name or their
  group, English or German) took this month, and in the 12 months up to its end.

Amounts are one currency at a time, as every report. Each opportunity carries the transactions search
that shows what it counted (the query language of the ledger's transaction list).
"""

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median
from uuid import UUID

from tally_analytics.domain import NO_CATEGORY, CategoryInfo, resolve_category
from tallykit.contracts.analytics import SavingsKind, SavingsOpportunity, SavingsSeries
from tallykit.contracts.ledger import SeriesPeriod

MEDIAN_MONTHS = 6
MIN_RISE = 0.2  # this month at least 20 % above the median ...
MIN_EXCESS_MINOR = 1_000  # ... and at least 10.00 (in minor units) above it
RISE_WINDOW_DAYS = 365  # a price rise is news for a year
PER_YEAR = {
    SeriesPeriod.weekly: 52, SeriesPeriod.monthly: 12, SeriesPeriod.quarterly: 4, SeriesPeriod.yearly: 1
}
# Category names (or groups) that hold fees and interest paid. Whole English words (a "coffee" is no
# fee); German compounds ("Kontoführungsgebühr", "Sollzinsen") by their part.
FEES = re.compile(
    r"\b(fees?|charges?|interest|overdraft|penalt(y|ies)|commissions?)\b|gebühr|zinsen|entgelt|kontoführung",
    re.IGNORECASE,
)
# Words a payee's name carries that do not tell one business from another.
NOISE_WORDS = frozenset({"www", "com", "net", "org", "de", "co", "uk", "eu", "gmbh", "ag", "inc", "ltd",
                         "llc", "bv", "sa", "se", "the"})


@dataclass(frozen=True)
class KnownSeries:
    """A recurring payment as analytics knows it from the ledger's events."""

    id: UUID
    name: str
    payee: str
    expense: bool
    period: SeriesPeriod
    currency: str
    amount_minor: int  # the price in force
    previous_minor: int | None  # the price before it, if it changed
    price_on: date | None  # since when the price is in force (its change), None when it never changed
    first_on: date
    stopped: bool
    dismissed: bool


def month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def quoted(text: str) -> str:
    """A phrase of the search language: double quotes, a quote or backslash inside escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def payee_key(text: str) -> str:
    words = [w for w in re.findall(r"[^\W_]+", text.casefold()) if w not in NOISE_WORDS]
    return " ".join(words)


def is_fee_category(info: CategoryInfo) -> bool:
    return bool(FEES.search(info.name) or FEES.search(info.group))


def find_opportunities(
    month: date,
    currency: str,
    categories: dict[UUID, CategoryInfo],
    monthly: Iterable[tuple[date, UUID, int, int]],
    history_from: date | None,
    series: Sequence[KnownSeries],
) -> list[SavingsOpportunity]:
    """The month's opportunities in `currency`. `monthly` holds (first day of a month, category, income,
    expense) rows of the 12 months up to `month` (more are ignored); `history_from` is the household's
    first booked day in the currency (None: no history)."""
    first, last = month_bounds(month)
    # Spending per (resolved) category and month: expense minus income, income categories apart.
    spent: dict[UUID, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    paid_out: dict[UUID, dict[date, int]] = defaultdict(lambda: defaultdict(int))  # expenses only
    earliest = add_months(first, -11)
    for day, category_id, income, expense in monthly:
        key = day.replace(day=1)
        if key < earliest or key > first or category_id == NO_CATEGORY:
            continue
        resolved = resolve_category(categories, category_id)
        spent[resolved][key] += expense - income
        paid_out[resolved][key] += expense
    found = _above_median(first, currency, categories, spent, history_from)
    found += _subscriptions(last, currency, series)
    found += _fees(first, currency, categories, spent, paid_out)
    return found


def _above_median(
    first: date,
    currency: str,
    categories: Mapping[UUID, CategoryInfo],
    spent: Mapping[UUID, Mapping[date, int]],
    history_from: date | None,
) -> list[SavingsOpportunity]:
    window = [add_months(first, -n) for n in range(MEDIAN_MONTHS, 0, -1)]
    if history_from is None or history_from.replace(day=1) > window[0]:
        return []  # fewer than six months of history: no median of its own yet
    found: list[tuple[int, SavingsOpportunity]] = []
    for category_id, months in spent.items():
        info = categories.get(category_id)
        if info is None or info.kind != "expense":
            continue
        now = months.get(first, 0)
        usual = round(median(months.get(m, 0) for m in window))
        excess = now - usual
        if usual <= 0 or excess < MIN_EXCESS_MINOR or now < usual * (1 + MIN_RISE):
            continue
        found.append((excess, SavingsOpportunity(
            kind=SavingsKind.above_median, name=info.name, currency=currency, amount_minor=now,
            baseline_minor=usual, baseline_months=MEDIAN_MONTHS, change_percent=round(excess * 100 / usual),
            query=f"category:{quoted(info.name)} on:{first:%Y-%m}",
        )))
    return [o for _, o in sorted(found, key=lambda f: (-f[0], f[1].name))]


def _subscriptions(last: date, currency: str, series: Sequence[KnownSeries]) -> list[SavingsOpportunity]:
    paid = [s for s in series if s.expense and s.currency == currency and not s.stopped and not s.dismissed
            and s.first_on <= last]
    rises: list[SavingsOpportunity] = []
    for s in paid:
        if (s.previous_minor is None or s.price_on is None or s.amount_minor <= s.previous_minor
                or not last - timedelta(days=RISE_WINDOW_DAYS) < s.price_on <= last):
            continue
        per_year = PER_YEAR[s.period]
        rises.append(SavingsOpportunity(
            kind=SavingsKind.price_rise, name=s.name, currency=currency, amount_minor=s.amount_minor,
            baseline_minor=s.previous_minor, period=s.period, changed_on=s.price_on,
            change_percent=round((s.amount_minor - s.previous_minor) * 100 / s.previous_minor),
            yearly_minor=s.amount_minor * per_year,
            extra_yearly_minor=(s.amount_minor - s.previous_minor) * per_year, query=_series_query([s]),
        ))
    rises.sort(key=lambda o: (-(o.extra_yearly_minor or 0), o.name))
    groups: dict[str, list[KnownSeries]] = defaultdict(list)
    for s in paid:
        if key := payee_key(s.payee or s.name):
            groups[key].append(s)
    duplicates: list[SavingsOpportunity] = []
    for same in groups.values():
        if len(same) < 2:
            continue
        same.sort(key=lambda s: (-s.amount_minor * PER_YEAR[s.period], s.name, str(s.id)))
        members = [SavingsSeries(name=s.name, amount_minor=s.amount_minor, period=s.period,
                                 yearly_minor=s.amount_minor * PER_YEAR[s.period]) for s in same]
        yearly = sum(m.yearly_minor for m in members)
        duplicates.append(SavingsOpportunity(
            kind=SavingsKind.duplicate, name=same[0].payee or same[0].name, currency=currency,
            amount_minor=yearly, yearly_minor=yearly, series=tuple(members[:20]), query=_series_query(same),
        ))
    duplicates.sort(key=lambda o: (-o.amount_minor, o.name))
    return rises + duplicates


def _series_query(series: Sequence[KnownSeries]) -> str:
    """The payments of the series: by payee (several payees: any of them), else by the name's words."""
    payees = list(dict.fromkeys(s.payee for s in series if s.payee))
    if payees:
        return " ".join(f"payee:{quoted(p)}" for p in payees) + " type:expense"
    return f"{quoted(series[0].name)} type:expense"


def _fees(
    first: date,
    currency: str,
    categories: Mapping[UUID, CategoryInfo],
    spent: Mapping[UUID, Mapping[date, int]],
    paid_out: Mapping[UUID, Mapping[date, int]],
) -> list[SavingsOpportunity]:
    """Fees and interest paid: on an expense category net of refunds; on an income category ("Interest"
    of the default categories) only what went out (what came in there was earned)."""
    found: list[SavingsOpportunity] = []
    for category_id, info in categories.items():
        if info.merged_into is not None or not is_fee_category(info):
            continue
        income_side = info.kind == "income"
        months = (paid_out if income_side else spent).get(category_id, {})
        now = months.get(first, 0)
        if now <= 0:
            continue
        query = f"category:{quoted(info.name)} on:{first:%Y-%m}" + (" type:expense" if income_side else "")
        found.append(SavingsOpportunity(
            kind=SavingsKind.fees, name=info.name, currency=currency, amount_minor=now,
            yearly_minor=max(sum(months.values()), 0), query=query,
        ))
    return sorted(found, key=lambda o: (-o.amount_minor, o.name))
