"""Import batches: an uploaded statement waits here until the user confirms its mapping, then every row
becomes a transaction (domain `record_statement`, saved by `repository.save_recorded`, its read-model
rows written by COPY) in chunks of one database transaction each. The whole file is parsed and checked
before the first chunk is written, so a malformed file adds nothing.

Every event of a batch carries the batch id as its correlation id: the event store itself says which
transactions an import recorded. `import_rows` keeps what duplicate detection needs (the bank's
transaction id, or a fingerprint: account, amount, normalised payee, date) and what undo deletes.
"""

import asyncio
import re
import unicodedata
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    and_,
    any_,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import categorising, commands, file_categories, projections, repository, store, tables
from tally_ledger.categorising import Plan
from tally_ledger.domain import (
    Account,
    DomainError,
    EntryViolation,
    StatementEntry,
    record_statement,
    state_of,
)
from tally_ledger.file_categories import FileCategories
from tally_ledger.importers import CsvMapping, StatementError, StatementFormat, StatementRow, parse
from tally_ledger.importers.rows import SourceAccount
from tally_ledger.repository import Context
from tally_ledger.rules import RuleBook
from tallykit import eventstore
from tallykit.contracts import registry
from tallykit.contracts.ledger import (
    CategorisedBy,
    ClearedState,
    EntryKind,
    TransactionKind,
    TransactionState,
)
from tallykit.db import Database, copy_records
from tallykit.errors import Conflict, InvalidInput, NotFound
from tallykit.events import Envelope
from tallykit.logging import get_logger
from tallykit.money import minor_unit_digits
from tallykit.settings import ServiceSettings
from tallykit.tables import uuid_column

log = get_logger(__name__)

CHUNK_ROWS = 2000
# An import or undo that has not moved for this long was interrupted (the service stopped): the next
# confirm or undo into the account takes it up again.
STALE_AFTER = timedelta(minutes=5)
UPLOAD_KEPT = timedelta(days=7)
_ACCOUNT_LOCK_SPACE = 7_240_104
DUPLICATE_WINDOW_DAYS = 3

metadata = MetaData()

