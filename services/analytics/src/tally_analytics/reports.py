"""Reports assembled from the rollups: the store sums rows of a period, the domain names and classifies
them. Amounts of different currencies are never added up: a report is in one currency (the household's
base currency unless asked otherwise) and lists the other currencies the household has."""

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from tally_analytics import store
from tally_analytics.domain import (
    NO_CATEGORY,
    UNCATEGORISED,
    UNKNOWN_CATEGORY,
    CategoryInfo,
    FlowRow,
    Line,
    Period,
    Totals,
    buckets,
    category_lines,
    group_lines,
    payee_lines,
    percent_change,
    resolve_category,
    side_of,
    signed_amount,
    today_in,
    top_changes,
    totals_of,
)

DEFAULT_CURRENCY = "EUR"


@dataclass(frozen=True)
class Context:
    """What every report of a tenant needs: its currency and today in its time zone."""

    currency: str
    currencies: list[str]
    today: date
    time_zone: str
    generation: int  # bumped by every event of the household: what cached results are checked against


async def context(
    session: AsyncSession, tenant_id: UUID, currency: str | None, *, list_currencies: bool = True
) -> Context:
    """The household's settings; its currencies are looked up when listed or when no currency is known
    (the most used one is then the report's)."""
    base, zone, generation = await store.household(session, tenant_id)
    used: list[str] = []
    if list_currencies or not (currency or base):
        used = [c for c, _ in await store.currencies(session, tenant_id)]
    chosen = currency or base or (used[0] if used else DEFAULT_CURRENCY)
    zone = zone or "UTC"
    return Context(chosen, sorted(set(used) | {chosen}), today_in(zone), zone, generation)


def period_json(period: Period) -> dict[str, Any]:
    return {"kind": period.kind, "label": period.label, "start": period.start, "end": period.end}


def totals_json(totals: Totals) -> dict[str, Any]:
    return {
        "income_minor": totals.income_minor,
        "expense_minor": totals.expense_minor,
        "net_minor": totals.net_minor,
        "savings_rate": totals.savings_rate,
    }


def line_json(line: Line) -> dict[str, Any]:
    return {
        "key": line.key,
        "label": line.label,
        "side": line.side,
        "amount_minor": line.amount_minor,
        "entries": line.entries,
        "group": line.group,
        "category_id": line.category_id,
    }


async def _lines(
    session: AsyncSession,
    tenant_id: UUID,
    currency: str,
    period: Period,
    categories: dict[UUID, CategoryInfo],
    *,
    by_payee: bool = True,
) -> tuple[list[FlowRow], list[Line]]:
    rows = await store.flow_rows(session, tenant_id, currency, period.start, period.end, by_payee=by_payee)
    return rows, category_lines(rows, categories)


def tag_lines(rows: list[tuple[str, UUID, int, int]], categories: dict[UUID, CategoryInfo]) -> list[Line]:
    sums: dict[tuple[str, str], Line] = {}
    for tag, category_id, income, expense in rows:
        side = side_of(categories, resolve_category(categories, category_id), income, expense)
        line = sums.setdefault((side, tag), Line(key=tag, label=tag, side=side, amount_minor=0))
        line.amount_minor += signed_amount(side, income, expense)
    return sorted(
        (x for x in sums.values() if x.amount_minor), key=lambda x: (x.side, -x.amount_minor, x.label)
    )


async def summary(
    session: AsyncSession, tenant_id: UUID, ctx: Context, period: Period, *, payees: int = 25
) -> dict[str, Any]:
    """Totals, the breakdowns and the comparisons of one period."""
    categories = await store.category_map(session, tenant_id)
    merges = await store.payee_merge_map(session, tenant_id)
    rows, lines = await _lines(session, tenant_id, ctx.currency, period, categories)
    totals = totals_of(lines)
    previous_period, year_period = period.previous(), period.year_before()
    _, previous_lines = await _lines(
        session, tenant_id, ctx.currency, previous_period, categories, by_payee=False
    )
    _, year_lines = await _lines(session, tenant_id, ctx.currency, year_period, categories, by_payee=False)
    previous, year_before = totals_of(previous_lines), totals_of(year_lines)
    tags = tag_lines(
        await store.tag_rows(session, tenant_id, ctx.currency, period.start, period.end), categories
    )
    by_payee = payee_lines(rows, categories, merges)

    def comparison(other: Totals, other_period: Period) -> dict[str, Any]:
        return {
            "period": period_json(other_period),
            "totals": totals_json(other),
            "income_change_pct": percent_change(totals.income_minor, other.income_minor),
            "expense_change_pct": percent_change(totals.expense_minor, other.expense_minor),
            "net_change_minor": totals.net_minor - other.net_minor,
        }

    return {
        "period": period_json(period),
        "currency": ctx.currency,
        "currencies": ctx.currencies,
        "totals": totals_json(totals),
        "by_category": [line_json(x) for x in lines],
        "by_group": [line_json(x) for x in group_lines(lines)],
        "by_payee": [line_json(x) for x in by_payee[:payees]],
        "by_tag": [line_json(x) for x in tags],
        "vs_previous": comparison(previous, previous_period),
        "vs_last_year": comparison(year_before, year_period),
        "top_changes": [
            {
                "key": c.key,
                "label": c.label,
                "side": c.side,
                "current_minor": c.current_minor,
                "previous_minor": c.previous_minor,
                "change_minor": c.change_minor,
            }
            for c in top_changes(lines, previous_lines)
        ],
    }


