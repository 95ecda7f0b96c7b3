"""Report endpoints. Every query is scoped to the caller's tenant; nothing here writes except rebuild."""

import asyncio
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tally_analytics import exports, forecasting, opportunities, reports, store
from tally_analytics.domain import (
    MONTH_PATTERN,
    PERIOD_PATTERN,
    UNKNOWN_CATEGORY,
    CategoryInfo,
    Period,
    default_granularity,
    parse_period,
    resolve_category,
    resolve_period,
)
from tally_analytics.forecasting import Forecaster
from tally_analytics.projections import rebuild
from tally_analytics.schemas import (
    CashFlowForecastPublic,
    CashFlowPublic,
    CategoryForecastsPublic,
    MonthlyReportPublic,
    NetWorthPublic,
    RebuildPublic,
    SavingsPublic,
    SummaryPublic,
    UnusualPublic,
)
from tallykit.app import db_of
from tallykit.errors import InvalidInput, NotFound
from tallykit.money import CurrencyCode
from tallykit.tokens import CurrentPrincipal

router = APIRouter(tags=["reports"])

MonthQuery = Annotated[str | None, Query(pattern=MONTH_PATTERN, description="YYYY-MM; default this month")]
PeriodQuery = Annotated[
    str | None,
    Query(pattern=PERIOD_PATTERN, description="YYYY, YYYY-Qn or YYYY-MM; default this month"),
]
FromQuery = Annotated[date | None, Query(alias="from", description="first day of a custom period")]
ToQuery = Annotated[date | None, Query(alias="to", description="last day of a custom period (inclusive)")]
CurrencyQuery = Annotated[
    CurrencyCode | None, Query(pattern=r"^[A-Z]{3}$", description="default: the household's base currency")
]
GranularityQuery = Annotated[
    str | None, Query(pattern=r"^(day|week|month)$", description="default: by the period's length")
]
MAX_BUCKETS = 400


class ReportQuery:
    """What every period report is asked: a named or a custom period, and the currency to show."""

    def __init__(self, period: PeriodQuery = None, start: FromQuery = None, end: ToQuery = None,
                 currency: CurrencyQuery = None) -> None:
        self.period, self.start, self.end, self.currency = period, start, end, currency

    async def resolve(self, session: AsyncSession, tenant_id: UUID) -> tuple[reports.Context, Period]:
        """The household's report context in the currency, and the period it asks for."""
        ctx = await reports.context(session, tenant_id, self.currency)
        return ctx, resolve_period(self.period, self.start, self.end, ctx.today)


Report = Annotated[ReportQuery, Depends()]



def _granularity(period: Period, granularity: str | None) -> str:
    chosen = granularity or default_granularity(period)
    if chosen == "day" and period.days > MAX_BUCKETS:
        raise InvalidInput(f"at most {MAX_BUCKETS} days: choose week or month for a longer period")
    return chosen


@router.get("/reports/monthly")
async def monthly_report(
    principal: CurrentPrincipal, request: Request, month: MonthQuery = None
) -> MonthlyReportPublic:
    """Income and expenses of one month as recorded, per currency and per category (amounts in different
    currencies are never added up). `/reports/summary` is the fuller report."""
    async with db_of(request).read() as session:
        ctx = await reports.context(session, principal.tenant_id, None)
        body = await reports.monthly(
            session, principal.tenant_id, parse_period(month or ctx.today.isoformat()[:7])
        )
    return MonthlyReportPublic.model_validate(body)


@router.get("/reports/summary")
async def summary_report(
    principal: CurrentPrincipal,
    request: Request,
    query: Report,
) -> SummaryPublic:
    """Income, expenses, net savings and savings rate of a period; by category, group, payee and tag
    (spending net of refunds, transfers never counted); against the previous period and the same period
    a year before; the categories that changed most."""
    async with db_of(request).read() as session:
        ctx, chosen = await query.resolve(session, principal.tenant_id)
        body = await reports.summary(session, principal.tenant_id, ctx, chosen)
    return SummaryPublic.model_validate(body)


@router.get("/reports/cash-flow")
async def cash_flow_report(
    principal: CurrentPrincipal,
    request: Request,
    query: Report,
    granularity: GranularityQuery = None,
) -> CashFlowPublic:
    """Income against expenses over time, per day, week or month of the period (chart data)."""
    async with db_of(request).read() as session:
        ctx, chosen = await query.resolve(session, principal.tenant_id)
        step = _granularity(chosen, granularity)
        points = await reports.cash_flow_series(session, principal.tenant_id, ctx, chosen, step)
    return CashFlowPublic.model_validate(
        {
            "period": reports.period_json(chosen),
            "currency": ctx.currency,
            "granularity": step,
            "points": points,
        }
    )


