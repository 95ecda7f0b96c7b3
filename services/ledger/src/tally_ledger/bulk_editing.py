"""Editing many transactions at once: recategorise, retag, change the payee, mark cleared or uncleared, move
to another account of the same currency, or delete — the chosen transactions named by id, or every one a
search matches (the transaction list's own filters, so "all N that match" needs no ids from the client).

**One change.** Each transaction is changed through its aggregate (`amend`, `delete`), under the ledger's
rules (a reconciled transaction keeps its account and cannot be deleted; a transfer has no category), all in
one database transaction with one correlation id, the change's id: every event of the change carries it,
the transaction's history names it, and nothing is stored besides the events. All or nothing: the first
transaction a rule refuses refuses the whole change, naming it.

**Undo** finds the change's events in the event store (its correlation id, an amendment or a deletion that
is not itself an undo) and undoes each through the transaction's own undo — as the bulk categorisation's
undo does — leaving a transaction changed since as it is now and naming it.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID, uuid4

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import commands, repository, store, tables
from tally_ledger.domain import Account, DomainError, Refs, RuleViolation, Transaction
from tally_ledger.query import Filters
from tally_ledger.repository import Context, load
from tally_ledger.rule_commands import refs_of
from tallykit.contracts.ledger import ClearedState, EntryKind, TransactionState
from tallykit.db import Database
from tallykit.errors import Conflict, InvalidInput, NotFound
from tallykit.logging import get_logger
from tallykit.settings import ServiceSettings
from tallykit.tables import event_store

log = get_logger(__name__)

# One change loads, checks and writes every transaction it touches in one database transaction; beyond
# this many a person is asked to narrow the search (a year of a busy household's bookkeeping fits).
MAX_TRANSACTIONS = 10_000


@dataclass(frozen=True)
class Edit:
    """What to do to each transaction (the fields left None stay as they are)."""

    category_id: UUID | None = None
    add_tags: tuple[str, ...] = ()
    remove_tags: tuple[str, ...] = ()
    payee: str | None = None
    status: ClearedState | None = None
    account_id: UUID | None = None
    delete: bool = False

    def check(self) -> None:
        amends = (self.category_id is not None or self.add_tags or self.remove_tags or self.payee is not None
                  or self.status is not None or self.account_id is not None)
        if self.delete and amends:
            raise InvalidInput("a deletion changes nothing else: send it on its own")
        if not self.delete and not amends:
            raise InvalidInput("say what to change: category_id, add_tags, remove_tags, payee, status, "
                               "account_id or delete")
        if set(self.add_tags) & set(self.remove_tags):
            raise InvalidInput("a tag cannot be both added and removed")
        if self.status == ClearedState.reconciled:
            raise InvalidInput("transactions are marked reconciled by reconciling their account")


@dataclass(frozen=True)
class Edited:
    id: UUID  # the change's id: its events' correlation id, what an undo names
    matched: int
    changed: int  # the others were as asked already


@dataclass(frozen=True)
class Undone:
    id: UUID
    undone: int
    kept: list[UUID]  # changed since: left as they are now


async def matching(session: AsyncSession, tenant_id: UUID, filters: Filters) -> list[UUID]:
    """The live transactions a search matches (as the transaction list finds them), newest first; more
    than MAX_TRANSACTIONS is refused."""
    t = tables.transactions.c
    conditions = await store.filter_conditions(session, tenant_id, filters)
    account_ids = await store._filtered_accounts(session, tenant_id, filters)
    if account_ids is not None:
        if not account_ids:
            return []
        conditions.append(or_(t.account_id.in_(account_ids), t.counter_account_id.in_(account_ids)))
    ids = list((await session.execute(
        select(t.id).where(t.tenant_id == tenant_id, ~t.deleted, *conditions)
        .order_by(t.booked_on.desc(), t.recorded_at.desc(), t.id.desc()).limit(MAX_TRANSACTIONS + 1)
    )).scalars())
    if len(ids) > MAX_TRANSACTIONS:
        raise InvalidInput(f"more than {MAX_TRANSACTIONS:,} transactions match; one change takes at most "
                           f"{MAX_TRANSACTIONS:,}: narrow the search")
    return ids


async def _transactions(session: AsyncSession, ctx: Context, ids: Sequence[UUID]) -> list[Transaction]:
    """The named transactions of the household, live; another household's (or no transaction's) id is a
    404, a deleted one a conflict."""
    t = tables.transactions.c
    known = dict((await session.execute(select(t.id, t.deleted).where(
        t.tenant_id == ctx.tenant_id, t.id.in_(ids)))).all())
    for transaction_id in ids:
        if transaction_id not in known:
            raise NotFound(f"transaction {transaction_id} does not exist")
        if known[transaction_id]:
            raise Conflict(f"transaction {transaction_id} was deleted; reload")
    return await repository.load_transactions(session, ctx, ids)


async def _refs(session: AsyncSession, ctx: Context, transactions: Sequence[Transaction], edit: Edit) -> Refs:
    refs = await refs_of(session, ctx, [t.current for t in transactions] + (
        [edit.category_id] if edit.category_id is not None else []))
    if edit.category_id is not None and not refs.categories[edit.category_id].exists:
        raise NotFound(f"category {edit.category_id} does not exist")
    if edit.account_id is None:
        return refs
    account = refs.accounts.get(edit.account_id) or await load(session, ctx, Account, edit.account_id)
    if not account.exists:
        raise NotFound(f"account {edit.account_id} does not exist")
    return Refs({**refs.accounts, account.id: account}, refs.categories)


def changes_for(state: TransactionState, edit: Edit, refs: Refs, payee: str | None) -> dict[str, object]:
    """What the edit changes of one transaction; refuses what the ledger would not take, naming why."""
    changes: dict[str, object] = {}
    if edit.category_id is not None:
        if state.kind == EntryKind.transfer:
            raise RuleViolation("it is a transfer; transfers have no category")
        changes["category_id"] = edit.category_id
    if edit.add_tags or edit.remove_tags:
        kept = [tag for tag in state.tags if tag not in edit.remove_tags]
        changes["tags"] = tuple(kept + [tag for tag in edit.add_tags if tag not in kept])
    if payee is not None:
        changes["payee"] = payee
    if edit.status is not None:
        changes["status"] = edit.status
    if edit.account_id is not None:
        target = refs.account(edit.account_id)
        if target.currency != state.currency:
            raise RuleViolation(f"it is in {state.currency} and account {target.name!r} keeps "
                                f"{target.currency}; move it to an account in {state.currency}")
        changes["account_id"] = edit.account_id
    return changes


async def apply(db: Database, settings: ServiceSettings, ctx: Context, edit: Edit, *,
                ids: Sequence[UUID] | None = None, filters: Filters | None = None,
                expected_count: int | None = None) -> Edited:
    """Apply the edit to the named transactions or to every one the search matches, as one change; all or
    nothing. With a search, `expected_count` is how many the person was shown: another count now is a
    conflict rather than a change of what they did not see."""
    edit.check()
    change_id = uuid4()
    ctx = Context(tenant_id=ctx.tenant_id, actor=ctx.actor, correlation_id=change_id)
    async with db.transaction() as session:
        if ids is None:
            if filters is None:
                raise InvalidInput("name the transactions (ids) or a search")
            ids = await matching(session, ctx.tenant_id, filters)
            if expected_count is not None and len(ids) != expected_count:
                raise Conflict(f"the search matches {len(ids)} transactions now, not {expected_count}; "
                               "reload")
        elif len(set(ids)) != len(ids):
            raise InvalidInput("each transaction may be named once")
        if not ids:
            raise InvalidInput("no transaction matches: nothing to change")
        transactions = await _transactions(session, ctx, ids)
        refs = await _refs(session, ctx, transactions, edit)
        payee = None
        if edit.payee is not None:  # a merged payee's entries go to the name it goes by now
            payee = (await store.payee_merges(session, ctx.tenant_id)).get(edit.payee.lower(), edit.payee)
        with commands.domain_errors_as_problems():
            for transaction in transactions:
                try:
                    if edit.delete:
                        transaction.delete(expected_version=None)
                    else:
                        transaction.amend(changes_for(transaction.current, edit, refs, payee), refs,
                                          expected_version=None)
                except DomainError as exc:
                    # The same kind of refusal (so the same status), saying which transaction.
                    raise type(exc)(f"transaction {transaction.id}: {exc}") from exc
        changed = [t for t in transactions if t.pending]
        if changed:
            await repository.save(session, settings, ctx, *changed)
    log.info("transactions_edited_in_bulk", id=str(change_id), matched=len(transactions),
             changed=len(changed))
    return Edited(change_id, len(transactions), len(changed))


async def _events(session: AsyncSession, tenant_id: UUID, change_id: UUID) -> list[tuple[UUID, int]]:
    """The change's own amendments and deletions: (transaction, the version each made)."""
    e = event_store.c
    rows = await session.execute(
        select(e.stream_id, e.stream_version).where(
            e.tenant_id == tenant_id,
            e.type.in_(("ledger.TransactionAmended", "ledger.TransactionDeleted")),
            e.envelope["correlation_id"].astext == str(change_id),
            e.envelope["data"]["undoes"].astext.is_(None))
        .order_by(e.position))
    return [(stream, version) for stream, version in rows]