import_batches = Table(
    "import_batches",
    metadata,
    uuid_column("id", primary_key=True),
    uuid_column("tenant_id", nullable=False),
    uuid_column("account_id", nullable=False),
    Column("filename", String(255), nullable=False),
    Column("format", String(10), nullable=False),
    Column("status", String(12), nullable=False),
    Column("content", LargeBinary),
    Column("mapping", JSONB),
    Column("rows_total", Integer, nullable=False),
    Column("rows_done", Integer, nullable=False),
    Column("rows_new", Integer, nullable=False),
    Column("rows_duplicate", Integer, nullable=False),
    Column("rows_skipped", Integer, nullable=False),
    Column("error", String(1000)),
    Column("created_by", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("undone_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),  # the last progress, see STALE_AFTER
    # Of a file naming several accounts, the one this batch takes (SourceAccount.key); None: every row.
    Column("source_key", String(200)),
    # Of a file naming several accounts imported together: which account each one's rows go into
    # ({SourceAccount.key: account id}); `account_id` is then the first of them.
    Column("accounts", JSONB),
)

import_rows = Table(
    "import_rows",
    metadata,
    uuid_column("transaction_id", primary_key=True),
    uuid_column("tenant_id", nullable=False),
    uuid_column("batch_id", nullable=False),
    uuid_column("account_id", nullable=False),
    Column("bank_id", String(100)),
    Column("booked_on", Date, nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("payee_key", String(200), nullable=False),
)

# Which Tally account the statements of a bank account (SourceAccount.key) go into: remembered when a
# statement naming it is confirmed, so the next one finds its account by itself.
account_sources = Table(
    "account_sources",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    Column("source_key", String(200), primary_key=True),
    uuid_column("account_id", nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

import_mappings = Table(
    "import_mappings",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    Column("name", String(100), primary_key=True),
    Column("mapping", JSONB, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)


class Status:
    uploaded = "uploaded"  # waiting for the user to confirm the mapping
    importing = "importing"
    imported = "imported"
    failed = "failed"  # nothing or part written (chunks commit); confirming again resumes without duplicates
    undoing = "undoing"
    undone = "undone"
    expired = "expired"  # uploaded but not confirmed within UPLOAD_KEPT: the file is no longer kept


@dataclass(frozen=True)
class Batch:
    id: UUID
    account_id: UUID
    filename: str
    format: str
    status: str
    mapping: dict[str, Any] | None
    rows_total: int
    rows_done: int
    rows_new: int
    rows_duplicate: int
    rows_skipped: int
    error: str | None
    created_at: datetime
    finished_at: datetime | None
    undone_at: datetime | None
    updated_at: datetime
    source_key: str | None
    accounts: dict[str, str] | None

    @property
    def targets(self) -> dict[str | None, UUID]:
        """Which account the rows of each bank account the file names go into; the key None: every row."""
        if self.accounts:
            return {key: UUID(account_id) for key, account_id in self.accounts.items()}
        return {self.source_key: self.account_id}


_BATCH_COLUMNS = [import_batches.c[name] for name in Batch.__dataclass_fields__]


def _now() -> datetime:
    return datetime.now(UTC)


def _touch(batch_id: UUID) -> Any:
    """An update of the batch that also records that it made progress now."""
    return update(import_batches).where(import_batches.c.id == batch_id).values(updated_at=func.now())


# --- batches -------------------------------------------------------------------------------------

async def create_batch(db: Database, ctx: Context, *, targets: Mapping[str | None, UUID], filename: str,
                       statement_format: StatementFormat, content: bytes,
                       mapping: CsvMapping | None) -> Batch:
    """A batch of the rows of one account (`targets` {None or the bank account's key: account}) or of
    several bank accounts, each into its own account."""
    account_id = next(iter(targets.values()))
    several = len(targets) > 1
    source_key = None if several else next(iter(targets))
    async with db.transaction() as session:
        for target in dict.fromkeys(targets.values()):
            if await store.get_account(session, ctx.tenant_id, target) is None:
                raise NotFound(f"account {target} does not exist")
        c = import_batches.c
        await session.execute(update(import_batches).where(  # the household's forgotten uploads go
            c.tenant_id == ctx.tenant_id, c.status == Status.uploaded,
            c.created_at < func.now() - UPLOAD_KEPT,
        ).values(status=Status.expired, content=None, updated_at=func.now()))
        batch_id = uuid4()
        await session.execute(insert(import_batches).values(
            id=batch_id, tenant_id=ctx.tenant_id, account_id=account_id, filename=filename[:255],
            format=statement_format.value, status=Status.uploaded, content=content,
            mapping=mapping.model_dump() if mapping else None, rows_total=0, rows_done=0, rows_new=0,
            rows_duplicate=0, rows_skipped=0, created_by=ctx.actor, created_at=_now(), updated_at=_now(),
            source_key=source_key,
            accounts={str(key): str(value) for key, value in targets.items()} if several else None,
        ))
        return await _batch(session, ctx.tenant_id, batch_id)


async def _batch(session: AsyncSession, tenant_id: UUID, batch_id: UUID, *,
                 for_update: bool = False) -> Batch:
    query = select(*_BATCH_COLUMNS).where(import_batches.c.tenant_id == tenant_id,
                                          import_batches.c.id == batch_id)
    row = (await session.execute(query.with_for_update() if for_update else query)).first()
    if row is None:
        raise NotFound(f"import {batch_id} does not exist")
    return Batch(*row)


async def get_batch(db: Database, tenant_id: UUID, batch_id: UUID) -> Batch:
    async with db.read() as session:
        return await _batch(session, tenant_id, batch_id)


async def list_batches(db: Database, tenant_id: UUID, *, limit: int = 50) -> list[Batch]:
    async with db.read() as session:
        rows = await session.execute(
            select(*_BATCH_COLUMNS).where(import_batches.c.tenant_id == tenant_id)
            .order_by(import_batches.c.created_at.desc()).limit(limit))
        return [Batch(*r) for r in rows]


async def batch_content(db: Database, tenant_id: UUID,
                        batch_id: UUID) -> tuple[Batch, bytes, dict[str | None, str]]:
    """The batch, its uploaded file (while it has not been imported) and the currency its rows are read
    in, per bank account (`Batch.targets`)."""
    async with db.read() as session:
        batch = await _batch(session, tenant_id, batch_id)
        content = (await session.execute(select(import_batches.c.content)
                                         .where(import_batches.c.id == batch_id))).scalar_one()
        currencies = await currencies_of(session, tenant_id, batch.targets)
    if content is None:
        raise Conflict(f"import {batch_id} is {batch.status}; its file is no longer kept")
    return batch, content, currencies


async def currencies_of(session: AsyncSession, tenant_id: UUID,
                        targets: Mapping[str | None, UUID]) -> dict[str | None, str]:
    """The currency of each target's account."""
    found: dict[str | None, str] = {}
    for key, account_id in targets.items():
        account = await store.get_account(session, tenant_id, account_id)
        if account is None:
            raise NotFound(f"account {account_id} does not exist")
        found[key] = account.currency
    return found


def read_rows(statement_format: StatementFormat, content: bytes, currencies: Mapping[str | None, str],
              mapping: CsvMapping | None) -> list[StatementRow]:
    """Parse the whole file and check every row against its account, or fail naming the row.
    `currencies` names the rows wanted: {None: currency} every row, else the bank accounts' (keys of a
    file naming several) with their accounts' currencies. Amounts are read to each currency's digits."""
    indexed: list[tuple[int, StatementRow]] = []
    for digits in sorted({minor_unit_digits(c) for c in currencies.values()}):
        try:
            parsed = parse(statement_format, content, digits=digits, mapping=mapping)
        except StatementError as exc:
            raise InvalidInput(f"the file cannot be imported: {exc}", where=exc.where) from exc
        for index, row in enumerate(parsed):
            key = _key(row, currencies)
            if key is not _NOT_WANTED and minor_unit_digits(currencies[key]) == digits:
                indexed.append((index, row))
    rows = [row for _, row in sorted(indexed, key=lambda pair: pair[0])]
    for key in currencies:
        if key is not None and not any(_key(row, currencies) == key for row in rows):
            raise InvalidInput(f"the file has no rows of the account {key}")
    for row in rows:
        currency = currencies[_key(row, currencies)]
        if row.currency and row.currency != currency:
            raise InvalidInput(f"the file cannot be imported: {row.where}: the statement is in "
                               f"{row.currency}, the account keeps {currency}", where=row.where)
    return rows


_NOT_WANTED = object()


def _key(row: StatementRow, wanted: Mapping[str | None, Any]) -> Any:
    """The key of `wanted` a row belongs to: None when every row is wanted, else its bank account's."""
    if None in wanted:
        return None
    if row.account is not None and row.account.key in wanted:
        return row.account.key
    return _NOT_WANTED


def rows_by_account(batch: Batch, rows: Sequence[StatementRow]) -> dict[UUID, list[StatementRow]]:
    """The rows each account of the batch takes, in file order."""
    targets = batch.targets
    grouped: dict[UUID, list[StatementRow]] = {account_id: [] for account_id in targets.values()}
    for row in rows:
        key = _key(row, targets)
        if key is not _NOT_WANTED:
            grouped[targets[key]].append(row)
    return grouped


# --- which account a statement is for ------------------------------------------------------------

# Enough decimal places for any currency's amounts: only the accounts a file names are wanted here.
_SCAN_DIGITS = 6


@dataclass(frozen=True)
class FoundAccount:
    """An account a statement names, how many of its rows are for it, and the Tally account statements
    of it went into before (None: not yet)."""

    source: SourceAccount
    rows: int
    account_id: UUID | None


def accounts_named(statement_format: StatementFormat, content: bytes) -> list[tuple[SourceAccount, int]]:
    """The accounts a (non-CSV) statement names, in the order they appear, with their row counts."""
    try:
        rows = parse(statement_format, content, digits=_SCAN_DIGITS)
    except StatementError as exc:
        raise InvalidInput(f"the file cannot be imported: {exc}", where=exc.where) from exc
    counts: dict[str, int] = {}
    sources: dict[str, SourceAccount] = {}
    for row in rows:
        if row.account is not None:
            sources.setdefault(row.account.key, row.account)
            counts[row.account.key] = counts.get(row.account.key, 0) + 1
    return [(source, counts[key]) for key, source in sources.items()]


async def find_accounts(session: AsyncSession, tenant_id: UUID,
                        named: Sequence[tuple[SourceAccount, int]]) -> list[FoundAccount]:
    """The named accounts with the household's (open or archived) account each was imported into."""
    s, a = account_sources.c, tables.accounts.c
    linked = dict((await session.execute(
        select(s.source_key, s.account_id)
        .join(tables.accounts, and_(a.tenant_id == s.tenant_id, a.id == s.account_id))
        .where(s.tenant_id == tenant_id, s.source_key.in_([source.key for source, _ in named])))).all())
    return [FoundAccount(source, rows, linked.get(source.key)) for source, rows in named]


async def remember_sources(session: AsyncSession, tenant_id: UUID, account_id: UUID,
                           keys: Iterable[str]) -> None:
    """Statements of these bank accounts go into `account_id` from now on."""
    values = [{"tenant_id": tenant_id, "source_key": key, "account_id": account_id, "updated_at": _now()}
              for key in sorted(set(keys))]
    if values:
        new = pg_insert(account_sources).values(values)
        await session.execute(new.on_conflict_do_update(
            index_elements=[account_sources.c.tenant_id, account_sources.c.source_key],
            set_={"account_id": new.excluded.account_id, "updated_at": new.excluded.updated_at}))


# --- duplicate detection -------------------------------------------------------------------------

_NOT_WORD = re.compile(r"[\W_]+")


def payee_key(row: StatementRow) -> str:
    """The payee as duplicate detection compares it: case, accents, punctuation and spacing do not count
    (banks write "Café Nero" in one export and "CAFE NERO" in another)."""
    return _key_of(row.payee or row.description)


@lru_cache(maxsize=4096)  # a statement names a few payees many times
def _key_of(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _NOT_WORD.sub(" ", folded).strip()[:200]


@dataclass
class Known:
    """What earlier imports into the account recorded near the new rows' dates."""

    bank_ids: set[str]
    # (amount, payee key) → (booking date, whether that row had a bank id) of earlier imports
    fingerprints: dict[tuple[int, str], list[tuple[date, bool]]]


async def load_known(session: AsyncSession, tenant_id: UUID, account_id: UUID,
                 rows: Sequence[StatementRow]) -> Known:
    window = timedelta(days=DUPLICATE_WINDOW_DAYS)
    first, last = min(r.booked_on for r in rows) - window, max(r.booked_on for r in rows) + window
    r = import_rows.c
    wanted = sorted({row.bank_id for row in rows if row.bank_id})
    bank_ids = {bank_id for (bank_id,) in await session.execute(
        select(r.bank_id).where(r.tenant_id == tenant_id, r.account_id == account_id,
                                r.bank_id == any_(bindparam("wanted", wanted, type_=ARRAY(String)))))}
    fingerprints: dict[tuple[int, str], list[tuple[date, bool]]] = defaultdict(list)
    found = await session.execute(
        select(r.amount_minor, r.payee_key, r.booked_on, r.bank_id.is_not(None))
        .where(r.tenant_id == tenant_id, r.account_id == account_id, r.booked_on.between(first, last))
        .order_by(r.booked_on))
    for amount, key, booked_on, has_bank_id in found:
        fingerprints[(amount, key)].append((booked_on, has_bank_id))
    return Known(bank_ids, fingerprints)


def new_rows(rows: Sequence[StatementRow], known: Known) -> list[StatementRow]:
    """The rows not imported before.

    A row with a bank id is a duplicate when that id was seen (in an earlier import or earlier in this
    file), or when an earlier import *without* bank ids has the same amount and payee within a few days
    (the same statement, once as CSV, now as OFX). A row without a bank id is a duplicate when an earlier
    import has the same amount and payee within a few days. Each earlier row stands for one new row only,
    so two equal coffees on one day in one file are two transactions, and importing the file again adds
    neither; two such payments with different bank ids are never taken for one another."""
    window = timedelta(days=DUPLICATE_WINDOW_DAYS)
    seen_ids = set(known.bank_ids)
    duplicates: set[int] = set()
    # In date order, each row takes the earliest earlier row it may stand for: that pairs as many as
    # can be paired (a row booked three days later still finds its own).
    for index in sorted(range(len(rows)), key=lambda i: rows[i].booked_on):
        row = rows[index]
        if row.bank_id is not None:
            if row.bank_id in seen_ids:
                duplicates.add(index)
                continue
            seen_ids.add(row.bank_id)
        earlier = known.fingerprints.get((row.amount_minor, payee_key(row)), [])
        match = next((n for n, (d, has_id) in enumerate(sorted(earlier))
                      if abs(d - row.booked_on) <= window and not (has_id and row.bank_id is not None)), None)
        if match is not None:
            earlier.remove(sorted(earlier)[match])
            duplicates.add(index)
    return [row for index, row in enumerate(rows) if index not in duplicates]


# --- confirm: record the rows --------------------------------------------------------------------

async def start_import(db: Database, ctx: Context, batch_id: UUID, mapping: CsvMapping | None) -> Batch:
    """Mark the batch as importing (one confirm wins; a failed batch may be confirmed again)."""
    async with db.transaction() as session:
        batch = await _batch(session, ctx.tenant_id, batch_id, for_update=True)
        await _claim_accounts(session, ctx.tenant_id, batch)
        batch = await _batch(session, ctx.tenant_id, batch_id)
        if batch.status not in (Status.uploaded, Status.failed):
            raise Conflict(f"import {batch_id} is {batch.status}, it cannot be confirmed")
        await session.execute(_touch(batch_id).values(
            status=Status.importing, error=None, mapping=mapping.model_dump() if mapping else batch.mapping))
        return await _batch(session, ctx.tenant_id, batch_id)


async def _claim_accounts(session: AsyncSession, tenant_id: UUID, batch: Batch) -> None:
    """One import or undo per account at a time (duplicate detection reads what earlier imports wrote);
    a batch of several accounts takes their locks in one order, so two such batches never deadlock.
    An import or undo that stopped moving was interrupted: it is marked so, and can be run again."""
    mine = set(batch.targets.values())
    for account_id in sorted(mine):
        await session.execute(text("SELECT pg_advisory_xact_lock(:space, hashtext(:account))"),
                              {"space": _ACCOUNT_LOCK_SPACE, "account": str(account_id)})
    c = import_batches.c
    running = [Batch(*row) for row in await session.execute(select(*_BATCH_COLUMNS).where(
        c.tenant_id == tenant_id, c.id != batch.id,
        c.status.in_((Status.importing, Status.undoing))))]
    for other in running:
        if not mine & set(other.targets.values()):
            continue
        if other.updated_at < _now() - STALE_AFTER:
            interrupted = ({"status": Status.failed, "error": "interrupted; confirm it again to go on"}
                           if other.status == Status.importing else
                           {"status": Status.imported, "error": "undo interrupted; undo it again to finish"})
            await session.execute(update(import_batches).where(c.id == other.id)
                                  .values(updated_at=func.now(), **interrupted))
            continue
        raise Conflict(f"import {other.id} into this account is still running; try again when it is done")


async def run_import(db: Database, settings: ServiceSettings, ctx: Context, batch: Batch,
                     rows: Sequence[StatementRow], plan: Plan | None = None) -> Batch:
    """Record the new rows of a batch in chunks; the batch shows its progress after each chunk. The rows
    the rules leave uncategorised get what `plan` says (the person's choices, accepted suggestions).

    Each chunk is worked out (rules, checks, events, read-model rows) in a worker thread while the
    database writes the chunk before it: the Python work and the database's run side by side."""
    tenant = ctx.tenant_id
    ctx = Context(tenant_id=tenant, actor=ctx.actor, correlation_id=batch.id)
    try:
        recordable = [r for r in rows if r.amount_minor != 0]
        work: list[tuple[Account, list[StatementRow]]] = []  # chunks of new rows, with their account
        fresh: list[StatementRow] = []
        async with db.read() as session:
            payee_names = await store.payee_merges(session, tenant)
            book = await commands.load_rulebook(session, ctx)
            for account_id, its_rows in rows_by_account(batch, recordable).items():
                if not its_rows:
                    continue
                known = await load_known(session, tenant, account_id, its_rows)
                account = await repository.load(session, ctx, Account, account_id)
                new = new_rows(its_rows, known)
                fresh += new
                work += [(account, new[start:start + CHUNK_ROWS]) for start in range(0, len(new), CHUNK_ROWS)]
        skipped = len(rows) - len(recordable)
        async with db.transaction() as session:
            files = await file_categories.resolve(session, ctx, fresh, settings=settings)
            await session.execute(_touch(batch.id).values(
                rows_total=len(rows), rows_done=len(rows) - len(fresh), rows_skipped=skipped, rows_new=0,
                rows_duplicate=len(recordable) - len(fresh)))

        def prepare(n: int) -> asyncio.Future[_Chunk]:
            account, chunk_rows = work[n]
            return asyncio.ensure_future(asyncio.to_thread(
                _prepare, account, chunk_rows, payee_names, book, ctx, batch, plan, files))

        upcoming = prepare(0) if work else None
        writing: deque[asyncio.Task[None]] = deque()
        try:
            for n in range(len(work)):
                assert upcoming is not None
                chunk = await upcoming
                upcoming = prepare(n + 1) if n + 1 < len(work) else None
                if len(writing) == _CHUNKS_WRITING:
                    await writing.popleft()
                before = writing[-1] if writing else None
                writing.append(asyncio.create_task(_write(db, settings, ctx, batch, chunk, after=before)))
            while writing:
                await writing.popleft()
        except BaseException:
            # The chunks before the one that failed stay recorded: those being written finish (a chunk
            # written after a failed one fails too); the one worked out ahead is not wanted.
            if upcoming is not None:
                upcoming.cancel()
            await asyncio.gather(*writing, return_exceptions=True)
            raise
    except Exception as exc:
        await _finish(db, tenant, batch.id, Status.failed, error=_message(exc))
        raise
    return await _finish(db, tenant, batch.id, Status.imported, content=None)


def _message(exc: Exception) -> str:
    return str(getattr(exc, "detail", None) or exc)[:1000] or type(exc).__name__


@dataclass
class _Chunk:
    """Rows of a statement ready to write: their events (and JSON), read-model and import rows."""

    account_id: UUID
    envelopes: list[Envelope]
    encoded: list[str]
    states: list[tuple[UUID, TransactionState]]
    read_model: projections.NewTransactionRows
    import_rows: list[tuple[Any, ...]]


IMPORT_ROW_COLUMNS = ("transaction_id", "tenant_id", "batch_id", "account_id", "bank_id", "booked_on",
                       "amount_minor", "payee_key")


def _prepare(account: Account, rows: Sequence[StatementRow], payee_names: dict[str, str], book: RuleBook,
             ctx: Context, batch: Batch, plan: Plan | None, files: FileCategories) -> _Chunk:
    """Work out a chunk without the database (this runs in a worker thread)."""
    entries, chosen_by = _categorised(account, rows, payee_names, book, files)
    if plan is not None:
        entries, chosen_by = plan.categorise(account.id, rows, entries, chosen_by)
    try:
        payloads = record_statement(account, entries)
    except EntryViolation as exc:
        where = rows[exc.index].where
        raise InvalidInput(f"{where}: {exc}", where=where) from exc
    payloads = [p if by is None else p.model_copy(update={"categorised_by": by})
                for p, by in zip(payloads, chosen_by, strict=True)]
    ids = [uuid4() for _ in rows]
    envelopes = registry.first_envelopes(payloads, tenant_id=ctx.tenant_id, stream_ids=ids, actor=ctx.actor,
                                         correlation_id=batch.id)
    states = [(i, state_of(payload)) for i, payload in zip(ids, payloads, strict=True)]
    return _Chunk(
        account_id=account.id,
        envelopes=envelopes,
        encoded=[eventstore.encode(e) for e in envelopes],
        states=states,
        read_model=projections.new_transaction_rows(
            [(e, state) for e, (_, state) in zip(envelopes, states, strict=True)]),
        import_rows=[(i, ctx.tenant_id, batch.id, account.id, row.bank_id, row.booked_on,
                      row.amount_minor, payee_key(row)) for i, row in zip(ids, rows, strict=True)],
    )


# Two chunks are written at once, on two connections: the next chunk's rows go in while the one
# before finishes; its events, balances and outbox rows wait for that one's commit (they keep order).
_CHUNKS_WRITING = 2


async def _write(db: Database, settings: ServiceSettings, ctx: Context, batch: Batch, chunk: _Chunk, *,
                 after: asyncio.Task[None] | None) -> None:
    """Write a prepared chunk in one transaction: its read-model and import rows at once, then, once the
    chunk before (`after`) has committed, its events, balances, outbox rows and bills paid."""
    async with db.transaction() as session:
        await projections.copy_new_transactions(session, chunk.read_model)
        await copy_records(session, import_rows, IMPORT_ROW_COLUMNS, chunk.import_rows)
        if after is not None:
            await after  # the chunk before failed: so does this one, and it rolls back
        account = await repository.load(session, ctx, Account, chunk.account_id)
        try:
            account.require_open()  # it may have been archived since the import began
        except DomainError as exc:
            raise InvalidInput(f"the file cannot be imported: {exc}") from exc
        await repository.save_recorded(session, settings, chunk.envelopes, encoded=chunk.encoded)
        await projections.count_new_transactions(session, chunk.read_model)
        await commands.pay_bills(session, settings, ctx, chunk.states)
        done = len(chunk.envelopes)
        await session.execute(_touch(batch.id).values(rows_done=import_batches.c.rows_done + done,
                                                      rows_new=import_batches.c.rows_new + done))


def _categorised(account: Account, rows: Sequence[StatementRow], payee_names: dict[str, str], book: RuleBook,
                 files: FileCategories) -> tuple[list[StatementEntry], list[CategorisedBy | None]]:
    """Each row's entry after the rules, then the file's own categories and splits (the person chose
    those in the app the file comes from: they win over the rules); and who chose each category."""
    entries = [_entry(account, row, payee_names, book) for row in rows]
    by = [None if e.category is None else CategorisedBy.rule for e in entries]
    if not files.found:
        return entries, by
    for n, row in enumerate(rows):
        if row.splits and (split := files.splits(row)) is not None:
            entries[n] = replace(entries[n], category=None, splits=split[0], split_categories=split[1])
            by[n] = CategorisedBy.person
        elif row.category and (category := files.of(row.category, row.amount_minor)) is not None:
            entries[n] = replace(entries[n], category=category)
            by[n] = CategorisedBy.person
    return entries, by


def _entry(account: Account, row: StatementRow, payee_names: dict[str, str],
           book: RuleBook) -> StatementEntry:
    """The transaction a statement row asks for, after the household's rules and payee merges."""
    # Only who the bank says was paid is the payee; a row with only a memo keeps it as the note (rules
    # and the categoriser read both).
    payee = payee_names.get(row.payee[:200].lower(), row.payee[:200])
    kind = TransactionKind.income if row.amount_minor > 0 else TransactionKind.expense
    note = row.description if row.description != row.payee else ""
    if not book.rules:
        return StatementEntry(kind, abs(row.amount_minor), row.booked_on, payee, note)
    try:  # the rules categorise and clean up what the bank wrote
        state, _ = book.apply(TransactionState(
            account_id=account.id, kind=EntryKind(kind.value), amount_minor=abs(row.amount_minor),
            currency=account.currency, booked_on=row.booked_on, payee=payee, note=note[:1000]))
    except (DomainError, ValueError) as exc:
        raise InvalidInput(f"{row.where}: {exc}", where=row.where) from exc
    category = book.categories[state.category_id] if state.category_id else None
    return StatementEntry(kind, abs(row.amount_minor), row.booked_on,
                          payee_names.get(state.payee.lower(), state.payee), state.note, category, state.tags)


@dataclass(frozen=True)
class Suggested:
    """What a preview row will be categorised as: by a rule (certain), or the categoriser's suggestion."""

    category_id: UUID
    confidence: float
    source: str  # rule | payee history | model


async def suggestions(db: Database, ctx: Context, account_id: UUID,
                      rows: Sequence[StatementRow]) -> tuple[list[Suggested | None], int]:
    """Per row, the category its rules give it or the household's categoriser suggests (payee merges
    first, then the rules, then the categoriser); and the household's threshold in percent."""
    async with db.read() as session:
        payee_names = await store.payee_merges(session, ctx.tenant_id)
        book = await commands.load_rulebook(session, ctx)
        account = await repository.load(session, ctx, Account, account_id)
        plan = await categorising.plan(session, ctx)
        files = await file_categories.resolve(session, ctx, rows)
    return await asyncio.to_thread(_suggested, account, rows, payee_names, book, plan, files), \
        round(plan.accept_above * 100)


def _suggested(account: Account, rows: Sequence[StatementRow], payee_names: dict[str, str], book: RuleBook,
               plan: Plan, files: FileCategories) -> list[Suggested | None]:
    found: list[Suggested | None] = [None] * len(rows)
    open_rows, examples = [], []
    for n, row in enumerate(rows):
        try:
            [entry], [by] = _categorised(account, [row], payee_names, book, files)
        except InvalidInput:
            continue  # the import will name the row's problem
        if entry.category is not None:
            found[n] = Suggested(entry.category.id, 1.0, "file" if by == CategorisedBy.person else "rule")
        elif entry.splits:
            continue  # split by the file on its own categories
        elif row.amount_minor != 0:
            open_rows.append(n)
            examples.append(categorising.example_of(account.id, row, entry))
    for n, suggested in zip(open_rows, plan.suggest(examples), strict=True):
        if suggested:
            best = suggested[0]
            found[n] = Suggested(UUID(best.category), round(best.confidence, 4), best.source)
    return found


async def _finish(db: Database, tenant_id: UUID, batch_id: UUID, status: str, **values: Any) -> Batch:
    async with db.transaction() as session:
        stamp = {"undone_at": _now()} if status == Status.undone else {"finished_at": _now()}
        await session.execute(update(import_batches).where(import_batches.c.tenant_id == tenant_id,
                                                           import_batches.c.id == batch_id)
                              .values(updated_at=func.now(), status=status, **stamp, **values))
        return await _batch(session, tenant_id, batch_id)


# --- undo ----------------------------------------------------------------------------------------

async def start_undo(db: Database, ctx: Context, batch_id: UUID) -> tuple[Batch, list[UUID]]:
    """Mark an imported batch as being undone; returns it and the transactions to delete. A reconciled
    transaction stops the undo before anything is deleted."""
    tenant = ctx.tenant_id
    async with db.transaction() as session:
        batch = await _batch(session, tenant, batch_id, for_update=True)
        await _claim_accounts(session, tenant, batch)
        batch = await _batch(session, tenant, batch_id)
        if batch.status != Status.imported:
            raise Conflict(f"import {batch_id} is {batch.status}; only an imported batch can be undone")
        ids = [i for (i,) in await session.execute(
            select(import_rows.c.transaction_id).where(import_rows.c.tenant_id == tenant,
                                                       import_rows.c.batch_id == batch_id)
            .order_by(import_rows.c.transaction_id))]
        reconciled = (await session.execute(
            select(tables.transactions.c.id)
            .join(import_rows, import_rows.c.transaction_id == tables.transactions.c.id)
            .where(import_rows.c.batch_id == batch_id, tables.transactions.c.tenant_id == tenant,
                   ~tables.transactions.c.deleted,
                   tables.transactions.c.status == ClearedState.reconciled.value)
            .limit(1))).scalar()
        if reconciled is not None:
            raise Conflict(f"transaction {reconciled} of this import is reconciled; mark it cleared before "
                           "undoing the import")
        await session.execute(_touch(batch_id).values(status=Status.undoing))
        return await _batch(session, tenant, batch_id), ids


async def run_undo(db: Database, settings: ServiceSettings, ctx: Context, batch: Batch,
                   ids: Sequence[UUID]) -> Batch:
    """Delete exactly the transactions the batch recorded (one TransactionDeleted each), in chunks.
    Transactions already deleted by hand stay deleted."""
    tenant = ctx.tenant_id
    ctx = Context(tenant_id=tenant, actor=ctx.actor, correlation_id=uuid4())
    try:
        for start in range(0, len(ids), CHUNK_ROWS):
            chunk = ids[start:start + CHUNK_ROWS]
            async with db.transaction() as session:
                live = [t for t in await repository.load_transactions(session, ctx, chunk) if not t.deleted]
                try:
                    for transaction in live:
                        transaction.delete(expected_version=None)
                except DomainError as exc:
                    raise Conflict(f"the import cannot be undone: {exc}") from exc
                await repository.save(session, settings, ctx, *live)
                await session.execute(delete(import_rows).where(import_rows.c.tenant_id == tenant,
                                                                import_rows.c.transaction_id.in_(chunk)))
                left = import_batches.c.rows_done - len(chunk)
                await session.execute(_touch(batch.id).values(rows_done=left))
    except Exception as exc:
        await _finish(db, tenant, batch.id, Status.imported, error=f"undo stopped: {_message(exc)}")
        raise
    return await _finish(db, tenant, batch.id, Status.undone, error=None)


async def require_open_account(db: Database, ctx: Context, account_id: UUID) -> None:
    async with db.read() as session:
        account = await repository.load(session, ctx, Account, account_id)
    try:
        account.require_open()
    except DomainError as exc:
        raise InvalidInput(f"the file cannot be imported: {exc}") from exc


# --- saved mappings ------------------------------------------------------------------------------

async def save_mapping(session: AsyncSession, tenant_id: UUID, name: str, mapping: CsvMapping) -> None:
    await session.execute(
        pg_insert(import_mappings).values(tenant_id=tenant_id, name=name, mapping=mapping.model_dump(),
                                          updated_at=_now())
        .on_conflict_do_update(index_elements=[import_mappings.c.tenant_id, import_mappings.c.name],
                               set_={"mapping": mapping.model_dump(), "updated_at": _now()}))


async def list_mappings(db: Database, tenant_id: UUID) -> list[tuple[str, CsvMapping]]:
    async with db.read() as session:
        rows = await session.execute(select(import_mappings.c.name, import_mappings.c.mapping)
                                     .where(import_mappings.c.tenant_id == tenant_id)
                                     .order_by(import_mappings.c.name))
        return [(name, CsvMapping.model_validate(mapping)) for name, mapping in rows]


async def get_mapping(db: Database, tenant_id: UUID, name: str) -> CsvMapping:
    async with db.read() as session:
        mapping = (await session.execute(select(import_mappings.c.mapping).where(
            and_(import_mappings.c.tenant_id == tenant_id, import_mappings.c.name == name)))).scalar()
    if mapping is None:
        raise NotFound(f"no saved mapping named {name!r}")
    return CsvMapping.model_validate(mapping)


async def delete_mapping(db: Database, tenant_id: UUID, name: str) -> None:
    async with db.transaction() as session:
        result = await session.execute(delete(import_mappings).where(import_mappings.c.tenant_id == tenant_id,
                                                                     import_mappings.c.name == name))
        if not result.rowcount:  # type: ignore[attr-defined]
            raise NotFound(f"no saved mapping named {name!r}")
