"""Routes for bringing a whole household history over from another app: `POST /histories` (the app is
told by the file's content: `history/sources.py` lists them), the migrations done (`GET /histories`),
and `POST /histories/{id}/undo`.

The file is read and every event worked out and checked first (a bad file writes nothing and answers
4xx naming the problem), then written in chunks: within the request for a history of up to
`WRITTEN_BEFORE_ANSWER` entries (the answer is the finished migration), after the answer for a larger
one (202). A history that streams (Actual's from its file, a GnuCash or Beancount book's from its
spool) keeps what it streams from until it is written. An undo runs after its answer (202), in chunks,
like a statement import's. Budgets (amounts per category and month), where the app keeps them, reach the
budget service as `ledger.BudgetsImported` events.
"""

import asyncio
from datetime import date, datetime
from pathlib import Path
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from tally_ledger import store, uploads
from tally_ledger.background import after_answer
from tally_ledger.history import sources, write
from tally_ledger.history.model import History, HistoryError
from tally_ledger.repository import Context
from tallykit.app import db_of, settings_of
from tallykit.db import Database
from tallykit.errors import InvalidInput
from tallykit.logging import get_logger
from tallykit.money import minor_unit_digits
from tallykit.settings import ServiceSettings
from tallykit.tokens import CurrentPrincipal, Principal

router = APIRouter()
log = get_logger(__name__)

MAX_UPLOAD_BYTES = 200 * 1024 * 1024  # an export is read from disk, never whole into memory
# A history of more entries is written after the answer: the gateway waits only so long for one.
WRITTEN_BEFORE_ANSWER = 2_000


class HistoryAccountPublic(BaseModel):
    source_id: str  # the source app's id of the account: a key of the `accounts` form field
    name: str
    kind: str
    opening_balance_minor: int
    closed: bool


class HistoryFoundPublic(BaseModel):
    """What the file holds, as read."""

    source: str
    name: str
    summary: str
    currency: str  # the currency its amounts were read in
    accounts: list[HistoryAccountPublic]
    groups: int
    categories: int
    payees: int
    transactions: int  # transfers included
    transfers: int
    first_day: date | None
    last_day: date | None
    skipped: dict[str, int]  # source rows left out, by why


class HistoryMigrationPublic(BaseModel):
    id: UUID
    source: str
    name: str
    filename: str
    summary: str
    currency: str
    status: str
    counts: dict[str, int]
    skipped: dict[str, int]
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    undone_at: datetime | None


class HistoryImportPublic(BaseModel):
    found: HistoryFoundPublic
    migration: HistoryMigrationPublic | None  # None: a dry run, nothing written


class HistoryMigrationsPublic(BaseModel):
    items: list[HistoryMigrationPublic]


def _found(history: History, currency: str) -> HistoryFoundPublic:
    return HistoryFoundPublic(
        source=history.source, name=history.name, summary=history.summary(), currency=currency,
        accounts=[HistoryAccountPublic(source_id=a.source_id, name=a.name, kind=a.kind.value, closed=a.closed,
                                     opening_balance_minor=a.opening_balance_minor)
                  for a in history.accounts],
        groups=len(history.groups), categories=len(history.categories), payees=len(history.payees),
        transactions=history.transaction_count, transfers=history.transfer_count,
        first_day=history.first_day, last_day=history.last_day, skipped=history.skipped)


def _public(migration: write.Migration) -> HistoryMigrationPublic:
    return HistoryMigrationPublic.model_validate(migration.__dict__)


def _read(file: Path, filename: str, minor_digits: int) -> History:
    """The history in a file, whichever app made it (told by the content)."""
    try:
        return sources.read(file, filename, minor_digits=minor_digits)
    except sources.NotAHistory as exc:  # the web client then offers the file as a statement
        raise InvalidInput(f"the file cannot be imported: {exc}", not_a_history=True) from exc
    except HistoryError as exc:
        raise InvalidInput(f"the file cannot be imported: {exc}", where=exc.where) from exc


_Targets = TypeAdapter(dict[Annotated[str, Field(min_length=1, max_length=200)], UUID])


def _targets(raw: str) -> dict[str, UUID]:
    """The `accounts` field: a JSON object of source account ids → accounts of the household."""
    if not raw:
        return {}
    try:
        return _Targets.validate_json(raw)
    except ValidationError as exc:
        raise InvalidInput("accounts must be a JSON object of the file's account ids (source_id) to ids of "
                           "your accounts", where="accounts") from exc


@router.post("/histories", status_code=201, response_model=HistoryImportPublic,
             openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {
                 "type": "object", "required": ["file"],
                 "properties": {"file": {"type": "string", "format": "binary"},
                                "currency": {"type": "string", "description": (
                                    "the currency of the history's amounts (the household's by default)")},
                                "dry_run": {"type": "string", "description": (
                                    "true: only say what the file holds, write nothing")},
                                "accounts": {"type": "string", "description": (
                                    "a JSON object mapping the file's accounts (source_id) onto accounts "
                                    "of yours, which they are merged into; the others are opened")}}}}}}})