async def undo(db: Database, settings: ServiceSettings, ctx: Context, change_id: UUID) -> Undone:
    """Undo a bulk change: each transaction it changed goes back to what it was (a deleted one comes back),
    unless it changed since (then it is kept, and named)."""
    async with db.transaction() as session:
        made = await _events(session, ctx.tenant_id, change_id)
        if not made:
            raise NotFound(f"change {change_id} does not exist")
        undo_ctx = Context(tenant_id=ctx.tenant_id, actor=ctx.actor, correlation_id=uuid4())
        transactions = await repository.load_transactions(session, undo_ctx, [t for t, _ in made])
        to_undo, kept = [], []
        for transaction, (_, version) in zip(transactions, made, strict=True):
            if any(change.undoes == version for change in transaction.history):
                continue
            if transaction.undo_target().version != version:
                kept.append(transaction.id)
            else:
                to_undo.append(transaction)
        if not to_undo:
            raise Conflict(f"nothing of change {change_id} is left to undo: it is undone already, or each of "
                           "its transactions changed since")
        states = [s for t in to_undo for s in _states(t)]
        refs = await refs_of(session, undo_ctx, states)
        with commands.domain_errors_as_problems():
            for transaction in to_undo:
                transaction.undo(refs, expected_version=None)
        await repository.save(session, settings, undo_ctx, *to_undo)
    log.info("bulk_change_undone", id=str(change_id), undone=len(to_undo), kept=len(kept))
    return Undone(change_id, len(to_undo), kept)


def _states(transaction: Transaction) -> list[TransactionState]:
    before = transaction.undo_target().before
    now = [] if transaction.deleted else [transaction.current]
    return now + ([transaction.canonical(before)] if before is not None else [])
