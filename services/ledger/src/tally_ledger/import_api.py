"""Routes for statement import (upload → preview → confirm → undo), saved column mappings, and exports.

An upload is a multipart form with one file; its size is checked before the body is read and again on
what arrived. Nothing is written until a file has been read completely without error.
"""

import asyncio
import time
from collections import OrderedDict
from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError
from starlette.exceptions import HTTPException

from tally_ledger import batches, categorising, commands, store, uploads
from tally_ledger.background import after_answer
from tally_ledger.batches import Batch
from tally_ledger.exporters import ledger_json
from tally_ledger.importers import (
    CsvMapping,
    StatementError,
    StatementFormat,
    StatementRow,
    csv_import,
    detect_format,
    mt940,
)
from tally_ledger.importers.rows import SourceAccount
from tally_ledger.repository import Context
from tally_ledger.statement_check import BalanceCheckPublic, checks
from tallykit.app import db_of, settings_of
from tallykit.contracts.ledger import AccountKind
from tallykit.errors import InvalidInput, NotFound
from tallykit.logging import get_logger
from tallykit.tokens import CurrentPrincipal, Principal

router = APIRouter()
log = get_logger(__name__)

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
MAX_LEDGER_BYTES = 200 * 1024 * 1024
EXTENSIONS = (".csv", ".txt", ".tsv", ".ofx", ".qfx", ".qif", ".xml", *mt940.EXTENSIONS)
PREVIEW_ROWS = 50

MappingName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ImportBatchPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    account_id: UUID  # the account the rows go into (of several, the first)
    source_key: str | None  # of a file naming several accounts, the one this batch takes
    accounts: dict[str, UUID] | None  # of a file naming several accounts imported together: key → account
    filename: str
    format: StatementFormat
    status: str
    rows_total: int
    rows_done: int
    rows_new: int
    rows_duplicate: int
    rows_skipped: int
    error: str | None
    created_at: Any
    finished_at: Any | None
    undone_at: Any | None


class ImportBatchesPublic(BaseModel):
    items: list[ImportBatchPublic]


def _absent(value: Any) -> bool:
    return value is None


class PreviewRow(BaseModel):
    where: str
    booked_on: date
    amount_minor: int
    payee: str
    description: str
    bank_id: str | None
    duplicate: bool
    account_id: UUID | None = Field(default=None, exclude_if=_absent)  # of a batch of several accounts
    # The category the row will get (absent: none): the file's own (`source` file: a QIF's category, matched
    # by name) or a rule's (`rule`), confidence 1; or suggested by the household's categoriser (`payee
    # history` with few examples, else `model`) with its confidence.
    suggested_category_id: UUID | None = Field(default=None, exclude_if=_absent)
    confidence: float | None = Field(default=None, ge=0, le=1, exclude_if=_absent)
    source: Literal["file", "rule", "payee history", "model"] | None = Field(default=None, exclude_if=_absent)


class FoundAccountPublic(BaseModel):
    """An account the statement names, as the bank does, and the Tally account its statements go into."""

    key: str  # send it as `source` to import this account's rows of a file naming several
    name: str
    currency: str | None
    kind: str | None
    rows: int
    account_id: UUID | None  # None: no account of yours is linked to it yet


class ImportPreview(BaseModel):
    batch: ImportBatchPublic
    accounts: list[FoundAccountPublic] = []
    mapping: CsvMapping | None = None
    headers: list[str] = []
    sample: list[list[str]] = []
    date_formats: list[str] = []
    rows: list[PreviewRow] = []
    rows_total: int = 0
    duplicates: int = 0
    problem: str | None = None  # what stops the file from being imported with this mapping, where
    # Confirming records suggestions of at least this confidence (the household's setting, GET /categoriser).
    accept_above_pct: int = categorising.DEFAULT_ACCEPT_ABOVE_PCT
    # The bank's closing balance against Tally's after this import, per account the file carries one for.
    balance_checks: list[BalanceCheckPublic] = []


class PreviewRequest(_Request):
    mapping: CsvMapping


