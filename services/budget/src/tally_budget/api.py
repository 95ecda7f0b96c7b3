from dataclasses import asdict
from datetime import date, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tally_budget import commands, domain, goals, store
from tally_budget.figures import Context, figures, reference_day
from tally_budget.flows import UNCATEGORISED
from tally_budget.periods import PeriodKind, previous_period
from tally_budget.schemas import (
    AlertPublic,
    AlertsPublic,
    AmountVersionPublic,
    AvailablePublic,
    BudgetChange,
    BudgetCreate,
    BudgetDetail,
    BudgetPublic,
    BudgetSettings,
    BudgetsPublic,
    BudgetTotal,
    ContributionCreate,
    ContributionPublic,
    GoalChange,
    GoalCreate,
    GoalDetail,
    GoalPoint,
    GoalPublic,
    GoalsPublic,
    PeriodFigures,
)
from tallykit.app import db_of, settings_of
from tallykit.errors import InvalidInput, NotFound
from tallykit.tokens import CurrentPrincipal

router = APIRouter(tags=["budgets"])

MonthQuery = Annotated[
    str | None, Query(pattern=domain.MONTH_PATTERN, description="YYYY-MM: that month's periods")
]
OnQuery = Annotated[date | None, Query(description="the periods containing this day; default today")]
HISTORY_PERIODS = 12


async def _overview(
    session: AsyncSession, tenant_id: UUID, month: str | None, on: date | None
) -> BudgetsPublic:
    today = domain.today_in((await store.get_household(session, tenant_id)).time_zone)
    context = await Context.load(session, tenant_id)
    items = []
    for budget in await store.list_budgets(session, tenant_id):
        result = await figures(session, context, budget, reference_day(budget, month, on, today), today)
        if result.limit is None:
            continue  # not in force yet in that period
        fired = await store.fired_thresholds(session, budget.id, result.period.start)
        items.append(BudgetPublic.of(result, context.name_of(budget), sorted(fired - {store.PACE}), today))
    items.sort(key=lambda i: (i.category_name.casefold(), str(i.id)))
    totals = domain.totals_by_currency(
        domain.Total(i.currency, i.available_minor, i.spent_minor, i.remaining_minor) for i in items
    )
    return BudgetsPublic(
        month=month or (None if on else domain.month_of(today)),
        on=domain.overview_day(month, on, today),
        items=items,
        totals=[BudgetTotal(**asdict(t)) for t in totals],
    )


@router.post("/budgets", status_code=201)
async def set_budget(body: BudgetCreate, principal: CurrentPrincipal, request: Request) -> BudgetPublic:
    """Create the budget of a category or group, or (posting again with the same period) change its
    amount and rollover from the period containing `effective_from` (default: now) on."""
    command = commands.SetBudget(
        target=domain.Target(category_id=body.category_id, group=body.group),
        amount_minor=body.amount_minor,
        currency=body.currency,
        period_kind=body.period,
        start_day=body.start_day,
        anchor=body.anchor,
        rollover=body.rollover,
        # Posting again for an existing budget keeps the thresholds and pace setting it was not given.
        thresholds=tuple(body.thresholds) if "thresholds" in body.model_fields_set else None,
        pace_alerts=body.pace_alerts if "pace_alerts" in body.model_fields_set else None,
        effective_from=body.effective_from,
    )
    saved = await commands.set_budget(db_of(request), settings_of(request), principal, command)
    return BudgetPublic.of(saved.figures, saved.name, saved.alerts, saved.today)


@router.get("/budgets")
async def list_budgets(
    principal: CurrentPrincipal, request: Request, month: MonthQuery = None, on: OnQuery = None
) -> BudgetsPublic:
    """Every budget in force in the period containing `on` (or of `month`, or today): spent, left,
    percent, what rollover carried, and the trend against the period before."""
    async with db_of(request).read() as session:
        return await _overview(session, principal.tenant_id, month, on)


@router.get("/budgets/overview")
async def overview(
    principal: CurrentPrincipal, request: Request, month: MonthQuery = None, on: OnQuery = None
) -> BudgetsPublic:
    """The same as GET /budgets (the budget screen's overview), with totals per currency."""
    async with db_of(request).read() as session:
        return await _overview(session, principal.tenant_id, month, on)


