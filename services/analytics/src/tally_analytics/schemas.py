from uuid import UUID

from pydantic import BaseModel

from tally_analytics.domain import CategoryTotal, CurrencyTotal


class CurrencyTotalPublic(BaseModel):
    currency: str
    income_minor: int
    expense_minor: int
    net_minor: int

    @classmethod
    def of(cls, total: CurrencyTotal) -> "CurrencyTotalPublic":
        return cls(
            currency=total.currency,
            income_minor=total.income_minor,
            expense_minor=total.expense_minor,
            net_minor=total.net_minor,
        )


class CategoryTotalPublic(BaseModel):
    category_id: UUID | None
    category_name: str
    currency: str
    income_minor: int
    expense_minor: int

    @classmethod
    def of(cls, total: CategoryTotal) -> "CategoryTotalPublic":
        return cls(
            category_id=total.category_id,
            category_name=total.category_name,
            currency=total.currency,
            income_minor=total.income_minor,
            expense_minor=total.expense_minor,
        )


class MonthlyReportPublic(BaseModel):
    month: str
    totals: list[CurrencyTotalPublic]
    by_category: list[CategoryTotalPublic]
