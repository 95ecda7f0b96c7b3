"""Events → read-model rows. Handlers project their new events in the same transaction as the
append; `rebuild` replays the whole event store through the same functions, to the same rows.

A projection uses only what the event carries (payload and envelope), never the clock, so replaying
gives identical rows.
"""

import asyncio
import gc
import json
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from sqlalchemy import (
    CTE,
    ColumnElement,
    Insert,
    Table,
    Text,
    Update,
    bindparam,
    cast,
    delete,
    exists,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import UpdateBase

from tally_ledger import sharing_store
from tally_ledger.domain import state_of
from tally_ledger.recurring import Recurring
from tally_ledger.tables import (
    READ_MODELS,
    accounts,
    categories,
    payees,
    recurring,
    recurring_occurrences,
    transaction_splits,
    transactions,
)
from tallykit import eventstore
from tallykit.contracts import registry
from tallykit.contracts.ledger import (
    AccountArchived,
    AccountOpened,
    AccountRenamed,
    AccountReopened,
    BillDueSoon,
    BillPaid,
    BudgetsImported,
    CategoryArchived,
    CategoryCreated,
    CategoryMerged,
    CategoryRenamed,
    EntryKind,
    ExpenseShared,
    ExpenseUnshared,
    ImportedBudgetsRemoved,
    MembersSettledUp,
    PayeeMerged,
    RecurringCancelled,
    RecurringOccurrenceSkipped,
    RecurringProposalAccepted,
    RecurringProposalDismissed,
    RecurringScheduled,
    RecurringSeriesFound,
    RecurringSeriesPriceChanged,
    RecurringSeriesStopped,
    RecurringTransactionDue,
    TransactionAmended,
    TransactionDeleted,
    TransactionRecorded,
    TransactionRestored,
    TransactionState,
    TransferRecorded,
)
from tallykit.db import Database, copy_records, unnest_rows, unnested
from tallykit.events import Envelope, EventPayload
from tallykit.logging import get_logger
from tallykit.tables import event_store

log = get_logger(__name__)

_RECURRING_EVENTS = (RecurringScheduled, RecurringCancelled, RecurringOccurrenceSkipped,
                     RecurringTransactionDue, BillDueSoon, BillPaid)
_SERIES_EVENTS = (RecurringSeriesFound, RecurringSeriesPriceChanged, RecurringSeriesStopped,
                  RecurringProposalDismissed, RecurringProposalAccepted)
_OCCURRENCE_KEYS: dict[type, str] = {RecurringTransactionDue: "due", BillDueSoon: "reminder",
                                     BillPaid: "paid", RecurringOccurrenceSkipped: "skipped"}
# Schedules as of the last event projected, so that a run of their events (a rebuild) applies each
# event to the state before it instead of reading the stream again.
Schedules = dict[UUID, Recurring]


async def project(session: AsyncSession, envelope: Envelope, payload: EventPayload,
                  schedules: Schedules | None = None) -> None:
    tenant, stream = envelope.tenant_id, envelope.stream_id
    if isinstance(payload, _RECURRING_EVENTS):
        await _project_recurring(session, envelope, payload, {} if schedules is None else schedules)
        return
    if isinstance(payload, BudgetsImported | ImportedBudgetsRemoved):
        return  # the budget service's to apply: the ledger keeps them in its event store only
    if isinstance(payload, _SERIES_EVENTS):
        return  # a found series' stream is read as it is (series_finding), no read model of its own
    if isinstance(payload, ExpenseShared):
        await sharing_store.project_shared(session, envelope, payload)
        return
    if isinstance(payload, ExpenseUnshared):
        await sharing_store.project_unshared(session, envelope, payload.transaction_id)
        return
    if isinstance(payload, MembersSettledUp):
        await sharing_store.project_settled(session, envelope, payload)
        return
    if isinstance(payload, AccountOpened):
        await session.execute(insert(accounts).values(
            id=stream, tenant_id=tenant, name=payload.name, kind=payload.kind.value,
            currency=payload.currency, opening_balance_minor=payload.opening_balance_minor,
            balance_minor=payload.opening_balance_minor,
            version=envelope.stream_version, opened_at=envelope.occurred_at,
        ))
    elif isinstance(payload, AccountRenamed | AccountArchived | AccountReopened):
        changes = ({"name": payload.name} if isinstance(payload, AccountRenamed)
                   else {"archived": isinstance(payload, AccountArchived)})
        await session.execute(
            update(accounts).where(accounts.c.tenant_id == tenant, accounts.c.id == stream)
            .values(**changes, version=envelope.stream_version)
        )
    elif isinstance(payload, CategoryCreated):
        await session.execute(insert(categories).values(
            id=stream, tenant_id=tenant, name=payload.name, group_name=payload.group, kind=payload.kind.value,
            created_at=envelope.occurred_at,
        ))
    elif isinstance(payload, CategoryRenamed | CategoryArchived):
        changes = ({"name": payload.name, "group_name": payload.group} if isinstance(payload, CategoryRenamed)
                   else {"archived": True})
        await session.execute(update(categories).where(categories.c.tenant_id == tenant,
                                                       categories.c.id == stream).values(**changes))
    elif isinstance(payload, CategoryMerged):
        await _merge_category(session, tenant, stream, payload.into_category_id)
    elif isinstance(payload, PayeeMerged):
        await _merge_payee(session, tenant, payload)
    elif isinstance(payload, TransactionRecorded | TransferRecorded):
        state = state_of(payload)
        await session.execute(insert(transactions).values(
            id=stream, tenant_id=tenant, recorded_at=envelope.recorded_at, version=envelope.stream_version,
            **_columns(state)))
        await _count(session, tenant, state, +1)
    elif isinstance(payload, TransactionAmended | TransactionDeleted):
        await _count(session, tenant, payload.before, -1)
        after = payload.after if isinstance(payload, TransactionAmended) else None
        values = _columns(after) if after else {"deleted": True}
        await session.execute(update(transactions).where(transactions.c.tenant_id == tenant,
                                                         transactions.c.id == stream)
                              .values(**values, version=envelope.stream_version))
        if after:
            await _count(session, tenant, after, +1)
    elif isinstance(payload, TransactionRestored):
        await session.execute(update(transactions).where(transactions.c.tenant_id == tenant,
                                                         transactions.c.id == stream)
                              .values(**_columns(payload.after), deleted=False,
                                      version=envelope.stream_version))
        await _count(session, tenant, payload.after, +1)
    else:
        raise TypeError(f"the ledger has no projection for {envelope.type}")
    if isinstance(payload, TransactionAmended | TransactionRestored):
        await _replace_splits(session, tenant, stream, payload.after)
    elif isinstance(payload, TransactionRecorded) and payload.splits:
        await _replace_splits(session, tenant, stream, state_of(payload))


async def project_many(session: AsyncSession, events: Sequence[tuple[Envelope, EventPayload]],
                       schedules: Schedules | None = None) -> None:
    """Project events in order, giving runs of new transactions a few bulk statements (rows, parts of
    splits, one balance change per account, one count per payee) instead of several each, and runs of
    changes to different transactions (a bulk edit, its undo) likewise: the same rows as projecting them
    one by one, written much faster."""
    run: list[tuple[Envelope, TransactionState]] = []
    changes = ChangedTransactions()
    schedules = Schedules() if schedules is None else schedules
    for envelope, payload in events:
        if isinstance(payload, TransactionRecorded | TransferRecorded):
            await changes.write(session)
            run.append((envelope, state_of(payload)))
            continue
        if run:
            await write_new_transactions(session, new_transaction_rows(run))
            run = []
        if isinstance(payload, TransactionAmended | TransactionDeleted | TransactionRestored):
            if envelope.stream_id in changes.streams:  # a second change of one transaction comes after
                await changes.write(session)
            changes.add(envelope, payload)
            continue
        await changes.write(session)
        await project(session, envelope, payload, schedules)
    await changes.write(session)
    await write_new_transactions(session, new_transaction_rows(run))


@dataclass
class ChangedTransactions:
    """A run of amendments, deletions and restorations of different transactions, written as a few
    statements: the rows (one statement run many times per kind of change), their parts of splits, one
    balance change per account and one count per payee (net of what each change took out and put in)."""

    streams: set[UUID] = field(default_factory=set)
    amended: list[dict[str, Any]] = field(default_factory=list)  # amended or restored: every column
    deleted: list[dict[str, Any]] = field(default_factory=list)
    resplit: list[tuple[UUID, UUID, TransactionState]] = field(default_factory=list)
    balances: dict[tuple[UUID, UUID], int] = field(default_factory=lambda: defaultdict(int))
    payees: dict[tuple[UUID, str], list[Any]] = field(default_factory=dict)  # key → [name, count]

    def add(self, envelope: Envelope, payload: TransactionAmended | TransactionDeleted | TransactionRestored
            ) -> None:
        tenant, stream = envelope.tenant_id, envelope.stream_id
        self.streams.add(stream)
        before = None if isinstance(payload, TransactionRestored) else payload.before
        after = None if isinstance(payload, TransactionDeleted) else payload.after
        for state, sign in ((before, -1), (after, +1)):
            if state is None:
                continue
            for account_id, delta in _balance_changes(state, sign):
                self.balances[(tenant, account_id)] += delta
            if state.payee:
                self.payees.setdefault((tenant, state.payee.lower()), [state.payee, 0])[1] += sign
        keys = {"b_tenant": tenant, "b_id": stream, "v_version": envelope.stream_version}
        if after is None:
            self.deleted.append(keys)
        else:
            columns = {f"v_{c}": v for c, v in _columns(after).items()}
            self.amended.append(keys | columns | {"v_deleted": False})
            self.resplit.append((tenant, stream, after))

    async def write(self, session: AsyncSession) -> None:
        if not self.streams:
            return
        t, s = transactions.c, transaction_splits.c
        by_key = (t.tenant_id == bindparam("b_tenant")) & (t.id == bindparam("b_id"))
        if self.amended:
            columns = [c.removeprefix("v_") for c in self.amended[0] if c.startswith("v_")]
            await session.execute(update(transactions).where(by_key)
                                  .values({c: bindparam(f"v_{c}") for c in columns}), self.amended)
        if self.deleted:
            await session.execute(update(transactions).where(by_key)
                                  .values(deleted=True, version=bindparam("v_version")), self.deleted)
        for tenant_id in {tenant for tenant, _, _ in self.resplit}:
            streams = [stream for tenant, stream, _ in self.resplit if tenant == tenant_id]
            await session.execute(delete(transaction_splits).where(s.tenant_id == tenant_id,
                                                                   s.transaction_id.in_(streams)))
        parts = [{"transaction_id": stream, "position": n, "tenant_id": tenant,
                  "category_id": part.category_id, "amount_minor": part.amount_minor, "note": part.note}
                 for tenant, stream, state in self.resplit for n, part in enumerate(state.splits)]
        if parts:
            await session.execute(insert(transaction_splits), parts)
        await add_counts(session, self.balances, self.payees)
        for kept in (self.streams, self.amended, self.deleted, self.resplit, self.balances, self.payees):
            kept.clear()


TRANSACTION_COLUMNS = ("id", "tenant_id", "recorded_at", "version", "deleted", "account_id", "kind",
                       "amount_minor", "currency", "category_id", "payee", "booked_on", "note",
                       "counter_account_id", "tags", "status", "counter_amount_minor")


@dataclass
class NewTransactionRows:
    """What a run of newly recorded transactions adds to the read models, worked out without the database
    (a statement import prepares the next chunk's rows while the database writes the last)."""

    transactions: list[tuple[Any, ...]] = field(default_factory=list)  # in TRANSACTION_COLUMNS order
    splits: list[dict[str, Any]] = field(default_factory=list)
    balances: dict[tuple[UUID, UUID], int] = field(default_factory=lambda: defaultdict(int))
    payees: dict[tuple[UUID, str], list[Any]] = field(default_factory=dict)  # key → [name, count]


def new_transaction_rows(run: Sequence[tuple[Envelope, TransactionState]]) -> NewTransactionRows:
    rows = NewTransactionRows()
    for envelope, state in run:
        tenant = envelope.tenant_id
        rows.transactions.append((envelope.stream_id, tenant, envelope.recorded_at, envelope.stream_version,
                                  False, *_columns(state).values()))
        rows.splits.extend({"transaction_id": envelope.stream_id, "position": n, "tenant_id": tenant,
                            "category_id": part.category_id, "amount_minor": part.amount_minor,
                            "note": part.note} for n, part in enumerate(state.splits))
        for account_id, delta in _balance_changes(state, +1):
            rows.balances[(tenant, account_id)] += delta
        if state.payee:
            rows.payees.setdefault((tenant, state.payee.lower()), [state.payee, 0])[1] += 1
    return rows


async def write_new_transactions(session: AsyncSession, rows: NewTransactionRows) -> None:
    """Write what `new_transaction_rows` worked out: a few bulk statements for the whole run."""
    await copy_new_transactions(session, rows)
    await count_new_transactions(session, rows)


async def copy_new_transactions(session: AsyncSession, rows: NewTransactionRows) -> None:
    """The new rows themselves (they take no lock another writer holds)."""
    await copy_records(session, transactions, TRANSACTION_COLUMNS, rows.transactions)
    if rows.splits:
        await session.execute(insert(transaction_splits), rows.splits)


# Tags go as JSON text: an array of arrays would reach unnest as one array of two dimensions.
_NEW_ROWS = [(c, Text() if c == "tags" else transactions.c[c].type) for c in TRANSACTION_COLUMNS]
_NEW_SPLITS = [(c, transaction_splits.c[c].type) for c in
               ("transaction_id", "position", "tenant_id", "category_id", "amount_minor", "note")]
_BALANCE_CHANGES = [("tenant_id", accounts.c.tenant_id.type), ("id", accounts.c.id.type),
                    ("delta", accounts.c.balance_minor.type)]
_PAYEES_USED = [(c, payees.c[c].type) for c in ("tenant_id", "key", "name", "usage_count")]


def _add_to_balances(*where: ColumnElement[bool]) -> Update:
    changes = unnested("balance_changes", _BALANCE_CHANGES)
    return (update(accounts)
            .where(accounts.c.tenant_id == changes.c.tenant_id, accounts.c.id == changes.c.id, *where)
            .values(balance_minor=accounts.c.balance_minor + changes.c.delta))


def _count_payees(*where: ColumnElement[bool]) -> Insert:
    """A payee is created by its first use (under the name it was first written with)."""
    used = unnested("payees_used", _PAYEES_USED)
    counted = pg_insert(payees).from_select([c for c, _ in _PAYEES_USED], select(*used.c).where(*where))
    return counted.on_conflict_do_update(
        index_elements=[payees.c.tenant_id, payees.c.key],
        set_={"usage_count": payees.c.usage_count + counted.excluded.usage_count})


_ADD_TO_BALANCES, _COUNT_PAYEES = _add_to_balances(), _count_payees()


def _counts_params(balances: Mapping[tuple[UUID, UUID], int],
                   payees_used: Mapping[tuple[UUID, str], list[Any]]) -> dict[str, list[Any]]:
    """The rows of `_add_to_balances` and `_count_payees`, in the order of their keys: two writers then
    lock the accounts and payees they share in the same order."""
    return {
        **unnest_rows("balance_changes", ["tenant_id", "id", "delta"],
                      sorted((*key, delta) for key, delta in balances.items())),
        **unnest_rows("payees_used", [c for c, _ in _PAYEES_USED],
                      sorted((tenant, key, name, count)
                             for (tenant, key), (name, count) in payees_used.items())),
    }


async def add_counts(session: AsyncSession, balances: Mapping[tuple[UUID, UUID], int],
                     payees_used: Mapping[tuple[UUID, str], list[Any]]) -> None:
    """Add to balances ((household, account) → change) and to payees' counts ((household, lower-case
    name) → [name, change]): one statement each, whatever their number."""
    moved = {key: delta for key, delta in balances.items() if delta}
    used = {key: named for key, named in payees_used.items() if named[1]}
    params = _counts_params(moved, used)
    if moved:
        await session.execute(_ADD_TO_BALANCES, params)
    if used:
        await session.execute(_COUNT_PAYEES, params)


def new_transaction_statements(appended: CTE) -> list[UpdateBase]:
    """`write_new_transactions` as statements for `eventstore.append_and_enqueue`, which writes a few new
    entries in the statement that appends their events; `new_transaction_params` gives their rows."""
    after_append = exists(select(appended.c.event_id))
    new = unnested("new_transactions", _NEW_ROWS)
    tags = func.array(select(func.jsonb_array_elements_text(cast(new.c.tags, JSONB))).correlate(new)
                      .scalar_subquery())
    splits = unnested("new_splits", _NEW_SPLITS)
    row = [cast(tags, transactions.c.tags.type) if c == "tags" else new.c[c] for c in TRANSACTION_COLUMNS]
    return [
        insert(transactions).from_select(TRANSACTION_COLUMNS, select(*row).where(after_append)),
        insert(transaction_splits).from_select([c for c, _ in _NEW_SPLITS],
                                               select(*splits.c).where(after_append)),
        _add_to_balances(after_append),
        _count_payees(after_append),
    ]


def new_transaction_params(rows: NewTransactionRows) -> dict[str, list[Any]]:
    tags = TRANSACTION_COLUMNS.index("tags")
    return {
        **unnest_rows("new_transactions", TRANSACTION_COLUMNS,
                      [(*row[:tags], json.dumps(row[tags]), *row[tags + 1:]) for row in rows.transactions]),
        **unnest_rows("new_splits", [c for c, _ in _NEW_SPLITS],
                      [tuple(part[c] for c, _ in _NEW_SPLITS) for part in rows.splits]),
        **_counts_params(rows.balances, rows.payees),
    }


async def count_new_transactions(session: AsyncSession, rows: NewTransactionRows) -> None:
    """What the new rows add to balances and payees (these rows are locked until the commit)."""
    await add_counts(session, rows.balances, rows.payees)


async def _project_recurring(session: AsyncSession, envelope: Envelope, payload: EventPayload,
                             schedules: Schedules) -> None:
    """The schedule's row as of this event (its state is the stream up to here), and the occurrence's
    unique key: a second due event or reminder for the same day fails the unit of work that wrote it."""
    tenant, stream, version = envelope.tenant_id, envelope.stream_id, envelope.stream_version
    schedule = schedules.get(stream)
    if schedule is not None and schedule.version == version - 1:
        schedule.apply(payload)
    else:
        rows = await session.execute(
            select(event_store.c.envelope).where(event_store.c.tenant_id == tenant,
                                                 event_store.c.stream_id == stream,
                                                 event_store.c.stream_version <= version)
            .order_by(event_store.c.stream_version))
        schedule = Recurring.from_history(
            stream, (registry.payload(Envelope.model_validate(e)) for (e,) in rows))
        if schedule.version != version:
            raise RuntimeError(f"schedule {stream} is at version {schedule.version}, its event at {version}")
    schedules[stream] = schedule
    event = schedule.current
    values = {"tenant_id": tenant, "name": event.name, "account_id": event.account_id,
              "kind": event.kind.value, "amount_minor": event.amount_minor, "currency": event.currency,
              "is_bill": event.is_bill,
              "auto_post": event.auto_post, "schedule": event.model_dump(mode="json"),
              "cancelled": schedule.cancelled, "next_due_on": schedule.next_due_on,
              "wake_on": schedule.wake_on(), "version": version}
    await session.execute(pg_insert(recurring).values(id=stream, **values)
                          .on_conflict_do_update(index_elements=[recurring.c.id], set_=values))
    what = _OCCURRENCE_KEYS.get(type(payload))
    if what is not None and isinstance(payload, RecurringTransactionDue | BillDueSoon | BillPaid
                                       | RecurringOccurrenceSkipped):
        await session.execute(insert(recurring_occurrences).values(
            schedule_id=stream, due_on=payload.due_on, what=what, tenant_id=tenant,
            event_id=envelope.id, transaction_id=getattr(payload, "transaction_id", None)))


def _columns(state: TransactionState) -> dict[str, object]:
    """The read model's columns for a state, in TRANSACTION_COLUMNS order (from account_id on)."""
    return {
        "account_id": state.account_id, "kind": state.kind.value, "amount_minor": state.amount_minor,
        "currency": state.currency, "category_id": state.category_id, "payee": state.payee,
        "booked_on": state.booked_on, "note": state.note, "counter_account_id": state.counter_account_id,
        "tags": list(state.tags), "status": state.status.value,
        "counter_amount_minor": state.counter_amount_minor,
    }


async def _count(session: AsyncSession, tenant_id: UUID, state: TransactionState, sign: int) -> None:
    """Add (sign +1) or take out (-1) what a transaction's state counts for: balances and its payee."""
    balances: dict[tuple[UUID, UUID], int] = defaultdict(int)
    for account_id, delta in _balance_changes(state, sign):
        balances[(tenant_id, account_id)] += delta
    await add_counts(session, balances,
                     {(tenant_id, state.payee.lower()): [state.payee, sign]} if state.payee else {})


def _balance_changes(state: TransactionState, sign: int) -> list[tuple[UUID, int]]:
    """(account, change of its balance): income adds, expense takes away, a transfer does both."""
    amount = sign * int(state.amount_minor)
    changes = [(state.account_id, amount if state.kind == EntryKind.income else -amount)]
    if state.counter_account_id is not None:
        arrived = sign * int(state.counter_amount_minor) if state.counter_amount_minor else amount
        changes.append((state.counter_account_id, arrived))
    return changes


async def _replace_splits(session: AsyncSession, tenant_id: UUID, transaction_id: UUID,
                          state: TransactionState) -> None:
    s = transaction_splits.c
    await session.execute(delete(transaction_splits).where(s.tenant_id == tenant_id,
                                                           s.transaction_id == transaction_id))
    if state.splits:
        await session.execute(insert(transaction_splits), [
            {"transaction_id": transaction_id, "position": n, "tenant_id": tenant_id,
             "category_id": part.category_id, "amount_minor": part.amount_minor, "note": part.note}
            for n, part in enumerate(state.splits)
        ])


async def _merge_category(session: AsyncSession, tenant_id: UUID, source: UUID, target: UUID) -> None:
    """The merged category's transactions (and parts of splits) now count for the target."""
    await session.execute(update(categories)
                          .where(categories.c.tenant_id == tenant_id, categories.c.id == source)
                          .values(archived=True, merged_into=target))
    await session.execute(update(transactions).where(transactions.c.tenant_id == tenant_id,
                                                     transactions.c.category_id == source)
                          .values(category_id=target))
    await session.execute(update(transaction_splits).where(transaction_splits.c.tenant_id == tenant_id,
                                                           transaction_splits.c.category_id == source)
                          .values(category_id=target))


async def _merge_payee(session: AsyncSession, tenant_id: UUID, merged: PayeeMerged) -> None:
    """Transactions of the merged payee now name the target; the merged name is kept as an alias."""
    t = transactions.c
    await session.execute(update(transactions)
                          .where(t.tenant_id == tenant_id, func.lower(t.payee) == merged.name.lower())
                          .values(payee=merged.into_name))
    target_key = merged.into_name.lower()
    live = (await session.execute(select(func.count()).where(
        t.tenant_id == tenant_id, ~t.deleted, func.lower(t.payee) == target_key))).scalar_one()
    for key, name, count, alias in ((merged.name.lower(), merged.name, 0, merged.into_name),
                                    (target_key, merged.into_name, live, None)):
        await session.execute(
            pg_insert(payees).values(tenant_id=tenant_id, key=key, name=name, usage_count=count,
                                     merged_into=alias)
            .on_conflict_do_update(index_elements=[payees.c.tenant_id, payees.c.key],
                                   set_={"usage_count": count, "merged_into": alias})
        )


async def rebuild(db: Database, *, page_size: int = 10_000, progress_every: int = 100_000) -> int:
    """Empty the read models and replay every stored event, in position order, in one transaction.

    Appends wait for it (it holds the append lock), so it replays a log that cannot move meanwhile; the
    read models are locked from the TRUNCATE to the commit, so readers wait for the new rows rather than
    seeing half of them. Their secondary indexes are built again after the replay, from the finished
    rows (maintaining them row by row cost more than all else); their unique keys stay, so an event the
    live write path would refuse fails the rebuild the same way.

    Events are read `page_size` at a time (a run of new transactions is one COPY up to the page's end);
    every `progress_every` events it logs how far it got.
    """
    replayed = 0
    async with db.transaction() as session, db.read() as reader:
        await eventstore.lock_appends(session)
        models = (*READ_MODELS, *sharing_store.READ_MODELS)
        await session.execute(text(f"TRUNCATE {', '.join(t.name for t in models)}"))
        indexes = await _drop_secondary_indexes(session, models)
        total = await eventstore.count(session)
        log.info("read_models_rebuild_started", events=total)
        schedules = Schedules()
        # The next page is read and decoded while PostgreSQL writes the rows of the last one. On a
        # connection of its own, which sees the same log: none can be appended while the lock is held.
        following = asyncio.ensure_future(_decoded_page(reader, 0, page_size))
        try:
            with _no_cycle_collection():
                while page := await following:
                    following = asyncio.ensure_future(_decoded_page(reader, page[-1][0], page_size))
                    await project_many(session, [(envelope, payload) for _, envelope, payload in page],
                                       schedules)
                    if (replayed + len(page)) // progress_every > replayed // progress_every:
                        log.info("read_models_rebuilding", events=replayed + len(page), of=total)
                    replayed += len(page)
        finally:
            # After a failed replay the page being read is let finish (not cancelled mid-query), so
            # that its connection goes back to the pool in order; an error of its own is only taken
            # (else asyncio reports it as never retrieved): the replay's error is the one raised.
            await asyncio.wait([following])
            following.exception()
        for definition in indexes:
            await session.execute(text(definition))
    log.info("read_models_rebuilt", events=replayed)
    return replayed


async def _decoded_page(session: AsyncSession, after_position: int, size: int
                        ) -> list[tuple[int, Envelope, EventPayload]]:
    return [(position, envelope, registry.payload(envelope)) for position, envelope
            in await eventstore.read_all(session, after_position=after_position, limit=size)]


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector: a replay keeps a page or two of decoded events alive (some
    hundred thousand objects), which its full passes walked again and again, for more than half of the
    replay's time; what a replay leaves for it is a few thousand objects per 100,000 events."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


async def _drop_secondary_indexes(session: AsyncSession, tables: Sequence[Table]) -> list[str]:
    """Drop the tables' indexes that are neither primary keys nor unique nor behind a constraint; returns
    what creates them again (as the migrations made them)."""
    rows = (await session.execute(text(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index AS i"
        " WHERE i.indrelid = ANY(CAST(:tables AS regclass[])) AND NOT i.indisprimary AND NOT i.indisunique"
        " AND NOT EXISTS (SELECT FROM pg_constraint AS c WHERE c.conindid = i.indexrelid)"
        " ORDER BY 1"), {"tables": [t.name for t in tables]})).all()
    for name, _ in rows:
        await session.execute(text(f"DROP INDEX {name}"))
    return [definition for _, definition in rows]
