"""Forecast requests: read the series from the rollups, fit them in the worker pool, cache the result
until the tenant's next event (its generation) or the next day."""

import asyncio
from collections import OrderedDict, defaultdict
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from tally_analytics import forecast_tasks, store
from tally_analytics.domain import NO_CATEGORY, resolve_category
from tally_analytics.forecast_tasks import Outlook, SeriesInput
from tally_analytics.reports import Context
from tally_analytics.settings import AnalyticsSettings
from tallykit.logging import get_logger
from tallykit.workers import WorkerPool

log = get_logger(__name__)
HISTORY_DAYS = 730
MAX_CATEGORIES = 20
CACHE_SIZE = 512


class Forecaster:
    """The worker pool that fits, and the cache of results."""

    def __init__(self, workers: WorkerPool) -> None:
        self.workers = workers
        self._cache: OrderedDict[tuple[Any, ...], tuple[int, dict[str, Any]]] = OrderedDict()
        self._locks: OrderedDict[tuple[Any, ...], asyncio.Lock] = OrderedDict()
        self._rendered: OrderedDict[tuple[Any, ...], tuple[int, bytes]] = OrderedDict()

    def rendered(self, key: tuple[Any, ...], generation: int) -> bytes | None:
        """A response body already encoded for this key and generation (a cached hit costs no fitting,
        no validation and no encoding)."""
        hit = self._rendered.get(key)
        if hit is None or hit[0] != generation:
            return None
        self._rendered.move_to_end(key)
        return hit[1]

    def remember(self, key: tuple[Any, ...], generation: int, body: bytes) -> None:
        self._rendered[key] = (generation, body)
        while len(self._rendered) > CACHE_SIZE:
            self._rendered.popitem(last=False)

    async def fit_all(self, tasks: list[tuple[Any, ...]]) -> list[Outlook]:
        """Each task (a `forecast_tasks` function and its arguments) in the worker pool, all at once."""
        return list(await asyncio.gather(*[self.workers.run(*task) for task in tasks]))

    def _lock(self, key: tuple[Any, ...]) -> asyncio.Lock:
        """The lock of one key; as many are kept as results (keys name a day: all of them would grow
        without end). A lock dropped while held costs at most one fit done twice."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._locks.move_to_end(key)
        while len(self._locks) > CACHE_SIZE:
            self._locks.popitem(last=False)
        return lock

    async def cached(
        self, key: tuple[Any, ...], generation: int, compute: Any
    ) -> tuple[dict[str, Any], bool]:
        """The cached result for `key` if no event came since; otherwise compute it (once at a time)."""
        hit = self._cache.get(key)
        if hit is not None and hit[0] == generation:
            self._cache.move_to_end(key)
            return hit[1], True
        async with self._lock(key):
            hit = self._cache.get(key)
            if hit is not None and hit[0] == generation:
                return hit[1], True
            result: dict[str, Any] = await compute()
            self._cache[key] = (generation, result)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
            return result, False


_SHARED: list[Forecaster] = []


def shared_forecaster(settings: AnalyticsSettings) -> Forecaster:
    """One pool per process, shared by every app instance (tests create many; the first one's settings
    hold)."""
    if not _SHARED:
        _SHARED.append(Forecaster(WorkerPool(forecast_tasks.worker_count(), settings.worker_pool_idle_s)))
    return _SHARED[0]


def _schedules_in(schedules: list[dict[str, Any]], currency: str) -> list[dict[str, Any]]:
    return [s for s in schedules if s.get("currency") == currency and s.get("next_due_on")]


def known_items(schedules: list[dict[str, Any]], first: date, last: date) -> list[dict[str, Any]]:
    """Future occurrences in [first, last], from each schedule's next occurrence not yet due."""
    out = []
    for s in schedules:
        next_due = date.fromisoformat(s["next_due_on"])
        after = max(first, next_due) - timedelta(days=1)
        for day in forecast_tasks.occurrences(s, after, last):
            sign = 1 if s["kind"] == "income" else -1
            out.append(
                {
                    "day": day,
                    "name": s["name"],
                    "account_id": UUID(s["account_id"]),
                    "category_id": UUID(s["category_id"]) if s.get("category_id") else None,
                    "payee": s.get("payee", ""),
                    "amount_minor": sign * int(s["amount_minor"]),
                }
            )
    return sorted(out, key=lambda x: (x["day"], x["name"]))