async def import_history(principal: CurrentPrincipal, request: Request, response: Response,
                         background: BackgroundTasks) -> HistoryImportPublic:
    """Bring a whole household history over from another app (Actual Budget, YNAB, Firefly III, GnuCash,
    Beancount, Mint/Monarch-style CSV; told by the file's content): its accounts
    with their opening balances, categories and groups, payees, transactions with their splits, and
    transfers, as one migration that can be undone. Importing it again adds only what is new.

    Every entry is worked out and checked before the answer (a bad file is a 4xx, nothing written). A
    history of up to `WRITTEN_BEFORE_ANSWER` entries is written before the answer (201, finished); a
    larger one after it (202, `importing`: GET /histories/{id} shows its counts until `imported`)."""
    principal.require_write()
    async with uploads.received(request, MAX_UPLOAD_BYTES, ("currency", "dry_run", "accounts"),
                                default_name="history") as upload:
        return await _import(principal, request, upload, response, background)


async def _import(principal: Principal, request: Request, upload: uploads.Upload, response: Response,
                  background: BackgroundTasks) -> HistoryImportPublic:
    filename, fields = upload.filename, upload.fields
    db = db_of(request)
    currency = fields.get("currency", "").upper()
    if not currency:
        async with db.read() as session:
            currency = await store.base_currency(session, principal.tenant_id) or ""
        if not currency:
            raise InvalidInput("say the currency of the history's amounts (currency)")
    try:
        digits = minor_unit_digits(currency)
    except ValueError as exc:
        raise InvalidInput(f"currency {currency!r} is not one this ledger knows") from exc
    history = await asyncio.to_thread(_read, upload.path, filename, digits)
    handed_over = False
    try:
        if history.currency and history.currency != currency:  # a GnuCash book, a Beancount ledger say theirs
            raise InvalidInput(f"the file cannot be imported in {currency}: the {history.source} keeps its "
                               f"amounts in {history.currency}; import it with currency {history.currency}",
                               where="currency")
        found = _found(history, currency)
        if fields.get("dry_run", "").lower() in ("1", "true", "yes"):
            return HistoryImportPublic(found=found, migration=None)
        targets = _targets(fields.get("accounts", ""))
        started = await write.start(db, Context.of(principal), history, filename=filename, currency=currency,
                                    targets=targets)
        if found.transactions > WRITTEN_BEFORE_ANSWER:
            response.status_code = 202
            background.add_task(after_answer, _written(db, settings_of(request), started),
                                "history_import")
            handed_over = True
            return HistoryImportPublic(found=found, migration=_public(started.migration))
        migration = await write.run(db, settings_of(request), started)
        return HistoryImportPublic(found=found, migration=_public(migration))
    finally:
        if not handed_over:
            history.close()


async def _written(db: Database, settings: ServiceSettings, started: write.Started) -> write.Migration:
    """Write a migration after the answer, then let go of the file its history streams from."""
    try:
        return await write.run(db, settings, started)
    finally:
        started.history.close()


@router.get("/histories", response_model=HistoryMigrationsPublic)
async def list_histories(principal: CurrentPrincipal, request: Request,
                         limit: Annotated[int, Query(ge=1, le=200)] = 50) -> HistoryMigrationsPublic:
    found = await write.list_migrations(db_of(request), principal.tenant_id, limit)
    return HistoryMigrationsPublic(items=[_public(m) for m in found])


@router.get("/histories/{migration_id}", response_model=HistoryMigrationPublic)
async def get_history(migration_id: UUID, principal: CurrentPrincipal,
                      request: Request) -> HistoryMigrationPublic:
    return _public(await write.get(db_of(request), principal.tenant_id, migration_id))


@router.post("/histories/{migration_id}/undo", status_code=202, response_model=HistoryMigrationPublic)
async def undo_history(migration_id: UUID, principal: CurrentPrincipal, request: Request,
                       background: BackgroundTasks) -> HistoryMigrationPublic:
    """Take out what the migration wrote, after answering (GET /histories/{id} shows the progress,
    `counts.undone`, and then `undone`): its transactions and transfers are deleted, the accounts it
    opened archived (the categories it created stay). Changes made by hand since stay."""
    principal.require_write()
    db, ctx = db_of(request), Context.of(principal)
    migration, undo_id = await write.start_undo(db, ctx, migration_id)
    job = write.run_undo(db, settings_of(request), ctx, migration, undo_id)
    background.add_task(after_answer, job, "history_undo")
    return _public(migration)
