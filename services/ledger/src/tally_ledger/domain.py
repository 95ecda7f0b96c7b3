"""The ledger's aggregates, in plain Python: no I/O, no framework.

An aggregate is rebuilt from its past events (`from_history`). A command method checks the rules,
then emits one event that the same `apply` code applies; the emitted events wait in `pending` until
a handler appends them to the event store at `expected_version` (the version the command saw).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import ClassVar, Self
from uuid import UUID, uuid5

from tallykit.contracts.ledger import (
    AccountKind,
    AccountOpened,
    AccountRenamed,
    CategoryCreated,
    CategoryKind,
    TransactionKind,
    TransactionRecorded,
)
from tallykit.events import EventPayload


class DomainError(Exception):
    """A command the ledger refuses."""


class DoesNotExist(DomainError):
    """The aggregate a command refers to has no history (in this household)."""


class RuleViolation(DomainError):
    """The command breaks a rule of the ledger."""


class StaleVersion(DomainError):
    """The caller decided on an older version of the aggregate than the current one."""

    def __init__(self, what: str, expected: int, actual: int) -> None:
        super().__init__(f"{what} is at version {actual}, not {expected}; reload and retry")
        self.expected = expected
        self.actual = actual


@dataclass
class Aggregate:
    label: ClassVar[str] = "aggregate"

    id: UUID
    version: int = 0
    pending: list[EventPayload] = field(default_factory=list, repr=False)

    @classmethod
    def from_history(cls, aggregate_id: UUID, events: Iterable[EventPayload]) -> Self:
        aggregate = cls(aggregate_id)
        for event in events:
            aggregate.apply(event)
        return aggregate

    @property
    def exists(self) -> bool:
        return self.version > 0

    @property
    def expected_version(self) -> int:
        """The stream version the pending events continue from."""
        return self.version - len(self.pending)

    def apply(self, event: EventPayload) -> None:
        self._apply(event)
        self.version += 1

    def require_exists(self) -> None:
        if not self.exists:
            raise DoesNotExist(f"{self.label} {self.id} does not exist")

    def _emit(self, event: EventPayload) -> None:
        self.apply(event)
        self.pending.append(event)

    def _apply(self, event: EventPayload) -> None:
        raise NotImplementedError


@dataclass
class Account(Aggregate):
    label: ClassVar[str] = "account"

    name: str = ""
    kind: AccountKind = AccountKind.checking
    currency: str = ""
    opening_balance_minor: int = 0

    @classmethod
    def open(cls, account_id: UUID, *, name: str, kind: AccountKind, currency: str,
             opening_balance_minor: int = 0) -> "Account":
        account = cls(account_id)
        account._emit(AccountOpened(name=name, kind=kind, currency=currency,
                                    opening_balance_minor=opening_balance_minor))
        return account

    def rename(self, name: str, *, expected_version: int) -> None:
        """Rename, provided the caller saw the current version. The same name changes nothing."""
        self.require_exists()
        if expected_version != self.version:
            raise StaleVersion(f"account {self.id}", expected_version, self.version)
        if name != self.name:
            self._emit(AccountRenamed(name=name))

    def _apply(self, event: EventPayload) -> None:
        if isinstance(event, AccountOpened):
            if self.exists:
                raise RuleViolation(f"account {self.id} is already open")
            self.name, self.kind, self.currency = event.name, event.kind, event.currency
            self.opening_balance_minor = event.opening_balance_minor
        elif isinstance(event, AccountRenamed):
            self.name = event.name
        else:
            raise TypeError(f"an account cannot apply {type(event).__name__}")


@dataclass
class Category(Aggregate):
    label: ClassVar[str] = "category"

    name: str = ""
    group: str = ""
    kind: CategoryKind = CategoryKind.expense

    @classmethod
    def create(cls, category_id: UUID, *, name: str, group: str, kind: CategoryKind) -> "Category":
        category = cls(category_id)
        category._emit(CategoryCreated(name=name, group=group, kind=kind))
        return category

    def _apply(self, event: EventPayload) -> None:
        if not isinstance(event, CategoryCreated):
            raise TypeError(f"a category cannot apply {type(event).__name__}")
        if self.exists:
            raise RuleViolation(f"category {self.id} already exists")
        self.name, self.group, self.kind = event.name, event.group, event.kind


@dataclass
class Transaction(Aggregate):
    label: ClassVar[str] = "transaction"

    account_id: UUID | None = None
    kind: TransactionKind = TransactionKind.expense
    amount_minor: int = 0
    currency: str = ""
    category_id: UUID | None = None

    @classmethod
    def record(
        cls,
        transaction_id: UUID,
        *,
        account: Account,
        kind: TransactionKind,
        amount_minor: int,
        booked_on: date,
        currency: str | None = None,
        category: Category | None = None,
        payee: str = "",
        note: str = "",
    ) -> "Transaction":
        """Money out of (expense) or into (income) an account, in the account's currency."""
        account.require_exists()
        currency = currency or account.currency
        if currency != account.currency:
            raise RuleViolation(f"account {account.id} keeps {account.currency}, not {currency}")
        if amount_minor <= 0:
            raise RuleViolation("amount_minor must be positive; the kind says which way the money went")
        if category is not None:
            category.require_exists()
            if category.kind.value != kind.value:
                raise RuleViolation(
                    f"category {category.name!r} is for {category.kind.value}, not {kind.value}")
        transaction = cls(transaction_id)
        transaction._emit(TransactionRecorded(
            account_id=account.id, kind=kind, amount_minor=amount_minor, currency=currency,
            category_id=category.id if category else None, payee=payee, booked_on=booked_on, note=note,
        ))
        return transaction

    def _apply(self, event: EventPayload) -> None:
        if not isinstance(event, TransactionRecorded):
            raise TypeError(f"a transaction cannot apply {type(event).__name__}")
        if self.exists:
            raise RuleViolation(f"transaction {self.id} is already recorded")
        self.account_id, self.kind, self.amount_minor = event.account_id, event.kind, event.amount_minor
        self.currency, self.category_id = event.currency, event.category_id


@dataclass(frozen=True)
class DefaultCategory:
    kind: CategoryKind
    group: str
    name: str

    def id_for(self, tenant_id: UUID) -> UUID:
        """The same id for the same household every time, so creating the defaults twice cannot duplicate."""
        return uuid5(tenant_id, f"default-category:{self.kind.value}:{self.group}:{self.name}")


_E, _I = CategoryKind.expense, CategoryKind.income
DEFAULT_CATEGORIES: tuple[DefaultCategory, ...] = tuple(
    DefaultCategory(kind, group, name)
    for kind, group, names in [
        (_E, "Food", ("Groceries", "Eating out")),
        (_E, "Home", ("Rent", "Utilities", "Internet & phone")),
        (_E, "Transport", ("Transport", "Fuel")),
        (_E, "Health", ("Health", "Insurance")),
        (_E, "Leisure", ("Entertainment", "Shopping", "Travel")),
        (_E, "Other", ("Gifts", "Other expenses")),
        (_I, "Income", ("Salary", "Interest", "Other income")),
    ]
    for name in names
)
