"""The analytics service's queries: writes of summed deltas and read-model rows, and the reads that
reports are made of (the tables are in tables.py)."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Date, Table, case, cast, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from tally_analytics.domain import (
    OPENING_DAY,
    UNKNOWN_CATEGORY,
    CategoryInfo,
    Deltas,
    FlowDelta,
    FlowRow,
)
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

# --- writes -----------------------------------------------------------------------------------------------


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


# --- reads ------------------------------------------------------------------------------------------------


async def category_map(session: AsyncSession, tenant_id: UUID) -> dict[UUID, CategoryInfo]:
    rows = await session.execute(
        select(
            categories.c.id,
            categories.c.name,
            categories.c.group_name,
            categories.c.kind,
            categories.c.merged_into,
        ).where(categories.c.tenant_id == tenant_id)
    )
    return {r[0]: CategoryInfo(r[0], r[1], r[2] or "", r[3], r[4]) for r in rows}


async def payee_merge_map(session: AsyncSession, tenant_id: UUID) -> dict[str, str]:
    rows = await session.execute(
        select(payee_merges.c.name_key, payee_merges.c.into_name).where(payee_merges.c.tenant_id == tenant_id)
    )
    return {k: v for k, v in rows}


async def account_list(session: AsyncSession, tenant_id: UUID) -> list[tuple[UUID, str, str, str]]:
    rows = await session.execute(
        select(accounts.c.id, accounts.c.name, accounts.c.kind, accounts.c.currency)
        .where(accounts.c.tenant_id == tenant_id)
        .order_by(accounts.c.name)
    )
    return [(r[0], r[1], r[2], r[3]) for r in rows]


async def household(session: AsyncSession, tenant_id: UUID) -> tuple[str | None, str | None, int]:
    row = (
        await session.execute(
            select(households.c.base_currency, households.c.time_zone, households.c.generation).where(
                households.c.tenant_id == tenant_id
            )
        )
    ).first()
    if row is None:
        return None, None, 0
    return row[0], row[1], int(row[2])


async def currencies(session: AsyncSession, tenant_id: UUID) -> list[tuple[str, int]]:
    """The tenant's currencies with how many entries each has (most used first)."""
    rows = await session.execute(
        select(balance_moves.c.currency, func.count())
        .where(balance_moves.c.tenant_id == tenant_id)
        .group_by(balance_moves.c.currency)
        .order_by(func.count().desc(), balance_moves.c.currency)
    )
    return [(c, int(n)) for c, n in rows]


async def flow_rows(
    session: AsyncSession,
    tenant_id: UUID,
    currency: str,
    start: date,
    end: date,
    account_id: UUID | None = None,
    *,
    by_payee: bool = True,
) -> list[FlowRow]:
    """Sums of a period per category and payee (per category only, with an empty payee, when the
    payees are not needed: comparisons with other periods)."""
    payee = flows.c.payee if by_payee else literal("").label("payee")
    query = (
        select(
            flows.c.category_id,
            payee,
            func.sum(flows.c.income_minor),
            func.sum(flows.c.expense_minor),
            func.sum(flows.c.entries),
        )
        .where(
            flows.c.tenant_id == tenant_id,
            flows.c.currency == currency,
            flows.c.day >= start,
            flows.c.day <= end,
        )
        .group_by(flows.c.category_id, *([flows.c.payee] if by_payee else []))
    )
    if account_id is not None:
        query = query.where(flows.c.account_id == account_id)
    return [FlowRow(r[0], r[1], int(r[2]), int(r[3]), int(r[4])) for r in await session.execute(query)]


async def daily_category_rows(
    session: AsyncSession, tenant_id: UUID, currency: str, start: date, end: date, step: str = "day"
) -> list[tuple[date, UUID, int, int]]:
    """(day, category, income, expense) rows: the input of series and forecasts. With `step` week or
    month the day is the first of its ISO week or month (summed in the database: fewer rows to carry)."""
    day: Any = flows.c.day if step == "day" else cast(func.date_trunc(step, flows.c.day), Date)
    query = (
        select(day, flows.c.category_id, func.sum(flows.c.income_minor), func.sum(flows.c.expense_minor))
        .where(
            flows.c.tenant_id == tenant_id,
            flows.c.currency == currency,
            flows.c.day >= start,
            flows.c.day <= end,
        )
        .group_by(day, flows.c.category_id)
    )
    return [(r[0], r[1], int(r[2]), int(r[3])) for r in await session.execute(query)]


