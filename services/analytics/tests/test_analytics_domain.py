from uuid import uuid4

from tally_analytics.domain import CategoryTotal, CurrencyTotal, totals_by_currency


def test_totals_add_up_per_currency_only() -> None:
    rows = [
        CategoryTotal(uuid4(), "Groceries", "EUR", 0, 4_749),
        CategoryTotal(uuid4(), "Salary", "EUR", 250_000, 0),
        CategoryTotal(None, "Uncategorised", "EUR", 100, 500),
        CategoryTotal(uuid4(), "Groceries", "USD", 0, 2_000),
        CategoryTotal(uuid4(), "Interest", "CHF", 12, 0),
    ]
    totals = totals_by_currency(rows)
    assert totals == [
        CurrencyTotal("CHF", 12, 0),
        CurrencyTotal("EUR", 250_100, 5_249),
        CurrencyTotal("USD", 0, 2_000),
    ]
    assert [t.net_minor for t in totals] == [12, 244_851, -2_000]


def test_no_rows_no_totals() -> None:
    assert totals_by_currency([]) == []
