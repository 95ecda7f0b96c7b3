"""One async function per command: load the aggregate(s), decide, save (`repository`), in one
transaction."""

from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import repository, store, tables
from tally_ledger.domain import (
    DEFAULT_CATEGORIES,
    Account,
    Aggregate,
    Category,
    DoesNotExist,
    Payee,
    ReconciledLocked,
    Refs,
    RuleViolation,
    StaleVersion,
    Transaction,
    differences,
    payee_id,
    referenced_ids,
)
from tally_ledger.recurring import Recurring
from tally_ledger.repository import Context
from tally_ledger.rules import Rule, RuleBook, RuleSpec, category_ids
from tallykit import eventstore
from tallykit.contracts import registry
from tallykit.contracts.ledger import (
    AccountKind,
    CategoryKind,
    ClearedState,
    EntryKind,
    Split,
    TransactionAmended,
    TransactionDeleted,
    TransactionKind,
    TransactionRecorded,
    TransactionRestored,
    TransactionState,
    TransferRecorded,
)
from tallykit.db import Database
from tallykit.errors import Conflict, InvalidInput, NotFound
from tallykit.events import Envelope
from tallykit.logging import get_logger
from tallykit.settings import ServiceSettings

log = get_logger(__name__)

A = TypeVar("A", bound=Aggregate)
R = TypeVar("R")


@contextmanager
def domain_errors_as_problems() -> Iterator[None]:
    try:
        yield
    except DoesNotExist as exc:
        raise NotFound(str(exc)) from exc
    except StaleVersion as exc:
        raise eventstore.ConcurrencyConflict(str(exc), expected_version=exc.expected,
                                             current_version=exc.actual) from exc
    except ReconciledLocked as exc:
        raise Conflict(str(exc), reconciled=True) from exc
    except RuleViolation as exc:
        raise InvalidInput(str(exc)) from exc


async def _account_row(session: AsyncSession, ctx: Context, account_id: UUID) -> store.AccountRow:
    row = await store.get_account(session, ctx.tenant_id, account_id)
    if row is None:  # the projection ran in this very transaction
        raise RuntimeError(f"account {account_id} missing from its read model")
    return row


async def open_account(db: Database, settings: ServiceSettings, ctx: Context, *, name: str, kind: AccountKind,
                       currency: str, opening_balance_minor: int) -> store.AccountRow:
    async with db.transaction() as session:
        with domain_errors_as_problems():
            account = Account.open(uuid4(), name=name, kind=kind, currency=currency,
                                   opening_balance_minor=opening_balance_minor)
        await repository.save(session, settings, ctx, account)
        row = await _account_row(session, ctx, account.id)
    log.info("account_opened", account_id=str(account.id))
    return row


async def rename_account(db: Database, settings: ServiceSettings, ctx: Context, account_id: UUID, *,
                         name: str, expected_version: int) -> store.AccountRow:
    return await _change_account(db, settings, ctx, account_id,
                                 lambda a: a.rename(name, expected_version=expected_version))


async def archive_account(db: Database, settings: ServiceSettings, ctx: Context, account_id: UUID, *,
                          expected_version: int) -> store.AccountRow:
    return await _change_account(db, settings, ctx, account_id,
                                 lambda a: a.archive(expected_version=expected_version))


async def reopen_account(db: Database, settings: ServiceSettings, ctx: Context, account_id: UUID, *,
                         expected_version: int) -> store.AccountRow:
    return await _change_account(db, settings, ctx, account_id,
                                 lambda a: a.reopen(expected_version=expected_version))


async def _change(db: Database, settings: ServiceSettings, ctx: Context, cls: type[A], aggregate_id: UUID,
                  change: Callable[[A], None],
                  row: Callable[[AsyncSession, Context, UUID], Awaitable[R]]) -> R:
    """Load one aggregate, apply a command, save; returns its read-model row after the change."""
    async with db.transaction() as session:
        aggregate = await repository.load(session, ctx, cls, aggregate_id)
        with domain_errors_as_problems():
            change(aggregate)
        await repository.save(session, settings, ctx, aggregate)
        return await row(session, ctx, aggregate_id)


