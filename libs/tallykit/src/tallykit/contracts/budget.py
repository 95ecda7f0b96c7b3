"""Events published by the budget service on `budget.events`."""

from uuid import UUID

from pydantic import Field

from tallykit.contracts import registry
from tallykit.events import EventPayload
from tallykit.money import CurrencyCode, MinorUnits

MonthPeriod = str  # "YYYY-MM"


@registry.event("budget.BudgetSet")
class BudgetSet(EventPayload):
    """A monthly budget was set (or changed) for a category."""

    category_id: UUID
    category_name: str = Field(max_length=100)
    amount_minor: MinorUnits = Field(gt=0)
    currency: CurrencyCode


class _BudgetAlert(EventPayload):
    budget_id: UUID
    category_id: UUID
    category_name: str = Field(max_length=100)
    period: MonthPeriod = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    threshold_percent: int = Field(ge=1, le=1000)
    spent_minor: MinorUnits
    budget_minor: MinorUnits
    currency: CurrencyCode


@registry.event("budget.BudgetThresholdReached", consumers=("notifier",))
class BudgetThresholdReached(_BudgetAlert):
    """Spending in a budget's period reached a warning threshold (80 % by default); once per period."""


@registry.event("budget.BudgetExceeded", consumers=("notifier",))
class BudgetExceeded(_BudgetAlert):
    """Spending in a budget's period reached 100 % of the budget; once per period."""
