"""Savings opportunities, decided in plain Python (`tally_analytics.savings`): categories above their own
6-month median, subscriptions that rose, duplicate subscriptions, fees and interest paid — and nothing
for a household with too little history or none."""

from datetime import date
from uuid import UUID, uuid4

from tally_analytics.domain import CategoryInfo
from tally_analytics.savings import KnownSeries, add_months, find_opportunities, payee_key, quoted
from tallykit.contracts.analytics import SavingsKind
from tallykit.contracts.ledger import SeriesPeriod

MONTH = date(2026, 3, 1)
GROCERIES, RENT, DINING, SNACKS, BANK, INTEREST, COFFEE, OLD = (uuid4() for _ in range(8))
CATEGORIES = {
    GROCERIES: CategoryInfo(GROCERIES, "Groceries", "Food", "expense"),
    RENT: CategoryInfo(RENT, "Rent", "Home", "expense"),
    DINING: CategoryInfo(DINING, "Dining", "Food", "expense"),
    SNACKS: CategoryInfo(SNACKS, "Snacks", "Food", "expense"),
    BANK: CategoryInfo(BANK, "Bank fees", "Other", "expense"),
    INTEREST: CategoryInfo(INTEREST, "Interest", "Income", "income"),
    COFFEE: CategoryInfo(COFFEE, "Coffee", "Food", "expense"),
    OLD: CategoryInfo(OLD, "Supermarket", "Food", "expense", merged_into=GROCERIES),
}


def months_before(count: int) -> list[date]:
    return [add_months(MONTH, -n) for n in range(count, 0, -1)]


def spending(category: UUID, amounts: list[int], this_month: int) -> list[tuple[date, UUID, int, int]]:
    """Rows of the months before `MONTH` (the last amount the month just before it), then `MONTH`."""
    rows = [(m, category, 0, a) for m, a in zip(months_before(len(amounts)), amounts, strict=True)]
    return [*rows, (MONTH.replace(day=15), category, 0, this_month)]


def series(name: str, amount: int, **kw: object) -> KnownSeries:
    values: dict[str, object] = {
        "id": uuid4(), "name": name, "payee": name, "expense": True, "period": SeriesPeriod.monthly,
        "currency": "EUR", "amount_minor": amount, "previous_minor": None, "price_on": None,
        "first_on": date(2025, 1, 5), "stopped": False, "dismissed": False,
    }
    return KnownSeries(**(values | kw))  # type: ignore[arg-type]


def find(rows: list[tuple[date, UUID, int, int]], history_from: date | None = date(2025, 1, 1),
         found: list[KnownSeries] | None = None) -> list:  # type: ignore[type-arg]
    return find_opportunities(MONTH, "EUR", CATEGORIES, rows, history_from, found or [])


def test_a_category_well_above_its_six_month_median() -> None:
    rows = (
        spending(GROCERIES, [25_000, 27_000, 28_000, 28_000, 30_000, 31_000], 41_200)
        + spending(RENT, [100_000] * 6, 100_000)
        + spending(DINING, [10_000] * 6, 11_500)  # +15 %: not enough
        + spending(SNACKS, [2_000] * 6, 2_900)  # +45 %, but 9.00: too little to matter
    )
    [above] = find(rows)
    assert above.kind is SavingsKind.above_median
    assert (above.name, above.amount_minor, above.baseline_minor, above.baseline_months) == (
        "Groceries", 41_200, 28_000, 6)
    assert above.change_percent == 47
    assert above.query == 'category:"Groceries" on:2026-03'


def test_refunds_merges_and_empty_months_count() -> None:
    # Four months of 300.00 and two without any groceries: the median is 300.00. A merged category's
    # spending is its target's; a refund lowers the month.
    rows = [(m, GROCERIES, 0, 30_000) for m in months_before(6)[2:]]
    rows += [(MONTH, OLD, 0, 30_000), (MONTH, GROCERIES, 2_000, 20_000)]
    [above] = find(rows)
    assert (above.amount_minor, above.baseline_minor, above.change_percent) == (48_000, 30_000, 60)
    assert find([(m, GROCERIES, 0, 30_000) for m in months_before(6)] + [(MONTH, GROCERIES, 0, 30_000)]) == []


def test_under_six_months_of_history_no_median_but_fees_and_subscriptions() -> None:
    rows = [*spending(GROCERIES, [10_000] * 5, 50_000), (MONTH, BANK, 0, 1_250)]
    rose = series("STREAMFLIX.COM", 1_599, previous_minor=1_299, price_on=date(2026, 1, 12))
    found = find(rows, history_from=months_before(5)[0], found=[rose])
    assert [o.kind for o in found] == [SavingsKind.price_rise, SavingsKind.fees]
    # With the sixth month of history, the same figures are judged.
    found = find(rows, history_from=months_before(6)[0], found=[rose])
    assert [o.kind for o in found] == [SavingsKind.above_median, SavingsKind.price_rise, SavingsKind.fees]
    assert found[0].baseline_minor == 10_000