@router.get("/budgets/available")
async def available_to_budget(
    principal: CurrentPrincipal, request: Request, month: MonthQuery = None
) -> AvailablePublic:
    """The month's income (income categories and uncategorised incomes; this month's so far or last
    month's, as the household chose in /settings) minus what the monthly budgets give out for it, in the
    household's currency. Both months' incomes come along, to show how it was worked out."""
    async with db_of(request).read() as session:
        household = await store.get_household(session, principal.tenant_id)
        today = domain.today_in(household.time_zone)
        month = month or domain.month_of(today)
        context = await Context.load(session, principal.tenant_id)
        budgets = await store.list_budgets(session, principal.tenant_id)
        currency = household.base_currency or (budgets[0].currency if budgets else None)
        if currency is None:
            raise InvalidInput("the household has no currency yet: set a budget or the household's currency")
        basis = await _income_basis(session, principal.tenant_id)
        year, number = (int(part) for part in month.split("-"))
        first = date(year, number, 1)
        before = (first - timedelta(days=1)).replace(day=1)
        ids = domain.income_categories(context.known, context.categories.infos, context.categories.merges)
        ids |= {UNCATEGORISED}
        tenant = principal.tenant_id
        this_month = await store.income(session, tenant, ids, currency, first, _month_end(first))
        last_month = await store.income(session, tenant, ids, currency, before, _month_end(before))
        budgeted = 0
        for budget in budgets:
            if budget.spec.kind is PeriodKind.month and budget.currency == currency:
                result = await figures(session, context, budget, date(year, number, budget.spec.start_day))
                if result.limit is not None:
                    budgeted += result.limit.amount_minor
    income = domain.income_for(basis, this_month, last_month)
    return AvailablePublic(
        month=month,
        currency=currency,
        basis=basis,
        income_minor=income,
        income_this_month_minor=this_month,
        income_last_month_minor=last_month,
        budgeted_minor=budgeted,
        available_minor=income - budgeted,
    )


async def _income_basis(session: AsyncSession, tenant_id: UUID) -> domain.IncomeBasis:
    stored = await store.get_income_basis(session, tenant_id)
    return domain.IncomeBasis(stored) if stored else domain.IncomeBasis.this_month


@router.get("/settings")
async def get_settings(principal: CurrentPrincipal, request: Request) -> BudgetSettings:
    """The household's budgeting settings."""
    async with db_of(request).read() as session:
        return BudgetSettings(income_basis=await _income_basis(session, principal.tenant_id))


@router.put("/settings")
async def put_settings(body: BudgetSettings, principal: CurrentPrincipal, request: Request) -> BudgetSettings:
    """Choose what "available to budget" counts as the month's income (members who may write)."""
    await commands.set_income_basis(db_of(request), principal, body.income_basis)
    return body


def _month_end(first: date) -> date:
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return following - timedelta(days=1)


@router.get("/budgets/{budget_id}")
async def get_budget(
    budget_id: UUID, principal: CurrentPrincipal, request: Request, on: OnQuery = None
) -> BudgetDetail:
    """One budget: this period's figures, its amount versions, and the last periods' spent vs budget."""
    async with db_of(request).read() as session:
        budget = await store.get_budget(session, principal.tenant_id, budget_id)
        if budget is None:
            raise NotFound("no such budget", budget_id=str(budget_id))
        today = domain.today_in((await store.get_household(session, principal.tenant_id)).time_zone)
        context = await Context.load(session, principal.tenant_id)
        day = on or today
        result = await figures(session, context, budget, day, today)
        if result.limit is None:
            raise NotFound("the budget is not in force in that period", budget_id=str(budget_id))
        fired = await store.fired_thresholds(session, budget.id, result.period.start)
        public = BudgetPublic.of(result, context.name_of(budget), sorted(fired - {store.PACE}), today)
        history = []
        period = result.period
        for _ in range(HISTORY_PERIODS):
            past = await figures(session, context, budget, period.start)
            if past.limit is None:
                break
            history.append(
                PeriodFigures(
                    period_start=past.period.start,
                    period_end=past.period.end,
                    available_minor=past.limit.available_minor,
                    spent_minor=past.spent_minor,
                )
            )
            period = previous_period(budget.spec, period)
    return BudgetDetail(
        **public.model_dump(),
        versions=[
            AmountVersionPublic(
                effective_from=v.effective_from, amount_minor=v.amount_minor, rollover=v.rollover
            )
            for v in budget.versions
        ],
        history=list(reversed(history)),
    )


@router.patch("/budgets/{budget_id}")
async def change_budget(
    budget_id: UUID, body: BudgetChange, principal: CurrentPrincipal, request: Request
) -> BudgetPublic:
    """Change the amount or rollover from the period containing `effective_from` (default: now) on;
    earlier periods keep theirs. Thresholds and pace alerts change at once."""
    command = commands.ChangeBudget(
        amount_minor=body.amount_minor,
        rollover=body.rollover,
        thresholds=tuple(body.thresholds) if body.thresholds is not None else None,
        pace_alerts=body.pace_alerts,
        effective_from=body.effective_from,
    )
    saved = await commands.change_budget(db_of(request), settings_of(request), principal, budget_id, command)
    return BudgetPublic.of(saved.figures, saved.name, saved.alerts, saved.today)


@router.delete("/budgets/{budget_id}", status_code=204)
async def remove_budget(budget_id: UUID, principal: CurrentPrincipal, request: Request) -> Response:
    await commands.remove_budget(db_of(request), settings_of(request), principal, budget_id)
    return Response(status_code=204)


