from uuid import UUID

from pydantic import BaseModel, ConfigDict


class CurrencyTotalPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    currency: str
    income_minor: int
    expense_minor: int
    net_minor: int


class CategoryTotalPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    category_id: UUID | None
    category_name: str
    currency: str
    income_minor: int
    expense_minor: int


class MonthlyReportPublic(BaseModel):
    month: str
    totals: list[CurrencyTotalPublic]
    by_category: list[CategoryTotalPublic]
