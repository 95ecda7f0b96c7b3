"""Routes for reconciling an account with the bank's statement: where it stands for a closing date and
balance, and finishing it. Ticking a transaction off is marking it cleared (PATCH /transactions/{id})."""

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from tally_ledger import reconciling
from tally_ledger.repository import Context
from tally_ledger.schemas import PayeeName, TransactionPublic
from tallykit.app import db_of, settings_of
from tallykit.money import MAX_MINOR_UNITS, MinorUnits
from tallykit.tokens import CurrentPrincipal, Principal

router = APIRouter()



def _writer(principal: Principal) -> Context:
    principal.require_write()
    return Context.of(principal)

StatementBalance = Annotated[int, Field(ge=-MAX_MINOR_UNITS, le=MAX_MINOR_UNITS)]


class ReconcileItemPublic(BaseModel):
    transaction: TransactionPublic
    amount_minor: int  # its effect on this account: money in positive, out negative


class ReconciliationPublic(BaseModel):
    """Where the account stands against the statement; finish when `difference_minor` is 0."""

    account_id: UUID
    currency: str
    statement_date: date
    statement_balance_minor: int
    cleared_balance_minor: int
    difference_minor: int  # the statement's balance minus the cleared balance
    items: list[ReconcileItemPublic]  # uncleared and cleared, not reconciled, booked by the date
    more: bool


class ReconciliationFinish(BaseModel):
    model_config = ConfigDict(extra="forbid")

    statement_date: date
    statement_balance_minor: MinorUnits
    # Book a difference that cannot be found as a cleared expense or income on the closing date.
    adjust: bool = False
    adjustment_payee: PayeeName = "Reconciliation adjustment"


class ReconciliationDonePublic(BaseModel):
    id: UUID  # the correlation id of every event of this reconciliation
    account_id: UUID
    reconciled: int
    adjustment: TransactionPublic | None


@router.get("/accounts/{account_id}/reconciliation", response_model=ReconciliationPublic)
async def reconciliation(
    account_id: UUID, principal: CurrentPrincipal, request: Request, statement_date: date,
    statement_balance_minor: Annotated[StatementBalance, Query()],
) -> ReconciliationPublic:
    """The cleared balance by the statement's closing date, the difference, and what is left to tick off."""
    statement = reconciling.Statement(account_id, statement_date, statement_balance_minor)
    look = await reconciling.look(db_of(request), Context.of(principal), statement)
    return ReconciliationPublic(
        account_id=account_id, currency=look.currency, statement_date=statement_date,
        statement_balance_minor=statement_balance_minor, cleared_balance_minor=look.cleared_balance_minor,
        difference_minor=look.difference_minor, more=look.more,
        items=[ReconcileItemPublic(transaction=TransactionPublic.model_validate(i.row),
                                   amount_minor=i.amount_minor) for i in look.items])


@router.post("/accounts/{account_id}/reconciliation", response_model=ReconciliationDonePublic)
async def finish_reconciliation(account_id: UUID, body: ReconciliationFinish, principal: CurrentPrincipal,
                                request: Request) -> ReconciliationDonePublic:
    """Mark the cleared transactions by the closing date reconciled, as one change; 409 while the cleared
    balance differs from the statement's, unless `adjust` books the difference."""
    statement = reconciling.Statement(account_id, body.statement_date, body.statement_balance_minor)
    done = await reconciling.finish(db_of(request), settings_of(request), _writer(principal), statement,
                                    adjust=body.adjust,
                                    adjustment_payee=body.adjustment_payee or "Reconciliation adjustment")
    return ReconciliationDonePublic(
        id=done.id, account_id=account_id, reconciled=done.reconciled,
        adjustment=TransactionPublic.model_validate(done.adjustment) if done.adjustment else None)