async def cash_flow_series(
    session: AsyncSession, tenant_id: UUID, ctx: Context, period: Period, granularity: str
) -> list[dict[str, Any]]:
    """Income and expenses (refunds netted per category) per bucket of the period."""
    categories = await store.category_map(session, tenant_id)
    days = await store.daily_category_rows(
        session, tenant_id, ctx.currency, period.start, period.end, granularity
    )
    cuts = buckets(period, granularity)
    starts = [start for start, _ in cuts]
    income = [0] * len(cuts)
    expense = [0] * len(cuts)
    for day, category_id, inc, exp in days:
        index = _bucket_index(starts, day)
        side = side_of(categories, resolve_category(categories, category_id), inc, exp)
        if side == "income":
            income[index] += inc - exp
        else:
            expense[index] += exp - inc
    return [
        {
            "start": start,
            "end": end,
            "income_minor": income[i],
            "expense_minor": expense[i],
            "net_minor": income[i] - expense[i],
            "savings_rate": Totals(income[i], expense[i]).savings_rate,
        }
        for i, (start, end) in enumerate(cuts)
    ]


def _bucket_index(starts: list[date], day: date) -> int:
    lo, hi = 0, len(starts) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if starts[mid] <= day:
            lo = mid
        else:
            hi = mid - 1
    return lo


async def net_worth_series(
    session: AsyncSession, tenant_id: UUID, ctx: Context, period: Period, granularity: str
) -> dict[str, Any]:
    """Each account's balance, and their sum, at the end of every bucket (accounts in the currency)."""
    opening = await store.balances_before(session, tenant_id, ctx.currency, period.start)
    moves = await store.balance_days(session, tenant_id, ctx.currency, period.start, period.end)
    accounts = {a: (name, kind) for a, name, kind, cur in await store.account_list(session, tenant_id)}
    cuts = buckets(period, granularity)
    starts = [start for start, _ in cuts]
    ids = sorted(
        set(opening) | {a for _, a, _ in moves}, key=lambda a: (accounts.get(a, ("~", ""))[0], str(a))
    )
    per_bucket: dict[UUID, list[int]] = {a: [0] * len(cuts) for a in ids}
    for day, account, delta in moves:
        per_bucket[account][_bucket_index(starts, day)] += delta
    series: dict[UUID, list[int]] = {}
    for account in ids:
        running = opening.get(account, 0)
        values = []
        for delta in per_bucket[account]:
            running += delta
            values.append(running)
        series[account] = values
    return {
        "currency": ctx.currency,
        "points": [
            {"end": end, "net_worth_minor": sum(series[a][i] for a in ids)} for i, (_, end) in enumerate(cuts)
        ],
        "accounts": [
            {
                "account_id": a,
                "name": accounts.get(a, ("Unknown account", ""))[0],
                "kind": accounts.get(a, ("", "unknown"))[1] or "unknown",
                "balances_minor": series[a],
            }
            for a in ids
        ],
    }


async def monthly(session: AsyncSession, tenant_id: UUID, month_period: Period) -> dict[str, Any]:
    """The original monthly report (kept for its clients): per currency and category, income and
    expense exactly as recorded (a refund counts as income here; `summary` nets it)."""
    categories = await store.category_map(session, tenant_id)
    by_category: dict[tuple[str, UUID], list[int]] = {}
    for currency, _ in await store.currencies(session, tenant_id):
        for row in await store.flow_rows(session, tenant_id, currency, month_period.start, month_period.end):
            target = resolve_category(categories, row.category_id)
            acc = by_category.setdefault((currency, target), [0, 0])
            acc[0] += row.income_minor
            acc[1] += row.expense_minor
    rows: list[dict[str, Any]] = []
    for (currency, category_id), (income, expense) in by_category.items():
        if not income and not expense:
            continue
        info = categories.get(category_id)
        rows.append(
            {
                "category_id": None if category_id == NO_CATEGORY else category_id,
                "category_name": UNCATEGORISED
                if category_id == NO_CATEGORY
                else (info.name if info else UNKNOWN_CATEGORY),
                "currency": currency,
                "income_minor": income,
                "expense_minor": expense,
            }
        )
    rows.sort(key=lambda r: (r["currency"], str(r["category_name"]).casefold(), str(r["category_id"])))
    totals: dict[str, list[int]] = {}
    for r in rows:
        acc = totals.setdefault(r["currency"], [0, 0])
        acc[0] += r["income_minor"]
        acc[1] += r["expense_minor"]
    return {
        "month": month_period.label,
        "totals": [
            {"currency": c, "income_minor": i, "expense_minor": e, "net_minor": i - e}
            for c, (i, e) in sorted(totals.items())
        ],
        "by_category": rows,
    }
