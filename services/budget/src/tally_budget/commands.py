"""Commands and reactions of the budget service: load, decide (domain.py, goals.py), save with the outbox."""

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from tally_budget import domain, goals, store
from tally_budget.figures import Context, Figures, figures
from tally_budget.periods import PeriodKind, PeriodSpec, period_containing
from tally_budget.projections import Changed
from tallykit.contracts import registry
from tallykit.contracts.budget import (
    BudgetExceeded,
    BudgetPaceWarning,
    BudgetRemoved,
    BudgetSet,
    BudgetThresholdReached,
    GoalBehind,
    GoalReached,
)
from tallykit.db import Database
from tallykit.errors import Conflict, InvalidInput, NotFound
from tallykit.events import SYSTEM, Envelope, EventPayload
from tallykit.logging import get_logger
from tallykit.outbox import enqueue
from tallykit.settings import ServiceSettings
from tallykit.tokens import Principal

log = get_logger(__name__)

TOPIC = "budget.events"


# --- budgets ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetBudget:
    target: domain.Target
    amount_minor: int
    currency: str | None = None
    period_kind: PeriodKind = PeriodKind.month
    start_day: int = 1
    anchor: date | None = None
    rollover: bool = False
    thresholds: tuple[int, ...] | None = None  # None: a new budget's defaults, an existing one's own
    pace_alerts: bool | None = None
    effective_from: date | None = None  # a day in the first period the amount holds for; default: now


@dataclass(frozen=True)
class ChangeBudget:
    amount_minor: int | None = None
    rollover: bool | None = None
    thresholds: tuple[int, ...] | None = None
    pace_alerts: bool | None = None
    effective_from: date | None = None


@dataclass(frozen=True)
class BudgetSaved:
    """A budget as a command left it: this period's figures, its name, the alerts fired in this period
    (thresholds), and today in the household's time zone."""

    figures: Figures
    name: str
    alerts: list[int]
    today: date


async def _today(session: AsyncSession, tenant_id: UUID) -> date:
    return domain.today_in((await store.get_household(session, tenant_id)).time_zone)


async def _check_target(session: AsyncSession, tenant_id: UUID, target: domain.Target) -> None:
    if target.category_id is not None:
        category = await store.get_category(session, tenant_id, target.category_id)
        if category is None:
            raise NotFound("no such category", category_id=str(target.category_id))
        if category.kind != "expense":
            raise InvalidInput("budgets are for expense categories", category_id=str(category.id))
        return
    categories = await store.category_map(session, tenant_id)
    if not any(i.group == target.group and i.kind == "expense" for i in categories.infos.values()):
        raise NotFound("no expense category is in this group", group=target.group)


async def set_income_basis(db: Database, principal: Principal, basis: domain.IncomeBasis) -> None:
    """A household setting that changes no figure others keep (only how "available to budget" reads),
    so it is stored, not published."""
    principal.require_write()
    async with db.transaction() as session:
        await store.save_income_basis(session, principal.tenant_id, basis.value)


async def set_budget(
    db: Database, settings: ServiceSettings, principal: Principal, command: SetBudget
) -> BudgetSaved:
    """Create the budget of a category or group, or change its amount from a period on; then check that
    period's alerts against it."""
    principal.require_write()
    tenant_id = principal.tenant_id
    async with db.transaction() as session:
        await _check_target(session, tenant_id, command.target)
        household = await store.get_household(session, tenant_id)
        currency = command.currency or household.base_currency
        if currency is None:
            raise InvalidInput("say which currency the budget is in (the household has none set yet)")
        try:
            spec = PeriodSpec(
                kind=command.period_kind,
                start_day=command.start_day,
                anchor=command.anchor,
                week_start=household.week_start,
            )
        except ValueError as exc:
            raise InvalidInput(str(exc)) from exc
        today = domain.today_in(household.time_zone)
        budget = await store.find_budget(session, tenant_id, command.target)
        if budget is None:
            budget_id = await store.insert_budget(
                session,
                tenant_id,
                command.target,
                currency,
                spec,
                command.thresholds or domain.THRESHOLDS,
                bool(command.pace_alerts),
                command.amount_minor,
            )
        elif (budget.spec.kind, budget.spec.start_day, budget.spec.anchor, budget.currency) != (
            spec.kind,
            spec.start_day,
            spec.anchor,
            currency,
        ):
            raise Conflict(
                "this category or group already has a budget with another period or currency: change or "
                "remove that one",
                budget_id=str(budget.id),
            )
        else:
            budget_id = budget.id
            await store.update_budget_settings(
                session,
                budget_id,
                thresholds=command.thresholds or budget.thresholds,
                pace_alerts=command.pace_alerts if command.pace_alerts is not None else budget.pace_alerts,
                amount_minor=command.amount_minor,
            )
        effective = period_containing(spec, command.effective_from or today).start
        version = domain.AmountVersion(effective, command.amount_minor, command.rollover)
        await store.set_amount_version(session, budget_id, version)
        return await _after_budget_change(session, settings, principal, budget_id, version, today)