async def tag_rows(
    session: AsyncSession, tenant_id: UUID, currency: str, start: date, end: date
) -> list[tuple[str, UUID, int, int]]:
    query = (
        select(
            tag_flows.c.tag,
            tag_flows.c.category_id,
            func.sum(tag_flows.c.income_minor),
            func.sum(tag_flows.c.expense_minor),
        )
        .where(
            tag_flows.c.tenant_id == tenant_id,
            tag_flows.c.currency == currency,
            tag_flows.c.day >= start,
            tag_flows.c.day <= end,
        )
        .group_by(tag_flows.c.tag, tag_flows.c.category_id)
    )
    return [(r[0], r[1], int(r[2]), int(r[3])) for r in await session.execute(query)]


async def balances_before(
    session: AsyncSession, tenant_id: UUID, currency: str, day: date
) -> dict[UUID, int]:
    """Each account's balance at the end of the day before `day` (opening balances included)."""
    rows = await session.execute(
        select(balance_moves.c.account_id, func.sum(balance_moves.c.delta_minor))
        .where(
            balance_moves.c.tenant_id == tenant_id,
            balance_moves.c.currency == currency,
            balance_moves.c.day >= OPENING_DAY,
            balance_moves.c.day < day,
        )
        .group_by(balance_moves.c.account_id)
    )
    return {a: int(v) for a, v in rows}


async def balance_days(
    session: AsyncSession, tenant_id: UUID, currency: str, start: date, end: date
) -> list[tuple[date, UUID, int]]:
    rows = await session.execute(
        select(balance_moves.c.day, balance_moves.c.account_id, balance_moves.c.delta_minor).where(
            balance_moves.c.tenant_id == tenant_id,
            balance_moves.c.currency == currency,
            balance_moves.c.day >= start,
            balance_moves.c.day <= end,
        )
    )
    return [(r[0], r[1], int(r[2])) for r in rows]


async def active_schedules(session: AsyncSession, tenant_id: UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(schedules.c.payload).where(
            schedules.c.tenant_id == tenant_id, schedules.c.cancelled.is_(False)
        )
    )
    return [p for (p,) in rows]


async def budget_list(session: AsyncSession, tenant_id: UUID) -> list[tuple[UUID, str, int]]:
    rows = await session.execute(
        select(budgets.c.category_id, budgets.c.currency, budgets.c.amount_minor).where(
            budgets.c.tenant_id == tenant_id, budgets.c.amount_minor > 0
        )
    )
    return [(r[0], r[1], int(r[2])) for r in rows]


async def category_amounts(
    session: AsyncSession, tenant_id: UUID, currency: str, category_id: UUID, start: date, end: date
) -> list[int]:
    """Spending amounts (per day and payee) of one category: the sample irregular spending is judged by."""
    rows = await session.execute(
        select(flows.c.expense_minor - flows.c.income_minor).where(
            flows.c.tenant_id == tenant_id,
            flows.c.currency == currency,
            flows.c.category_id == category_id,
            flows.c.day >= start,
            flows.c.day <= end,
        )
    )
    return [int(v) for (v,) in rows if v > 0]


async def is_expected(session: AsyncSession, tenant_id: UUID, category_id: UUID, payee_key: str) -> bool:
    row = (
        await session.execute(
            select(expected_patterns.c.tenant_id).where(
                expected_patterns.c.tenant_id == tenant_id,
                expected_patterns.c.category_id == category_id,
                expected_patterns.c.payee_key == payee_key,
            )
        )
    ).first()
    return row is not None


async def save_unusual(session: AsyncSession, tenant_id: UUID, values: dict[str, Any]) -> bool:
    """Record a detection once per transaction; False when it was already recorded."""
    result = await session.execute(
        insert(unusual)
        .values(tenant_id=tenant_id, **values)
        .on_conflict_do_nothing()
        .returning(unusual.c.tenant_id)
    )
    return result.first() is not None


async def unusual_list(session: AsyncSession, tenant_id: UUID, limit: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        select(unusual)
        .where(unusual.c.tenant_id == tenant_id)
        .order_by(unusual.c.booked_on.desc(), unusual.c.detected_at.desc())
        .limit(limit)
    )
    return [dict(r._mapping) for r in rows]


