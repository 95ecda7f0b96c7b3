"""The analytics service's queries: the reads that reports, forecasts and savings opportunities are made
of, and unusual spending's detections and expected patterns (the tables are in tables.py; what the events
write into them, in read_model.py)."""

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Date, cast, delete, func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from tally_analytics.domain import OPENING_DAY, CategoryInfo, FlowRow
from tally_analytics.tables import (
    accounts,
    balance_moves,
    budgets,
    categories,
    expected_patterns,
    flows,
    households,
    payee_merges,
    savings_months,
    schedules,
    series,
    tag_flows,
    unusual,
)


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
