"""A budget's figures for one period, read from the store and computed by the domain rules."""

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from tally_budget import domain, store
from tally_budget.periods import Period, PeriodKind, period_containing, previous_period


@dataclass(frozen=True)
class Figures:
    budget: store.Budget
    period: Period
    limit: domain.Limit | None  # None: the budget is not in force in this period (set later)
    spent_minor: int
    previous_spent_minor: int
    # The previous period's spending up to `compared_through`, the same point of it as today is of this
    # one (all of it when this period is over): what the trend compares with.
    previous_to_date_minor: int
    compared_through: date


@dataclass
class Context:
    """What every budget of a tenant needs to know, read once per request or event."""

    tenant_id: UUID
    categories: store.CategoryMap
    known: set[UUID]

    @classmethod
    async def load(cls, session: AsyncSession, tenant_id: UUID) -> "Context":
        return cls(
            tenant_id=tenant_id,
            categories=await store.category_map(session, tenant_id),
            known=await store.flow_categories(session, tenant_id),
        )

    def members(self, budget: store.Budget) -> set[UUID]:
        return domain.members(budget.target, self.known, self.categories.infos, self.categories.merges)

    def name_of(self, budget: store.Budget) -> str:
        if budget.group_name is not None:
            return budget.group_name
        assert budget.category_id is not None
        info = self.categories.infos.get(budget.category_id)
        return info.name if info else ""


async def figures(
    session: AsyncSession, context: Context, budget: store.Budget, day: date, today: date | None = None
) -> Figures:
    """Spent, limit (with rollover) and the previous period's spending, for the period containing `day`;
    with `today`, also the previous period's spending up to the same point (domain.same_point)."""
    period = period_containing(budget.spec, day)
    previous = previous_period(budget.spec, period)
    through = domain.same_point(period, previous, today)
    first = domain.rollover_start(budget.spec, budget.versions, period)
    start = min(first.start, previous.start) if first else previous.start
    by_day = await store.spent_by_day(
        session, context.tenant_id, context.members(budget), budget.currency, start, period.end
    )
    return Figures(
        budget=budget,
        period=period,
        limit=domain.limit_for(budget.spec, budget.versions, by_day, period),
        spent_minor=sum(v for d, v in by_day.items() if d in period),
        previous_spent_minor=sum(v for d, v in by_day.items() if d in previous),
        previous_to_date_minor=sum(v for d, v in by_day.items() if previous.start <= d <= through),
        compared_through=through,
    )


def reference_day(budget: store.Budget, month: str | None, on: date | None, today: date) -> date:
    """The day whose period a listing shows: `on`, or for `month` the period labelled with that month
    (a pay month starting on the 25th: from the 25th of it), or today."""
    if on is not None:
        return on
    if month is None:
        return today
    year, number = (int(part) for part in month.split("-"))
    if budget.spec.kind is PeriodKind.month:
        return date(year, number, budget.spec.start_day)
    first = date(year, number, 1)
    return today if domain.month_of(today) == month else first