async def _change_account(db: Database, settings: ServiceSettings, ctx: Context, account_id: UUID,
                          change: Callable[[Account], None]) -> store.AccountRow:
    return await _change(db, settings, ctx, Account, account_id, change, _account_row)


# --- categories and payees ---------------------------------------------------------------------------

async def create_category(db: Database, settings: ServiceSettings, ctx: Context, *, name: str, group: str,
                          kind: CategoryKind) -> store.CategoryRow:
    async with db.transaction() as session:
        category = Category.create(uuid4(), name=name, group=group, kind=kind)
        await repository.save(session, settings, ctx, category)
        return await _category_row(session, ctx, category.id)


async def rename_category(db: Database, settings: ServiceSettings, ctx: Context, category_id: UUID, *,
                          name: str | None, group: str | None) -> store.CategoryRow:
    return await _change_category(db, settings, ctx, category_id, lambda c: c.rename(name=name, group=group))


async def archive_category(db: Database, settings: ServiceSettings, ctx: Context,
                           category_id: UUID) -> store.CategoryRow:
    return await _change_category(db, settings, ctx, category_id, lambda c: c.archive())


async def merge_category(db: Database, settings: ServiceSettings, ctx: Context, category_id: UUID, *,
                         into_category_id: UUID) -> store.CategoryRow:
    """Move a category's whole history to another one; the merged category ends archived."""
    async with db.transaction() as session:
        source = await repository.load(session, ctx, Category, category_id)
        target = await repository.load(session, ctx, Category, into_category_id)
        with domain_errors_as_problems():
            source.merge_into(target)
        await repository.save(session, settings, ctx, source)
        row = await _category_row(session, ctx, into_category_id)
    log.info("category_merged", category_id=str(category_id), into=str(into_category_id))
    return row


async def _change_category(db: Database, settings: ServiceSettings, ctx: Context, category_id: UUID,
                           change: Callable[[Category], None]) -> store.CategoryRow:
    return await _change(db, settings, ctx, Category, category_id, change, _category_row)


async def _category_row(session: AsyncSession, ctx: Context, category_id: UUID) -> store.CategoryRow:
    row = await store.get_category(session, ctx.tenant_id, category_id)
    if row is None:
        raise RuntimeError(f"category {category_id} missing from its read model")
    return row


async def merge_payee(db: Database, settings: ServiceSettings, ctx: Context, *, name: str,
                      into_name: str) -> store.PayeeRow:
    """Give a payee's transactions another payee's name; later entries under the old name follow."""
    async with db.transaction() as session:
        for payee_name in (name, into_name):
            if await store.get_payee(session, ctx.tenant_id, payee_name) is None:
                raise NotFound(f"payee {payee_name!r} does not exist")
        source = await repository.load(session, ctx, Payee, payee_id(ctx.tenant_id, name))
        target = await store.get_payee(session, ctx.tenant_id, into_name)
        source_row = await store.get_payee(session, ctx.tenant_id, name)
        if target is None or source_row is None:  # pragma: no cover - checked just above
            raise NotFound("payee does not exist")
        with domain_errors_as_problems():
            source.merge_into(source_row.name, target.name)
        await repository.save(session, settings, ctx, source)
        merged = await store.get_payee(session, ctx.tenant_id, target.name)
    if merged is None:
        raise RuntimeError(f"payee {into_name!r} missing from its read model")
    return merged


# --- transactions ------------------------------------------------------------------------------------

async def _refs(session: AsyncSession, ctx: Context, *states: TransactionState | None) -> Refs:
    account_ids: set[UUID] = set()
    category_ids: set[UUID] = set()
    for state in states:
        if state is not None:
            accounts, categories = referenced_ids(state)
            account_ids |= accounts
            category_ids |= categories
    return Refs({i: await repository.load(session, ctx, Account, i) for i in account_ids},
                {i: await repository.load(session, ctx, Category, i) for i in category_ids})


