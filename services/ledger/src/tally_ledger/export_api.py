"""Exports: the household's transactions as CSV or XLSX, and its whole ledger as JSON (every event, in
order, to restore into an empty household with POST /imports/ledger)."""

import shutil
import tempfile
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask

from tally_ledger import store
from tally_ledger.exporters import ledger_json
from tally_ledger.exporters.tables import ExportFilter, ExportRow, csv_chunks, export_rows, write_xlsx
from tallykit.app import db_of
from tallykit.errors import InvalidInput, NotFound
from tallykit.tokens import CurrentPrincipal

router = APIRouter()


def _filter(account_id: UUID | None, date_from: date | None, date_to: date | None) -> ExportFilter:
    if date_from and date_to and date_from > date_to:
        raise InvalidInput("from must not be after to")
    return ExportFilter(account_id=account_id, date_from=date_from, date_to=date_to)


async def _rows(request: Request, tenant_id: UUID, where: ExportFilter) -> AsyncIterator[ExportRow]:
    """The rows of the export, read as they are sent (the account is checked before: a 404, not an
    empty file)."""
    async with db_of(request).read() as session:
        account_id = where.account_id
        if account_id is not None and await store.get_account(session, tenant_id, account_id) is None:
            raise NotFound(f"account {account_id} does not exist")

    async def rows() -> AsyncIterator[ExportRow]:
        async with db_of(request).read() as session:
            async for row in export_rows(session, tenant_id, where):
                yield row

    return rows()


def _attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{filename}"'}


FromDate = Annotated[date | None, Query(alias="from")]
ToDate = Annotated[date | None, Query(alias="to")]


@router.get("/exports/transactions.csv", response_class=Response)
async def export_csv(principal: CurrentPrincipal, request: Request, account_id: UUID | None = None,
                     date_from: FromDate = None, date_to: ToDate = None) -> Response:
    rows = await _rows(request, principal.tenant_id, _filter(account_id, date_from, date_to))
    return StreamingResponse(csv_chunks(rows), media_type="text/csv; charset=utf-8",
                             headers=_attachment("transactions.csv"))


@router.get("/exports/transactions.xlsx", response_class=Response)
async def export_xlsx(principal: CurrentPrincipal, request: Request, account_id: UUID | None = None,
                      date_from: FromDate = None, date_to: ToDate = None) -> Response:
    rows = await _rows(request, principal.tenant_id, _filter(account_id, date_from, date_to))
    folder = Path(tempfile.mkdtemp(prefix="tally-export-"))
    path = folder / "transactions.xlsx"
    try:
        await write_xlsx(rows, path)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return FileResponse(path, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        filename="transactions.xlsx",
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


@router.get("/exports/ledger.json", response_class=Response)
async def export_ledger(principal: CurrentPrincipal, request: Request) -> Response:
    """Every event of the household's ledger, in order: POST it to /imports/ledger of an empty household."""
    tenant_id = principal.tenant_id

    async def document() -> AsyncIterator[bytes]:
        async with db_of(request).read() as session:
            async for chunk in ledger_json.export(session, tenant_id):
                yield chunk

    return StreamingResponse(document(), media_type="application/json",
                             headers=_attachment("tally-ledger.json"))
