from datetime import date

import pytest

from tally_budget.domain import month_of, percent_used, thresholds_reached


@pytest.mark.parametrize(
    ("spent", "budget", "reached"),
    [
        (0, 10_000, []),
        (7_999, 10_000, []),  # 79.99 % does not reach 80
        (8_000, 10_000, [80]),  # exactly 80 % does
        (9_999, 10_000, [80]),
        (10_000, 10_000, [80, 100]),
        (25_000, 10_000, [80, 100]),
        (3, 4, []),  # 75 %
        (4, 5, [80]),  # 80 % of a tiny budget, no rounding involved
        (799_999_999_999_999, 10**15, []),  # integers stay exact where floats would not
        (8 * 10**14, 10**15, [80]),
    ],
)
def test_thresholds_reached(spent: int, budget: int, reached: list[int]) -> None:
    assert thresholds_reached(spent, budget) == reached


@pytest.mark.parametrize(
    ("spent", "budget", "percent"),
    [(0, 100, 0), (7_999, 10_000, 79), (8_000, 10_000, 80), (2, 3, 66), (10_001, 10_000, 100), (30, 10, 300)],
)
def test_percent_used_rounds_down(spent: int, budget: int, percent: int) -> None:
    assert percent_used(spent, budget) == percent


def test_a_budget_is_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        thresholds_reached(1, 0)
    with pytest.raises(ValueError, match="positive"):
        percent_used(1, -5)


def test_month_of() -> None:
    assert month_of(date(2025, 1, 31)) == "2025-01"
    assert month_of(date(987, 12, 1)) == "0987-12"