async def _transaction_row(session: AsyncSession, ctx: Context, transaction_id: UUID, *,
                           splits: bool = True) -> store.TransactionRow:
    row = await store.get_transaction(session, ctx.tenant_id, transaction_id, splits=splits)
    if row is None:
        raise RuntimeError(f"transaction {transaction_id} missing from its read model")
    return row


async def _payee_name(session: AsyncSession, ctx: Context, payee: str) -> str:
    """The name a payee goes by now (a merged payee's entries go to its target)."""
    return (await store.payee_merges(session, ctx.tenant_id)).get(payee.lower(), payee)


async def already_recorded(
    db: Database, ctx: Context, transaction_id: UUID, *, account_id: UUID, kind: str, amount_minor: int
) -> store.TransactionRow | None:
    """The transaction a repeated create names (its client-chosen id), or None when the id is new.

    A create whose answer was lost is sent again with the same id; it finds the first one here and
    records nothing. The same id for something else (another account, kind or amount than it was
    recorded with; or one deleted since) is refused rather than guessed at. Another household's ids
    read as new and then collide in the event store: 409 as well, without saying whose."""
    async with db.read() as session:
        transaction = await repository.load(session, ctx, Transaction, transaction_id)
        if not transaction.exists:
            return None
        first = transaction.history[0].after if transaction.history else None
        if first is None or (first.account_id, first.kind.value, first.amount_minor) != (
            account_id, kind, amount_minor
        ):
            raise Conflict(f"transaction id {transaction_id} is already used for another transaction")
        if transaction.deleted:
            raise Conflict(f"transaction {transaction_id} was recorded and has since been deleted")
        return await _transaction_row(session, ctx, transaction_id)


async def record_transaction(
    db: Database,
    settings: ServiceSettings,
    ctx: Context,
    *,
    transaction_id: UUID | None = None,
    account_id: UUID,
    kind: TransactionKind,
    amount_minor: int,
    booked_on: date,
    currency: str | None = None,
    category_id: UUID | None = None,
    payee: str = "",
    note: str = "",
    splits: Sequence[Split] = (),
    tags: Sequence[str] = (),
    status: ClearedState = ClearedState.uncleared,
) -> store.TransactionRow:
    """Record an entry: one query reads what it needs, one statement writes it (bills it pays aside)."""
    async with db.transaction() as session:
        split_ids = {s.category_id for s in splits}
        known = await repository.load_for_entries(
            session, ctx, {account_id, *split_ids, *([category_id] if category_id else [])}, {account_id})
        account = known.aggregate(Account, account_id)
        if known.rulebook.rules and account.exists:
            # The rules fill in what the entry leaves open (a category it has none of; payee, note, tags).
            provisional = _provisional(account_id=account_id, kind=kind.value, amount_minor=amount_minor,
                                       currency=currency or account.currency, booked_on=booked_on,
                                       category_id=category_id, payee=payee, note=note, splits=tuple(splits),
                                       tags=tuple(tags), status=status)
            if provisional is not None:
                ruled, _ = known.rulebook.apply(provisional)
                category_id, payee, note, tags = ruled.category_id, ruled.payee, ruled.note, ruled.tags
        category = known.aggregate(Category, category_id) if category_id else None
        with domain_errors_as_problems():
            transaction = Transaction.record(
                transaction_id or uuid4(), account=account, kind=kind, amount_minor=amount_minor,
                booked_on=booked_on, currency=currency, category=category, payee=known.payee_name(payee),
                note=note, splits=splits, split_categories=[known.aggregate(Category, i) for i in split_ids],
                tags=tags, status=status)
        envelope, = await repository.save(session, settings, ctx, transaction)
        await _pay(session, settings, ctx, known.bills, [(transaction.id, transaction.current)])
    log.info("transaction_recorded", transaction_id=str(transaction.id))
    return _row_of(envelope, transaction.current, category.name if category is not None else None)


