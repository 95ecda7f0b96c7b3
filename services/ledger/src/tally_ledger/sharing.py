"""Shared expenses between the members of a household, in plain Python (no I/O).

One member pays an expense for several (or for one): the expense is split equally, by shares, by exact
amounts, or is all for one member. Each member's part is worked out from the expense's *current* amount
(largest remainder), so an amended expense keeps its sharing and a deleted one stops counting. What
members owe each other is the sum, per currency, of what each paid for others less what others paid for
them, less what they settled up; `who_pays_whom` turns those figures into the fewest payments.

A sharing is an aggregate of its own (its stream derived from the transaction's id): the expense's
stream stays the transaction's, and sharing an expense never changes its amount, account or category.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import ClassVar
from uuid import UUID, uuid5

from tally_ledger.domain import Aggregate, RuleViolation
from tallykit.contracts.ledger import (
    EntryKind,
    ExpenseShared,
    ExpenseUnshared,
    MemberPart,
    MembersSettledUp,
    SplitMethod,
    TransactionState,
)
from tallykit.events import EventPayload

MAX_SHARE = 1000  # a whole-number share larger than this is a typo, not a split


def sharing_id(transaction_id: UUID) -> UUID:
    """The stream of an expense's sharing."""
    return uuid5(transaction_id, "sharing")


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """`total` divided in proportion to `weights`, in whole minor units adding up to `total`: each gets
    its floor, and the units left over go to the largest remainders (the earlier on a tie)."""
    whole = sum(weights)
    if whole <= 0:
        raise ValueError("weights must add up to more than nothing")
    parts = [total * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in remainders[: total - sum(parts)]:
        parts[i] += 1
    return parts


@dataclass
class Sharing(Aggregate):
    label: ClassVar[str] = "sharing"

    transaction_id: UUID | None = None
    paid_by: UUID | None = None
    method: SplitMethod | None = None
    parts: tuple[MemberPart, ...] = ()

    @property
    def active(self) -> bool:
        return self.paid_by is not None

    def share(self, expense: TransactionState, transaction_id: UUID, *, paid_by: UUID, method: SplitMethod,
              parts: Sequence[MemberPart], members: Iterable[UUID]) -> None:
        """Share an expense (again): who paid and how it divides. The same sharing changes nothing."""
        if expense.kind != EntryKind.expense:
            raise RuleViolation(f"only an expense can be shared; this is {expense.kind.value}")
        known = set(members)
        if paid_by not in known:
            raise RuleViolation(f"the payer {paid_by} is not a member of the household")
        strangers = [str(p.user_id) for p in parts if p.user_id not in known]
        if strangers:
            raise RuleViolation(f"{', '.join(strangers)} is not a member of the household")
        if len({p.user_id for p in parts}) != len(parts):
            raise RuleViolation("each member may have one part")
        _check_method(method, parts, expense.amount_minor)
        if self.active and (self.paid_by, self.method, self.parts) == (paid_by, method, tuple(parts)):
            return
        self._emit(ExpenseShared(transaction_id=transaction_id, paid_by=paid_by, method=method,
                                 parts=tuple(parts)))

    def unshare(self) -> None:
        if not self.active:
            raise RuleViolation("the expense is not shared")
        assert self.transaction_id is not None
        self._emit(ExpenseUnshared(transaction_id=self.transaction_id))

    def _apply(self, event: EventPayload) -> None:
        if isinstance(event, ExpenseShared):
            self.transaction_id, self.paid_by = event.transaction_id, event.paid_by
            self.method, self.parts = event.method, event.parts
        elif isinstance(event, ExpenseUnshared):
            self.paid_by, self.method, self.parts = None, None, ()


def _check_method(method: SplitMethod, parts: Sequence[MemberPart], amount_minor: int) -> None:
    if not parts:
        raise RuleViolation("name at least one member the expense is for")
    weights = [p.weight for p in parts]
    if method == SplitMethod.for_one and len(parts) != 1:
        raise RuleViolation("an expense for one member names exactly one")
    if method in (SplitMethod.equally, SplitMethod.for_one) and set(weights) != {1}:
        raise RuleViolation(f"an expense split {method.value} gives every member a weight of 1")
    if method == SplitMethod.by_shares and max(weights) > MAX_SHARE:
        raise RuleViolation(f"a share is a whole number up to {MAX_SHARE}")
    if method == SplitMethod.exactly and sum(weights) != amount_minor:
        raise RuleViolation(f"the exact amounts add up to {sum(weights)}, the expense is {amount_minor}")


@dataclass
class Settlement(Aggregate):
    label: ClassVar[str] = "settlement"

    def settle(self, *, from_user_id: UUID, to_user_id: UUID, amount_minor: int, currency: str,
               booked_on: date, note: str, members: Iterable[UUID]) -> None:
        """`from_user_id` paid `to_user_id` back `amount_minor` (outside the household's accounts)."""
        if self.exists:
            raise RuleViolation(f"settlement {self.id} is recorded already")
        known = set(members)
        for who in (from_user_id, to_user_id):
            if who not in known:
                raise RuleViolation(f"{who} is not a member of the household")
        if from_user_id == to_user_id:
            raise RuleViolation("a member cannot settle up with themselves")
        self._emit(MembersSettledUp(from_user_id=from_user_id, to_user_id=to_user_id,
                                    amount_minor=amount_minor,
                                    currency=currency, booked_on=booked_on, note=note))

    def _apply(self, event: EventPayload) -> None:
        if not isinstance(event, MembersSettledUp):
            raise TypeError(f"a settlement has no {type(event).__name__}")


# --- what members owe each other ------------------------------------------------------------------

@dataclass(frozen=True)
class SharedExpense:
    """A shared expense as it stands now: its current amount and currency, who paid, how it divides."""

    transaction_id: UUID
    amount_minor: int
    currency: str
    paid_by: UUID
    parts: tuple[MemberPart, ...]

    def owed(self) -> dict[UUID, int]:
        """Each member's part of the expense."""
        amounts = allocate(self.amount_minor, [p.weight for p in self.parts])
        return {p.user_id: amount for p, amount in zip(self.parts, amounts, strict=True)}


@dataclass(frozen=True)
class Payment:
    from_user_id: UUID
    to_user_id: UUID
    amount_minor: int
    currency: str


def balances(expenses: Iterable[SharedExpense],
             settlements: Iterable[MembersSettledUp]) -> dict[str, dict[UUID, int]]:
    """Per currency, each member's balance: positive, what the others owe them; negative, what they owe."""
    net: dict[str, dict[UUID, int]] = {}
    for expense in expenses:
        figures = net.setdefault(expense.currency, {})
        figures[expense.paid_by] = figures.get(expense.paid_by, 0) + expense.amount_minor
        for member, amount in expense.owed().items():
            figures[member] = figures.get(member, 0) - amount
    for settled in settlements:
        figures = net.setdefault(settled.currency, {})
        figures[settled.from_user_id] = figures.get(settled.from_user_id, 0) + settled.amount_minor
        figures[settled.to_user_id] = figures.get(settled.to_user_id, 0) - settled.amount_minor
    return {currency: {m: v for m, v in figures.items() if v} for currency, figures in net.items()}


def who_pays_whom(net: Mapping[str, Mapping[UUID, int]]) -> list[Payment]:
    """Payments that bring every balance to zero: in each currency, the one who owes most pays the one
    owed most, as much as settles one of them, until none is left (at most members - 1 payments)."""
    payments = []
    for currency in sorted(net):
        figures = net[currency]
        # Largest first; by id on a tie, so the same balances always give the same payments.
        debtors = sorted((m for m, v in figures.items() if v < 0), key=lambda m: (figures[m], str(m)))
        creditors = sorted((m for m, v in figures.items() if v > 0), key=lambda m: (-figures[m], str(m)))
        owes = {m: -figures[m] for m in debtors}
        owed = {m: figures[m] for m in creditors}
        i = j = 0
        while i < len(debtors) and j < len(creditors):
            debtor, creditor = debtors[i], creditors[j]
            amount = min(owes[debtor], owed[creditor])
            payments.append(Payment(debtor, creditor, amount, currency))
            owes[debtor] -= amount
            owed[creditor] -= amount
            i += owes[debtor] == 0
            j += owed[creditor] == 0
    return payments
