from typing import Annotated

from fastapi import APIRouter, Query, Request

from tally_budget import handlers, store
from tally_budget.domain import MONTH_PATTERN, current_month
from tally_budget.schemas import BudgetCreate, BudgetPublic, BudgetsPublic
from tallykit.app import wake_relay
from tallykit.db import Database
from tallykit.tokens import CurrentPrincipal

router = APIRouter(tags=["budgets"])

MonthQuery = Annotated[str | None, Query(pattern=MONTH_PATTERN, description="YYYY-MM; default this month")]


@router.post("/budgets", status_code=201)
async def set_budget(body: BudgetCreate, principal: CurrentPrincipal, request: Request) -> BudgetPublic:
    """Set the monthly budget of a category; posting again for the same category changes its amount."""
    command = handlers.SetBudget(
        category_id=body.category_id, amount_minor=body.amount_minor, currency=body.currency
    )
    row = await handlers.set_budget(request.app.state.db, request.app.state.settings, principal, command)
    wake_relay(request)
    return BudgetPublic.of(row)


@router.get("/budgets")
async def list_budgets(
    principal: CurrentPrincipal, request: Request, month: MonthQuery = None
) -> BudgetsPublic:
    month = month or current_month()
    db: Database = request.app.state.db
    async with db.read() as session:
        rows = await store.list_budgets(session, principal.tenant_id, month)
    return BudgetsPublic(month=month, items=[BudgetPublic.of(r) for r in rows])
