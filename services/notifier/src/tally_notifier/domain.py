"""What a budget alert says, in plain Python: no I/O, no framework."""

import calendar
from dataclasses import dataclass
from enum import StrEnum

from tallykit.contracts.budget import BudgetExceeded, BudgetThresholdReached
from tallykit.money import Money

BudgetAlertPayload = BudgetThresholdReached | BudgetExceeded


class NotificationType(StrEnum):
    budget_threshold_reached = "budget.threshold_reached"
    budget_exceeded = "budget.exceeded"


class Channel(StrEnum):
    email = "email"


class DeliveryStatus(StrEnum):
    pending = "pending"
    sent = "sent"
    failed = "failed"


def month_label(period: str) -> str:
    """ "2025-06" → "June 2025"."""
    year, month = period.split("-")
    return f"{calendar.month_name[int(month)]} {year}"


@dataclass(frozen=True)
class BudgetAlert:
    type: NotificationType
    category_name: str
    period: str
    threshold_percent: int
    spent: Money
    budget: Money
    household: str

    @classmethod
    def from_payload(cls, payload: BudgetAlertPayload, household: str) -> "BudgetAlert":
        kind = (
            NotificationType.budget_exceeded
            if isinstance(payload, BudgetExceeded)
            else NotificationType.budget_threshold_reached
        )
        return cls(
            type=kind,
            category_name=payload.category_name,
            period=payload.period,
            threshold_percent=payload.threshold_percent,
            spent=Money(amount_minor=payload.spent_minor, currency=payload.currency),
            budget=Money(amount_minor=payload.budget_minor, currency=payload.currency),
            household=household,
        )

    @property
    def exceeded(self) -> bool:
        return self.type is NotificationType.budget_exceeded

    @property
    def over(self) -> Money:
        """How far spending is past the budget (zero when not past it)."""
        return Money(
            amount_minor=max(self.spent.amount_minor - self.budget.amount_minor, 0),
            currency=self.spent.currency,
        )

    @property
    def title(self) -> str:
        if self.exceeded:
            return f"{self.category_name} budget exceeded"
        return f"{self.category_name} budget: {self.threshold_percent}% used"

    @property
    def body(self) -> str:
        month = month_label(self.period)
        spent, budget = self.spent.format(), self.budget.format()
        if self.exceeded:
            over = f", {self.over.format()} over" if self.over.amount_minor else ""
            return f"{spent} spent of the {budget} {self.category_name} budget for {month}{over}."
        return (
            f"{spent} spent of the {budget} {self.category_name} budget for {month} "
            f"({self.threshold_percent}% reached)."
        )

    def link(self, public_url: str) -> str:
        return f"{public_url.rstrip('/')}/#/budgets?month={self.period}"


def backoff_delay_s(attempts: int, base_s: float, cap_s: float) -> float:
    """Seconds to wait after the n-th failed attempt: base, 2 base, 4 base and so on, never above cap."""
    return float(min(base_s * 2 ** max(attempts - 1, 0), cap_s))
