"""The query language a person types into the search box, parsed without any I/O."""

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

import pytest

from tally_ledger.query import Cursor, Filters, QueryError, parse
from tallykit.contracts.ledger import ClearedState, EntryKind


def test_the_example_from_the_issue() -> None:
    assert parse("groceries amount>20 after:2026-01-01 tag:trip") == Filters(
        words=("groceries",), amounts=((">", Decimal("20")),), after=date(2026, 1, 1), tags=("trip",))


def test_an_empty_query_filters_nothing() -> None:
    assert parse("") == parse("   ") == Filters()


@pytest.mark.parametrize(("token", "expected"), [
    ("amount>=20", (">=", Decimal("20"))),
    ("amount<100.50", ("<", Decimal("100.50"))),
    ("amount<=5", ("<=", Decimal("5"))),
    ("amount=12,34", ("=", Decimal("12.34"))),
    ("AMOUNT:7", ("=", Decimal("7"))),
])
def test_amount_comparisons_keep_decimals_exact(token: str, expected: tuple[str, Decimal]) -> None:
    assert parse(token).amounts == (expected,)


def test_quoted_phrases_and_quoted_values() -> None:
    filters = parse('"corner shop" payee:"Big Market" category:\'eating out\' account:Checking')
    assert filters.words == ("corner shop",)
    assert (filters.payees, filters.category_names, filters.account_names) == (
        ("Big Market",), ("eating out",), ("Checking",))


def test_dates_days_and_months() -> None:
    assert parse("on:2026-02-28") == Filters(after=date(2026, 2, 28), before=date(2026, 3, 1))
    assert parse("on:2024-02") == Filters(after=date(2024, 2, 1), before=date(2024, 3, 1))
    assert parse("on:2025-12") == Filters(after=date(2025, 12, 1), before=date(2026, 1, 1))
    assert parse("after:2026-01 before:2026-03") == Filters(after=date(2026, 1, 1), before=date(2026, 3, 1))


def test_repeated_filters_narrow_dates_and_collect_values() -> None:
    filters = parse("after:2026-01-01 after:2026-02-01 before:2026-05-01 before:2026-04-01 tag:a TAG:B")
    assert (filters.after, filters.before, filters.tags) == (date(2026, 2, 1), date(2026, 4, 1), ("a", "b"))


def test_kinds_and_states() -> None:
    filters = parse("type:Transfer kind:income status:cleared is:reconciled")
    assert filters.kinds == (EntryKind.transfer, EntryKind.income)
    assert filters.statuses == (ClearedState.cleared, ClearedState.reconciled)


@pytest.mark.parametrize(("query", "message"), [
    ("colour:red", "unknown filter 'colour:'"),
    ("tag:", "needs a value"),
    ("after:yesterday", "YYYY-MM-DD"),
    ("on:2026-13", "YYYY-MM-DD"),
    ("amount>twenty", "amount>20"),
    ("amount>-5", "amount>20"),
    ("type:loan", "expense, income, transfer"),
    ("status:done", "uncleared, cleared, reconciled"),
    ('"unclosed', "cannot read the query"),
])
def test_what_it_cannot_read_is_named(query: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse(query)


def test_words_with_colons_that_are_not_filters_stay_words() -> None:
    assert parse("12:30").words == ("12:30",)


def test_cursors_round_trip_and_refuse_forgeries() -> None:
    cursor = Cursor(date(2026, 1, 2), datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC), uuid4())
    assert Cursor.decode(cursor.encode()) == cursor
    for forged in ("nonsense", "", "MjAyNi0wMS0wMnx4fHk", Cursor.encode(cursor)[:-4]):
        with pytest.raises(QueryError, match="cursor"):
            Cursor.decode(forged)
