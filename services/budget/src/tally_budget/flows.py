"""What a ledger event adds to or takes from spending and account balances: plain Python, no I/O.

Every ledger event that touches money becomes a list of signed deltas:

- `TransactionRecorded`, `TransactionRestored`: + the transaction's state
- `TransactionDeleted`: - the state it had (`before`)
- `TransactionAmended`: - `before`, + `after`
- `TransferRecorded`: moves money between accounts, never spending

Deltas only ever add up, so the totals do not depend on the order events arrive in (an amendment
handled before the recording it amends still ends at the same sums), and a rebuild from the ledger's
events gives the same figures as the live projection.

Spending is kept per (category, day, currency) as two sums: `outflow` (expenses) and `inflow`
(incomes). A budget's spent is outflow - inflow over its categories: an income booked on an expense
category is a refund and counts as negative spending. Incomes on income categories are what
"available to budget" counts. Split transactions count each part on its own category.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from tallykit.contracts.ledger import (
    EntryKind,
    TransactionAmended,
    TransactionDeleted,
    TransactionRecorded,
    TransactionRestored,
    TransactionState,
    TransferRecorded,
)

# Spending that has no category (an uncategorised expense or income) is kept under this id.
UNCATEGORISED = UUID(int=0)

LedgerMoneyEvent = (
    TransactionRecorded | TransferRecorded | TransactionAmended | TransactionDeleted | TransactionRestored
)


@dataclass(frozen=True)
class CategoryFlow:
    category_id: UUID
    day: date
    currency: str
    outflow_minor: int
    inflow_minor: int


@dataclass(frozen=True)
class AccountFlow:
    account_id: UUID
    day: date
    currency: str
    amount_minor: int  # signed: what the account's balance moved by


@dataclass(frozen=True)
class Deltas:
    categories: tuple[CategoryFlow, ...] = ()
    accounts: tuple[AccountFlow, ...] = ()


def state_of(payload: TransactionRecorded | TransferRecorded) -> TransactionState:
    """The full state a recording event describes (the same shape amendments carry)."""
    if isinstance(payload, TransferRecorded):
        return TransactionState(
            account_id=payload.from_account_id,
            counter_account_id=payload.to_account_id,
            kind=EntryKind.transfer,
            amount_minor=payload.amount_minor,
            currency=payload.currency,
            booked_on=payload.booked_on,
        )
    return TransactionState(
        account_id=payload.account_id,
        kind=EntryKind(payload.kind.value),
        amount_minor=payload.amount_minor,
        currency=payload.currency,
        booked_on=payload.booked_on,
        category_id=payload.category_id,
        splits=payload.splits,
    )


def deltas_of_state(state: TransactionState, sign: int) -> Deltas:
    """What one transaction state counts, times `sign` (+1 to add it, -1 to take it out)."""
    day, currency, amount = state.booked_on, state.currency, state.amount_minor * sign
    if state.kind is EntryKind.transfer:
        accounts = [AccountFlow(state.account_id, day, currency, -amount)]
        if state.counter_account_id is not None:
            accounts.append(AccountFlow(state.counter_account_id, day, currency, amount))
        return Deltas(accounts=tuple(accounts))
    outgoing = state.kind is EntryKind.expense
    parts: Iterable[tuple[UUID, int]] = (
        [(s.category_id, s.amount_minor * sign) for s in state.splits]
        if state.splits
        else [(state.category_id or UNCATEGORISED, amount)]
    )
    categories = tuple(
        CategoryFlow(
            category_id=category_id,
            day=day,
            currency=currency,
            outflow_minor=part if outgoing else 0,
            inflow_minor=0 if outgoing else part,
        )
        for category_id, part in parts
    )
    account = AccountFlow(state.account_id, day, currency, -amount if outgoing else amount)
    return Deltas(categories=categories, accounts=(account,))


def deltas_of(payload: LedgerMoneyEvent) -> Deltas:
    if isinstance(payload, TransactionRecorded | TransferRecorded):
        return deltas_of_state(state_of(payload), +1)
    if isinstance(payload, TransactionAmended):
        taken, added = deltas_of_state(payload.before, -1), deltas_of_state(payload.after, +1)
        return Deltas(taken.categories + added.categories, taken.accounts + added.accounts)
    if isinstance(payload, TransactionDeleted):
        return deltas_of_state(payload.before, -1)
    return deltas_of_state(payload.after, +1)