async def change_budget(
    db: Database, settings: ServiceSettings, principal: Principal, budget_id: UUID, command: ChangeBudget
) -> BudgetSaved:
    """Change a budget's amount or rollover from a period on (earlier periods keep theirs), or its alerts."""
    principal.require_write()
    async with db.transaction() as session:
        budget = await store.get_budget(session, principal.tenant_id, budget_id, lock=True)
        if budget is None:
            raise NotFound("no such budget", budget_id=str(budget_id))
        today = await _today(session, principal.tenant_id)
        effective = period_containing(budget.spec, command.effective_from or today)
        in_force = domain.version_for(budget.versions, effective)
        amount = command.amount_minor or (in_force.amount_minor if in_force else None)
        if amount is None:
            raise InvalidInput("the budget has no amount for that period yet: give one")
        rollover = command.rollover if command.rollover is not None else bool(in_force and in_force.rollover)
        version = domain.AmountVersion(effective.start, amount, rollover)
        await store.set_amount_version(session, budget.id, version)
        latest = max([*budget.versions, version], key=lambda v: v.effective_from)
        await store.update_budget_settings(
            session,
            budget.id,
            thresholds=command.thresholds if command.thresholds is not None else budget.thresholds,
            pace_alerts=command.pace_alerts if command.pace_alerts is not None else budget.pace_alerts,
            amount_minor=version.amount_minor if latest == version else latest.amount_minor,
        )
        return await _after_budget_change(session, settings, principal, budget.id, version, today)


async def _after_budget_change(
    session: AsyncSession,
    settings: ServiceSettings,
    principal: Principal,
    budget_id: UUID,
    version: domain.AmountVersion,
    today: date,
) -> BudgetSaved:
    budget = await store.get_budget(session, principal.tenant_id, budget_id, lock=True)
    assert budget is not None
    context = await Context.load(session, principal.tenant_id)
    (stream_version,) = await store.next_versions(session, budget.id, 1)
    budget_set = registry.envelope(
        BudgetSet(
            category_id=budget.category_id,
            category_name=context.name_of(budget),
            amount_minor=version.amount_minor,
            currency=budget.currency,
            group=budget.group_name,
            period_kind=budget.spec.kind.value,
            effective_from=version.effective_from,
            rollover=version.rollover,
        ),
        tenant_id=budget.tenant_id,
        stream_id=budget.id,
        stream_version=stream_version,
        actor=principal.actor,
    )
    alerts = await evaluate(session, context, budget, today, today, cause=budget_set, actor=principal.actor)
    await enqueue(session, settings.topic(TOPIC), [budget_set, *alerts])
    log.info("budget_set", budget_id=str(budget.id), version=stream_version, alerts=len(alerts))
    result = await figures(session, context, budget, today, today)
    fired = await store.fired_thresholds(session, budget.id, result.period.start)
    return BudgetSaved(result, context.name_of(budget), sorted(fired - {store.PACE}), today)


async def remove_budget(
    db: Database, settings: ServiceSettings, principal: Principal, budget_id: UUID
) -> None:
    principal.require_write()
    async with db.transaction() as session:
        budget = await store.get_budget(session, principal.tenant_id, budget_id, lock=True)
        if budget is None:
            raise NotFound("no such budget", budget_id=str(budget_id))
        context = await Context.load(session, principal.tenant_id)
        (stream_version,) = await store.next_versions(session, budget.id, 1)
        removed = registry.envelope(
            BudgetRemoved(category_id=budget.category_id, category_name=context.name_of(budget)),
            tenant_id=budget.tenant_id,
            stream_id=budget.id,
            stream_version=stream_version,
            actor=principal.actor,
        )
        await store.delete_budget(session, budget.id)
        if budget.category_id is not None:
            # Months a history import brought for it go too: importing the history again, or undoing
            # another import of it, does not bring back a budget the person removed.
            await store.forget_imported_months(session, principal.tenant_id, budget.category_id)
        await enqueue(session, settings.topic(TOPIC), [removed])


