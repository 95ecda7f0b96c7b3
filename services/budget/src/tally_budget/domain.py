"""Budget rules: plain Python, integer arithmetic only (money is minor units, never a float)."""

from datetime import UTC, date, datetime

# Alerts fire when spending reaches these percentages of a budget, each at most once per month.
THRESHOLDS: tuple[int, ...] = (80, 100)
EXCEEDED_THRESHOLD = 100
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


def month_of(day: date) -> str:
    """The budget period ("YYYY-MM") a booking date falls in."""
    return f"{day.year:04d}-{day.month:02d}"


def current_month() -> str:
    return month_of(datetime.now(UTC).date())


def percent_used(spent_minor: int, budget_minor: int) -> int:
    """Whole percent of the budget spent, rounded down (79.99 % is 79)."""
    if budget_minor <= 0:
        raise ValueError("a budget amount is always positive")
    return spent_minor * 100 // budget_minor


def thresholds_reached(spent_minor: int, budget_minor: int) -> list[int]:
    """The thresholds this much spending has reached, lowest first: spent * 100 >= budget * threshold."""
    if budget_minor <= 0:
        raise ValueError("a budget amount is always positive")
    return [t for t in THRESHOLDS if spent_minor * 100 >= budget_minor * t]