def test_an_empty_household_has_none() -> None:
    assert find([], history_from=None) == []
    assert find([], history_from=date(2020, 1, 1)) == []


def test_subscriptions_that_rose() -> None:
    rose = series("STREAMFLIX.COM", 1_599, previous_minor=1_299, price_on=date(2026, 1, 12))
    long_ago = series("Gym", 3_500, previous_minor=3_000, price_on=date(2025, 2, 1))
    cheaper = series("Phone", 1_000, previous_minor=1_500, price_on=date(2026, 2, 1))
    stopped = series("Magazine", 900, previous_minor=500, price_on=date(2026, 2, 1), stopped=True)
    dismissed = series("Cloud", 300, previous_minor=200, price_on=date(2026, 2, 1), dismissed=True)
    income = series("Salary", 300_000, previous_minor=280_000, price_on=date(2026, 2, 1), expense=False)
    later = series("News", 1_500, previous_minor=1_000, price_on=date(2026, 4, 2))  # after the month
    dollars = series("Cloud US", 500, previous_minor=400, price_on=date(2026, 2, 1), currency="USD")
    yearly = series("Insurance", 36_000, previous_minor=30_000, price_on=date(2026, 3, 3),
                    period=SeriesPeriod.yearly)
    found = find([], found=[rose, long_ago, cheaper, stopped, dismissed, income, later, dollars, yearly])
    assert [(o.name, o.amount_minor, o.baseline_minor, o.change_percent, o.yearly_minor, o.extra_yearly_minor)
            for o in found] == [
        ("Insurance", 36_000, 30_000, 20, 36_000, 6_000),
        ("STREAMFLIX.COM", 1_599, 1_299, 23, 19_188, 3_600),
    ]
    assert found[1].period is SeriesPeriod.monthly
    assert found[1].changed_on == date(2026, 1, 12)
    assert found[1].query == 'payee:"STREAMFLIX.COM" type:expense'


def test_duplicate_subscriptions() -> None:
    a = series("NETFLIX.COM", 799)
    b = series("Netflix", 1_299)
    weekly = series("Spotify AB", 250, period=SeriesPeriod.weekly)
    other = series("Spotify", 999)
    ended = series("Disney+", 899, stopped=True)
    ended_too = series("Disney Plus", 899)  # not the same words; and its twin is no longer paid anyway
    found = find([], found=[a, b, weekly, other, ended, ended_too])
    assert [(o.kind, o.name, o.amount_minor) for o in found] == [
        (SavingsKind.duplicate, "Netflix", (799 + 1_299) * 12),
    ]
    [dup] = found
    assert [(s.name, s.amount_minor, s.yearly_minor) for s in dup.series] == [
        ("Netflix", 1_299, 15_588), ("NETFLIX.COM", 799, 9_588)]
    assert dup.query == 'payee:"Netflix" payee:"NETFLIX.COM" type:expense'
    assert payee_key("www.NETFLIX.com") == payee_key("Netflix GmbH") == "netflix"


def test_fees_and_interest_paid() -> None:
    kontofuehrung = uuid4()
    categories = CATEGORIES | {
        kontofuehrung: CategoryInfo(kontofuehrung, "Kontoführungsgebühren", "Bank", "expense"),
    }
    rows = [
        (months_before(1)[0], BANK, 0, 500),
        (MONTH, BANK, 250, 1_500),  # 2.50 of it refunded
        (MONTH, INTEREST, 200, 3_000),  # 30.00 overdraft interest paid, 2.00 earned
        (months_before(12)[0], INTEREST, 0, 9_999),  # more than 12 months ago
        (MONTH, COFFEE, 0, 4_000),  # no fee
        (MONTH, kontofuehrung, 0, 890),
    ]
    found = find_opportunities(MONTH, "EUR", categories, rows, date(2025, 6, 1), [])
    assert [(o.kind, o.name, o.amount_minor, o.yearly_minor) for o in found] == [
        (SavingsKind.fees, "Interest", 3_000, 3_000),
        (SavingsKind.fees, "Bank fees", 1_250, 1_750),
        (SavingsKind.fees, "Kontoführungsgebühren", 890, 890),
    ]
    assert found[0].query == 'category:"Interest" on:2026-03 type:expense'
    assert found[1].query == 'category:"Bank fees" on:2026-03'


def test_queries_quote_what_names_hold() -> None:
    assert quoted('Tom "the" shop') == '"Tom \\"the\\" shop"'
    assert quoted("back\\slash") == '"back\\\\slash"'
