"""Commands and reactions of the budget service: load, decide (domain.py), save with the outbox."""

from dataclasses import dataclass
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from tally_budget import domain, store
from tallykit.contracts import registry
from tallykit.contracts.budget import BudgetExceeded, BudgetSet, BudgetThresholdReached
from tallykit.contracts.ledger import CategoryKind
from tallykit.db import Database
from tallykit.errors import InvalidInput, NotFound
from tallykit.events import SYSTEM, Envelope
from tallykit.logging import get_logger
from tallykit.outbox import enqueue
from tallykit.settings import ServiceSettings
from tallykit.tokens import Principal

log = get_logger(__name__)

TOPIC = "budget.events"


@dataclass(frozen=True)
class SetBudget:
    category_id: UUID
    amount_minor: int
    currency: str


async def set_budget(
    db: Database, settings: ServiceSettings, principal: Principal, command: SetBudget
) -> store.BudgetRow:
    """Create or change the monthly budget of a category, then check this month's alerts against it."""
    principal.require_write()
    month = domain.current_month()
    async with db.transaction() as session:
        category = await store.get_category(session, principal.tenant_id, command.category_id)
        if category is None:
            raise NotFound("no such category", category_id=str(command.category_id))
        if category.kind != CategoryKind.expense:
            raise InvalidInput("budgets are for expense categories", category_id=str(category.id))
        budget = await store.upsert_budget(
            session, principal.tenant_id, category.id, command.amount_minor, command.currency
        )
        budget_set = registry.envelope(
            BudgetSet(
                category_id=category.id,
                category_name=category.name,
                amount_minor=budget.amount_minor,
                currency=budget.currency,
            ),
            tenant_id=budget.tenant_id,
            stream_id=budget.id,
            stream_version=budget.version,
            actor=principal.actor,
        )
        spent = await store.spent(session, budget.tenant_id, category.id, month, budget.currency)
        alerts = await _fire_alerts(
            session, budget, category.name, month, spent, cause=budget_set, actor=principal.actor
        )
        await enqueue(session, settings.topic(TOPIC), [budget_set, *alerts])
        log.info("budget_set", budget_id=str(budget.id), version=budget.version, alerts=len(alerts))
        (row,) = await store.list_budgets(session, budget.tenant_id, month, budget_id=budget.id)
        return row


async def spending_changed(
    session: AsyncSession,
    settings: ServiceSettings,
    cause: Envelope,
    category_id: UUID,
    month: str,
    currency: str,
    spent_minor: int,
) -> None:
    """Spending of a category moved: check the alerts of its budget (in that budget's currency only)."""
    budget = await store.lock_budget_for_category(session, cause.tenant_id, category_id)
    if budget is None or budget.currency != currency:
        return
    category = await store.get_category(session, cause.tenant_id, category_id)
    name = category.name if category else ""
    alerts = await _fire_alerts(session, budget, name, month, spent_minor, cause=cause, actor=SYSTEM)
    await enqueue(session, settings.topic(TOPIC), alerts)
    if alerts:
        log.info("budget_alerts_fired", budget_id=str(budget.id), month=month, count=len(alerts))


async def _fire_alerts(
    session: AsyncSession,
    budget: store.Budget,
    category_name: str,
    month: str,
    spent_minor: int,
    *,
    cause: Envelope,
    actor: str,
) -> list[Envelope]:
    """Alert events for the thresholds reached that had not fired yet this month, lowest first.
    The caller holds the budget's row lock and enqueues them in the same transaction."""
    fired = [
        t
        for t in domain.thresholds_reached(spent_minor, budget.amount_minor)
        if await store.record_alert(session, budget, month, t, spent_minor)
    ]
    if not fired:
        return []
    versions = await store.next_versions(session, budget.id, len(fired))
    envelopes = []
    for threshold, version in zip(fired, versions, strict=True):
        alert = BudgetExceeded if threshold >= domain.EXCEEDED_THRESHOLD else BudgetThresholdReached
        payload = alert(
            budget_id=budget.id,
            category_id=budget.category_id,
            category_name=category_name,
            period=month,
            threshold_percent=threshold,
            spent_minor=spent_minor,
            budget_minor=budget.amount_minor,
            currency=budget.currency,
        )
        envelopes.append(
            registry.envelope(
                payload,
                tenant_id=budget.tenant_id,
                stream_id=budget.id,
                stream_version=version,
                actor=actor,
                correlation_id=cause.correlation_id,
                causation_id=cause.id,
            )
        )
    return envelopes
