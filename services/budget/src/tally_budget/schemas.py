from datetime import date
from typing import Annotated, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from tally_budget import domain
from tally_budget.figures import Figures
from tally_budget.goals import GoalKind, GoalStatus, Progress, Projection
from tally_budget.periods import MAX_START_DAY, PeriodKind
from tally_budget.store import Goal
from tallykit.money import CurrencyCode, MinorUnits

Threshold = Annotated[int, Field(ge=1, le=1000)]
Thresholds = Annotated[list[Threshold], Field(min_length=1, max_length=5)]
GroupName = Annotated[str, Field(min_length=1, max_length=100)]


def _unique(values: list[int] | None) -> list[int] | None:
    if values is not None and len(set(values)) != len(values):
        raise ValueError("thresholds must differ")
    return values


class BudgetCreate(BaseModel):
    """A budget for one category (`category_id`) or one group of categories (`group`)."""

    model_config = ConfigDict(extra="forbid")

    category_id: UUID | None = None
    group: GroupName | None = None
    amount_minor: MinorUnits = Field(gt=0)
    currency: CurrencyCode | None = Field(default=None, description="default: the household's currency")
    period: PeriodKind = PeriodKind.month
    start_day: int = Field(default=1, ge=1, le=MAX_START_DAY, description="month: the day periods start on")
    anchor: date | None = Field(default=None, description="fortnight: a day a period starts on (a pay day)")
    rollover: StrictBool = False
    thresholds: Thresholds = Field(default_factory=lambda: list(domain.THRESHOLDS))
    pace_alerts: StrictBool = Field(
        default=False, description="warn when spending is on pace to pass the budget (off unless asked)"
    )
    effective_from: date | None = Field(default=None, description="a day of the first period; default today")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if (self.category_id is None) == (self.group is None):
            raise ValueError("give either category_id or group")
        if self.start_day != 1 and self.period is not PeriodKind.month:
            raise ValueError("only monthly budgets start on another day than the 1st")
        if self.anchor is not None and self.period is not PeriodKind.fortnight:
            raise ValueError("only fortnightly budgets have an anchor date")
        _unique(self.thresholds)
        return self


class BudgetChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_minor: MinorUnits | None = Field(default=None, gt=0)
    rollover: StrictBool | None = None
    thresholds: Thresholds | None = None
    pace_alerts: StrictBool | None = None
    effective_from: date | None = Field(default=None, description="a day of the first period it holds for")

    @model_validator(mode="after")
    def _check(self) -> Self:
        _unique(self.thresholds)
        if not self.model_fields_set:
            raise ValueError("nothing to change")
        return self


class BudgetPublic(BaseModel):
    id: UUID
    category_id: UUID | None
    group: str | None
    category_name: str
    period_kind: PeriodKind
    start_day: int
    anchor: date | None
    period_start: date
    period_end: date
    amount_minor: int
    rollover: bool
    carried_minor: int
    available_minor: int
    currency: str
    spent_minor: int
    remaining_minor: int
    percent: int
    alerts: list[int]
    thresholds: list[int]
    pace_alerts: bool
    previous_spent_minor: int
    previous_to_date_minor: int = Field(
        description="the previous period's spending up to compared_through, what trend_percent compares with"
    )
    compared_through: date = Field(
        description="as far into the previous period as today is into this one (its end once this is over)"
    )
    trend_percent: int | None
    projected_minor: int | None

    @classmethod
    def of(cls, f: Figures, name: str, alerts: list[int], today: date) -> "BudgetPublic":
        assert f.limit is not None
        version = domain.version_for(f.budget.versions, f.period)
        available = f.limit.available_minor
        return cls(
            id=f.budget.id,
            category_id=f.budget.category_id,
            group=f.budget.group_name,
            category_name=name,
            period_kind=f.budget.spec.kind,
            start_day=f.budget.spec.start_day,
            anchor=f.budget.spec.anchor,
            period_start=f.period.start,
            period_end=f.period.end,
            amount_minor=f.limit.amount_minor,
            rollover=bool(version and version.rollover),
            carried_minor=f.limit.carried_minor,
            available_minor=available,
            currency=f.budget.currency,
            spent_minor=f.spent_minor,
            remaining_minor=available - f.spent_minor,
            percent=domain.percent_used(f.spent_minor, available),
            alerts=alerts,
            thresholds=list(f.budget.thresholds),
            pace_alerts=f.budget.pace_alerts,
            previous_spent_minor=f.previous_spent_minor,
            previous_to_date_minor=f.previous_to_date_minor,
            compared_through=f.compared_through,
            trend_percent=domain.trend_percent(f.spent_minor, f.previous_to_date_minor),
            projected_minor=domain.pace_projection(f.spent_minor, f.period, today),
        )


