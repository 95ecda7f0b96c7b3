"""Money arithmetic, by property: integer minor units add exactly, in any order, and print exactly."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tallykit.money import MAX_MINOR_UNITS, Money, minor_unit_digits

CURRENCIES = ["EUR", "USD", "JPY", "KWD", "CHF", "BHD", "ISK"]
amounts = st.integers(min_value=-(MAX_MINOR_UNITS // 4), max_value=MAX_MINOR_UNITS // 4)


@given(st.sampled_from(CURRENCIES), amounts, amounts, amounts)
def test_addition_is_exact_commutative_and_associative(currency: str, a: int, b: int, c: int) -> None:
    x, y, z = (Money(amount_minor=n, currency=currency) for n in (a, b, c))
    assert (x + y).amount_minor == a + b
    assert x + y == y + x
    assert (x + y) + z == x + (y + z)


@given(st.sampled_from(CURRENCIES), st.integers(min_value=-MAX_MINOR_UNITS, max_value=MAX_MINOR_UNITS))
def test_the_printed_amount_reads_back_to_the_same_minor_units(currency: str, minor: int) -> None:
    number, code = Money(amount_minor=minor, currency=currency).format().split(" ")
    assert code == currency
    assert Decimal(number).scaleb(minor_unit_digits(currency)) == minor


@given(st.lists(st.sampled_from(CURRENCIES), min_size=2, max_size=2, unique=True))
def test_different_currencies_never_add(pair: list[str]) -> None:
    with pytest.raises(ValueError, match="cannot add"):
        _ = Money(amount_minor=1, currency=pair[0]) + Money(amount_minor=1, currency=pair[1])


@given(st.integers(min_value=MAX_MINOR_UNITS + 1, max_value=10**20))
def test_amounts_beyond_the_limit_are_refused(minor: int) -> None:
    with pytest.raises(ValueError, match="within"):
        Money(amount_minor=minor, currency="EUR")
