"""Categorising the uncategorised in bulk: proposals for the household's uncategorised expenses and
incomes, and the chosen categories applied as one change.

**One change.** Every amendment of an application is one `TransactionAmended` through the transaction's
aggregate (as an edit by hand, or a rule applied), all in one database transaction, with one correlation
id: the change's id. Each says who chose its category (`categorised_by`): the proposal's source when the
category is the one proposed first (`suggestion`, or `rule` for a rule made after the transaction was
recorded), else `person`. Nothing is stored besides the events: the change is its events.

**Undo** is a bulk change's undo (`bulk_editing.undo`, `POST /transactions/bulk/{id}/undo`): the change's
events are found by its correlation id and undone each through the transaction's own undo; a transaction
changed since keeps what it has now, and is named.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid4

from sqlalchemy import ColumnElement, func, select

from tally_ledger import commands, repository, store, tables
from tally_ledger.domain import Transaction
from tally_ledger.repository import Context
from tally_ledger.rule_commands import refs_of
from tally_ledger.suggesting import Entry, Proposal, household, propose
from tallykit.contracts.ledger import CategorisedBy, EntryKind
from tallykit.db import Database
from tallykit.errors import Conflict, InvalidInput, NotFound
from tallykit.logging import get_logger
from tallykit.settings import ServiceSettings

log = get_logger(__name__)

MAX_PROPOSALS = 500
MAX_CHOICES = 1000


@dataclass(frozen=True)
class Filters:
    account_id: UUID | None = None
    from_date: date | None = None
    to_date: date | None = None
    payee: str | None = None  # a part of the payee, in any case


@dataclass(frozen=True)
class Proposals:
    uncategorised: int  # every uncategorised transaction the filters match
    items: list[tuple[store.TransactionRow, list[Proposal]]]  # the newest `limit` of them
    accept_above_pct: int
    names: Mapping[str, str]  # of the household's categories, by id


@dataclass(frozen=True)
class Choice:
    transaction_id: UUID
    category_id: UUID
    expected_version: int | None = None


@dataclass(frozen=True)
class Applied:
    id: UUID
    changed: int
    categorised_by: dict[CategorisedBy, int]


def _uncategorised(tenant_id: UUID, filters: Filters) -> list[ColumnElement[bool]]:
    t, s = tables.transactions.c, tables.transaction_splits.c
    split = select(s.transaction_id).where(s.tenant_id == tenant_id, s.transaction_id == t.id).exists()
    where: list[ColumnElement[bool]] = [t.category_id.is_(None),
                                        t.kind.in_((EntryKind.expense, EntryKind.income)), ~split]
    if filters.account_id is not None:
        where.append(t.account_id == filters.account_id)
    if filters.from_date is not None:
        where.append(t.booked_on >= filters.from_date)
    if filters.to_date is not None:
        where.append(t.booked_on <= filters.to_date)
    if filters.payee:
        where.append(t.payee.ilike(f"%{store._escape_like(filters.payee)}%", escape="\\"))
    return where


async def proposals(db: Database, ctx: Context, filters: Filters, *, limit: int) -> Proposals:
    """The newest uncategorised expenses and incomes the filters match, each with up to three proposals."""
    t = tables.transactions.c
    async with db.read() as session:
        if filters.account_id is not None and await store.get_account(
                session, ctx.tenant_id, filters.account_id) is None:
            raise NotFound(f"account {filters.account_id} does not exist")
        where = _uncategorised(ctx.tenant_id, filters)
        total = (await session.execute(select(func.count()).select_from(tables.transactions).where(
            t.tenant_id == ctx.tenant_id, ~t.deleted, *where))).scalar_one()
        rows = [store.TransactionRow(*row) for row in await session.execute(
            store._transactions_query(ctx.tenant_id).where(*where)
            .order_by(t.booked_on.desc(), t.recorded_at.desc(), t.id.desc()).limit(limit))]
        plan, book = await household(session, ctx)
    found = await propose(plan, book, [_entry(row) for row in rows], top=3)
    return Proposals(total, list(zip(rows, found, strict=True)), round(plan.accept_above * 100),
                     plan.usable.names)


def _entry(row: store.TransactionRow) -> Entry:
    return Entry(row.account_id, row.kind == EntryKind.income, row.amount_minor, row.currency, row.booked_on,
                 row.payee, row.note)


async def apply(db: Database, settings: ServiceSettings, ctx: Context, choices: Sequence[Choice]) -> Applied:
    """Record the chosen categories as one change; all or nothing. Another household's transaction or
    category reads as one that does not exist (404); one categorised, deleted or changed since it was
    proposed is a conflict (409); a category that may not be used on it is invalid (422)."""
    ids = [c.transaction_id for c in choices]
    if len(set(ids)) != len(ids):
        raise InvalidInput("each transaction may be named once")
    change_id = uuid4()
    ctx = Context(tenant_id=ctx.tenant_id, actor=ctx.actor, correlation_id=change_id)
    async with db.transaction() as session:
        transactions = await repository.load_transactions(session, ctx, ids)
        for choice, transaction in zip(choices, transactions, strict=True):
            _check_open(transaction, choice)
        plan, book = await household(session, ctx)
        proposed = await propose(plan, book, [_entry_of(t) for t in transactions], top=1)
        refs = await refs_of(session, ctx, [t.current for t in transactions] + sorted(
            {c.category_id for c in choices}, key=str))
        for choice in choices:
            if not refs.categories[choice.category_id].exists:
                raise NotFound(f"category {choice.category_id} does not exist")
        counts = dict.fromkeys(CategorisedBy, 0)
        with commands.domain_errors_as_problems():
            for choice, transaction, found in zip(choices, transactions, proposed, strict=True):
                by = found[0].categorised_by if found and found[0].category_id == str(
                    choice.category_id) else CategorisedBy.person
                transaction.amend({"category_id": choice.category_id}, refs,
                                  expected_version=choice.expected_version, categorised_by=by)
                counts[by] += 1
        if transactions:
            await repository.save(session, settings, ctx, *transactions)
    log.info("categorised_in_bulk", id=str(change_id), changed=len(transactions))
    return Applied(change_id, len(transactions), counts)


def _check_open(transaction: Transaction, choice: Choice) -> None:
    """The transaction is the household's, live, still uncategorised and (when said) as it was seen."""
    if not transaction.exists:
        raise NotFound(f"transaction {transaction.id} does not exist")
    if transaction.deleted:
        raise Conflict(f"transaction {transaction.id} was deleted; reload")
    if choice.expected_version is not None and transaction.version != choice.expected_version:
        raise Conflict(f"transaction {transaction.id} is at version {transaction.version}, not "
                       f"{choice.expected_version}; reload")
    current = transaction.current
    if current.kind == EntryKind.transfer:
        raise InvalidInput(f"transaction {transaction.id} is a transfer; transfers have no category")
    if current.category_id is not None or current.splits:
        raise Conflict(f"transaction {transaction.id} has a category already; reload")


def _entry_of(transaction: Transaction) -> Entry:
    state = transaction.current
    return Entry(state.account_id, state.kind == EntryKind.income, state.amount_minor, state.currency,
                 state.booked_on, state.payee, state.note)
