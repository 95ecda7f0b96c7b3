"""The budget service's queries: reads and writes of the tables in tables.py, one small function each.

The read models the ledger's and auth's events build (households, categories, spending, accounts) are
only read here: projections.py writes them."""

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from uuid import UUID, uuid4

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from tally_budget.domain import AmountVersion, CategoryInfo, Target
from tally_budget.imported import ImportedMonth
from tally_budget.periods import PeriodKind, PeriodSpec
from tally_budget.tables import (
    account_flows,
    accounts,
    alert_states,
    alerts,
    budget_amounts,
    budget_settings,
    budgets,
    categories,
    category_merges,
    flows,
    goal_contributions,
    goals,
    households,
    imported_months,
)
from tallykit.db import upsert_replacing

# --- households ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Household:
    base_currency: str | None = None
    time_zone: str | None = None
    week_start: str = "monday"


async def get_household(session: AsyncSession, tenant_id: UUID) -> Household:
    query = select(households.c.base_currency, households.c.time_zone, households.c.week_start).where(
        households.c.tenant_id == tenant_id
    )
    row = (await session.execute(query)).first()
    return Household(*row) if row else Household()


async def get_income_basis(session: AsyncSession, tenant_id: UUID) -> str | None:
    query = select(budget_settings.c.income_basis).where(budget_settings.c.tenant_id == tenant_id)
    return (await session.execute(query)).scalar_one_or_none()


async def save_income_basis(session: AsyncSession, tenant_id: UUID, basis: str) -> None:
    await session.execute(
        upsert_replacing(budget_settings, ("income_basis",)), {"tenant_id": tenant_id, "income_basis": basis}
    )


# --- categories ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    id: UUID
    name: str
    kind: str
    group: str
    archived: bool


async def get_category(session: AsyncSession, tenant_id: UUID, category_id: UUID) -> Category | None:
    query = select(
        categories.c.id, categories.c.name, categories.c.kind, categories.c.group, categories.c.archived
    ).where(categories.c.tenant_id == tenant_id, categories.c.id == category_id, categories.c.version > 0)
    row = (await session.execute(query)).first()
    return Category(*row) if row else None


@dataclass(frozen=True)
class CategoryMap:
    """A tenant's categories and merges, as the domain's membership rules need them."""

    infos: dict[UUID, CategoryInfo]
    merges: dict[UUID, UUID]


async def category_map(session: AsyncSession, tenant_id: UUID) -> CategoryMap:
    infos = {
        cid: CategoryInfo(name, group, kind)
        for cid, name, group, kind in await session.execute(
            select(categories.c.id, categories.c.name, categories.c.group, categories.c.kind).where(
                categories.c.tenant_id == tenant_id, categories.c.version > 0
            )
        )
    }
    merges = {
        cid: into
        for cid, into in await session.execute(
            select(category_merges.c.category_id, category_merges.c.into_category_id).where(
                category_merges.c.tenant_id == tenant_id
            )
        )
    }
    return CategoryMap(infos, merges)


async def flow_categories(session: AsyncSession, tenant_id: UUID) -> set[UUID]:
    """Every category id that has any flows (some may not be known as categories yet)."""
    query = select(flows.c.category_id).where(flows.c.tenant_id == tenant_id).distinct()
    return set((await session.execute(query)).scalars())


# --- flows -----------------------------------------------------------------------------------------------


async def spent_by_day(
    session: AsyncSession,
    tenant_id: UUID,
    category_ids: Iterable[UUID],
    currency: str,
    first: date,
    last: date,
) -> dict[date, int]:
    """Spending (outflow - inflow) per day over the categories, days first..last, in one currency."""
    ids = list(category_ids)
    if not ids:
        return {}
    query = (
        select(flows.c.day, func.sum(flows.c.outflow_minor - flows.c.inflow_minor))
        .where(
            flows.c.tenant_id == tenant_id,
            flows.c.category_id.in_(ids),
            flows.c.currency == currency,
            flows.c.day.between(first, last),
        )
        .group_by(flows.c.day)
    )
    return {day: int(total) for day, total in await session.execute(query)}


