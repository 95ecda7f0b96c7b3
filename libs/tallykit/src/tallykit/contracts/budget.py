"""Events published by the budget service on `budget.events`."""

from datetime import date
from uuid import UUID

from pydantic import Field

from tallykit.contracts import registry
from tallykit.events import EventPayload
from tallykit.money import CurrencyCode, MinorUnits

MonthPeriod = str  # "YYYY-MM"


@registry.event("budget.BudgetSet", consumers=("analytics",))
class BudgetSet(EventPayload):
    """A budget was set (or changed) for a category, or for a group of categories (then `category_id` is
    None and `category_name` is the group's name). An amount of 0 comes from a history imported from another
    app, where a month was budgeted nothing: from `effective_from` on, any spending is over budget."""

    category_id: UUID | None
    category_name: str = Field(max_length=100)
    amount_minor: MinorUnits = Field(ge=0)
    currency: CurrencyCode
    # Optional additions (older events lack them: a monthly budget from the first month on).
    group: str | None = Field(default=None, max_length=100)
    period_kind: str = Field(default="month", pattern=r"^(week|fortnight|month|quarter|year)$")
    effective_from: date | None = None  # the first day of the first period this amount holds for
    rollover: bool = False


@registry.event("budget.BudgetRemoved", consumers=("analytics",))
class BudgetRemoved(EventPayload):
    """A budget was removed: no more alerts for it."""

    category_id: UUID | None
    category_name: str = Field(max_length=100)


class _BudgetAlert(EventPayload):
    budget_id: UUID
    category_id: UUID | None  # None for a group's budget (category_name is then the group's name)
    category_name: str = Field(max_length=100)
    period: MonthPeriod = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")  # the month the period starts in
    threshold_percent: int = Field(ge=1, le=1000)
    spent_minor: MinorUnits
    budget_minor: MinorUnits  # what the period allows: its amount plus any rollover carried into it
    currency: CurrencyCode
    # Optional additions for periods other than calendar months (older events lack them).
    period_start: date | None = None
    period_end: date | None = None  # inclusive
    period_kind: str | None = Field(default=None, pattern=r"^(week|fortnight|month|quarter|year)$")


@registry.event("budget.BudgetThresholdReached", consumers=("notifier",))
class BudgetThresholdReached(_BudgetAlert):
    """Spending in a budget's period reached a warning threshold (80 % by default); once per period."""


@registry.event("budget.BudgetExceeded", consumers=("notifier",))
class BudgetExceeded(_BudgetAlert):
    """Spending in a budget's period reached 100 % of the budget; once per period."""


@registry.event("budget.BudgetPaceWarning", consumers=("notifier",))
class BudgetPaceWarning(EventPayload):
    """Spending so far projects past the budget by the end of its period (once per period and budget)."""

    budget_id: UUID
    category_id: UUID | None  # None for a group's budget
    category_name: str = Field(max_length=100)
    period_start: date
    period_end: date  # inclusive
    spent_minor: MinorUnits
    projected_minor: MinorUnits
    budget_minor: MinorUnits
    currency: CurrencyCode
    method: str = Field(max_length=20)  # "forecast" or "pace"


class _GoalStatus(EventPayload):
    goal_id: UUID
    name: str = Field(min_length=1, max_length=100)
    target_minor: MinorUnits = Field(gt=0)
    saved_minor: MinorUnits
    currency: CurrencyCode
    target_date: date | None = None
    # Optional addition (older events lack it: a savings goal). A debt goal follows a loan or credit-card
    # account to zero: `target_minor` is what it owed when the goal was set, `saved_minor` what was paid off.
    kind: str = Field(default="savings", pattern=r"^(savings|debt)$")


@registry.event("budget.GoalReached", consumers=("notifier",))
class GoalReached(_GoalStatus):
    """A goal reached its target: saved it, or paid off the debt (once per goal, until it drops below and
    reaches it again)."""


@registry.event("budget.GoalBehind", consumers=("notifier",))
class GoalBehind(_GoalStatus):
    """A goal fell behind the pace needed to reach its target by its date (once per month)."""

    needed_per_month_minor: MinorUnits