@router.get("/alerts")
async def list_alerts(
    principal: CurrentPrincipal,
    request: Request,
    budget_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AlertsPublic:
    """Alerts fired, oldest first (threshold 0 is a pace warning)."""
    async with db_of(request).read() as session:
        rows = await store.list_alerts(session, principal.tenant_id, budget_id, limit)
    return AlertsPublic(
        items=[
            AlertPublic(
                id=r.id,
                budget_id=r.budget_id,
                type=r.type,
                threshold=r.threshold or None,
                period_start=r.period_start,
                period_end=r.period_end,
                spent_minor=r.spent_minor,
                budget_minor=r.budget_minor,
            )
            for r in rows
        ]
    )


# --- goals -----------------------------------------------------------------------------------------------


async def _goal_public(session: AsyncSession, goal: store.Goal, today: date) -> GoalPublic:
    opening, moves = await commands.saved_by_day(session, goal)
    saved = opening + sum(v for d, v in moves.items() if d <= today)
    progress = goals.progress(saved, goal.target_minor, goal.start_date, goal.target_date, today)
    projection = goals.projection(opening, moves, goal.target_minor, commands.pace_since(goal, moves), today)
    account = await store.get_account(session, goal.tenant_id, goal.account_id) if goal.account_id else None
    return GoalPublic.of(goal, progress, projection, account.name if account else None)


async def _goal_detail(session: AsyncSession, tenant_id: UUID, goal_id: UUID) -> GoalDetail:
    goal = await store.get_goal(session, tenant_id, goal_id)
    if goal is None:
        raise NotFound("no such goal", goal_id=str(goal_id))
    today = domain.today_in((await store.get_household(session, tenant_id)).time_zone)
    public = await _goal_public(session, goal, today)
    opening, moves = await commands.saved_by_day(session, goal)
    points = goals.history(opening, moves, goal.start_date, today)
    return GoalDetail(
        **public.model_dump(),
        history=[GoalPoint(day=d, saved_minor=v) for d, v in points],
        contributions=[
            ContributionPublic(id=c.id, amount_minor=c.amount_minor, day=c.day, note=c.note)
            for c in await store.contributions(session, goal.id)
        ],
    )


@router.get("/goals")
async def list_goals(principal: CurrentPrincipal, request: Request) -> GoalsPublic:
    async with db_of(request).read() as session:
        today = domain.today_in((await store.get_household(session, principal.tenant_id)).time_zone)
        return GoalsPublic(
            items=[
                await _goal_public(session, g, today)
                for g in await store.list_goals(session, principal.tenant_id)
            ]
        )


@router.post("/goals", status_code=201)
async def create_goal(body: GoalCreate, principal: CurrentPrincipal, request: Request) -> GoalDetail:
    """A savings goal: a target amount (and date), saved by manual contributions or followed on an
    account's balance; or a debt goal: a loan or credit-card account's balance (owed) paid off to zero
    (by a date), its target what the account owes now."""
    command = commands.SetGoal(
        name=body.name,
        kind=body.kind,
        target_minor=body.target_minor,
        currency=body.currency,
        target_date=body.target_date,
        account_id=body.account_id,
    )
    db = db_of(request)
    goal_id = await commands.create_goal(db, settings_of(request), principal, command)
    async with db.read() as session:
        return await _goal_detail(session, principal.tenant_id, goal_id)


@router.get("/goals/{goal_id}")
async def get_goal(goal_id: UUID, principal: CurrentPrincipal, request: Request) -> GoalDetail:
    """A goal with its progress, what it needs per month, and its saved amount over time (for a chart)."""
    async with db_of(request).read() as session:
        return await _goal_detail(session, principal.tenant_id, goal_id)


@router.patch("/goals/{goal_id}")
async def change_goal(
    goal_id: UUID, body: GoalChange, principal: CurrentPrincipal, request: Request
) -> GoalDetail:
    db = db_of(request)
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    await commands.change_goal(db, settings_of(request), principal, goal_id, changes)
    async with db.read() as session:
        return await _goal_detail(session, principal.tenant_id, goal_id)


@router.delete("/goals/{goal_id}", status_code=204)
async def remove_goal(goal_id: UUID, principal: CurrentPrincipal, request: Request) -> Response:
    await commands.remove_goal(db_of(request), principal, goal_id)
    return Response(status_code=204)


@router.post("/goals/{goal_id}/contributions", status_code=201)
async def contribute(
    goal_id: UUID, body: ContributionCreate, principal: CurrentPrincipal, request: Request
) -> GoalDetail:
    """Put money towards a goal (or, negative, take some out) on a day (default today)."""
    db = db_of(request)
    await commands.contribute(
        db, settings_of(request), principal, goal_id, body.amount_minor, body.day, body.note
    )
    async with db.read() as session:
        return await _goal_detail(session, principal.tenant_id, goal_id)