class ConfirmRequest(_Request):
    mapping: CsvMapping | None = None
    save_mapping_as: MappingName | None = None
    # Per row (its `where`), the category the person chose (null: none), which wins over rules and
    # suggestions; for the other rows the rules left open, the suggestions at or above the household's
    # threshold are recorded unless `accept_suggestions` is false.
    categories: dict[Annotated[str, StringConstraints(max_length=200)], UUID | None] = Field(
        default_factory=dict, max_length=100_000)
    accept_suggestions: bool = True


class MappingPublic(BaseModel):
    name: str
    mapping: CsvMapping


class MappingsPublic(BaseModel):
    items: list[MappingPublic]


class RestorePublic(BaseModel):
    events: int


async def _upload(request: Request, limit: int, fields: tuple[str, ...] = ()) -> tuple[str, bytes,
                                                                                     dict[str, str]]:
    """The one file of a multipart upload (name, bytes) and its text fields, within `limit` bytes:
    statements and ledger exports are read in memory, within their limits."""
    async with uploads.received(request, limit, fields, default_name="statement") as upload:
        return upload.filename, upload.read_bytes(), upload.fields


def _public(batch: Batch) -> ImportBatchPublic:
    return ImportBatchPublic.model_validate(batch)


async def _read_rows(statement_format: StatementFormat, content: bytes, currencies: dict[str | None, str],
                     mapping: CsvMapping | None) -> list[StatementRow]:
    """`batches.read_rows` in a worker thread: a statement of many rows takes a second or more to read,
    and the service goes on answering meanwhile."""
    return await asyncio.to_thread(batches.read_rows, statement_format, content, currencies, mapping)


class _Previewed:
    """The rows the last previews read, by (batch, mapping): confirming right after the preview (the
    usual way) takes them instead of reading the file again, a second or more for a large statement.
    Per process and small: on another replica, after a restart, or once newer previews pushed them
    out, the file is simply read again. A confirm takes its entry out."""

    KEPT = 2
    FRESH_FOR_S = 600.0

    def __init__(self) -> None:
        self._rows: OrderedDict[tuple[UUID, str], tuple[float, list[StatementRow]]] = OrderedDict()

    @staticmethod
    def _key(batch_id: UUID, mapping: CsvMapping | None) -> tuple[UUID, str]:
        return batch_id, mapping.model_dump_json() if mapping else ""

    def put(self, batch_id: UUID, mapping: CsvMapping | None, rows: list[StatementRow]) -> None:
        self._rows[self._key(batch_id, mapping)] = (time.monotonic(), rows)
        while len(self._rows) > self.KEPT:
            self._rows.popitem(last=False)

    def take(self, batch_id: UUID, mapping: CsvMapping | None) -> list[StatementRow] | None:
        kept = self._rows.pop(self._key(batch_id, mapping), None)
        if kept is None or time.monotonic() - kept[0] > self.FRESH_FOR_S:
            return None
        return kept[1]


_previewed = _Previewed()


async def _preview(request: Request, tenant_id: UUID, batch: Batch, content: bytes,
                   currencies: dict[str | None, str],
                   mapping: CsvMapping | None, detected: csv_import.CsvPreview | None = None,
                   rows: list[StatementRow] | None = None) -> ImportPreview:
    """The preview of a batch's rows (`rows` when the caller has just read them)."""
    statement_format = StatementFormat(batch.format)
    preview = ImportPreview(batch=_public(batch), mapping=mapping)
    if detected is not None:
        preview.headers, preview.sample, preview.date_formats = detected.headers, detected.sample, \
            detected.date_formats
    if rows is None:
        try:
            rows = await _read_rows(statement_format, content, currencies, mapping)
        except InvalidInput as exc:
            preview.problem = exc.detail.removeprefix("the file cannot be imported: ")
            return preview
    _previewed.put(batch.id, mapping, rows)
    fresh: set[int] = set()
    account_of: dict[int, UUID] = {}
    async with db_of(request).read() as session:
        for account_id, its_rows in batches.rows_by_account(batch, rows).items():
            if its_rows:
                known = await batches.load_known(session, tenant_id, account_id, its_rows)
                fresh |= {id(r) for r in batches.new_rows(its_rows, known)}
                account_of |= {id(r): account_id for r in its_rows}
        preview.balance_checks = await checks(session, tenant_id, statement_format, content, batch.targets, {
            account_id: [r for r in its_rows if id(r) in fresh]
            for account_id, its_rows in batches.rows_by_account(batch, rows).items()})
    preview.rows_total = len(rows)
    preview.duplicates = sum(id(r) not in fresh for r in rows if r.amount_minor != 0)
    shown = rows[:PREVIEW_ROWS]
    by_row: dict[int, batches.Suggested | None] = {}
    ctx = Context(tenant_id=tenant_id, actor="")
    for account_id, its_rows in batches.rows_by_account(batch, [r for r in shown if id(r) in fresh]).items():
        suggested, preview.accept_above_pct = await batches.suggestions(db_of(request), ctx, account_id,
                                                                        its_rows)
        by_row |= dict(zip([id(r) for r in its_rows], suggested, strict=True))
    several = len(batch.targets) > 1
    preview.rows = []
    for r in shown:
        row = PreviewRow(where=r.where, booked_on=r.booked_on, amount_minor=r.amount_minor, payee=r.payee,
                         description=r.description, bank_id=r.bank_id, duplicate=id(r) not in fresh,
                         account_id=account_of.get(id(r)) if several else None)
        if (found := by_row.get(id(r))) is not None:
            row.suggested_category_id, row.confidence = found.category_id, found.confidence
            row.source = found.source  # type: ignore[assignment]
        preview.rows.append(row)
    return preview


