"""A `History` recorded in the ledger as one migration: its accounts, categories, transactions, splits
and transfers, through the ledger's domain and repository like any other write.

- One migration, one correlation id: every event it writes carries the migration's id, so the event
  store itself says what it wrote, and `undo` takes exactly that out.
- Idempotent: every stream id is derived from the household and the source's own id
  (uuid5(tenant, "history:actual:transaction:<id>")) and a stream that exists is not written again, so
  importing the same file twice, or a later export of the same budget, adds only what is new.
- All or nothing for bad input: every entry of the history is turned into events (and every rule
  checked) before the first is written, chunk by chunk, keeping none of them. Then the accounts and
  categories are written in one database transaction and the transactions in chunks of `CHUNK` (one
  database transaction each, its events worked out again while the chunk before is written); a
  migration stopped half way is taken up by running it again (the streams written are skipped).
- Memory stays flat in the size of the history: a history that streams (Actual's export, a GnuCash or
  Beancount book) is read from its file or spool chunk by chunk, and no more than two chunks' events are
  held at once.
- Categories: an existing category of the household with the same name and kind (its default ones) is
  used; the others are created in their source group. Each account is opened with the source's opening
  balance in the currency the person chose; an account closed in the source is archived once its
  transactions are in.
- A refund (money back on an expense category, or an income category's money going out) is recorded
  as the source has it, an income on an expense category: the ledger's reports count it as negative
  spending. Its own API refuses such entries (`check_state`), so they are written as events directly.
- A split whose parts all go the same way, each on a category of that kind, becomes one split
  transaction; any other (a refund among purchases, an uncategorised part) one transaction per part.
- Budgets go last, once the transactions are in (so the budget service does not judge each past
  transaction against them), as events for the budget service (`budgets.py`); undo takes them out too.
"""

import asyncio
import dataclasses
import heapq
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any
from uuid import UUID, uuid4, uuid5