async def income(
    session: AsyncSession,
    tenant_id: UUID,
    category_ids: Iterable[UUID],
    currency: str,
    first: date,
    last: date,
) -> int:
    """Money in (inflow - outflow) over income categories and uncategorised incomes."""
    ids = list(category_ids)
    query = select(func.coalesce(func.sum(flows.c.inflow_minor - flows.c.outflow_minor), 0)).where(
        flows.c.tenant_id == tenant_id,
        flows.c.category_id.in_(ids),
        flows.c.currency == currency,
        flows.c.day.between(first, last),
    )
    return int((await session.execute(query)).scalar_one())


# --- accounts --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Account:
    id: UUID
    name: str
    currency: str
    opening_balance_minor: int
    kind: str | None = None


async def get_account(session: AsyncSession, tenant_id: UUID, account_id: UUID) -> Account | None:
    query = select(
        accounts.c.id, accounts.c.name, accounts.c.currency, accounts.c.opening_balance_minor, accounts.c.kind
    ).where(accounts.c.tenant_id == tenant_id, accounts.c.id == account_id)
    row = (await session.execute(query)).first()
    return Account(*row) if row else None


async def account_balance_by_day(
    session: AsyncSession, tenant_id: UUID, account_id: UUID, currency: str
) -> dict[date, int]:
    query = select(account_flows.c.day, account_flows.c.amount_minor).where(
        account_flows.c.tenant_id == tenant_id,
        account_flows.c.account_id == account_id,
        account_flows.c.currency == currency,
    )
    return {day: int(amount) for day, amount in await session.execute(query)}


# --- budgets ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Budget:
    id: UUID
    tenant_id: UUID
    category_id: UUID | None
    group_name: str | None
    currency: str
    spec: PeriodSpec
    thresholds: tuple[int, ...]
    pace_alerts: bool
    version: int
    versions: tuple[AmountVersion, ...]

    @property
    def target(self) -> Target:
        return Target(category_id=self.category_id, group=self.group_name)


_BUDGET_COLUMNS = (
    budgets.c.id,
    budgets.c.tenant_id,
    budgets.c.category_id,
    budgets.c.group_name,
    budgets.c.currency,
    budgets.c.period_kind,
    budgets.c.start_day,
    budgets.c.anchor,
    budgets.c.week_start,
    budgets.c.thresholds,
    budgets.c.pace_alerts,
    budgets.c.version,
)


async def _with_versions(session: AsyncSession, rows: Sequence[Sequence[object]]) -> list[Budget]:
    ids = [row[0] for row in rows]
    versions: dict[UUID, list[AmountVersion]] = {}
    if ids:
        query = (
            select(
                budget_amounts.c.budget_id,
                budget_amounts.c.effective_from,
                budget_amounts.c.amount_minor,
                budget_amounts.c.rollover,
            )
            .where(budget_amounts.c.budget_id.in_(ids))
            .order_by(budget_amounts.c.effective_from)
        )
        for budget_id, effective_from, amount, rollover in await session.execute(query):
            versions.setdefault(budget_id, []).append(AmountVersion(effective_from, int(amount), rollover))
    result = []
    for row in rows:
        (
            b_id,
            tenant,
            category,
            group,
            currency,
            kind,
            start_day,
            anchor,
            week_start,
            thresholds,
            pace,
            ver,
        ) = row
        result.append(
            Budget(
                id=b_id,  # type: ignore[arg-type]
                tenant_id=tenant,  # type: ignore[arg-type]
                category_id=category,  # type: ignore[arg-type]
                group_name=group,  # type: ignore[arg-type]
                currency=currency,  # type: ignore[arg-type]
                spec=PeriodSpec(
                    kind=PeriodKind(str(kind)),
                    start_day=start_day,  # type: ignore[arg-type]
                    anchor=anchor,  # type: ignore[arg-type]
                    week_start=week_start,  # type: ignore[arg-type]
                ),
                thresholds=tuple(sorted(thresholds)),  # type: ignore[call-overload]
                pace_alerts=bool(pace),
                version=int(ver),  # type: ignore[call-overload]
                versions=tuple(versions.get(b_id, [])),  # type: ignore[call-overload]
            )
        )
    return result