def _points(days: list[date], summary: dict[str, list[float]]) -> list[dict[str, Any]]:
    return [
        {
            "day": day,
            "expected_minor": round(summary["mean"][i]),
            "lower_minor": round(summary["lower"][i]),
            "upper_minor": round(summary["upper"][i]),
        }
        for i, day in enumerate(days)
    ]


async def cash_flow_inputs(
    session: AsyncSession, tenant_id: UUID, ctx: Context, horizon: int
) -> tuple[list[SeriesInput], dict[str, Any]]:
    today = ctx.today
    start = today - timedelta(days=HISTORY_DAYS)
    schedules = _schedules_in(await store.active_schedules(session, tenant_id), ctx.currency)
    items = known_items(schedules, today, today + timedelta(days=horizon - 1))
    accounts = [a for a in await store.account_list(session, tenant_id) if a[3] == ctx.currency]
    balances = await store.balances_before(session, tenant_id, ctx.currency, today)
    moves = await store.balance_days(session, tenant_id, ctx.currency, start, today - timedelta(days=1))
    # Past occurrences of scheduled items are taken out of what the model learns.
    pairs = {(UUID(s["account_id"]), s.get("payee", "")) for s in schedules if s.get("payee")}
    scheduled = await store.scheduled_flows(
        session, tenant_id, ctx.currency, sorted({p for _, p in pairs}), start, today - timedelta(days=1)
    )
    per_account: defaultdict[UUID, defaultdict[date, int]] = defaultdict(lambda: defaultdict(int))
    for day, account, delta in moves:
        per_account[account][day] += delta
    for day, account, _, payee, income, expense in scheduled:
        if (account, payee) in pairs:
            per_account[account][day] -= income - expense
    account_ids = [a[0] for a in accounts] + sorted(set(balances) - {a[0] for a in accounts}, key=str)
    total: defaultdict[date, int] = defaultdict(int)
    inputs = []
    for index, account in enumerate(account_ids):
        for day, value in per_account[account].items():
            total[day] += value
        inputs.append(
            SeriesInput(
                key=str(account),
                history=sorted(per_account[account].items()),
                today=today,
                horizon=horizon,
                known=[(i["day"], i["amount_minor"]) for i in items if i["account_id"] == account],
                seed=index,
            )
        )
    inputs.append(
        SeriesInput(
            key="total",
            history=sorted(total.items()),
            today=today,
            horizon=horizon,
            known=[(i["day"], i["amount_minor"]) for i in items],
            seed=len(inputs),
        )
    )
    meta = {
        "names": {str(a[0]): a[1] for a in accounts},
        "balances": {str(a): balances.get(a, 0) for a in account_ids},
        "items": items,
    }
    return inputs, meta


async def cash_flow(
    forecaster: Forecaster, session: AsyncSession, tenant_id: UUID, ctx: Context, horizon: int
) -> tuple[dict[str, Any], bool]:
    generation = ctx.generation

    async def compute() -> dict[str, Any]:
        inputs, meta = await cash_flow_inputs(session, tenant_id, ctx, horizon)
        starts = [meta["balances"][s.key] for s in inputs[:-1]] + [sum(meta["balances"].values())]
        fitted = await forecaster.fit_all(
            [(forecast_tasks.balance, s, start) for s, start in zip(inputs, starts, strict=True)]
        )

        def series(f: Outlook, start: int) -> dict[str, Any]:
            return {
                "method": f.method,
                "fallback_reason": f.fallback_reason,
                "start_balance_minor": start,
                "points": _points(f.days, f.summary),
            }

        accounts = [
            {"account_id": f.key, "name": meta["names"].get(f.key, "Unknown account"), **series(f, start)}
            for f, start in zip(fitted[:-1], starts[:-1], strict=True)
        ]
        total = series(fitted[-1], starts[-1])
        return {
            "currency": ctx.currency,
            "today": ctx.today,
            "horizon_days": horizon,
            "fallback_used": any(f.method == "fallback" for f in fitted),
            "total": total,
            "accounts": accounts,
            "known_items": meta["items"],
        }

    return await forecaster.cached(("cash", tenant_id, ctx.currency, horizon, ctx.today), generation, compute)


