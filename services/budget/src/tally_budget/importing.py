"""The ledger's events of a history imported from another app → the budget service's own budgets.

`ledger.BudgetsImported`: the months a history import budgeted on a category are kept (each with its
import), and made a monthly budget of the category (imported.py says how). A category without a budget
gets one, in the history's currency, with the usual thresholds and no pace warnings, as a budget set by
hand would; one with a monthly budget in that currency of its own gets the months before the person's
first version; any other budget of the person's (another period or currency) is left as it is.
`ledger.ImportedBudgetsRemoved` (the import was undone): its months go, and with them the versions they
made that nobody has changed since; a budget left with no version is removed.

Each change is announced as the budget service announces any (`budget.BudgetSet` for a version that
becomes, or follows, the budget's latest; `budget.BudgetRemoved`), carrying the import's correlation
id, and the current period's alerts are checked once, as after a budget set by hand.
"""

from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from tally_budget import commands, domain, imported, store
from tally_budget.figures import Context
from tally_budget.periods import PeriodKind, PeriodSpec
from tallykit.contracts import registry
from tallykit.contracts.budget import BudgetRemoved, BudgetSet
from tallykit.contracts.ledger import BudgetsImported, ImportedBudgetsRemoved
from tallykit.events import Envelope, EventPayload
from tallykit.logging import get_logger
from tallykit.outbox import enqueue
from tallykit.settings import ServiceSettings

log = get_logger(__name__)


def _fits(budget: store.Budget, currency: str | None) -> bool:
    """A budget the months can go into: calendar months, in the history's currency."""
    spec = budget.spec
    return spec.kind is PeriodKind.month and spec.start_day == 1 and currency in (None, budget.currency)


async def budgets_imported(
    session: AsyncSession, settings: ServiceSettings, envelope: Envelope, payload: BudgetsImported
) -> None:
    tenant_id = envelope.tenant_id
    category = await store.get_category(session, tenant_id, payload.category_id)
    if category is None or category.kind != "expense":
        log.warning("imported_budget_not_an_expense_category", category_id=str(payload.category_id))
        return
    months = [
        imported.ImportedMonth(m.month, m.amount_minor, m.rollover, payload.migration_id)
        for m in payload.months
    ]
    await store.add_imported_months(session, tenant_id, payload.category_id, months)
    await _follow(session, settings, envelope, payload.category_id, payload.currency, removing=False)


async def imported_budgets_removed(
    session: AsyncSession, settings: ServiceSettings, envelope: Envelope, payload: ImportedBudgetsRemoved
) -> None:
    await store.remove_imported_months(
        session, envelope.tenant_id, payload.category_id, payload.months, payload.migration_id
    )
    await _follow(session, settings, envelope, payload.category_id, None, removing=True)


async def _follow(
    session: AsyncSession,
    settings: ServiceSettings,
    cause: Envelope,
    category_id: UUID,
    currency: str | None,
    *,
    removing: bool,
) -> None:
    """Bring the category's budget in line with its imported months, and say what changed."""
    tenant_id = cause.tenant_id
    months = await store.list_imported_months(session, tenant_id, category_id)
    target = domain.Target(category_id=category_id)
    budget = await store.find_budget(session, tenant_id, target)
    if budget is None:
        if removing or currency is None or not imported.versions_of(months):
            return
        household = await store.get_household(session, tenant_id)
        spec = PeriodSpec(kind=PeriodKind.month, week_start=household.week_start)
        budget_id = await store.insert_budget(
            session, tenant_id, target, currency, spec, domain.THRESHOLDS, False, 0
        )
        budget = await store.get_budget(session, tenant_id, budget_id, lock=True)
        assert budget is not None
    elif not _fits(budget, currency):
        log.info("imported_budget_left_to_the_person", budget_id=str(budget.id))
        return
    ours = await store.imported_versions(session, budget.id)
    own = [v.effective_from for v in budget.versions if v.effective_from not in ours]
    wanted = imported.versions_of(months, before=min(own, default=None))
    changes = imported.changes(wanted, ours, [v.effective_from for v in budget.versions], removing=removing)
    if not changes:
        return
    for day in changes.remove:
        await store.remove_imported_version(session, budget.id, day)
    for w in changes.add:
        await store.add_imported_version(session, budget.id, w.version, w.import_id)
    await _announce(session, settings, cause, budget, [w.version for w in changes.add])


async def _announce(
    session: AsyncSession,
    settings: ServiceSettings,
    cause: Envelope,
    before: store.Budget,
    added: list[domain.AmountVersion],
) -> None:
    after = await store.get_budget(session, before.tenant_id, before.id, lock=True)
    assert after is not None
    assert after.category_id is not None
    context = await Context.load(session, after.tenant_id)
    name = context.name_of(after)
    if not after.versions:
        await store.forget_imported_months(session, after.tenant_id, after.category_id)
        removed = await _envelopes(
            session, cause, after, [BudgetRemoved(category_id=after.category_id, category_name=name)]
        )
        await store.delete_budget(session, after.id)
        await enqueue(session, settings.topic(commands.TOPIC), removed)
        return
    latest_before = max(before.versions, key=lambda v: v.effective_from, default=None)
    latest = max(after.versions, key=lambda v: v.effective_from)
    told = [v for v in added if latest_before is None or v.effective_from > latest_before.effective_from]
    if latest != latest_before and latest not in told:
        told.append(latest)
    await store.update_budget_settings(
        session,
        after.id,
        thresholds=after.thresholds,
        pace_alerts=after.pace_alerts,
        amount_minor=latest.amount_minor,
    )
    budget_sets = await _envelopes(session, cause, after, [_budget_set(after, name, v) for v in told])
    today = domain.today_in((await store.get_household(session, after.tenant_id)).time_zone)
    alerts = await commands.evaluate(session, context, after, today, today, cause=cause, actor=cause.actor)
    await enqueue(session, settings.topic(commands.TOPIC), [*budget_sets, *alerts])
    log.info("imported_budget_followed", budget_id=str(after.id), announced=len(told), alerts=len(alerts))


def _budget_set(budget: store.Budget, name: str, version: domain.AmountVersion) -> BudgetSet:
    return BudgetSet(
        category_id=budget.category_id,
        category_name=name,
        amount_minor=version.amount_minor,
        currency=budget.currency,
        period_kind=budget.spec.kind.value,
        effective_from=version.effective_from,
        rollover=version.rollover,
    )


async def _envelopes(
    session: AsyncSession, cause: Envelope, budget: store.Budget, payloads: list[EventPayload]
) -> list[Envelope]:
    """The payloads at the next positions of the budget's stream, caused by the ledger's event."""
    if not payloads:
        return []
    versions = await store.next_versions(session, budget.id, len(payloads))
    return [
        registry.envelope(
            payload,
            tenant_id=budget.tenant_id,
            stream_id=budget.id,
            stream_version=version,
            actor=cause.actor,
            correlation_id=cause.correlation_id,
            causation_id=cause.id,
        )
        for payload, version in zip(payloads, versions, strict=True)
    ]