async def list_budgets(session: AsyncSession, tenant_id: UUID, *, lock: bool = False) -> list[Budget]:
    query = select(*_BUDGET_COLUMNS).where(budgets.c.tenant_id == tenant_id).order_by(budgets.c.created_at)
    if lock:
        query = query.with_for_update()
    return await _with_versions(session, list(await session.execute(query)))


async def get_budget(
    session: AsyncSession, tenant_id: UUID, budget_id: UUID, *, lock: bool = False
) -> Budget | None:
    query = select(*_BUDGET_COLUMNS).where(budgets.c.tenant_id == tenant_id, budgets.c.id == budget_id)
    if lock:
        query = query.with_for_update()
    found = await _with_versions(session, list(await session.execute(query)))
    return found[0] if found else None


async def find_budget(session: AsyncSession, tenant_id: UUID, target: Target) -> Budget | None:
    """The tenant's budget for this category or group, locked."""
    condition = (
        budgets.c.category_id == target.category_id
        if target.category_id is not None
        else budgets.c.group_name == target.group
    )
    query = select(*_BUDGET_COLUMNS).where(budgets.c.tenant_id == tenant_id, condition).with_for_update()
    found = await _with_versions(session, list(await session.execute(query)))
    return found[0] if found else None


async def insert_budget(
    session: AsyncSession,
    tenant_id: UUID,
    target: Target,
    currency: str,
    spec: PeriodSpec,
    thresholds: Sequence[int],
    pace_alerts: bool,
    amount_minor: int,
) -> UUID:
    budget_id = uuid4()
    await session.execute(
        insert(budgets).values(
            id=budget_id,
            tenant_id=tenant_id,
            category_id=target.category_id,
            group_name=target.group,
            amount_minor=amount_minor,
            currency=currency,
            period_kind=spec.kind.value,
            start_day=spec.start_day,
            anchor=spec.anchor,
            week_start=spec.week_start,
            thresholds=sorted(set(thresholds)),
            pace_alerts=pace_alerts,
            version=0,
        )
    )
    return budget_id


async def update_budget_settings(
    session: AsyncSession, budget_id: UUID, *, thresholds: Sequence[int], pace_alerts: bool, amount_minor: int
) -> None:
    await session.execute(
        update(budgets)
        .where(budgets.c.id == budget_id)
        .values(
            thresholds=sorted(set(thresholds)),
            pace_alerts=pace_alerts,
            amount_minor=amount_minor,
            updated_at=func.now(),
        )
    )


async def set_amount_version(session: AsyncSession, budget_id: UUID, version: AmountVersion) -> None:
    """From `effective_from` on (until a later version) the budget is this; periods before keep theirs.
    Set by hand: a version an import wrote becomes the person's."""
    values = {"amount_minor": version.amount_minor, "rollover": version.rollover, "import_id": None}
    await session.execute(
        upsert_replacing(budget_amounts, tuple(values)),
        {"budget_id": budget_id, "effective_from": version.effective_from, **values},
    )


# --- budgets from imported histories ---------------------------------------------------------------------


async def add_imported_months(
    session: AsyncSession, tenant_id: UUID, category_id: UUID, months: Iterable[ImportedMonth]
) -> None:
    """A month an import brought before stays that import's."""
    rows = [{"tenant_id": tenant_id, "category_id": category_id, **asdict(m)} for m in months]
    if rows:
        await session.execute(insert(imported_months).on_conflict_do_nothing(), rows)


async def remove_imported_months(
    session: AsyncSession, tenant_id: UUID, category_id: UUID, months: Iterable[date], import_id: UUID
) -> None:
    c = imported_months.c
    await session.execute(
        delete(imported_months).where(
            c.tenant_id == tenant_id,
            c.category_id == category_id,
            c.import_id == import_id,
            c.month.in_(list(months)),
        )
    )