async def record_transfer(db: Database, settings: ServiceSettings, ctx: Context, *,
                          transaction_id: UUID | None = None, from_account_id: UUID,
                          to_account_id: UUID, amount_minor: int, booked_on: date, payee: str = "",
                          note: str = "", tags: Sequence[str] = (),
                          status: ClearedState = ClearedState.uncleared,
                          counter_amount_minor: int | None = None) -> store.TransactionRow:
    async with db.transaction() as session:
        known = await repository.load_for_entries(session, ctx, {from_account_id, to_account_id}, ())
        with domain_errors_as_problems():
            transaction = Transaction.transfer(
                transaction_id or uuid4(), source=known.aggregate(Account, from_account_id),
                target=known.aggregate(Account, to_account_id), amount_minor=amount_minor,
                booked_on=booked_on, payee=known.payee_name(payee), note=note, tags=tags,
                status=status, counter_amount_minor=counter_amount_minor)
        envelope, = await repository.save(session, settings, ctx, transaction)
    log.info("transfer_recorded", transaction_id=str(transaction.id))
    return _row_of(envelope, transaction.current, None)


def _row_of(recorded: Envelope, state: TransactionState, category_name: str | None) -> store.TransactionRow:
    """The read model's row of a transaction just recorded, as the read model has it (no read back)."""
    return store.TransactionRow(
        id=recorded.stream_id, account_id=state.account_id, kind=state.kind.value,
        amount_minor=state.amount_minor, currency=state.currency, category_id=state.category_id,
        category_name=category_name, payee=state.payee, booked_on=state.booked_on, note=state.note,
        recorded_at=recorded.recorded_at, counter_account_id=state.counter_account_id,
        tags=list(state.tags), status=state.status.value, version=recorded.stream_version,
        counter_amount_minor=state.counter_amount_minor,
        splits=[store.SplitRow(part.category_id, part.amount_minor, part.note) for part in state.splits])


def _provisional(**values: Any) -> TransactionState | None:
    """The state an entry would have, for the rules to look at (None when it is invalid anyway: the
    domain then says why)."""
    try:
        return TransactionState.model_validate(values)
    except ValueError:
        return None


async def load_rulebook(session: AsyncSession, ctx: Context) -> RuleBook:
    """The household's rules in order, with the categories they set."""
    r = tables.rules.c
    rows = await session.execute(select(r.id, r.position, r.spec).where(r.tenant_id == ctx.tenant_id)
                                 .order_by(r.position, r.id))
    rules = [Rule(i, position, RuleSpec.model_validate(spec)) for i, position, spec in rows]
    return RuleBook(rules, {i: await repository.load(session, ctx, Category, i) for i in category_ids(rules)})


async def pay_bills(session: AsyncSession, settings: ServiceSettings, ctx: Context,
                    new: Sequence[tuple[UUID, TransactionState]]) -> int:
    """Mark bills paid by new transactions, in the caller's transaction: an unpaid occurrence of a bill on
    the same account, of the same kind, amount within the bill's tolerance, due within a few days of the
    booking. Each transaction pays one occurrence at most (the nearest). Returns how many were paid."""
    states = [(transaction_id, state) for transaction_id, state in new if state.kind != EntryKind.transfer]
    if not states:
        return 0
    r = tables.recurring.c
    ids = (await session.execute(select(r.id).where(
        r.tenant_id == ctx.tenant_id, r.is_bill, ~r.cancelled,
        r.account_id.in_({state.account_id for _, state in states})).order_by(r.name, r.id))).scalars().all()
    bills = [await repository.load(session, ctx, Recurring, i) for i in ids]
    return await _pay(session, settings, ctx, bills, states)


