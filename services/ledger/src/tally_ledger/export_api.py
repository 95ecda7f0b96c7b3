"""Exports: the household's transactions as CSV or XLSX, and its whole ledger as JSON (every event, in
order, to restore into an empty household with POST /imports/ledger)."""

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response

from tally_ledger import store
from tally_ledger.exporters import ledger_json
from tally_ledger.exporters.tables import ExportFilter, export_rows, to_csv, to_xlsx
from tallykit.app import db_of
from tallykit.errors import InvalidInput, NotFound
from tallykit.tokens import CurrentPrincipal

router = APIRouter()


def _filter(account_id: UUID | None, date_from: date | None, date_to: date | None) -> ExportFilter:
    if date_from and date_to and date_from > date_to:
        raise InvalidInput("from must not be after to")
    return ExportFilter(account_id=account_id, date_from=date_from, date_to=date_to)


async def _rows(request: Request, tenant_id: UUID, where: ExportFilter) -> list[Any]:
    async with db_of(request).read() as session:
        account_id = where.account_id
        if account_id is not None and await store.get_account(session, tenant_id, account_id) is None:
            raise NotFound(f"account {account_id} does not exist")
        return await export_rows(session, tenant_id, where)


def _download(body: bytes, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


FromDate = Annotated[date | None, Query(alias="from")]
ToDate = Annotated[date | None, Query(alias="to")]


@router.get("/exports/transactions.csv", response_class=Response)
async def export_csv(principal: CurrentPrincipal, request: Request, account_id: UUID | None = None,
                     date_from: FromDate = None, date_to: ToDate = None) -> Response:
    rows = await _rows(request, principal.tenant_id, _filter(account_id, date_from, date_to))
    return _download(to_csv(rows), "text/csv; charset=utf-8", "transactions.csv")


@router.get("/exports/transactions.xlsx", response_class=Response)
async def export_xlsx(principal: CurrentPrincipal, request: Request, account_id: UUID | None = None,
                      date_from: FromDate = None, date_to: ToDate = None) -> Response:
    rows = await _rows(request, principal.tenant_id, _filter(account_id, date_from, date_to))
    return _download(to_xlsx(rows), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     "transactions.xlsx")


@router.get("/exports/ledger.json", response_class=Response)
async def export_ledger(principal: CurrentPrincipal, request: Request) -> Response:
    """Every event of the household's ledger, in order: POST it to /imports/ledger of an empty household."""
    async with db_of(request).read() as session:
        document = await ledger_json.export(session, principal.tenant_id)
    return _download(document.model_dump_json().encode(), "application/json", "tally-ledger.json")