async def forget_imported_months(session: AsyncSession, tenant_id: UUID, category_id: UUID) -> None:
    c = imported_months.c
    await session.execute(
        delete(imported_months).where(c.tenant_id == tenant_id, c.category_id == category_id)
    )


async def list_imported_months(
    session: AsyncSession, tenant_id: UUID, category_id: UUID
) -> list[ImportedMonth]:
    c = imported_months.c
    query = (
        select(c.month, c.amount_minor, c.rollover, c.import_id)
        .where(c.tenant_id == tenant_id, c.category_id == category_id)
        .order_by(c.month)
    )
    return [
        ImportedMonth(month, int(amount), rollover, by)
        for month, amount, rollover, by in await session.execute(query)
    ]


async def imported_versions(session: AsyncSession, budget_id: UUID) -> dict[date, AmountVersion]:
    """The budget's versions an import wrote and nobody has set by hand since."""
    c = budget_amounts.c
    query = select(c.effective_from, c.amount_minor, c.rollover).where(
        c.budget_id == budget_id, c.import_id.is_not(None)
    )
    return {
        day: AmountVersion(day, int(amount), rollover)
        for day, amount, rollover in await session.execute(query)
    }


async def add_imported_version(
    session: AsyncSession, budget_id: UUID, version: AmountVersion, import_id: UUID
) -> None:
    """Never in place of a version there already."""
    await session.execute(
        insert(budget_amounts)
        .values(
            budget_id=budget_id,
            effective_from=version.effective_from,
            amount_minor=version.amount_minor,
            rollover=version.rollover,
            import_id=import_id,
        )
        .on_conflict_do_nothing()
    )


async def remove_imported_version(session: AsyncSession, budget_id: UUID, effective_from: date) -> None:
    c = budget_amounts.c
    await session.execute(
        delete(budget_amounts).where(
            c.budget_id == budget_id, c.effective_from == effective_from, c.import_id.is_not(None)
        )
    )


async def delete_budget(session: AsyncSession, budget_id: UUID) -> None:
    for table in (alert_states, alerts, budget_amounts):
        await session.execute(delete(table).where(table.c.budget_id == budget_id))
    await session.execute(delete(budgets).where(budgets.c.id == budget_id))


async def next_versions(session: AsyncSession, budget_id: UUID, count: int) -> list[int]:
    """Reserve the next `count` positions of a budget's event stream."""
    statement = (
        update(budgets)
        .where(budgets.c.id == budget_id)
        .values(version=budgets.c.version + count)
        .returning(budgets.c.version)
    )
    last = int((await session.execute(statement)).scalar_one())
    return list(range(last - count + 1, last + 1))


# --- alerts ----------------------------------------------------------------------------------------------

PACE = 0  # the pace warning's row in alert_states


async def fired_thresholds(session: AsyncSession, budget_id: UUID, period_start: date) -> set[int]:
    query = select(alert_states.c.threshold).where(
        alert_states.c.budget_id == budget_id,
        alert_states.c.period_start == period_start,
        alert_states.c.fired.is_(True),
    )
    return set((await session.execute(query)).scalars())


async def set_alert_state(
    session: AsyncSession, budget: Budget, period_start: date, threshold: int, fired: bool
) -> None:
    await session.execute(
        upsert_replacing(alert_states, ("fired",)),
        {
            "budget_id": budget.id,
            "period_start": period_start,
            "threshold": threshold,
            "tenant_id": budget.tenant_id,
            "fired": fired,
        },
    )


async def log_alert(session: AsyncSession, budget: Budget, **values: object) -> None:
    await session.execute(insert(alerts).values(tenant_id=budget.tenant_id, budget_id=budget.id, **values))


@dataclass(frozen=True)
class AlertRow:
    id: int
    budget_id: UUID
    type: str
    threshold: int
    period_start: date
    period_end: date
    spent_minor: int
    budget_minor: int


