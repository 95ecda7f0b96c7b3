from datetime import date
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from tallykit.contracts.analytics import SavingsOpportunity


class CurrencyTotalPublic(BaseModel):
    currency: str
    income_minor: int
    expense_minor: int
    net_minor: int


class CategoryTotalPublic(BaseModel):
    category_id: UUID | None
    category_name: str
    currency: str
    income_minor: int
    expense_minor: int


class MonthlyReportPublic(BaseModel):
    month: str
    totals: list[CurrencyTotalPublic]
    by_category: list[CategoryTotalPublic]


class PeriodPublic(BaseModel):
    kind: str
    label: str
    start: date
    end: date


class TotalsPublic(BaseModel):
    income_minor: int
    expense_minor: int
    net_minor: int
    savings_rate: float | None  # net / income; None without income


class LinePublic(BaseModel):
    """One line of a breakdown: `side` is income or expense; expense amounts are net of refunds."""

    key: str
    label: str
    side: str
    amount_minor: int
    entries: int
    group: str
    category_id: UUID | None


class ComparisonPublic(BaseModel):
    period: PeriodPublic
    totals: TotalsPublic
    income_change_pct: float | None
    expense_change_pct: float | None
    net_change_minor: int


class ChangePublic(BaseModel):
    key: str
    label: str
    side: str
    current_minor: int
    previous_minor: int
    change_minor: int


class SummaryPublic(BaseModel):
    period: PeriodPublic
    currency: str
    currencies: list[str]
    totals: TotalsPublic
    by_category: list[LinePublic]
    by_group: list[LinePublic]
    by_payee: list[LinePublic]
    by_tag: list[LinePublic]
    vs_previous: ComparisonPublic
    vs_last_year: ComparisonPublic
    top_changes: list[ChangePublic]


class CashFlowPointPublic(BaseModel):
    start: date
    end: date
    income_minor: int
    expense_minor: int
    net_minor: int
    savings_rate: float | None


class CashFlowPublic(BaseModel):
    period: PeriodPublic
    currency: str
    granularity: str
    points: list[CashFlowPointPublic]


class NetWorthPointPublic(BaseModel):
    end: date
    net_worth_minor: int


class AccountSeriesPublic(BaseModel):
    account_id: UUID
    name: str
    kind: str
    balances_minor: list[int]


class NetWorthPublic(BaseModel):
    period: PeriodPublic
    currency: str
    granularity: str
    points: list[NetWorthPointPublic]
    accounts: list[AccountSeriesPublic]


class UnusualPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    transaction_id: UUID
    account_id: UUID
    category_id: UUID
    category_name: str
    payee: str
    amount_minor: int
    typical_minor: int
    currency: str
    booked_on: date
    reason: str
    expected: bool


class RebuildPublic(BaseModel):
    events_applied: int


class ForecastPointPublic(BaseModel):
    day: date
    expected_minor: int
    lower_minor: int  # the 80 % band
    upper_minor: int


class BalanceForecastPublic(BaseModel):
    method: str  # "prophet", or "fallback" (too little history: resampled days)
    fallback_reason: str | None
    start_balance_minor: int
    points: list[ForecastPointPublic]


class AccountForecastPublic(BalanceForecastPublic):
    account_id: UUID
    name: str


class KnownItemPublic(BaseModel):
    day: date
    name: str
    account_id: UUID
    category_id: UUID | None
    payee: str
    amount_minor: int  # signed: income positive


class CashFlowForecastPublic(BaseModel):
    currency: str
    today: date
    horizon_days: int
    fallback_used: bool
    cached: bool
    total: BalanceForecastPublic
    accounts: list[AccountForecastPublic]
    known_items: list[KnownItemPublic]


class CategoryForecastPublic(BaseModel):
    category_id: UUID
    name: str
    spent_minor: int
    expected_minor: int
    lower_minor: int
    upper_minor: int
    budget_minor: int | None
    probability_over_budget: float | None
    method: str
    fallback_reason: str | None


class CategoryForecastsPublic(BaseModel):
    currency: str
    today: date
    period_start: date
    period_end: date
    fallback_used: bool
    cached: bool
    categories: list[CategoryForecastPublic]


class SavingsPublic(BaseModel):
    """A month's savings opportunities in one currency (`tallykit.contracts.analytics.SavingsOpportunity`
    for what each figure is). `history_from` is the household's first booked day in the currency: a
    category is compared with its median only once six whole months lie between it and the month."""

    month: str
    currency: str
    currencies: list[str]
    history_from: date | None
    opportunities: list[SavingsOpportunity]