# --- saved mappings (before /imports/{batch_id}, which would otherwise match them) ----------------------

@router.get("/imports/mappings", response_model=MappingsPublic)
async def list_mappings(principal: CurrentPrincipal, request: Request) -> MappingsPublic:
    found = await batches.list_mappings(db_of(request), principal.tenant_id)
    return MappingsPublic(items=[MappingPublic(name=n, mapping=m) for n, m in found])


@router.put("/imports/mappings/{name}", response_model=MappingPublic)
async def save_mapping(name: MappingName, body: PreviewRequest, principal: CurrentPrincipal,
                       request: Request) -> MappingPublic:
    principal.require_write()
    async with db_of(request).transaction() as session:
        await batches.save_mapping(session, principal.tenant_id, name, body.mapping)
    return MappingPublic(name=name, mapping=body.mapping)


@router.delete("/imports/mappings/{name}", status_code=204)
async def delete_mapping(name: MappingName, principal: CurrentPrincipal, request: Request) -> Response:
    principal.require_write()
    await batches.delete_mapping(db_of(request), principal.tenant_id, name)
    return Response(status_code=204)


# --- the household's whole ledger ------------------------------------------------------------------

@router.post("/imports/ledger", status_code=201, response_model=RestorePublic,
             openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {
                 "type": "object", "required": ["file"],
                 "properties": {"file": {"type": "string", "format": "binary"}}}}}}})
async def restore_ledger(principal: CurrentPrincipal, request: Request) -> RestorePublic:
    """Replay a ledger export (GET /exports/ledger.json) into this household, which must be empty."""
    principal.require_write()
    _, data, _ = await _upload(request, MAX_LEDGER_BYTES)
    try:
        document = ledger_json.LedgerExport.model_validate_json(data)
    except ValidationError as exc:
        raise InvalidInput("the file is not a Tally ledger export",
                           errors=[{"loc": [str(p) for p in e["loc"]], "msg": e["msg"]}
                                   for e in exc.errors()[:20]]) from exc
    ctx = Context(tenant_id=principal.tenant_id, actor=principal.actor, correlation_id=uuid4())
    async with db_of(request).transaction() as session:
        written = await ledger_json.restore(session, settings_of(request), ctx, document)
    return RestorePublic(events=written)


# --- statement imports -------------------------------------------------------------------------------

@router.post("/imports", status_code=201, response_model=ImportPreview,
             openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": {
                 "type": "object", "required": ["file"],
                 "properties": {"file": {"type": "string", "format": "binary"},
                                "account_id": {"type": "string", "description": (
                                    "the account to import into; left out, the account that statements "
                                    "of the same bank account went into before; `new` opens one with "
                                    "the statement's name and currency")},
                                "source": {"type": "string", "description": (
                                    "of a file naming several accounts, the `key` of the one to import")},
                                "mapping_name": {"type": "string"}}}}}}})