async def list_alerts(
    session: AsyncSession, tenant_id: UUID, budget_id: UUID | None = None, limit: int = 100
) -> list[AlertRow]:
    query = (
        select(
            alerts.c.id,
            alerts.c.budget_id,
            alerts.c.type,
            alerts.c.threshold,
            alerts.c.period_start,
            alerts.c.period_end,
            alerts.c.spent_minor,
            alerts.c.budget_minor,
        )
        .where(alerts.c.tenant_id == tenant_id)
        .order_by(alerts.c.id)
        .limit(limit)
    )
    if budget_id is not None:
        query = query.where(alerts.c.budget_id == budget_id)
    return [AlertRow(*row) for row in await session.execute(query)]


# --- goals -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Goal:
    id: UUID
    tenant_id: UUID
    name: str
    target_minor: int
    currency: str
    target_date: date | None
    account_id: UUID | None
    start_date: date
    version: int
    reached: bool
    behind_month: str | None
    kind: str = "savings"  # goals.GoalKind


_GOAL_COLUMNS = (
    goals.c.id,
    goals.c.tenant_id,
    goals.c.name,
    goals.c.target_minor,
    goals.c.currency,
    goals.c.target_date,
    goals.c.account_id,
    goals.c.start_date,
    goals.c.version,
    goals.c.reached,
    goals.c.behind_month,
    goals.c.kind,
)


async def list_goals(
    session: AsyncSession, tenant_id: UUID, *, account_id: UUID | None = None, lock: bool = False
) -> list[Goal]:
    query = select(*_GOAL_COLUMNS).where(goals.c.tenant_id == tenant_id).order_by(goals.c.name, goals.c.id)
    if account_id is not None:
        query = query.where(goals.c.account_id == account_id)
    if lock:
        query = query.with_for_update()
    return [Goal(*row) for row in await session.execute(query)]


async def get_goal(
    session: AsyncSession, tenant_id: UUID, goal_id: UUID, *, lock: bool = False
) -> Goal | None:
    query = select(*_GOAL_COLUMNS).where(goals.c.tenant_id == tenant_id, goals.c.id == goal_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).first()
    return Goal(*row) if row else None


async def insert_goal(session: AsyncSession, tenant_id: UUID, **values: object) -> UUID:
    goal_id = uuid4()
    await session.execute(insert(goals).values(id=goal_id, tenant_id=tenant_id, version=0, **values))
    return goal_id


async def update_goal(session: AsyncSession, goal_id: UUID, **values: object) -> None:
    await session.execute(update(goals).where(goals.c.id == goal_id).values(**values))


async def delete_goal(session: AsyncSession, goal_id: UUID) -> None:
    await session.execute(delete(goal_contributions).where(goal_contributions.c.goal_id == goal_id))
    await session.execute(delete(goals).where(goals.c.id == goal_id))


async def next_goal_versions(session: AsyncSession, goal_id: UUID, count: int) -> list[int]:
    statement = (
        update(goals)
        .where(goals.c.id == goal_id)
        .values(version=goals.c.version + count)
        .returning(goals.c.version)
    )
    last = int((await session.execute(statement)).scalar_one())
    return list(range(last - count + 1, last + 1))


async def add_contribution(
    session: AsyncSession, goal: Goal, amount_minor: int, day: date, note: str
) -> UUID:
    contribution_id = uuid4()
    await session.execute(
        insert(goal_contributions).values(
            id=contribution_id,
            goal_id=goal.id,
            tenant_id=goal.tenant_id,
            amount_minor=amount_minor,
            day=day,
            note=note,
        )
    )
    return contribution_id


@dataclass(frozen=True)
class Contribution:
    id: UUID
    amount_minor: int
    day: date
    note: str


async def contributions(session: AsyncSession, goal_id: UUID) -> list[Contribution]:
    query = (
        select(
            goal_contributions.c.id,
            goal_contributions.c.amount_minor,
            goal_contributions.c.day,
            goal_contributions.c.note,
        )
        .where(goal_contributions.c.goal_id == goal_id)
        .order_by(goal_contributions.c.day, goal_contributions.c.created_at)
    )
    return [
        Contribution(cid, int(amount), day, note) for cid, amount, day, note in await session.execute(query)
    ]