@router.get("/reports/net-worth")
async def net_worth_report(
    principal: CurrentPrincipal,
    request: Request,
    query: Report,
    granularity: GranularityQuery = None,
) -> NetWorthPublic:
    """Net worth (the sum of the accounts in the currency, opening balances included) and each account's
    balance at the end of every day, week or month of the period."""
    async with db_of(request).read() as session:
        ctx, chosen = await query.resolve(session, principal.tenant_id)
        step = _granularity(chosen, granularity)
        body: dict[str, Any] = await reports.net_worth_series(session, principal.tenant_id, ctx, chosen, step)
    return NetWorthPublic.model_validate({**body, "period": reports.period_json(chosen), "granularity": step})


HorizonQuery = Annotated[int, Query(ge=1, le=90, description="days ahead, 1-90 (the screens use 30 and 90)")]


def forecaster_of(request: Request) -> Forecaster:
    forecaster: Forecaster = request.app.state.forecaster
    return forecaster


JSON = "application/json"


@router.get("/forecasts/cash-flow", tags=["forecasts"], response_model=CashFlowForecastPublic)
async def cash_flow_forecast(
    principal: CurrentPrincipal, request: Request, horizon: HorizonQuery = 30, currency: CurrencyQuery = None
) -> Response:
    """Balance forecast per account and in total for the next days, with an 80 % band. Recurring
    transactions and bills still to come are added on top of the model (`known_items`); a series with
    too little history uses a simpler method and says so (`method`, `fallback_reason`). Cached until the
    household's next event (`cached`)."""
    forecaster = forecaster_of(request)
    async with db_of(request).read() as session:
        ctx = await reports.context(session, principal.tenant_id, currency, list_currencies=False)
        key = ("cash", principal.tenant_id, ctx.currency, horizon, ctx.today)
        if (hit := forecaster.rendered(key, ctx.generation)) is not None:
            return Response(hit, media_type=JSON)
        body, cached = await forecasting.cash_flow(forecaster, session, principal.tenant_id, ctx, horizon)
    forecaster.remember(
        key,
        ctx.generation,
        CashFlowForecastPublic.model_validate({**body, "cached": True}).model_dump_json().encode(),
    )
    return Response(
        CashFlowForecastPublic.model_validate({**body, "cached": cached}).model_dump_json(), media_type=JSON
    )


@router.get("/forecasts/categories", tags=["forecasts"], response_model=CategoryForecastsPublic)
async def category_forecasts(
    principal: CurrentPrincipal, request: Request, currency: CurrencyQuery = None
) -> Response:
    """Where each expense category's spending lands by the end of this month (80 % band), and the
    probability its monthly budget is exceeded."""
    forecaster = forecaster_of(request)
    async with db_of(request).read() as session:
        ctx = await reports.context(session, principal.tenant_id, currency, list_currencies=False)
        key = ("categories", principal.tenant_id, ctx.currency, ctx.today)
        if (hit := forecaster.rendered(key, ctx.generation)) is not None:
            return Response(hit, media_type=JSON)
        body, cached = await forecasting.categories(forecaster, session, principal.tenant_id, ctx)
    forecaster.remember(
        key,
        ctx.generation,
        CategoryForecastsPublic.model_validate({**body, "cached": True}).model_dump_json().encode(),
    )
    return Response(
        CategoryForecastsPublic.model_validate({**body, "cached": cached}).model_dump_json(), media_type=JSON
    )


@router.get("/unusual", tags=["unusual spending"])
async def unusual_spending(
    principal: CurrentPrincipal, request: Request, limit: Annotated[int, Query(ge=1, le=200)] = 20
) -> list[UnusualPublic]:
    """Recent spending far outside its category's usual range, newest first; `expected` when its
    pattern (category and payee) was since marked as expected."""
    async with db_of(request).read() as session:
        rows = await store.unusual_list(session, principal.tenant_id, limit)
        categories = await store.category_map(session, principal.tenant_id)
        expected = await store.expected_keys(session, principal.tenant_id)
    return [_unusual(row, categories, expected) for row in rows]


def _unusual(
    row: dict[str, Any], categories: dict[UUID, CategoryInfo], expected: set[tuple[UUID, str]]
) -> UnusualPublic:
    info = categories.get(resolve_category(categories, row["category_id"]))
    return UnusualPublic.model_validate(
        {
            **row,
            "category_name": info.name if info else UNKNOWN_CATEGORY,
            "expected": (row["category_id"], row["payee"].casefold()) in expected,
        }
    )