async def evaluate(
    session: AsyncSession,
    context: Context,
    budget: store.Budget,
    day: date,
    today: date,
    *,
    cause: Envelope,
    actor: str,
) -> list[Envelope]:
    """Alerts for the period containing `day`: thresholds newly reached fire (lowest first), thresholds
    spending dropped below re-arm, and a pace warning fires once per period when spending so far
    projects past the budget. The caller holds the budget's row lock and enqueues the envelopes in the
    same transaction."""
    result = await figures(session, context, budget, day)
    if result.limit is None:
        return []
    period, spent, available = result.period, result.spent_minor, result.limit.available_minor
    fired_before = await store.fired_thresholds(session, budget.id, period.start)
    crossings = domain.evaluate_thresholds(budget.thresholds, fired_before - {store.PACE}, spent, available)
    for threshold in crossings.rearmed:
        await store.set_alert_state(session, budget, period.start, threshold, fired=False)
    name = context.name_of(budget)
    common = {
        "budget_id": budget.id,
        "category_id": budget.category_id,
        "category_name": name,
        "spent_minor": spent,
        "budget_minor": available,
        "currency": budget.currency,
    }
    payloads: list[tuple[EventPayload, int]] = []
    for threshold in crossings.fired:
        await store.set_alert_state(session, budget, period.start, threshold, fired=True)
        alert = BudgetExceeded if threshold >= domain.EXCEEDED_THRESHOLD else BudgetThresholdReached
        payload: EventPayload = alert(
            **common,
            period=period.month_label,
            threshold_percent=threshold,
            period_start=period.start,
            period_end=period.end,
            period_kind=budget.spec.kind.value,
        )
        payloads.append((payload, threshold))
    if budget.pace_alerts and store.PACE not in fired_before and not crossings.fired:
        projected = domain.pace_warning(spent, available, period, today)
        if projected is not None:
            await store.set_alert_state(session, budget, period.start, store.PACE, fired=True)
            pace = BudgetPaceWarning(
                **common,
                period_start=period.start,
                period_end=period.end,
                projected_minor=projected,
                method="pace",
            )
            payloads.append((pace, store.PACE))
    if not payloads:
        return []
    versions = await store.next_versions(session, budget.id, len(payloads))
    envelopes = []
    for (payload, threshold), version in zip(payloads, versions, strict=True):
        envelope = registry.envelope(
            payload,
            tenant_id=budget.tenant_id,
            stream_id=budget.id,
            stream_version=version,
            actor=actor,
            correlation_id=cause.correlation_id,
            causation_id=cause.id,
        )
        await store.log_alert(
            session,
            budget,
            period_start=period.start,
            period_end=period.end,
            type=envelope.type,
            threshold=threshold,
            spent_minor=spent,
            budget_minor=available,
            event_id=envelope.id,
        )
        envelopes.append(envelope)
    return envelopes


async def ledger_changed(
    session: AsyncSession, settings: ServiceSettings, cause: Envelope, changed: Changed | None
) -> None:
    """Spending or balances moved (or, with `changed` None, categories were renamed or merged): check the
    alerts of the budgets it touches, in each period it touched, and the goals of the accounts it moved."""
    tenant_id = cause.tenant_id
    today = await _today(session, tenant_id)
    context = await Context.load(session, tenant_id)
    envelopes: list[Envelope] = []
    for budget in await store.list_budgets(session, tenant_id, lock=True):
        if changed is None:
            days = {today}
        else:
            members = context.members(budget)
            touched = sorted({d for c, d in changed.categories if c in members})
            if not touched:
                continue
            days = {period_containing(budget.spec, d).start for d in touched}
            if any(v.rollover for v in budget.versions) and max(touched) < today:
                days.add(today)  # what a past period leaves over carries into the current one
        for day in sorted(days):
            envelopes += await evaluate(session, context, budget, day, today, cause=cause, actor=SYSTEM)
    if changed is not None and changed.accounts:
        for goal in await store.list_goals(session, tenant_id, lock=True):
            if goal.account_id in changed.accounts:
                envelopes += await evaluate_goal(session, goal, today, cause=cause, actor=SYSTEM)
    if envelopes:
        await enqueue(session, settings.topic(TOPIC), envelopes)
        log.info("budget_alerts_fired", count=len(envelopes))


# --- goals -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetGoal:
    name: str
    target_minor: int | None  # None for a debt goal: its target is what its account owes now
    currency: str | None = None
    target_date: date | None = None
    account_id: UUID | None = None
    kind: goals.GoalKind = goals.GoalKind.savings