async def _pay(session: AsyncSession, settings: ServiceSettings, ctx: Context, bills: Sequence[Recurring],
               new: Sequence[tuple[UUID, TransactionState]]) -> int:
    """`pay_bills` with the bills loaded (`bills`: those on the new transactions' accounts, in name order)."""
    paid = 0
    for transaction_id, state in sorted(new, key=lambda s: s[1].booked_on):
        if state.kind == EntryKind.transfer:
            continue
        kind = TransactionKind(state.kind.value)
        for bill in bills:
            if bill.current.account_id != state.account_id:
                continue
            day = bill.payable_occurrence(state.booked_on, state.amount_minor, kind)
            if day is not None:
                bill.mark_paid(day, transaction_id=transaction_id, amount_minor=state.amount_minor)
                paid += 1
                break
    changed = [bill for bill in bills if bill.pending]
    if changed:
        await repository.save(session, settings, ctx, *changed)
    return paid


@dataclass(frozen=True)
class NewEntry:
    """One entry of `record_many`: an expense or income, or a transfer when `to_account_id` is set."""

    account_id: UUID
    amount_minor: int
    booked_on: date
    kind: TransactionKind = TransactionKind.expense
    to_account_id: UUID | None = None
    category_id: UUID | None = None
    payee: str = ""
    note: str = ""
    splits: tuple[Split, ...] = ()
    tags: tuple[str, ...] = ()
    status: ClearedState = ClearedState.uncleared


async def record_many(db: Database, settings: ServiceSettings, ctx: Context,
                      entries: Sequence[NewEntry]) -> list[UUID]:
    """Record many entries in one unit of work, all or none, each checked by the same rules as one at a
    time (the accounts and categories they name are loaded once). Returns their ids in order."""
    accounts: dict[UUID, Account] = {}
    categories: dict[UUID, Category] = {}
    recorded: list[Transaction] = []
    async with db.transaction() as session:

        async def cached(cache: dict[UUID, A], cls: type[A], aggregate_id: UUID) -> A:
            if aggregate_id not in cache:
                cache[aggregate_id] = await repository.load(session, ctx, cls, aggregate_id)
            return cache[aggregate_id]

        payees = await store.payee_merges(session, ctx.tenant_id)
        for entry in entries:
            account = await cached(accounts, Account, entry.account_id)
            payee = payees.get(entry.payee.lower(), entry.payee)
            with domain_errors_as_problems():
                if entry.to_account_id is not None:
                    transaction = Transaction.transfer(
                        uuid4(), source=account, target=await cached(accounts, Account, entry.to_account_id),
                        amount_minor=entry.amount_minor, booked_on=entry.booked_on, payee=payee,
                        note=entry.note, tags=entry.tags, status=entry.status)
                else:
                    needed = {s.category_id for s in entry.splits} | (
                        {entry.category_id} if entry.category_id else set())
                    loaded = {i: await cached(categories, Category, i) for i in needed}
                    transaction = Transaction.record(
                        uuid4(), account=account, kind=entry.kind, amount_minor=entry.amount_minor,
                        booked_on=entry.booked_on,
                        category=loaded[entry.category_id] if entry.category_id else None, payee=payee,
                        note=entry.note, splits=entry.splits, split_categories=loaded.values(),
                        tags=entry.tags, status=entry.status)
            recorded.append(transaction)
        await repository.save(session, settings, ctx, *recorded)
    log.info("transactions_recorded", count=len(recorded))
    return [t.id for t in recorded]


async def amend_transaction(db: Database, settings: ServiceSettings, ctx: Context, transaction_id: UUID,
                            changes: Mapping[str, Any], *, expected_version: int,
                            confirm_reconciled: bool = False) -> store.TransactionRow:
    """Change some fields of a transaction (the event carries its full state before and after)."""
    async with db.transaction() as session:
        transaction = await repository.load_transaction(session, ctx, transaction_id)
        changes = dict(changes)
        if "payee" in changes:
            changes["payee"] = await _payee_name(session, ctx, changes["payee"])
        with domain_errors_as_problems():
            probe = transaction.current.model_copy(update={k: v for k, v in changes.items()
                                                           if k in ("account_id", "counter_account_id",
                                                                    "category_id", "splits",
                                                                    "counter_amount_minor")})
            refs = await _refs(session, ctx, transaction.current, probe)
            transaction.amend(changes, refs, expected_version=expected_version,
                              confirm_reconciled=confirm_reconciled)
        await repository.save(session, settings, ctx, transaction)
        return await _transaction_row(session, ctx, transaction_id)


