"""The analytics read model as the events write it (the tables are in tables.py; store.py reads them).

The projections (projections.py one event at a time, bursts.py a run of money events, a rebuild a page of
the journal) write through these: the deltas of money events summed into `flows`, `tag_flows` and
`balance_moves`; what other events say about categories, accounts, payee merges, the household, its
schedules, budgets and recurring series, each upsert commuting with the events of the same thing that
arrive in another order; the household's generation, which marks cached forecasts stale; and the journal
a rebuild replays, with forgetting a household (all of it, or its read model before a rebuild).
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy import Table, case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from tally_analytics.domain import UNKNOWN_CATEGORY, Deltas, FlowDelta
from tally_analytics.tables import (
    TENANT_TABLES,
    accounts,
    balance_moves,
    budgets,
    categories,
    expected_patterns,
    flows,
    households,
    journal,
    payee_merges,
    savings_months,
    schedules,
    series,
    tag_flows,
    unusual,
)
from tallykit.db import upsert_adding


def _merge_flows(rows: Iterable[FlowDelta]) -> dict[tuple[Any, ...], list[int]]:
    """Sum deltas of one key first: one statement may not update the same row twice."""
    out: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in rows:
        acc = out[(r.currency, r.day, r.account_id, r.category_id, r.payee)]
        acc[0] += r.income_minor
        acc[1] += r.expense_minor
        acc[2] += r.entries
    return out


async def _upsert_sums(
    session: AsyncSession, table: Table, rows: list[dict[str, Any]], sums: list[str]
) -> None:
    """Insert rows, or add their `sums` columns to the rows already there: the statement built once per
    table, executed for all the rows (a multi-row statement, compiled anew for each count of rows, cost
    ten times PostgreSQL's work for a rebuild's thousands of rows)."""
    upsert = upsert_adding(table, tuple(sums))
    if rows:
        await session.execute(upsert, rows)


async def apply_deltas(session: AsyncSession, tenant_id: UUID, deltas: Deltas) -> None:
    merged = _merge_flows(deltas.flows)
    await _upsert_sums(
        session,
        flows,
        [
            {
                "tenant_id": tenant_id,
                "currency": k[0],
                "day": k[1],
                "account_id": k[2],
                "category_id": k[3],
                "payee": k[4],
                "income_minor": v[0],
                "expense_minor": v[1],
                "entries": v[2],
            }
            for k, v in merged.items()
        ],
        ["income_minor", "expense_minor", "entries"],
    )
    tags: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for t in deltas.tags:
        acc = tags[(t.currency, t.day, t.tag, t.category_id)]
        acc[0] += t.income_minor
        acc[1] += t.expense_minor
    await _upsert_sums(
        session,
        tag_flows,
        [
            {
                "tenant_id": tenant_id,
                "currency": k[0],
                "day": k[1],
                "tag": k[2],
                "category_id": k[3],
                "income_minor": v[0],
                "expense_minor": v[1],
            }
            for k, v in tags.items()
        ],
        ["income_minor", "expense_minor"],
    )
    balances: dict[tuple[Any, ...], int] = defaultdict(int)
    for b in deltas.balances:
        balances[(b.currency, b.day, b.account_id)] += b.delta_minor
    await _upsert_sums(
        session,
        balance_moves,
        [
            {"tenant_id": tenant_id, "currency": k[0], "day": k[1], "account_id": k[2], "delta_minor": v}
            for k, v in balances.items()
        ],
        ["delta_minor"],
    )


async def save_category(
    session: AsyncSession,
    tenant_id: UUID,
    category_id: UUID,
    *,
    version: int,
    name: str | None = None,
    group: str | None = None,
    kind: str | None = None,
    merged_into: UUID | None = None,
) -> None:
    """Upsert what one category event says. The name and group of the newest stream version win, so a
    rename that arrives before the creation is not undone by it; the kind comes only with the creation
    (until then a row counts as expense), a merge only sets where its totals now belong."""
    new = insert(categories).values(
        tenant_id=tenant_id,
        id=category_id,
        name=name or UNKNOWN_CATEGORY,
        kind=kind or "expense",
        group_name=group or "",
        merged_into=merged_into,
        version=version if name is not None else 0,
    )
    newer = new.excluded.version > categories.c.version
    set_: dict[str, Any] = {}
    if name is not None:
        set_ = {
            "name": case((newer, new.excluded.name), else_=categories.c.name),
            "group_name": case((newer, new.excluded.group_name), else_=categories.c.group_name),
            "version": func.greatest(categories.c.version, new.excluded.version),
        }
    if kind is not None:
        set_["kind"] = new.excluded.kind
    if merged_into is not None:
        set_["merged_into"] = new.excluded.merged_into
    await session.execute(
        new.on_conflict_do_update(index_elements=[categories.c.tenant_id, categories.c.id], set_=set_)
    )


async def save_account(
    session: AsyncSession, tenant_id: UUID, account_id: UUID, name: str, kind: str, currency: str
) -> None:
    new = insert(accounts).values(tenant_id=tenant_id, id=account_id, name=name, kind=kind, currency=currency)
    await session.execute(
        new.on_conflict_do_update(
            index_elements=[accounts.c.tenant_id, accounts.c.id],
            set_={"name": new.excluded.name, "kind": new.excluded.kind, "currency": new.excluded.currency},
        )
    )


async def rename_account(session: AsyncSession, tenant_id: UUID, account_id: UUID, name: str) -> None:
    await session.execute(
        update(accounts)
        .where(accounts.c.tenant_id == tenant_id, accounts.c.id == account_id)
        .values(name=name)
    )


async def merge_payee(session: AsyncSession, tenant_id: UUID, name: str, into: str) -> None:
    new = insert(payee_merges).values(
        tenant_id=tenant_id, name_key=name.strip().casefold(), into_name=into.strip()
    )
    await session.execute(
        new.on_conflict_do_update(
            index_elements=[payee_merges.c.tenant_id, payee_merges.c.name_key],
            set_={"into_name": new.excluded.into_name},
        )
    )


async def save_household(
    session: AsyncSession, tenant_id: UUID, base_currency: str, time_zone: str, *, created: bool = False
) -> None:
    """The household's settings. `created` (its first settings, from auth.TenantCreated) fills only what
    is not known yet: the row may already be there without them (its generation, bumped by ledger events
    that overtook auth's), and settings already stored can only be later ones."""
    new = insert(households).values(tenant_id=tenant_id, base_currency=base_currency, time_zone=time_zone)
    columns = ("base_currency", "time_zone")
    await session.execute(
        new.on_conflict_do_update(
            index_elements=[households.c.tenant_id],
            set_={
                c: func.coalesce(households.c[c], new.excluded[c]) if created else new.excluded[c]
                for c in columns
            },
        )
    )


async def bump_generation(session: AsyncSession, tenant_id: UUID) -> None:
    new = insert(households).values(tenant_id=tenant_id, generation=1)
    await session.execute(
        new.on_conflict_do_update(
            index_elements=[households.c.tenant_id], set_={"generation": households.c.generation + 1}
        )
    )


async def save_schedule(
    session: AsyncSession, tenant_id: UUID, schedule_id: UUID, version: int, payload: dict[str, Any] | None
) -> None:
    """The newest version of a schedule wins (events may arrive out of order); None cancels it."""
    values: dict[str, Any] = {
        "tenant_id": tenant_id,
        "id": schedule_id,
        "version": version,
        "payload": payload or {},
        "cancelled": payload is None,
    }
    new = insert(schedules).values(**values)
    if payload is None:
        # A cancellation is final whatever its version.
        set_: dict[str, Any] = {"cancelled": True}
    else:
        set_ = {"payload": new.excluded.payload, "version": new.excluded.version}
    await session.execute(
        new.on_conflict_do_update(
            index_elements=[schedules.c.tenant_id, schedules.c.id],
            set_=set_,
            where=None if payload is None else (schedules.c.version < new.excluded.version),
        )
    )


async def save_budget(
    session: AsyncSession, tenant_id: UUID, category_id: UUID, currency: str, amount_minor: int, version: int
) -> None:
    new = insert(budgets).values(
        tenant_id=tenant_id,
        category_id=category_id,
        currency=currency,
        amount_minor=amount_minor,
        version=version,
    )
    await session.execute(
        new.on_conflict_do_update(
            index_elements=[budgets.c.tenant_id, budgets.c.category_id, budgets.c.currency],
            set_={"amount_minor": new.excluded.amount_minor, "version": new.excluded.version},
            where=budgets.c.version <= new.excluded.version,
        )
    )


async def remove_budget(session: AsyncSession, tenant_id: UUID, category_id: UUID, version: int) -> None:
    """A removed budget stays as a zero amount at the removal's version, so an older `BudgetSet` arriving
    late does not bring it back (budget_list skips zero amounts)."""
    await session.execute(
        update(budgets)
        .where(
            budgets.c.tenant_id == tenant_id,
            budgets.c.category_id == category_id,
            budgets.c.version < version,
        )
        .values(amount_minor=0, version=version)
    )


async def save_series(
    session: AsyncSession,
    tenant_id: UUID,
    series_id: UUID,
    *,
    price: tuple[int, int | None, date] | None = None,
    paid_on: date | None = None,
    stopped_after: date | None = None,
    dismissed: bool = False,
    **fields: Any,
) -> None:
    """Merge what one series event says: `fields` (name, payee, kind, period, currency, first_on) fill
    what is not known yet, `price` (amount, previous amount, since) replaces an older price, `paid_on`
    and `stopped_after` only move forward, a dismissal stays. Commutes, so event order does not matter."""
    amount, previous, since = price if price is not None else (None, None, None)
    new = insert(series).values(
        tenant_id=tenant_id, id=series_id, amount_minor=amount, previous_minor=previous, price_on=since,
        last_paid_on=paid_on, stopped_after=stopped_after, dismissed=dismissed, **fields,
    )
    x = new.excluded
    newer_price = (x.price_on.is_not(None)) & (series.c.price_on.is_(None) | (x.price_on > series.c.price_on))
    set_: dict[str, Any] = {
        c: func.coalesce(series.c[c], x[c]) for c in ("name", "payee", "kind", "period", "currency")
    }
    set_ |= {
        "first_on": func.least(series.c.first_on, x.first_on),
        "last_paid_on": func.greatest(series.c.last_paid_on, x.last_paid_on),
        "stopped_after": func.greatest(series.c.stopped_after, x.stopped_after),
        "dismissed": series.c.dismissed | x.dismissed,
        **{
            c: case((newer_price, x[c]), else_=series.c[c])
            for c in ("amount_minor", "previous_minor", "price_on")
        },
    }
    await session.execute(
        new.on_conflict_do_update(index_elements=[series.c.tenant_id, series.c.id], set_=set_)
    )


async def journal_event(
    session: AsyncSession, tenant_id: UUID, event_id: UUID, event_type: str, envelope: dict[str, Any]
) -> None:
    await session.execute(
        insert(journal)
        .values(tenant_id=tenant_id, event_id=event_id, event_type=event_type, envelope=envelope)
        .on_conflict_do_nothing()
    )


async def forget_tenant(session: AsyncSession, tenant_id: UUID, *, keep_journal: bool = False) -> None:
    """Delete the tenant's read model (for a rebuild), or everything (a deleted household)."""
    for table in TENANT_TABLES:
        await session.execute(delete(table).where(table.c.tenant_id == tenant_id))
    if not keep_journal:
        for table in (journal, households, unusual, expected_patterns, savings_months):
            await session.execute(delete(table).where(table.c.tenant_id == tenant_id))


async def journal_page(
    session: AsyncSession, tenant_id: UUID, after: UUID | None, limit: int
) -> list[tuple[UUID, dict[str, Any]]]:
    """The tenant's journalled events in event-id order after `after`, `limit` at most: a rebuild reads
    a page at a time (its primary key's order), so it holds a page, not the household's history."""
    j = journal.c
    query = select(j.event_id, j.envelope).where(j.tenant_id == tenant_id)
    if after is not None:
        query = query.where(j.event_id > after)
    rows = await session.execute(query.order_by(j.event_id).limit(limit))
    return [(event_id, envelope) for event_id, envelope in rows]