@router.post("/unusual/{transaction_id}/expected", tags=["unusual spending"])
async def mark_expected(principal: CurrentPrincipal, request: Request, transaction_id: UUID) -> UnusualPublic:
    """Mark an unusual item as expected: spending with the same category and payee stops alerting."""
    principal.require_write()
    async with db_of(request).transaction() as session:
        row = await store.unusual_one(session, principal.tenant_id, transaction_id)
        if row is None:
            raise NotFound("no such unusual item")
        await store.expect_pattern(
            session, principal.tenant_id, row["category_id"], row["payee"].casefold(), datetime.now(UTC)
        )
        categories = await store.category_map(session, principal.tenant_id)
        expected = await store.expected_keys(session, principal.tenant_id)
    return _unusual(row, categories, expected)


@router.get("/savings", tags=["savings"])
async def savings_opportunities(
    principal: CurrentPrincipal, request: Request, month: MonthQuery = None, currency: CurrencyQuery = None
) -> SavingsPublic:
    """Where the household could save in a month (this month by default, so far): expense categories
    running above their own 6-month median, subscriptions whose price rose, duplicate subscriptions, fees
    and interest paid; each with its figures and the transactions search (`query`) behind it."""
    async with db_of(request).read() as session:
        ctx = await reports.context(session, principal.tenant_id, currency)
        chosen = parse_period(month or ctx.today.isoformat()[:7])
        found = await opportunities.opportunities(session, principal.tenant_id, ctx.currency, chosen.start)
        history_from = await store.first_flow_day(session, principal.tenant_id, ctx.currency)
    return SavingsPublic(
        month=chosen.label, currency=ctx.currency, currencies=ctx.currencies, history_from=history_from,
        opportunities=found,
    )


ExportReport = Literal["summary", "cash-flow", "net-worth"]
ExportFormat = Literal["csv", "xlsx"]
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/exports/{report}.{fmt}", tags=["exports"], response_class=Response)
async def export_report(
    principal: CurrentPrincipal,
    request: Request,
    report: ExportReport,
    fmt: ExportFormat,
    query: Report,
    granularity: GranularityQuery = None,
) -> Response:
    """Any report as CSV or XLSX, with the same figures and query as its JSON endpoint (amounts in
    major units with the currency beside them)."""
    async with db_of(request).read() as session:
        ctx, chosen = await query.resolve(session, principal.tenant_id)
        if report == "summary":
            sheets = exports.summary_sheets(await reports.summary(session, principal.tenant_id, ctx, chosen))
        else:
            step = _granularity(chosen, granularity)
            if report == "cash-flow":
                points = await reports.cash_flow_series(session, principal.tenant_id, ctx, chosen, step)
                sheets = exports.cash_flow_sheets({"currency": ctx.currency, "points": points})
            else:
                sheets = exports.net_worth_sheets(
                    await reports.net_worth_series(session, principal.tenant_id, ctx, chosen, step)
                )
    name = f"tally-{report}-{chosen.label.replace('..', '_')}-{ctx.currency}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        return Response(exports.to_csv(sheets), media_type="text/csv; charset=utf-8", headers=headers)
    body = await asyncio.to_thread(exports.to_xlsx, sheets)
    return Response(body, media_type=XLSX_TYPE, headers=headers)


StatementPeriod = Annotated[str, Path(pattern=r"^\d{4}(-(0[1-9]|1[0-2]))?$", description="YYYY-MM or YYYY")]


@router.get("/statements/{period}.pdf", tags=["exports"], response_class=Response)
async def statement(
    principal: CurrentPrincipal, request: Request, period: StatementPeriod, currency: CurrencyQuery = None
) -> Response:
    """A monthly (YYYY-MM) or yearly (YYYY) statement as PDF: totals, comparisons, charts, categories
    and payees. Drawn in the worker pool: it never blocks the service."""
    chosen = parse_period(period)
    async with db_of(request).read() as session:
        ctx = await reports.context(session, principal.tenant_id, currency)
        summary = await reports.summary(session, principal.tenant_id, ctx, chosen)
        step = "month" if chosen.kind == "year" else "week"
        points = await reports.cash_flow_series(session, principal.tenant_id, ctx, chosen, step)
    workers = forecaster_of(request).workers
    body = await workers.run(exports.statement_pdf, summary, {"points": points}, "Tally")
    name = f"tally-statement-{chosen.label}-{ctx.currency}.pdf"
    return Response(
        body, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.post("/rebuild")
async def rebuild_read_model(principal: CurrentPrincipal, request: Request) -> RebuildPublic:
    """Rebuild the household's read model from the events it was built from (after a change of rules)."""
    principal.require_write()
    applied = await rebuild(db_of(request), principal.tenant_id)
    return RebuildPublic(events_applied=applied)