from pydantic import ValidationError
from sqlalchemy import (
    Column,
    DateTime,
    MetaData,
    String,
    Table,
    any_,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import categorising, projections, repository, series_finding, store
from tally_ledger.domain import (
    Account,
    Category,
    DomainError,
    Refs,
    Transaction,
    check_state,
    referenced_ids,
    state_of,
)
from tally_ledger.history import budgets
from tally_ledger.history.model import Entry, History, HistoryTransaction, HistoryTransfer
from tally_ledger.repository import Context
from tallykit import eventstore
from tallykit.contracts import registry
from tallykit.contracts.ledger import (
    ClearedState,
    Split,
    TransactionKind,
    TransactionRecorded,
    TransactionRestored,
    TransferRecorded,
)
from tallykit.db import Database
from tallykit.errors import Conflict, InvalidInput, NotFound
from tallykit.events import Envelope, EventPayload
from tallykit.settings import ServiceSettings
from tallykit.tables import event_store, uuid_column

CHUNK = 2000
_UUIDS = ARRAY(PgUUID(as_uuid=True))
STALE_AFTER = timedelta(minutes=5)
_LOCK_SPACE = 7_240_117

metadata = MetaData()

history_imports = Table(
    "history_imports",
    metadata,
    uuid_column("id", primary_key=True),
    uuid_column("tenant_id", nullable=False),
    Column("source", String(40), nullable=False),
    Column("name", String(200), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("summary", String(500), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(12), nullable=False),
    Column("counts", JSONB, nullable=False),
    Column("skipped", JSONB, nullable=False),
    Column("error", String(1000)),
    uuid_column("undo_id"),
    Column("created_by", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("undone_at", DateTime(timezone=True)),
)


class Status:
    importing = "importing"
    imported = "imported"
    failed = "failed"  # part written: importing the file again goes on where it stopped
    undoing = "undoing"
    undone = "undone"


@dataclass(frozen=True)
class Migration:
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


_COLUMNS = [history_imports.c[name] for name in Migration.__dataclass_fields__]


def stream_id(tenant_id: UUID, app: str, kind: str, source_id: str) -> UUID:
    """The id a source row gets in a household: the same every time it is imported."""
    return uuid5(tenant_id, f"history:{app}:{kind}:{source_id}")


# --- the plan: every event worked out before anything is written -----------------------------------

@dataclass
class Plan:
    accounts: dict[str, Account]  # source id → aggregate (new ones with their AccountOpened pending)
    categories: dict[str, Category]  # source id → the category used (found, reused or new)
    new_accounts: list[Account]
    new_categories: list[Category]
    reused_categories: int
    closed: list[UUID]  # accounts to archive once their transactions are in
    # Opening balances of source accounts merged into accounts of the household's, as entries.
    openings: list[HistoryTransaction]
    checked: int  # how many events the history's entries make (each was checked once when planned)

    def items(self, history: History) -> Iterator[list[Entry]]:
        """The history's transactions and transfers (with the openings) in booking order, in chunks of
        `CHUNK`: their events are worked out chunk by chunk as they are written (`entries`), so a
        migration holds no more than a chunk of them at once (of a history that streams)."""
        merged = heapq.merge(self.openings, history.entries(), key=_booked_on)  # openings first on a day
        while chunk := list(islice(merged, CHUNK)):
            yield chunk

    def entries(self, tenant: UUID, app: str, items: Iterable[Entry]
                ) -> list[tuple[UUID, TransactionRecorded | TransferRecorded]]:
        """The events of some of the items, in their order (a split kept apart gives several)."""
        return _entries(tenant, app, items, self.accounts, self.categories)


async def plan(session: AsyncSession, ctx: Context, history: History, currency: str,
               targets: Mapping[str, UUID] | None = None) -> Plan:
    """Load what the household has of this history and work out every event of the rest; raises
    InvalidInput naming the source row a rule refuses, before anything is written. `targets` maps source
    accounts onto accounts the household has (the others are opened)."""
    tenant, app = ctx.tenant_id, history.app
    targets = dict(targets or {})
    unknown = sorted(set(targets) - {a.source_id for a in history.accounts})
    if unknown:
        raise InvalidInput(f"the file has no account {unknown[0]!r} (accounts maps the source_id of the "
                           "file's accounts)", where="accounts")
    accounts: dict[str, Account] = {}
    new_accounts = []
    openings: list[HistoryTransaction] = []
    for source in history.accounts:
        if source.source_id in targets:
            account = await _target(session, ctx, source.name, targets[source.source_id], currency)
            if source.opening_balance_minor:
                openings.append(_opening(history, source.source_id, source.opening_balance_minor))
        else:
            account = await repository.load(session, ctx, Account, stream_id(tenant, app, "account",
                                                                             source.source_id))
            if account.exists:
                if account.currency != currency:
                    raise InvalidInput(f"account {source.name!r} was imported before in {account.currency}; "
                                       f"import the history in {account.currency} again, not {currency}")
            else:
                with _rules(f"account {source.name!r}"):
                    account = Account.open(account.id, name=source.name, kind=source.kind, currency=currency,
                                           opening_balance_minor=source.opening_balance_minor)
                new_accounts.append(account)
        accounts[source.source_id] = account
    # Archived at the end: a new account, one an earlier run opened and stopped before archiving (never
    # changed since its opening), or one an undo archived (opened again meanwhile). One reopened by hand
    # is left open, and so is an account of the household's the person chose for a source account.
    closed = [accounts[a.source_id].id for a in history.accounts
              if a.closed and a.source_id not in targets
              and (accounts[a.source_id].version == 1 or accounts[a.source_id].archived)]

    existing = {(row.name.strip().lower(), row.kind): row.id
                for row in await store.list_categories(session, tenant)}
    categories: dict[str, Category] = {}
    new_categories, reused = [], 0
    for group in history.categories:
        category = await repository.load(session, ctx, Category,
                                         stream_id(tenant, app, "category", group.source_id))
        if not category.exists:
            same = existing.get((group.name.strip().lower(), group.kind.value))
            if same is not None:
                category = await repository.load(session, ctx, Category, same)
                reused += 1
            else:
                category = Category.create(category.id, name=group.name, group=group.group, kind=group.kind)
                new_categories.append(category)
        categories[group.source_id] = category

    planned = Plan(accounts, categories, new_accounts, new_categories, reused, closed, openings, 0)
    planned.checked = await asyncio.to_thread(_check, planned, tenant, history)
    return planned


def _booked_on(item: Entry) -> Any:
    return item.booked_on


def _check(planned: Plan, tenant: UUID, history: History) -> int:
    """Work out every entry's events, chunk by chunk, keeping none: raises InvalidInput naming the first
    source row a rule refuses. Returns how many events there are."""
    return sum(len(planned.entries(tenant, history.app, chunk)) for chunk in planned.items(history))


async def _target(session: AsyncSession, ctx: Context, name: str, account_id: UUID,
                  currency: str) -> Account:
    """An account of the household chosen for a source account: open and in the history's currency."""
    account = await repository.load(session, ctx, Account, account_id)
    where = f"accounts.{name}"
    if not account.exists:
        raise InvalidInput(f"account {account_id} chosen for {name!r} does not exist", where=where)
    if account.archived:
        raise InvalidInput(f"account {account.name!r} chosen for {name!r} is archived", where=where)
    if account.currency != currency:
        raise InvalidInput(f"account {account.name!r} chosen for {name!r} is in {account.currency}, the "
                           f"history in {currency}", where=where)
    return account


def _opening(history: History, source_id: str, amount_minor: int) -> HistoryTransaction:
    """The source's opening balance of an account merged into one the household has: one uncategorised
    entry on the day the account's history starts, so its balance comes out as the source's."""
    first = history.first_day_of(source_id) or history.first_day or datetime.now(UTC).date()
    return HistoryTransaction(source_id=f"opening-balance:{source_id}", account_id=source_id, booked_on=first,
                              amount_minor=amount_minor, note=f"Opening balance in the {history.source}")


class _rules:
    """Domain and validation errors as InvalidInput naming the source row."""

    def __init__(self, where: str) -> None:
        self.where = where

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        if isinstance(exc, DomainError | ValidationError | ValueError):
            raise InvalidInput(f"{self.where}: {exc}", where=self.where) from exc


def _entries(tenant: UUID, app: str, items: Iterable[Entry],
             accounts: Mapping[str, Account], categories: Mapping[str, Category],
             ) -> list[tuple[UUID, TransactionRecorded | TransferRecorded]]:
    # Past entries go into accounts closed since: the rules are checked as of when they were booked.
    usable = {key: dataclasses.replace(a, archived=False) for key, a in accounts.items()}
    entries: list[tuple[UUID, TransactionRecorded | TransferRecorded]] = []

    def account_of(source_id: str, where: str) -> Account:
        if source_id not in usable:
            raise InvalidInput(f"{where}: its account is not in the file", where=where)
        return usable[source_id]

    def category_of(source_id: str | None) -> Category | None:
        return categories.get(source_id) if source_id else None

    def one(transaction_id: UUID, t: HistoryTransaction, amount: int, category: Category | None,
            note: str, where: str) -> None:
        account = account_of(t.account_id, where)
        kind = TransactionKind.income if amount > 0 else TransactionKind.expense
        payload: EventPayload
        with _rules(where):
            if category is not None and category.kind.value != kind.value:  # a refund: as the source has it
                payload = TransactionRecorded(
                    account_id=account.id, kind=kind, amount_minor=abs(amount), currency=account.currency,
                    category_id=category.id, payee=t.payee, booked_on=t.booked_on, note=note, status=t.status,
                    tags=t.tags)
                category.require_exists()
                uncategorised = state_of(payload).model_copy(update={"category_id": None})
                check_state(uncategorised, Refs({account.id: account}))
            else:
                recorded = Transaction.record(
                    transaction_id, account=account, kind=kind, amount_minor=abs(amount),
                    booked_on=t.booked_on, category=category, payee=t.payee, note=note, status=t.status,
                    tags=t.tags)
                [payload] = recorded.pending
        assert isinstance(payload, TransactionRecorded)
        entries.append((transaction_id, payload))

    for t in items:
        if isinstance(t, HistoryTransfer):
            where = f"transfer {t.source_id} of {t.booked_on}"
            entries.append(_transfer(tenant, app, t, account_of(t.from_account_id, where),
                                     account_of(t.to_account_id, where), where))
            continue
        where = f"transaction {t.source_id} of {t.booked_on}"
        if not t.parts:
            one(stream_id(tenant, app, "transaction", t.source_id), t, t.amount_minor,
                category_of(t.category_id), t.note, where)
            continue
        kind = TransactionKind.income if t.amount_minor > 0 else TransactionKind.expense
        parts_categories = [category_of(p.category_id) for p in t.parts]
        whole = len(t.parts) >= 2 and all(
            c is not None and c.kind.value == kind.value and (p.amount_minor > 0) == (t.amount_minor > 0)
            for p, c in zip(t.parts, parts_categories, strict=True))
        if whole:
            account = account_of(t.account_id, where)
            transaction_id = stream_id(tenant, app, "transaction", t.source_id)
            with _rules(where):
                recorded = Transaction.record(
                    transaction_id, account=account, kind=kind, amount_minor=abs(t.amount_minor),
                    booked_on=t.booked_on, payee=t.payee, note=t.note, status=t.status, tags=t.tags,
                    splits=[Split(category_id=c.id, amount_minor=abs(p.amount_minor), note=p.note)
                            for p, c in zip(t.parts, parts_categories, strict=True) if c is not None],
                    split_categories=[c for c in parts_categories if c is not None])
                [payload] = recorded.pending
                assert isinstance(payload, TransactionRecorded)
            entries.append((transaction_id, payload))
            continue
        for n, (part, category) in enumerate(zip(t.parts, parts_categories, strict=True), start=1):
            note = " · ".join(x for x in (t.note, part.note) if x)
            if len(t.parts) > 1:
                note = f"{note} (part {n} of {len(t.parts)} of a split)".strip()
            one(stream_id(tenant, app, "transaction", part.source_id), t, part.amount_minor, category,
                note[:1000], f"{where}, part {part.source_id}")
    return entries


def _transfer(tenant: UUID, app: str, transfer: HistoryTransfer, source: Account, target: Account,
              where: str) -> tuple[UUID, TransferRecorded]:
    transaction_id = stream_id(tenant, app, "transfer", transfer.source_id)
    with _rules(where):
        recorded = Transaction.transfer(transaction_id, source=source, target=target,
                                        amount_minor=transfer.amount_minor, booked_on=transfer.booked_on,
                                        payee=transfer.payee, note=transfer.note, status=transfer.status,
                                        tags=transfer.tags)
        [payload] = recorded.pending
        assert isinstance(payload, TransferRecorded)
    return transaction_id, payload


# --- running a migration -------------------------------------------------------------------------

async def _lock(session: AsyncSession, tenant_id: UUID) -> None:
    """One migration or undo per household at a time; one that stopped moving was interrupted."""
    await session.execute(text("SELECT pg_advisory_xact_lock(:space, hashtext(:tenant))"),
                          {"space": _LOCK_SPACE, "tenant": str(tenant_id)})
    c = history_imports.c
    stale = c.updated_at < func.now() - STALE_AFTER
    await session.execute(update(history_imports).where(
        c.tenant_id == tenant_id, stale, c.status == Status.importing).values(
        status=Status.failed, error="interrupted; import the file again to go on", updated_at=func.now()))
    await session.execute(update(history_imports).where(
        c.tenant_id == tenant_id, stale, c.status == Status.undoing).values(
        status=Status.imported, error="undo interrupted; undo it again to finish", updated_at=func.now()))
    busy = (await session.execute(select(c.id).where(
        c.tenant_id == tenant_id, c.status.in_((Status.importing, Status.undoing))).limit(1))).scalar()
    if busy is not None:
        raise Conflict(f"history import {busy} of this household is still running; try again when it is done")


async def _get(session: AsyncSession, tenant_id: UUID, migration_id: UUID) -> Migration:
    row = (await session.execute(select(*_COLUMNS).where(history_imports.c.tenant_id == tenant_id,
                                                         history_imports.c.id == migration_id))).first()
    if row is None:
        raise NotFound(f"history import {migration_id} does not exist")
    return Migration(*row)


async def get(db: Database, tenant_id: UUID, migration_id: UUID) -> Migration:
    async with db.read() as session:
        return await _get(session, tenant_id, migration_id)


async def list_migrations(db: Database, tenant_id: UUID, limit: int = 50) -> list[Migration]:
    async with db.read() as session:
        rows = await session.execute(select(*_COLUMNS).where(history_imports.c.tenant_id == tenant_id)
                                     .order_by(history_imports.c.created_at.desc()).limit(limit))
        return [Migration(*row) for row in rows]


def _touch(migration_id: UUID) -> Any:
    return update(history_imports).where(history_imports.c.id == migration_id).values(updated_at=func.now())


@dataclass
class Started:
    """A migration checked and begun: its row says `importing`; `run` writes it."""

    migration: Migration
    ctx: Context  # with the migration's id as correlation id
    history: History
    planned: Plan
    wanted: Any  # the budgets to hand over, per category
    counts: dict[str, int]


async def migrate(db: Database, settings: ServiceSettings, ctx: Context, history: History, *,
                  filename: str, currency: str, targets: Mapping[str, UUID] | None = None) -> Migration:
    """Record the history (what the household does not have of it yet); returns the finished migration.
    Bad input raises before anything is written."""
    started = await start(db, ctx, history, filename=filename, currency=currency, targets=targets)
    return await run(db, settings, started)


async def start(db: Database, ctx: Context, history: History, *, filename: str, currency: str,
                targets: Mapping[str, UUID] | None = None) -> Started:
    """Work out and check every event of the history (bad input raises here, with nothing written), and
    record the migration as begun; `run` then writes it (after the answer, for a large history)."""
    tenant = ctx.tenant_id
    migration_id = uuid4()
    ctx = Context(tenant_id=tenant, actor=ctx.actor, correlation_id=migration_id)
    async with db.read() as session:
        planned = await plan(session, ctx, history, currency, targets)
    with _rules("budgets"):
        wanted = budgets.by_category(history, planned.categories)
    counts = {"accounts_new": len(planned.new_accounts), "categories_new": len(planned.new_categories),
              "categories_reused": planned.reused_categories, "transactions_new": 0, "transfers_new": 0,
              "restored": 0, "already_there": 0, "budgets_new": 0}
    async with db.transaction() as session:
        await _lock(session, tenant)
        now = datetime.now(UTC)
        await session.execute(insert(history_imports).values(
            id=migration_id, tenant_id=tenant, source=history.source[:40], name=history.name[:200],
            filename=filename[:255], summary=history.summary()[:500], currency=currency,
            status=Status.importing, counts=counts, skipped=history.skipped, created_by=ctx.actor,
            created_at=now, updated_at=now))
        migration = await _get(session, tenant, migration_id)
    return Started(migration, ctx, history, planned, wanted, counts)


async def run(db: Database, settings: ServiceSettings, started: Started) -> Migration:
    """Write a begun migration: accounts and categories, the entries in chunks (its counts show the
    progress), the closed accounts archived, the budgets handed over; the finished migration.

    A chunk's events, their JSON and read-model rows are worked out in a worker thread while the
    database writes the chunk before it; each chunk is one transaction of a few set-based statements
    (COPY of its read-model rows and events, one statement for its payees). The household's
    categoriser and recurring-series detection wait until the migration is done (`_hold_learning`), so
    they learn from it once, not after every chunk."""
    ctx, planned, counts, history = started.ctx, started.planned, started.counts, started.history
    tenant, migration_id = ctx.tenant_id, started.migration.id
    chunks = planned.items(history)
    try:
        async with db.transaction() as session:
            await _hold_learning(session, tenant)
            new = [*planned.new_accounts, *planned.new_categories]
            # A migration of the same history that finished while this one was planned opened them.
            there = await _existing(session, tenant, [a.id for a in new])
            new = [a for a in new if a.id not in there]
            if new:
                await repository.save(session, settings, ctx, *new)
            await _reopen_undone(session, settings, ctx, list(planned.accounts.values()))

        def prepare() -> asyncio.Future[_Chunk | None]:
            # The next chunk is read (from the file, for a history that streams) and worked out in a
            # worker thread, one at a time, while the one before is written.
            return asyncio.ensure_future(asyncio.to_thread(_prepare, planned, ctx, history.app, chunks))

        upcoming: asyncio.Future[_Chunk | None] | None = prepare()
        try:
            while upcoming is not None:
                chunk = await upcoming
                if chunk is None:
                    upcoming = None
                    break
                upcoming = prepare()
                async with db.transaction() as session:
                    written = await _write(session, settings, ctx, chunk)
                    for key, value in written.items():
                        counts[key] += value
                    await session.execute(_touch(migration_id).values(counts=counts))
                    await _hold_learning(session, tenant)
                del chunk
        finally:
            if upcoming is not None:  # a chunk being read and worked out: let it end before going on
                await asyncio.gather(upcoming, return_exceptions=True)
        async with db.transaction() as session:
            await _archive(session, settings, ctx, planned.closed)
            counts["budgets_new"] = await budgets.record(session, settings, ctx, started.wanted,
                                                         history.source, started.migration.currency)
            await session.execute(_touch(migration_id).values(status=Status.imported, counts=counts,
                                                               finished_at=func.now()))
            await _hold_learning(session, tenant, release=True)
            return await _get(session, tenant, migration_id)
    except Exception as exc:
        async with db.transaction() as session:
            await session.execute(_touch(migration_id).values(status=Status.failed, counts=counts,
                                                               error=str(exc)[:1000] or type(exc).__name__))
            await _hold_learning(session, tenant, release=True)
        raise


async def _hold_learning(session: AsyncSession, tenant_id: UUID, *, release: bool = False) -> None:
    """Keep the household's categoriser training and recurring-series detection from running while a
    migration writes (each would otherwise start again after every chunk, reading the growing history):
    the migration holds their leases (`training_since`, `detecting_since`), renewed with every chunk,
    and lets go at the end, when the changes it made, still counted, make them run once. A migration
    that dies leaves the leases to run out (15 minutes)."""
    held = None if release else func.now()
    for table, column in ((categorising.categorisers, "training_since"),
                          (series_finding.series_households, "detecting_since")):
        new = pg_insert(table).values({"tenant_id": tenant_id, column: held})
        await session.execute(new.on_conflict_do_update(index_elements=[table.c.tenant_id],
                                                        set_={column: held}))


@dataclass
class _Chunk:
    """A chunk of the plan ready to write: its events (and their JSON) and read-model rows."""

    entries: list[tuple[UUID, TransactionRecorded | TransferRecorded]]
    envelopes: list[Envelope]
    encoded: list[str]
    read_model: projections.NewTransactionRows


def _prepare(planned: Plan, ctx: Context, app: str, chunks: Iterator[list[Entry]]) -> _Chunk | None:
    """Work out the next chunk without the database (this runs in a worker thread); None after the last."""
    items = next(chunks, None)
    if items is None:
        return None
    entries = planned.entries(ctx.tenant_id, app, items)
    assert ctx.correlation_id is not None
    envelopes: list[Envelope] = registry.first_envelopes(
        [p for _, p in entries], tenant_id=ctx.tenant_id, stream_ids=[i for i, _ in entries],
        actor=ctx.actor, correlation_id=ctx.correlation_id)
    return _Chunk(entries=entries, envelopes=envelopes, encoded=[eventstore.encode(e) for e in envelopes],
                  read_model=projections.new_transaction_rows(
                      [(e, state_of(p)) for e, (_, p) in zip(envelopes, entries, strict=True)]))


async def _write(session: AsyncSession, settings: ServiceSettings, ctx: Context,
                 chunk: _Chunk) -> dict[str, int]:
    """Write the streams of a chunk the household does not have; bring back those an undo deleted."""
    tenant = ctx.tenant_id
    entries = chunk.entries
    versions = await _existing(session, tenant, [i for i, _ in entries])
    if versions:  # written before (the same file again, or a migration that stopped): the others only
        keep = [n for n, (i, _) in enumerate(entries) if i not in versions]
        envelopes = [chunk.envelopes[n] for n in keep]
        chunk = _Chunk(entries=[entries[n] for n in keep], envelopes=envelopes,
                       encoded=[chunk.encoded[n] for n in keep],
                       read_model=projections.new_transaction_rows(
                           [(e, state_of(entries[n][1])) for e, n in zip(envelopes, keep, strict=True)]))
    envelopes, encoded = list(chunk.envelopes), list(chunk.encoded)
    restoring: list[tuple[Envelope, EventPayload]] = []
    undone = await _undo_ids(session, tenant) if versions else set()
    if undone:
        # Streams whose last event is a deletion by an undo of a history import: brought back as the
        # file has them. One deleted by hand stays deleted.
        e = event_store.c
        deletions = await session.execute(
            select(e.stream_id, e.stream_version, e.envelope["correlation_id"].astext)
            .where(e.tenant_id == tenant, e.stream_id.in_(list(versions)),
                   e.type == "ledger.TransactionDeleted"))
        back = {stream: version for stream, version, correlation in deletions
                if version == versions[stream] and correlation and UUID(correlation) in undone}
        for transaction_id, recorded in entries:
            if transaction_id not in back:
                continue
            payload = TransactionRestored(after=state_of(recorded), undoes=back[transaction_id])
            envelope = registry.envelope(payload, tenant_id=tenant, stream_id=transaction_id,
                                         stream_version=back[transaction_id] + 1, actor=ctx.actor,
                                         correlation_id=ctx.correlation_id)
            envelopes.append(envelope)
            encoded.append(eventstore.encode(envelope))
            restoring.append((envelope, payload))
    await projections.copy_new_transactions(session, chunk.read_model)
    await repository.save_recorded(session, settings, envelopes, encoded=encoded)
    if restoring:
        await projections.project_many(session, restoring)
    await projections.count_new_transactions(session, chunk.read_model)
    fresh = [p for _, p in chunk.entries]
    return {"transactions_new": sum(isinstance(p, TransactionRecorded) for p in fresh),
            "transfers_new": sum(isinstance(p, TransferRecorded) for p in fresh),
            "restored": len(restoring), "already_there": len(entries) - len(fresh) - len(restoring)}


async def _existing(session: AsyncSession, tenant_id: UUID, ids: Sequence[UUID]) -> dict[UUID, int]:
    """Of these streams, those the household has, with their versions (the ids as one array: a chunk's
    2,000 would otherwise be 2,000 parameters to compile and send)."""
    if not ids:
        return {}
    return dict((await session.execute(
        select(event_store.c.stream_id, func.max(event_store.c.stream_version))
        .where(event_store.c.tenant_id == tenant_id,
               event_store.c.stream_id == any_(bindparam("ids", list(ids), type_=_UUIDS)))
        .group_by(event_store.c.stream_id))).all())


async def _undo_ids(session: AsyncSession, tenant_id: UUID) -> set[UUID]:
    c = history_imports.c
    return {i for (i,) in await session.execute(select(c.undo_id).where(
        c.tenant_id == tenant_id, c.undo_id.is_not(None)))}


async def _reopen_undone(session: AsyncSession, settings: ServiceSettings, ctx: Context,
                         accounts: Iterable[Account]) -> None:
    """Accounts an undo archived are opened again when their history is imported again."""
    undone = await _undo_ids(session, ctx.tenant_id)
    if not undone:
        return
    reopened = []
    for account in accounts:
        if not account.archived or account.version == 0:
            continue
        last = (await session.execute(
            select(event_store.c.envelope["correlation_id"].astext)
            .where(event_store.c.tenant_id == ctx.tenant_id, event_store.c.stream_id == account.id,
                   event_store.c.stream_version == account.version))).scalar()
        if last is not None and UUID(last) in undone:
            current = await repository.load(session, ctx, Account, account.id)
            current.reopen(expected_version=current.version)
            reopened.append(current)
    if reopened:
        await repository.save(session, settings, ctx, *reopened)


# --- undo ----------------------------------------------------------------------------------------

async def undo(db: Database, settings: ServiceSettings, ctx: Context, migration_id: UUID) -> Migration:
    """Take out what a migration wrote: delete its transactions and transfers (a reconciled one is
    marked cleared first), archive the accounts it opened, take out the budget months it imported. The
    categories it created stay (empty). What was changed by hand since stays changed; what was deleted
    by hand stays deleted."""
    migration, undo_id = await start_undo(db, ctx, migration_id)
    return await run_undo(db, settings, ctx, migration, undo_id)


async def start_undo(db: Database, ctx: Context, migration_id: UUID) -> tuple[Migration, UUID]:
    """Mark the migration as being undone; returns it and the correlation id of the undo's events (the
    same on every try, so a new import knows what an undo took out)."""
    tenant = ctx.tenant_id
    async with db.transaction() as session:
        await _lock(session, tenant)
        migration = await _get(session, tenant, migration_id)
        if migration.status not in (Status.imported, Status.failed):
            raise Conflict(f"history import {migration_id} is {migration.status}; only an imported one "
                           "can be undone")
        undo_id = (await session.execute(select(history_imports.c.undo_id).where(
            history_imports.c.id == migration_id))).scalar() or uuid4()
        await session.execute(_touch(migration_id).values(status=Status.undoing, undo_id=undo_id, error=None))
        return await _get(session, tenant, migration_id), undo_id


async def run_undo(db: Database, settings: ServiceSettings, ctx: Context, migration: Migration,
                   undo_id: UUID) -> Migration:
    """Delete in chunks (the migration's counts say how many so far: `undone`), then archive."""
    tenant, migration_id = ctx.tenant_id, migration.id
    ctx = Context(tenant_id=tenant, actor=ctx.actor, correlation_id=undo_id)
    counts = dict(migration.counts)
    try:
        async with db.read() as session:
            written = await _written(session, tenant, migration_id)
        transactions = [*written.get("ledger.TransactionRecorded", []),
                        *written.get("ledger.TransferRecorded", [])]
        counts["undone"] = 0
        for start in range(0, len(transactions), CHUNK):
            async with db.transaction() as session:
                chunk = transactions[start:start + CHUNK]
                await _delete(session, settings, ctx, chunk)
                counts["undone"] += len(chunk)
                await session.execute(_touch(migration_id).values(counts=counts))
        async with db.transaction() as session:
            await _archive(session, settings, ctx, written.get("ledger.AccountOpened", []))
            counts["budgets_undone"] = await budgets.take_out(session, settings, ctx, migration_id)
            await session.execute(_touch(migration_id).values(status=Status.undone, counts=counts,
                                                               undone_at=func.now()))
            return await _get(session, tenant, migration_id)
    except Exception as exc:
        async with db.transaction() as session:
            await session.execute(_touch(migration_id).values(
                status=Status.imported, error=f"undo stopped: {str(exc)[:900] or type(exc).__name__}"))
        raise


async def _archive(session: AsyncSession, settings: ServiceSettings, ctx: Context,
                   account_ids: Iterable[UUID]) -> None:
    """Archive those of these accounts that are open, in the caller's transaction."""
    loaded = [await repository.load(session, ctx, Account, i) for i in account_ids]
    archive = [account for account in loaded if not account.archived]
    for account in archive:
        account.archive(expected_version=account.version)
    if archive:
        await repository.save(session, settings, ctx, *archive)


async def _written(session: AsyncSession, tenant_id: UUID, migration_id: UUID) -> dict[str, list[UUID]]:
    """The streams a migration opened, by the type of their first event."""
    e = event_store.c
    rows = await session.execute(
        select(e.type, e.stream_id).where(e.tenant_id == tenant_id, e.stream_version == 1,
                                          e.envelope["correlation_id"].astext == str(migration_id))
        .order_by(e.position))
    found: dict[str, list[UUID]] = {}
    for kind, stream in rows:
        found.setdefault(kind, []).append(stream)
    return found


async def _delete(session: AsyncSession, settings: ServiceSettings, ctx: Context,
                  ids: Sequence[UUID]) -> None:
    live = [t for t in await repository.load_transactions(session, ctx, ids) if not t.deleted]
    account_ids, category_ids = set(), set()
    for transaction in live:
        accounts, categories = referenced_ids(transaction.current)
        account_ids |= accounts
        category_ids |= categories
    refs = Refs({i: await repository.load(session, ctx, Account, i) for i in account_ids},
                {i: await repository.load(session, ctx, Category, i) for i in category_ids})
    for transaction in live:
        try:
            if transaction.current.status == ClearedState.reconciled:
                transaction.amend({"status": ClearedState.cleared}, refs, expected_version=None)
            transaction.delete(expected_version=None)
        except DomainError as exc:
            raise Conflict(f"transaction {transaction.id} cannot be taken out: {exc}") from exc
    if live:
        await repository.save(session, settings, ctx, *live)

