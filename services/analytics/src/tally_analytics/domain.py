"""Reporting rules: plain Python, integer minor units only."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import UUID

MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
# Transactions without a category are rolled up under this id (a primary key cannot hold NULL).
NO_CATEGORY = UUID(int=0)
UNCATEGORISED = "Uncategorised"
UNKNOWN_CATEGORY = "Unknown category"


def month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def current_month() -> str:
    return month_of(datetime.now(UTC).date())


@dataclass(frozen=True)
class CategoryTotal:
    category_id: UUID | None
    category_name: str
    currency: str
    income_minor: int
    expense_minor: int


@dataclass(frozen=True)
class CurrencyTotal:
    currency: str
    income_minor: int
    expense_minor: int

    @property
    def net_minor(self) -> int:
        return self.income_minor - self.expense_minor


def totals_by_currency(rows: list[CategoryTotal]) -> list[CurrencyTotal]:
    """One total per currency, sorted by currency code; amounts in different currencies are never added."""
    sums: dict[str, tuple[int, int]] = {}
    for row in rows:
        income, expense = sums.get(row.currency, (0, 0))
        sums[row.currency] = (income + row.income_minor, expense + row.expense_minor)
    return [CurrencyTotal(c, income, expense) for c, (income, expense) in sorted(sums.items())]