async def upload_statement(principal: CurrentPrincipal, request: Request) -> ImportPreview:
    """Upload a statement: the answer previews its rows with the detected (or the named saved) column
    mapping, and the accounts the file names. Nothing is recorded until the import is confirmed."""
    principal.require_write()
    filename, data, fields = await _upload(request, MAX_UPLOAD_BYTES,
                                           ("account_id", "source", "accounts", "mapping_name"))
    if not filename.lower().endswith(EXTENSIONS):
        raise HTTPException(415, f"{filename!r} is not a statement ({', '.join(EXTENSIONS)})")
    statement_format = detect_format(filename, data)
    found: list[batches.FoundAccount] = []
    if statement_format != StatementFormat.csv:
        named = await asyncio.to_thread(batches.accounts_named, statement_format, data)
        async with db_of(request).read() as session:
            found = await batches.find_accounts(session, principal.tenant_id, named)
    targets = await _targets_for(request, principal, fields, found)
    async with db_of(request).read() as session:
        currencies = await batches.currencies_of(session, principal.tenant_id, targets)
    detected = mapping = rows = None
    if statement_format == StatementFormat.csv:
        try:
            detected = await asyncio.to_thread(csv_import.detect, data)
        except StatementError as exc:
            raise InvalidInput(f"the file cannot be imported: {exc}", where=exc.where) from exc
        mapping = detected.mapping
        if name := fields.get("mapping_name", "").strip():
            mapping = await batches.get_mapping(db_of(request), principal.tenant_id, name)
    else:  # a malformed file stops here; a CSV one is previewed with its problem, to correct the mapping
        rows = await _read_rows(statement_format, data, currencies, None)
    ctx = Context.of(principal)
    batch = await batches.create_batch(db_of(request), ctx, targets=targets, filename=filename,
                                       statement_format=statement_format, content=data, mapping=mapping)
    preview = await _preview(request, principal.tenant_id, batch, data, currencies, mapping, detected, rows)
    preview.accounts = [_found_public(f) for f in found]
    return preview


def _found_public(found: batches.FoundAccount) -> FoundAccountPublic:
    source = found.source
    return FoundAccountPublic(key=source.key, name=source.name, currency=source.currency, kind=source.kind,
                              rows=found.rows, account_id=found.account_id)


_Accounts = TypeAdapter(dict[Annotated[str, StringConstraints(min_length=1, max_length=200)],
                             UUID | Literal["new"]])


async def _targets_for(request: Request, principal: Principal, fields: dict[str, str],
                       found: list[batches.FoundAccount]) -> dict[str | None, UUID]:
    """Which Tally account the upload's rows go into: {None: account} every row; of a file naming
    several accounts, {bank account's key: account} for those imported (one, or several in one batch).

    Chosen by the person (`account_id`, with `source` for one of several; or `accounts` for several at
    once), or the account statements of the same bank account went into before, or (`new`) one opened
    now with the statement's name and currency."""
    chosen, source = fields.get("account_id", "").strip(), fields.get("source", "").strip() or None
    listing = {"accounts": [_found_public(f).model_dump(mode="json") for f in found]}
    if raw := fields.get("accounts", ""):
        if chosen or source:
            raise InvalidInput("send either accounts, or account_id and source", where="accounts")
        try:
            wanted = _Accounts.validate_json(raw)
        except ValidationError as exc:
            raise InvalidInput("accounts must be a JSON object of the file's account keys to ids of your "
                               "accounts or new", where="accounts", **listing) from exc
        return await _several(request, principal, found, wanted, listing)
    if source is not None and source not in {f.source.key for f in found}:
        raise InvalidInput(f"the file names no account {source!r}", **listing)
    if chosen not in ("", "new"):
        try:
            account_id = UUID(chosen)
        except ValueError as exc:
            raise InvalidInput("account_id must be the id of one of your accounts, or new") from exc
        if source is None and len(found) > 1:
            # Several accounts in the file: the one linked to the chosen account, else the person says.
            linked = [f.source.key for f in found if f.account_id == account_id]
            if len(linked) != 1:
                raise InvalidInput(f"the file holds {len(found)} accounts: say which one to import into "
                                   "this account (source), or where each goes (accounts)", **listing)
            source = linked[0]
        return {source: account_id}
    candidates = [f for f in found if source is None or f.source.key == source]
    if not candidates:
        raise InvalidInput("the file does not say which account it is for: choose the account (account_id)")
    if len(candidates) > 1:
        unlinked = [f for f in candidates if f.account_id is None]
        if chosen == "" and unlinked:
            raise InvalidInput(f"the file holds {len(candidates)} accounts, {len(unlinked)} not linked to "
                               "one of yours yet: say where each goes (accounts)", **listing)
        # Each into the account it is linked to, the others (`new`) into accounts opened for them: one batch.
        every: dict[str, UUID | Literal["new"]] = {f.source.key: f.account_id or "new" for f in candidates}
        return await _several(request, principal, found, every, listing)
    [one] = candidates
    key = one.source.key if len(found) > 1 else None
    if chosen == "":
        if one.account_id is None:
            raise InvalidInput(f"no account of yours is linked to {one.source.name or one.source.key} "
                               "yet: choose one (account_id), or open one for it (account_id=new)", **listing)
        return {key: one.account_id}
    return {key: await _open_account_for(request, principal, one.source)}


