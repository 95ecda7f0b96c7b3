"""Reconciling an account with the bank's statement.

**Start** (`look`): for the statement's closing date and balance, the account's cleared balance (its
opening balance and every cleared or reconciled transaction booked by then), the difference to the
statement, and the transactions by then not reconciled yet, to tick off. Ticking is marking a transaction
cleared (an ordinary edit of its `status`), so nothing is stored for a reconciliation in progress: it is
worked out again from the ledger each time.

**Finish**: only when the difference is zero (or the person books it as an adjustment, a cleared
expense or income of the difference on the closing date), every cleared transaction by the closing date
becomes reconciled. One change: one database transaction, one correlation id (the reconciliation's id) on
every event. A transfer has one cleared state for both its accounts, so reconciling one side reconciles
the other as well.
"""

from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import commands, repository, store
from tally_ledger.domain import Account, Transaction
from tally_ledger.repository import Context
from tally_ledger.rule_commands import refs_of
from tallykit.contracts.ledger import ClearedState, TransactionKind
from tallykit.db import Database
from tallykit.errors import Conflict, NotFound
from tallykit.logging import get_logger
from tallykit.settings import ServiceSettings

log = get_logger(__name__)

MAX_ITEMS = 1000  # a statement period has far fewer; more would not be ticked off one by one anyway
_CLEARED = (ClearedState.cleared.value, ClearedState.reconciled.value)
_OPEN = (ClearedState.uncleared.value, ClearedState.cleared.value)


@dataclass(frozen=True)
class Statement:
    account_id: UUID
    closing_date: date
    balance_minor: int


@dataclass(frozen=True)
class Item:
    row: store.TransactionRow
    amount_minor: int  # its effect on the account being reconciled: money in is positive


@dataclass(frozen=True)
class Look:
    currency: str
    cleared_balance_minor: int
    difference_minor: int  # the statement's balance minus the cleared balance
    items: list[Item]  # not reconciled yet, booked by the closing date, oldest first
    more: bool  # more than MAX_ITEMS of them


@dataclass(frozen=True)
class Finished:
    id: UUID
    reconciled: int
    adjustment: store.TransactionRow | None


def effect_on(row: store.TransactionRow, account_id: UUID) -> int:
    if row.kind == "income":
        return row.amount_minor
    if row.kind == "transfer" and row.counter_account_id == account_id:
        return row.counter_amount_minor if row.counter_amount_minor is not None else row.amount_minor
    return -row.amount_minor


async def _cleared_balance(session: AsyncSession, ctx: Context, statement: Statement) -> int:
    balances = await store.balances_as_of(session, ctx.tenant_id, statement.closing_date,
                                          [statement.account_id], statuses=_CLEARED)
    return balances[statement.account_id]


async def _account(session: AsyncSession, ctx: Context, account_id: UUID) -> store.AccountRow:
    account = await store.get_account(session, ctx.tenant_id, account_id)
    if account is None:
        raise NotFound(f"account {account_id} does not exist")
    return account


async def look(db: Database, ctx: Context, statement: Statement) -> Look:
    async with db.read() as session:
        account = await _account(session, ctx, statement.account_id)
        cleared = await _cleared_balance(session, ctx, statement)
        rows = await store.account_transactions(session, ctx.tenant_id, statement.account_id,
                                                up_to=statement.closing_date, statuses=_OPEN,
                                                limit=MAX_ITEMS + 1)
    items = [Item(row, effect_on(row, statement.account_id)) for row in rows[:MAX_ITEMS]]
    return Look(account.currency, cleared, statement.balance_minor - cleared, items, len(rows) > MAX_ITEMS)


async def finish(db: Database, settings: ServiceSettings, ctx: Context, statement: Statement, *,
                 adjust: bool, adjustment_payee: str) -> Finished:
    """Mark the cleared transactions by the closing date reconciled, when the cleared balance is the
    statement's; with `adjust`, a difference is first booked as a cleared adjustment. All or nothing."""
    change_id = uuid4()
    ctx = Context(tenant_id=ctx.tenant_id, actor=ctx.actor, correlation_id=change_id)
    async with db.transaction() as session:
        await _account(session, ctx, statement.account_id)
        difference = statement.balance_minor - await _cleared_balance(session, ctx, statement)
        if difference and not adjust:
            raise Conflict(f"the cleared balance differs from the statement's by {difference} (minor units): "
                           "tick what the statement shows, or book the difference as an adjustment",
                           difference_minor=difference)
        adjustment = None
        if difference:
            account = await repository.load(session, ctx, Account, statement.account_id)
            with commands.domain_errors_as_problems():
                adjustment = Transaction.record(
                    uuid4(), account=account,
                    kind=TransactionKind.income if difference > 0 else TransactionKind.expense,
                    amount_minor=abs(difference), booked_on=statement.closing_date,
                    payee=adjustment_payee, status=ClearedState.reconciled)
            await repository.save(session, settings, ctx, adjustment)
        rows = await store.account_transactions(session, ctx.tenant_id, statement.account_id,
                                                up_to=statement.closing_date,
                                                statuses=(ClearedState.cleared.value,))
        transactions = await repository.load_transactions(session, ctx, [r.id for r in rows])
        refs = await refs_of(session, ctx, [t.current for t in transactions])
        with commands.domain_errors_as_problems():
            for transaction in transactions:
                transaction.amend({"status": ClearedState.reconciled}, refs, expected_version=None)
        if transactions:
            await repository.save(session, settings, ctx, *transactions)
        row = await store.get_transaction(session, ctx.tenant_id, adjustment.id) if adjustment else None
    log.info("account_reconciled", id=str(change_id), reconciled=len(transactions),
             adjusted=adjustment is not None)
    return Finished(change_id, len(transactions) + (1 if adjustment else 0), row)