async def saved_by_day(session: AsyncSession, goal: store.Goal) -> tuple[int, dict[date, int]]:
    """What was there before the goal's movements (an account's opening balance), and the movements. For a
    debt goal, what was paid off: the starting debt plus the balance (goals.paid_off)."""
    if goal.account_id is not None:
        account = await store.get_account(session, goal.tenant_id, goal.account_id)
        opening = account.opening_balance_minor if account else 0
        if goal.kind == goals.GoalKind.debt:
            opening = goals.paid_off(goal.target_minor, opening)
        return opening, await store.account_balance_by_day(
            session, goal.tenant_id, goal.account_id, goal.currency
        )
    moves: dict[date, int] = {}
    for c in await store.contributions(session, goal.id):
        moves[c.day] = moves.get(c.day, 0) + c.amount_minor
    return 0, moves


def pace_since(goal: store.Goal, moves: dict[date, int]) -> date | None:
    """The first day the goal's amount could move: an account's first movement (its history before the
    goal counts for the pace), or the day a goal saved by hand was set."""
    if goal.account_id is not None:
        return min(moves, default=None)
    return goal.start_date


async def saved(session: AsyncSession, goal: store.Goal, today: date) -> int:
    opening, moves = await saved_by_day(session, goal)
    return opening + sum(v for d, v in moves.items() if d <= today)


async def evaluate_goal(
    session: AsyncSession, goal: store.Goal, today: date, *, cause: Envelope | None, actor: str
) -> list[Envelope]:
    """GoalReached when the saved amount reaches the target (again only after it fell below), GoalBehind
    at most once a month while it is behind the pace its date needs."""
    amount = await saved(session, goal, today)
    progress = goals.progress(amount, goal.target_minor, goal.start_date, goal.target_date, today)
    common = {
        "goal_id": goal.id,
        "name": goal.name,
        "target_minor": goal.target_minor,
        "saved_minor": amount,
        "currency": goal.currency,
        "target_date": goal.target_date,
        "kind": goal.kind,
    }
    payloads: list[EventPayload] = []
    month = domain.month_of(today)
    if amount >= goal.target_minor and not goal.reached:
        payloads.append(GoalReached(**common))
        await store.update_goal(session, goal.id, reached=True)
    elif amount < goal.target_minor and goal.reached:
        await store.update_goal(session, goal.id, reached=False)
    if progress.status is goals.GoalStatus.behind and goal.behind_month != month:
        payloads.append(GoalBehind(**common, needed_per_month_minor=progress.needed_per_month_minor))
        await store.update_goal(session, goal.id, behind_month=month)
    if not payloads:
        return []
    versions = await store.next_goal_versions(session, goal.id, len(payloads))
    return [
        registry.envelope(
            payload,
            tenant_id=goal.tenant_id,
            stream_id=goal.id,
            stream_version=version,
            actor=actor,
            correlation_id=cause.correlation_id if cause else None,
            causation_id=cause.id if cause else None,
        )
        for payload, version in zip(payloads, versions, strict=True)
    ]


async def _check_goal_account(
    session: AsyncSession, tenant_id: UUID, account_id: UUID, currency: str | None
) -> store.Account:
    account = await store.get_account(session, tenant_id, account_id)
    if account is None:
        raise NotFound("no such account", account_id=str(account_id))
    if currency is not None and account.currency != currency:
        raise InvalidInput(
            "the goal and its account must be in the same currency", account_id=str(account_id)
        )
    return account


async def _starting_debt(session: AsyncSession, tenant_id: UUID, account: store.Account, today: date) -> int:
    """What a loan or credit-card account owes today: a debt goal's target. An account of another kind is
    refused; one whose kind the budget service never learnt (opened before it kept kinds) is taken as a
    debt while it owes something."""
    if account.kind is not None and account.kind not in goals.DEBT_ACCOUNT_KINDS:
        raise InvalidInput(
            "a debt goal follows a loan or credit-card account", account_id=str(account.id), kind=account.kind
        )
    moves = await store.account_balance_by_day(session, tenant_id, account.id, account.currency)
    owed = goals.owed(account.opening_balance_minor + sum(v for d, v in moves.items() if d <= today))
    if owed == 0:
        raise InvalidInput(
            "this account owes nothing: there is no debt to pay off", account_id=str(account.id)
        )
    return owed