async def _several(request: Request, principal: Principal, found: list[batches.FoundAccount],
                   wanted: dict[str, UUID | Literal["new"]],
                   listing: dict[str, Any]) -> dict[str | None, UUID]:
    """The bank accounts `wanted` names, each into its account (checked first: it exists, it is open and
    keeps the statement's currency) or a new one (opened once every check has passed)."""
    by_key = {f.source.key: f for f in found}
    unknown = sorted(set(wanted) - set(by_key))
    if unknown:
        raise InvalidInput(f"the file names no account {unknown[0]!r}", where="accounts", **listing)
    if not wanted:
        raise InvalidInput("accounts names none of the file's accounts", where="accounts", **listing)
    async with db_of(request).read() as session:
        for key, target in wanted.items():
            if target == "new":
                continue
            account = await store.get_account(session, principal.tenant_id, target)
            if account is None:
                raise NotFound(f"account {target} does not exist")
            currency = by_key[key].source.currency
            if currency and currency != account.currency:
                raise InvalidInput(f"{by_key[key].source.name or key} is in {currency}, account "
                                   f"{account.name!r} keeps {account.currency}", where="accounts", **listing)
    targets: dict[str | None, UUID] = {}
    for f in found:  # in the file's order
        if f.source.key not in wanted:
            continue
        target = wanted[f.source.key]
        targets[f.source.key] = await _open_account_for(request, principal, f.source) if target == "new" \
            else target
    return targets


async def _open_account_for(request: Request, principal: Principal, source: SourceAccount) -> UUID:
    """A new account named and kept in the currency as the statement says (else the household's)."""
    principal.require_write()
    async with db_of(request).read() as session:
        currency = source.currency or await store.base_currency(session, principal.tenant_id)
    if currency is None:
        raise InvalidInput("the statement does not say its currency: open the account first and choose it")
    kinds = {kind.value: kind for kind in AccountKind}
    kind = kinds.get(source.kind or "", AccountKind.checking)
    row = await commands.open_account(db_of(request), settings_of(request), Context.of(principal),
                                      name=(source.name or source.key)[:100], kind=kind, currency=currency,
                                      opening_balance_minor=0)
    return row.id


@router.get("/imports", response_model=ImportBatchesPublic)
async def list_imports(principal: CurrentPrincipal, request: Request,
                       limit: Annotated[int, Query(ge=1, le=200)] = 50) -> ImportBatchesPublic:
    found = await batches.list_batches(db_of(request), principal.tenant_id, limit=limit)
    return ImportBatchesPublic(items=[_public(b) for b in found])


@router.get("/imports/{batch_id}", response_model=ImportBatchPublic)
async def get_import(batch_id: UUID, principal: CurrentPrincipal, request: Request) -> ImportBatchPublic:
    """The batch and its progress (rows_done of rows_total)."""
    return _public(await batches.get_batch(db_of(request), principal.tenant_id, batch_id))


@router.post("/imports/{batch_id}/preview", response_model=ImportPreview)
async def preview_import(batch_id: UUID, body: PreviewRequest, principal: CurrentPrincipal,
                         request: Request) -> ImportPreview:
    """The rows as a (corrected) CSV mapping reads them."""
    principal.require_write()
    batch, content, currencies = await batches.batch_content(db_of(request), principal.tenant_id, batch_id)
    if batch.format != StatementFormat.csv:
        raise InvalidInput(f"a {batch.format} statement needs no column mapping")
    return await _preview(request, principal.tenant_id, batch, content, currencies, body.mapping)