async def unusual_one(session: AsyncSession, tenant_id: UUID, transaction_id: UUID) -> dict[str, Any] | None:
    row = (
        await session.execute(
            select(unusual).where(
                unusual.c.tenant_id == tenant_id, unusual.c.transaction_id == transaction_id
            )
        )
    ).first()
    return dict(row._mapping) if row else None


async def expect_pattern(
    session: AsyncSession, tenant_id: UUID, category_id: UUID, payee_key: str, now: datetime
) -> None:
    await session.execute(
        insert(expected_patterns)
        .values(tenant_id=tenant_id, category_id=category_id, payee_key=payee_key, created_at=now)
        .on_conflict_do_nothing()
    )


async def expected_keys(session: AsyncSession, tenant_id: UUID) -> set[tuple[UUID, str]]:
    rows = await session.execute(
        select(expected_patterns.c.category_id, expected_patterns.c.payee_key).where(
            expected_patterns.c.tenant_id == tenant_id
        )
    )
    return {(c, p) for c, p in rows}


async def scheduled_flows(
    session: AsyncSession, tenant_id: UUID, currency: str, payees: list[str], start: date, end: date
) -> list[tuple[date, UUID, UUID, str, int, int]]:
    """Flows of the given payees (the past occurrences of recurring items, which forecasts must not
    learn): (day, account, category, payee, income, expense)."""
    if not payees:
        return []
    rows = await session.execute(
        select(
            flows.c.day,
            flows.c.account_id,
            flows.c.category_id,
            flows.c.payee,
            flows.c.income_minor,
            flows.c.expense_minor,
        ).where(
            flows.c.tenant_id == tenant_id,
            flows.c.currency == currency,
            flows.c.day >= start,
            flows.c.day <= end,
            flows.c.payee.in_(payees),
        )
    )
    return [(r[0], r[1], r[2], r[3], int(r[4]), int(r[5])) for r in rows]


async def generation(session: AsyncSession, tenant_id: UUID) -> int:
    value = await session.scalar(select(households.c.generation).where(households.c.tenant_id == tenant_id))
    return int(value or 0)


async def drop_unusual(session: AsyncSession, tenant_id: UUID, transaction_id: UUID) -> None:
    await session.execute(
        delete(unusual).where(unusual.c.tenant_id == tenant_id, unusual.c.transaction_id == transaction_id)
    )


# --- recurring series and savings opportunities -------------------------------------------------------------


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


async def series_rows(session: AsyncSession, tenant_id: UUID) -> list[dict[str, Any]]:
    """The household's series that some event described (a dismissal alone describes nothing)."""
    rows = await session.execute(
        select(series).where(series.c.tenant_id == tenant_id, series.c.amount_minor.is_not(None))
    )
    return [dict(r._mapping) for r in rows]


async def first_flow_day(session: AsyncSession, tenant_id: UUID, currency: str) -> date | None:
    """The household's first day with income or spending in the currency."""
    value: date | None = await session.scalar(
        select(func.min(flows.c.day)).where(
            flows.c.tenant_id == tenant_id,
            flows.c.currency == currency,
            (flows.c.income_minor != 0) | (flows.c.expense_minor != 0),
        )
    )
    return value


async def households_with_zones(session: AsyncSession) -> list[tuple[UUID, str | None]]:
    rows = await session.execute(select(households.c.tenant_id, households.c.time_zone))
    return [(t, z) for t, z in rows]


async def published_savings_months(session: AsyncSession, months: Iterable[str]) -> set[tuple[UUID, str]]:
    rows = await session.execute(
        select(savings_months.c.tenant_id, savings_months.c.month).where(
            savings_months.c.month.in_(list(months))
        )
    )
    return {(t, m) for t, m in rows}


async def claim_savings_month(session: AsyncSession, tenant_id: UUID, month: str, now: datetime) -> bool:
    """True for the one caller (of any replica) that is to publish the household's month."""
    won = await session.execute(
        insert(savings_months)
        .values(tenant_id=tenant_id, month=month, published_at=now)
        .on_conflict_do_nothing()
        .returning(savings_months.c.month)
    )
    return won.first() is not None