class BudgetTotal(BaseModel):
    currency: str
    available_minor: int
    spent_minor: int
    remaining_minor: int


class BudgetsPublic(BaseModel):
    month: str | None
    on: date
    items: list[BudgetPublic]
    totals: list[BudgetTotal]


class AmountVersionPublic(BaseModel):
    effective_from: date
    amount_minor: int
    rollover: bool


class PeriodFigures(BaseModel):
    period_start: date
    period_end: date
    available_minor: int
    spent_minor: int


class BudgetDetail(BudgetPublic):
    versions: list[AmountVersionPublic]
    history: list[PeriodFigures]


class AlertPublic(BaseModel):
    id: int
    budget_id: UUID
    type: str
    threshold: int | None
    period_start: date
    period_end: date
    spent_minor: int
    budget_minor: int


class AlertsPublic(BaseModel):
    items: list[AlertPublic]


class AvailablePublic(BaseModel):
    """For people who budget every unit of income: the month's income, as the household counts it
    (`basis`), minus what the month's monthly budgets give out (in the household's currency)."""

    month: str
    currency: str
    basis: domain.IncomeBasis
    income_minor: int = Field(description="the income counted: this month's or last month's, by basis")
    income_this_month_minor: int
    income_last_month_minor: int
    budgeted_minor: int
    available_minor: int


class BudgetSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    income_basis: domain.IncomeBasis = Field(
        description="what available to budget counts as income: this month's so far, or last month's"
    )


# --- goals -----------------------------------------------------------------------------------------------


class GoalCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    kind: GoalKind = Field(
        default=GoalKind.savings,
        description="savings: reach a target amount; debt: pay off a loan or credit-card account to zero",
    )
    target_minor: MinorUnits | None = Field(
        default=None, gt=0, description="a savings goal's target; a debt goal's is what its account owes now"
    )
    currency: CurrencyCode | None = None
    target_date: date | None = None
    account_id: UUID | None = Field(default=None, description="follow this account's balance")

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.kind is GoalKind.savings and self.target_minor is None:
            raise ValueError("a savings goal needs a target amount")
        if self.kind is GoalKind.debt:
            if self.target_minor is not None:
                raise ValueError("a debt goal's target is what its account owes: leave target_minor out")
            if self.account_id is None:
                raise ValueError("a debt goal follows a loan or credit-card account: give its account_id")
        return self


class GoalChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=100)
    target_minor: MinorUnits | None = Field(default=None, gt=0)
    target_date: date | None = None
    account_id: UUID | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("nothing to change")
        for name in ("name", "target_minor"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be removed")
        return self


class ContributionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_minor: MinorUnits = Field(description="negative to take money out")
    day: date | None = None
    note: str = Field(default="", max_length=200)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.amount_minor == 0:
            raise ValueError("a contribution moves some money")
        return self


class ContributionPublic(BaseModel):
    id: UUID
    amount_minor: int
    day: date
    note: str


class GoalPoint(BaseModel):
    day: date
    saved_minor: int


class GoalPublic(BaseModel):
    id: UUID
    name: str
    kind: GoalKind
    target_minor: int = Field(description="a debt goal's: what its account owed when the goal was set")
    currency: str
    target_date: date | None
    account_id: UUID | None
    account_name: str | None
    start_date: date
    saved_minor: int = Field(description="a debt goal's: what was paid off since")
    owed_minor: int | None = Field(description="a debt goal's: what its account still owes")
    percent: int
    needed_per_month_minor: int
    expected_minor: int | None
    status: GoalStatus
    pace_per_month_minor: int | None = Field(
        description="progress per month over about the last three months; none with less than four weeks"
    )
    projected_date: date | None = Field(description="when the target is reached at that pace; none: not")

    @classmethod
    def of(
        cls, goal: Goal, progress: Progress, projection: Projection | None, account_name: str | None
    ) -> "GoalPublic":
        debt = goal.kind == GoalKind.debt
        return cls(
            id=goal.id,
            name=goal.name,
            kind=GoalKind(goal.kind),
            target_minor=goal.target_minor,
            currency=goal.currency,
            target_date=goal.target_date,
            account_id=goal.account_id,
            account_name=account_name,
            start_date=goal.start_date,
            saved_minor=progress.saved_minor,
            owed_minor=max(goal.target_minor - progress.saved_minor, 0) if debt else None,
            percent=progress.percent,
            needed_per_month_minor=progress.needed_per_month_minor,
            expected_minor=progress.expected_minor,
            status=progress.status,
            pace_per_month_minor=projection.pace_per_month_minor if projection else None,
            projected_date=projection.projected_date if projection else None,
        )


class GoalDetail(GoalPublic):
    history: list[GoalPoint]
    contributions: list[ContributionPublic]


class GoalsPublic(BaseModel):
    items: list[GoalPublic]
