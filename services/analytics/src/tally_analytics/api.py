from typing import Annotated

from fastapi import APIRouter, Query, Request

from tally_analytics import store
from tally_analytics.domain import MONTH_PATTERN, current_month, totals_by_currency
from tally_analytics.schemas import CategoryTotalPublic, CurrencyTotalPublic, MonthlyReportPublic
from tallykit.db import Database
from tallykit.tokens import CurrentPrincipal

router = APIRouter(tags=["reports"])

MonthQuery = Annotated[str | None, Query(pattern=MONTH_PATTERN, description="YYYY-MM; default this month")]


@router.get("/reports/monthly")
async def monthly_report(
    principal: CurrentPrincipal, request: Request, month: MonthQuery = None
) -> MonthlyReportPublic:
    """Income and expenses of one month, per currency and per category (amounts in different currencies are
    never added up)."""
    month = month or current_month()
    db: Database = request.app.state.db
    async with db.read() as session:
        rows = await store.month_by_category(session, principal.tenant_id, month)
    return MonthlyReportPublic(
        month=month,
        totals=[CurrencyTotalPublic.model_validate(t) for t in totals_by_currency(rows)],
        by_category=[CategoryTotalPublic.model_validate(r) for r in rows],
    )