async def create_goal(
    db: Database, settings: ServiceSettings, principal: Principal, command: SetGoal
) -> UUID:
    principal.require_write()
    async with db.transaction() as session:
        household = await store.get_household(session, principal.tenant_id)
        today = domain.today_in(household.time_zone)
        if command.target_date is not None and command.target_date < today:
            raise InvalidInput("the target date has passed")
        target = command.target_minor
        if command.kind is goals.GoalKind.debt:
            if command.account_id is None:
                raise InvalidInput("a debt goal follows a loan or credit-card account: say which")
            account = await _check_goal_account(
                session, principal.tenant_id, command.account_id, command.currency
            )
            currency: str | None = account.currency
            target = await _starting_debt(session, principal.tenant_id, account, today)
        else:
            currency = command.currency or household.base_currency
            if currency is None:
                raise InvalidInput("say which currency the goal is in (the household has none set yet)")
            if command.account_id is not None:
                await _check_goal_account(session, principal.tenant_id, command.account_id, currency)
        if target is None:
            raise InvalidInput("say how much the goal is for")
        goal_id = await store.insert_goal(
            session,
            principal.tenant_id,
            name=command.name,
            target_minor=target,
            currency=currency,
            target_date=command.target_date,
            account_id=command.account_id,
            start_date=today,
            kind=command.kind.value,
        )
        await _recheck_goal(session, settings, principal, goal_id, today)
        return goal_id


async def change_goal(
    db: Database, settings: ServiceSettings, principal: Principal, goal_id: UUID, changes: dict[str, object]
) -> None:
    principal.require_write()
    async with db.transaction() as session:
        goal = await store.get_goal(session, principal.tenant_id, goal_id, lock=True)
        if goal is None:
            raise NotFound("no such goal", goal_id=str(goal_id))
        today = await _today(session, principal.tenant_id)
        account_id = changes.get("account_id", goal.account_id)
        if goal.kind == goals.GoalKind.debt:
            if "target_minor" in changes:
                raise InvalidInput("a debt goal's target is the debt it started with: it cannot be changed")
            if not isinstance(account_id, UUID):
                raise InvalidInput("a debt goal follows a loan or credit-card account: it cannot be removed")
            if account_id != goal.account_id:  # another debt: its target is what that one owes now
                account = await _check_goal_account(session, principal.tenant_id, account_id, goal.currency)
                changes["target_minor"] = await _starting_debt(session, principal.tenant_id, account, today)
        elif isinstance(account_id, UUID):
            await _check_goal_account(session, principal.tenant_id, account_id, goal.currency)
        target_date = changes.get("target_date", goal.target_date)
        if isinstance(target_date, date) and target_date < today and target_date != goal.target_date:
            raise InvalidInput("the target date has passed")
        if changes:
            await store.update_goal(session, goal.id, **changes)
        await _recheck_goal(session, settings, principal, goal.id, today)


async def remove_goal(db: Database, principal: Principal, goal_id: UUID) -> None:
    principal.require_write()
    async with db.transaction() as session:
        goal = await store.get_goal(session, principal.tenant_id, goal_id, lock=True)
        if goal is None:
            raise NotFound("no such goal", goal_id=str(goal_id))
        await store.delete_goal(session, goal.id)


async def contribute(
    db: Database,
    settings: ServiceSettings,
    principal: Principal,
    goal_id: UUID,
    amount_minor: int,
    day: date | None,
    note: str,
) -> UUID:
    """Put money towards (or, negative, take it out of) a goal that is not linked to an account."""
    principal.require_write()
    async with db.transaction() as session:
        goal = await store.get_goal(session, principal.tenant_id, goal_id, lock=True)
        if goal is None:
            raise NotFound("no such goal", goal_id=str(goal_id))
        if goal.account_id is not None:
            raise Conflict(
                "this goal follows its account's balance: record a transfer to the account instead"
            )
        today = await _today(session, principal.tenant_id)
        when = day or today
        if when > today:
            raise InvalidInput("a contribution cannot be dated in the future")
        contribution_id = await store.add_contribution(session, goal, amount_minor, when, note)
        await _recheck_goal(session, settings, principal, goal.id, today)
        return contribution_id


async def _recheck_goal(
    session: AsyncSession, settings: ServiceSettings, principal: Principal, goal_id: UUID, today: date
) -> None:
    goal = await store.get_goal(session, principal.tenant_id, goal_id, lock=True)
    assert goal is not None
    envelopes = await evaluate_goal(session, goal, today, cause=None, actor=principal.actor)
    await enqueue(session, settings.topic(TOPIC), envelopes)
