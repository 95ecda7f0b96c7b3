from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from tally_budget.domain import percent_used
from tally_budget.store import BudgetRow
from tallykit.money import CurrencyCode, MinorUnits


class BudgetCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category_id: UUID
    amount_minor: MinorUnits = Field(gt=0)
    currency: CurrencyCode


class BudgetPublic(BaseModel):
    id: UUID
    category_id: UUID
    category_name: str
    amount_minor: int
    currency: str
    spent_minor: int
    remaining_minor: int
    percent: int
    alerts: list[int]

    @classmethod
    def of(cls, row: BudgetRow) -> "BudgetPublic":
        return cls(
            id=row.id,
            category_id=row.category_id,
            category_name=row.category_name,
            amount_minor=row.amount_minor,
            currency=row.currency,
            spent_minor=row.spent_minor,
            remaining_minor=row.amount_minor - row.spent_minor,
            percent=percent_used(row.spent_minor, row.amount_minor),
            alerts=row.alerts,
        )


class BudgetsPublic(BaseModel):
    month: str
    items: list[BudgetPublic]