@dataclass(frozen=True)
class Outcome:
    """Where a transaction stands after a delete or an undo (`row` is None when it is deleted)."""

    id: UUID
    version: int
    row: store.TransactionRow | None


async def delete_transaction(db: Database, settings: ServiceSettings, ctx: Context, transaction_id: UUID, *,
                             expected_version: int, confirm_reconciled: bool = False) -> Outcome:
    async with db.transaction() as session:
        transaction = await repository.load_transaction(session, ctx, transaction_id)
        with domain_errors_as_problems():
            transaction.delete(expected_version=expected_version, confirm_reconciled=confirm_reconciled)
        await repository.save(session, settings, ctx, transaction)
    return Outcome(transaction_id, transaction.version, None)


async def undo_transaction(db: Database, settings: ServiceSettings, ctx: Context, transaction_id: UUID, *,
                           expected_version: int) -> Outcome:
    """Revert the transaction's last change (recorded → deleted, amended → as before, deleted → back)."""
    async with db.transaction() as session:
        transaction = await repository.load_transaction(session, ctx, transaction_id)
        with domain_errors_as_problems():
            transaction.require_version(expected_version)
            target = transaction.undo_target()
            before = transaction.canonical(target.before) if target.before else None
            refs = await _refs(session, ctx, before, None if transaction.deleted else transaction.current)
            transaction.undo(refs, expected_version=expected_version)
        await repository.save(session, settings, ctx, transaction)
        row = None if transaction.deleted else await _transaction_row(session, ctx, transaction_id)
    return Outcome(transaction_id, transaction.version, row)


@dataclass(frozen=True)
class HistoryEntry:
    version: int
    change: str
    occurred_at: datetime
    actor: str
    undoes: int | None
    changes: dict[str, list[Any]]
    state: TransactionState | None
    change_id: UUID | None  # the change it was part of (a bulk edit, a categorisation, an import)


_CHANGE_NAMES: dict[type, str] = {TransactionRecorded: "recorded", TransferRecorded: "recorded",
                                  TransactionAmended: "amended", TransactionDeleted: "deleted",
                                  TransactionRestored: "restored"}


async def transaction_history(db: Database, ctx: Context, transaction_id: UUID) -> list[HistoryEntry]:
    """Every change of a transaction, oldest first: who, when, and which fields went from what to what."""
    async with db.read() as session:
        history = await eventstore.load_stream(session, ctx.tenant_id, transaction_id)
    transaction = Transaction(transaction_id)
    entries = []
    for envelope in history:
        payload = registry.payload(envelope)
        if type(payload) not in _CHANGE_NAMES:
            raise NotFound(f"transaction {transaction_id} does not exist")
        transaction.apply(payload)
        change = transaction.history[-1]
        entries.append(HistoryEntry(
            envelope.stream_version, _CHANGE_NAMES[type(payload)], envelope.occurred_at, envelope.actor,
            change.undoes, differences(change.before, change.after), change.after, envelope.correlation_id))
    if not entries:
        raise NotFound(f"transaction {transaction_id} does not exist")
    return entries


async def create_default_categories(session: AsyncSession, settings: ServiceSettings, ctx: Context) -> int:
    """Create the household's default categories that it does not have yet, in the caller's transaction.

    Their ids are derived from the household, so running this again finds them and creates nothing.
    Returns how many were created.
    """
    created = 0
    for default in DEFAULT_CATEGORIES:
        category = await repository.load(session, ctx, Category, default.id_for(ctx.tenant_id))
        if category.exists:
            continue
        category = Category.create(category.id, name=default.name, group=default.group, kind=default.kind)
        await repository.save(session, settings, ctx, category)
        created += 1
    log.info("default_categories_created", created=created)
    return created
