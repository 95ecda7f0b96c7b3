"""A history's budgets, carried to the budget service by the ledger's events: the budget service owns
budgets, the ledger owns the migration and its undo, and no service calls another.

- Which months: per category, from the first month budgeted above nothing to the last month the history
  budgets anything in, in any category. Months after that one are months the person had not budgeted
  yet (an export made early in a month, or the empty rows an app keeps for months ahead), so the last
  amounts hold on as a Tally budget's do; a month in between without an amount is one budgeted nothing,
  as the source shows it, and keeps the rollover of the month before. Source categories that became one
  category of the household add up.
- One `ledger.BudgetsImported` per category and migration, on the category's budget stream, with only
  the months not imported onto that category yet by a migration still in force: importing the same file
  twice writes nothing, a later export of the same budget adds its new months.
- Undo: one `ledger.ImportedBudgetsRemoved` per category, naming the months of the migration still
  there; the budget service takes out what it made of them.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID, uuid5

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import repository
from tally_ledger.domain import Category
from tally_ledger.history.model import History, HistoryBudget
from tally_ledger.repository import Context
from tallykit.contracts import registry
from tallykit.contracts.ledger import BudgetMonth, BudgetsImported, CategoryKind, ImportedBudgetsRemoved
from tallykit.events import Envelope, EventPayload
from tallykit.settings import ServiceSettings
from tallykit.tables import event_store

IMPORTED = "ledger.BudgetsImported"
MAX_MONTHS = 1200  # a hundred years: what one event carries


def budget_stream(tenant_id: UUID, category_id: UUID) -> UUID:
    """The stream of what history imports budgeted on one category of the household."""
    return uuid5(tenant_id, f"history:budgets:{category_id}")


def _next(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_of(budgets: Sequence[HistoryBudget]) -> dict[str, list[BudgetMonth]]:
    """Per source category, its consecutive months as the budget service gets them (see above)."""
    last = max((b.month for b in budgets if b.amount_minor > 0), default=None)
    if last is None:
        return {}
    rows: dict[str, dict[date, HistoryBudget]] = {}
    for budget in budgets:
        if budget.month <= last:
            rows.setdefault(budget.category_id, {})[budget.month] = budget  # the source's last row wins
    found = {}
    for category, by_month in rows.items():
        budgeted = [month for month, b in by_month.items() if b.amount_minor > 0]
        if not budgeted:
            continue
        months, month, rollover = [], min(budgeted), False
        if (last.year - month.year) * 12 + last.month - month.month >= MAX_MONTHS:
            raise ValueError(f"budgets from {month:%Y-%m} to {last:%Y-%m}: more than {MAX_MONTHS} months")
        while month <= last:
            row = by_month.get(month)
            rollover = row.rollover if row is not None else rollover
            months.append(BudgetMonth(month=month, amount_minor=max(row.amount_minor, 0) if row else 0,
                                      rollover=rollover))
            month = _next(month)
        found[category] = months
    return found


def by_category(history: History, categories: Mapping[str, Category]) -> dict[UUID, list[BudgetMonth]]:
    """The months of each expense category of the household the history's categories became."""
    merged: dict[UUID, dict[date, BudgetMonth]] = {}
    for source_id, months in months_of(history.budgets).items():
        category = categories.get(source_id)
        if category is None or category.kind is not CategoryKind.expense:
            continue
        into = merged.setdefault(category.id, {})
        for m in months:
            there = into.get(m.month)
            into[m.month] = m if there is None else BudgetMonth(
                month=m.month, amount_minor=there.amount_minor + m.amount_minor,
                rollover=there.rollover or m.rollover)
    return {category: [months[m] for m in sorted(months)] for category, months in merged.items()}


@dataclass
class _Stream:
    """A category's budget stream: its version, and the months imported onto the category that are still
    there, each with the migration that imported it."""

    category_id: UUID
    version: int = 0
    months: dict[date, UUID] = field(default_factory=dict)


async def _streams(session: AsyncSession, tenant_id: UUID, streams: Sequence[UUID]) -> dict[UUID, _Stream]:
    found: dict[UUID, _Stream] = {}
    if not streams:
        return found
    rows = await session.execute(
        select(event_store.c.envelope).where(event_store.c.tenant_id == tenant_id,
                                             event_store.c.stream_id.in_(list(streams)))
        .order_by(event_store.c.stream_id, event_store.c.stream_version))
    for (raw,) in rows:
        envelope = Envelope.model_validate(raw)
        payload = registry.payload(envelope)
        assert isinstance(payload, BudgetsImported | ImportedBudgetsRemoved)
        stream = found.setdefault(envelope.stream_id, _Stream(payload.category_id))
        stream.version = envelope.stream_version
        if isinstance(payload, BudgetsImported):
            stream.months.update((m.month, payload.migration_id) for m in payload.months)
            continue
        for month in payload.months:
            if stream.months.get(month) == payload.migration_id:
                del stream.months[month]
    return found


async def record(session: AsyncSession, settings: ServiceSettings, ctx: Context,
                 wanted: Mapping[UUID, Sequence[BudgetMonth]], source: str, currency: str) -> int:
    """Write the months (`by_category`) the household does not have, in the caller's transaction (its
    correlation id is the migration's); returns how many categories got months."""
    migration_id = ctx.correlation_id
    assert migration_id is not None
    streams = {category: budget_stream(ctx.tenant_id, category) for category in wanted}
    there = await _streams(session, ctx.tenant_id, list(streams.values()))
    envelopes: list[Envelope] = []
    payloads: list[EventPayload] = []
    for category, months in wanted.items():
        stream = there.get(streams[category], _Stream(category))
        new = tuple(m for m in months if m.month not in stream.months)
        if not new:
            continue
        payload = BudgetsImported(migration_id=migration_id, category_id=category, currency=currency,
                                  source=source[:40] or "history", months=new)
        envelopes.append(registry.envelope(payload, tenant_id=ctx.tenant_id, stream_id=streams[category],
                                           stream_version=stream.version + 1, actor=ctx.actor,
                                           correlation_id=migration_id))
        payloads.append(payload)
    await repository.save_recorded(session, settings, envelopes, payloads=payloads)
    return len(envelopes)


async def take_out(session: AsyncSession, settings: ServiceSettings, ctx: Context, migration_id: UUID) -> int:
    """Take out the months the migration imported that are still there, in the caller's transaction (its
    correlation id is the undo's); returns how many categories lost months. Run again, it finds none."""
    e = event_store.c
    written = (await session.execute(
        select(e.stream_id).where(e.tenant_id == ctx.tenant_id, e.type == IMPORTED,
                                  e.envelope["correlation_id"].astext == str(migration_id))
        .distinct())).scalars().all()
    envelopes: list[Envelope] = []
    payloads: list[EventPayload] = []
    for stream_id, stream in (await _streams(session, ctx.tenant_id, written)).items():
        ours = tuple(sorted(month for month, by in stream.months.items() if by == migration_id))
        if not ours:
            continue
        payload = ImportedBudgetsRemoved(migration_id=migration_id, category_id=stream.category_id,
                                         months=ours)
        envelopes.append(registry.envelope(payload, tenant_id=ctx.tenant_id, stream_id=stream_id,
                                           stream_version=stream.version + 1, actor=ctx.actor,
                                           correlation_id=ctx.correlation_id or migration_id))
        payloads.append(payload)
    await repository.save_recorded(session, settings, envelopes, payloads=payloads)
    return len(envelopes)