async def categories(
    forecaster: Forecaster, session: AsyncSession, tenant_id: UUID, ctx: Context
) -> tuple[dict[str, Any], bool]:
    """Each expense category's spending to the end of this month, and the chance its budget is exceeded."""
    generation = ctx.generation

    async def compute() -> dict[str, Any]:
        today = ctx.today
        month_start, month_end = today.replace(day=1), forecast_tasks.month_end(today)
        tomorrow = today + timedelta(days=1)
        remaining = (month_end - today).days
        cats = await store.category_map(session, tenant_id)
        schedules = _schedules_in(await store.active_schedules(session, tenant_id), ctx.currency)
        items = [
            i
            for i in known_items(schedules, tomorrow, month_end)
            if i["category_id"] and i["amount_minor"] < 0
        ]
        excluded = {
            (UUID(s["category_id"]), s.get("payee", ""))
            for s in schedules
            if s.get("category_id") and s.get("payee")
        }
        rows = await store.daily_category_rows(
            session, tenant_id, ctx.currency, today - timedelta(days=HISTORY_DAYS), today
        )
        scheduled = await store.scheduled_flows(
            session,
            tenant_id,
            ctx.currency,
            sorted({p for _, p in excluded}),
            today - timedelta(days=HISTORY_DAYS),
            today,
        )
        daily: defaultdict[UUID, defaultdict[date, int]] = defaultdict(lambda: defaultdict(int))
        for day, category, income, expense in rows:
            target = resolve_category(cats, category)
            info = cats.get(target)
            if target == NO_CATEGORY or info is None or info.kind != "expense":
                continue
            daily[target][day] += expense - income
        for day, _, category, payee, income, expense in scheduled:
            if (category, payee) in excluded:
                daily[resolve_category(cats, category)][day] -= expense - income
        spent = {c: sum(v for d, v in days.items() if d >= month_start) for c, days in daily.items()}
        budgets = {c: a for c, cur, a in await store.budget_list(session, tenant_id) if cur == ctx.currency}
        scheduled_spent = {resolve_category(cats, c): 0 for c, _ in excluded}
        for day, _, category, payee, income, expense in scheduled:
            if (category, payee) in excluded and day >= month_start:
                scheduled_spent[resolve_category(cats, category)] += expense - income
        ranked = sorted(daily, key=lambda c: -sum(daily[c].values()))[:MAX_CATEGORIES]
        for c in budgets:
            if c not in ranked and c in cats:
                ranked.append(c)
        inputs = [
            SeriesInput(
                key=str(c),
                history=sorted(daily[c].items()),
                today=tomorrow,
                horizon=remaining,
                known=[
                    (i["day"], -i["amount_minor"])
                    for i in items
                    if resolve_category(cats, i["category_id"]) == c
                ],
                seed=n,
            )
            for n, c in enumerate(ranked)
        ]
        spent_so_far = [spent.get(c, 0) + scheduled_spent.get(c, 0) for c in ranked]
        fitted = await forecaster.fit_all(
            [
                (forecast_tasks.landing, s, so_far, budgets.get(c))
                for s, so_far, c in zip(inputs, spent_so_far, ranked, strict=True)
            ]
        )
        out = []
        for c, f, so_far in zip(ranked, fitted, spent_so_far, strict=True):
            budget = budgets.get(c)
            landing = f.summary
            out.append(
                {
                    "category_id": c,
                    "name": cats[c].name if c in cats else "Unknown category",
                    "spent_minor": so_far,
                    "expected_minor": round(landing["expected"]),
                    "lower_minor": round(landing["lower"]),
                    "upper_minor": round(landing["upper"]),
                    "budget_minor": budget,
                    "probability_over_budget": landing["probability_over_budget"],
                    "method": f.method,
                    "fallback_reason": f.fallback_reason,
                }
            )
        return {
            "currency": ctx.currency,
            "today": today,
            "period_start": month_start,
            "period_end": month_end,
            "fallback_used": any(f.method == "fallback" for f in fitted),
            "categories": out,
        }

    return await forecaster.cached(("categories", tenant_id, ctx.currency, ctx.today), generation, compute)