@router.post("/imports/{batch_id}/confirm", status_code=202, response_model=ImportBatchPublic)
async def confirm_import(batch_id: UUID, body: ConfirmRequest, principal: CurrentPrincipal,
                         request: Request, background: BackgroundTasks) -> ImportBatchPublic:
    """Check every row of the file, then record the new ones as transactions (duplicates of earlier
    imports are left out) after answering: GET /imports/{batch_id} shows the progress."""
    principal.require_write()
    db, tenant, ctx = db_of(request), principal.tenant_id, Context.of(principal)
    batch, content, currencies = await batches.batch_content(db, tenant, batch_id)
    statement_format = StatementFormat(batch.format)
    mapping = None
    if statement_format == StatementFormat.csv:
        mapping = body.mapping or (CsvMapping.model_validate(batch.mapping) if batch.mapping else None)
        if mapping is None:
            raise InvalidInput("a CSV statement needs a column mapping")
    elif body.mapping is not None or body.save_mapping_as is not None:
        raise InvalidInput(f"a {batch.format} statement takes no column mapping")
    rows = _previewed.take(batch_id, mapping)  # as the preview read them, or every row again now:
    if rows is None:  # all of them are read before any is written
        rows = await _read_rows(statement_format, content, currencies, mapping)
    for account_id in dict.fromkeys(batch.targets.values()):
        await batches.require_open_account(db, ctx, account_id)
    async with db.read() as session:
        plan = await _plan(session, ctx, body, rows)
    batch = await batches.start_import(db, ctx, batch_id, mapping)
    async with db.transaction() as session:  # the next statement of these bank accounts finds its account
        for account_id, its_rows in batches.rows_by_account(batch, rows).items():
            await batches.remember_sources(session, tenant, account_id,
                                           {r.account.key for r in its_rows if r.account is not None})
    if mapping is not None and body.save_mapping_as:
        async with db.transaction() as session:
            await batches.save_mapping(session, tenant, body.save_mapping_as, mapping)
    background.add_task(after_answer,
                        batches.run_import(db, settings_of(request), ctx, batch, rows, plan), "import")
    return _public(batch)


async def _plan(session: Any, ctx: Context, body: ConfirmRequest,
                rows: list[StatementRow]) -> categorising.Plan:
    """How the import categorises what its rules leave open; the person's choices are checked first:
    each names a row of the file and a category the row may use."""
    kinds = {r.where: r.amount_minor > 0 for r in rows}
    unknown = [where for where in body.categories if where not in kinds]
    if unknown:
        raise InvalidInput(f"the file has no row {unknown[0]!r}", where=unknown[0])
    plan = await categorising.plan(session, ctx, choices={w: str(c) if c else None
                                                          for w, c in body.categories.items()},
                                   accept=body.accept_suggestions, for_recording=True)
    for where, chosen in plan.choices.items():
        if chosen is None:
            continue
        income = plan.usable.kinds.get(chosen)
        if income is None:
            raise InvalidInput(f"{where}: category {chosen} does not exist or is archived", where=where)
        if income is not kinds[where]:
            raise InvalidInput(f"{where}: category {plan.usable.names.get(chosen, chosen)!r} is for "
                               f"{'income' if income else 'expense'}, the row is "
                               f"{'an income' if kinds[where] else 'an expense'}", where=where)
    return plan


@router.post("/imports/{batch_id}/undo", status_code=202, response_model=ImportBatchPublic)
async def undo_import(batch_id: UUID, principal: CurrentPrincipal, request: Request,
                      background: BackgroundTasks) -> ImportBatchPublic:
    """Delete exactly the transactions this import recorded, after answering (GET shows the progress)."""
    principal.require_write()
    db, ctx = db_of(request), Context.of(principal)
    batch, ids = await batches.start_undo(db, ctx, batch_id)
    background.add_task(after_answer,
                        batches.run_undo(db, settings_of(request), ctx, batch, ids), "import_undo")
    return _public(batch)
