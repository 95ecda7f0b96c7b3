"""Events published by the ledger service on `ledger.events` (also the ledger's event store)."""

from datetime import date
from enum import StrEnum
from uuid import UUID

from pydantic import Field

from tallykit.contracts import registry
from tallykit.events import EventPayload
from tallykit.money import CurrencyCode, MinorUnits


class AccountKind(StrEnum):
    checking = "checking"
    savings = "savings"
    cash = "cash"
    credit_card = "credit_card"
    loan = "loan"
    investment = "investment"


class CategoryKind(StrEnum):
    income = "income"
    expense = "expense"


class TransactionKind(StrEnum):
    expense = "expense"
    income = "income"


@registry.event("ledger.AccountOpened")
class AccountOpened(EventPayload):
    """An account was opened with a currency and an opening balance."""

    name: str = Field(min_length=1, max_length=100)
    kind: AccountKind
    currency: CurrencyCode
    opening_balance_minor: MinorUnits


@registry.event("ledger.AccountRenamed")
class AccountRenamed(EventPayload):
    """An account got a new name."""

    name: str = Field(min_length=1, max_length=100)


@registry.event("ledger.CategoryCreated", consumers=("budget", "analytics"))
class CategoryCreated(EventPayload):
    """A category exists for the household (the defaults are created when the household is)."""

    name: str = Field(min_length=1, max_length=100)
    group: str = Field(min_length=1, max_length=100)
    kind: CategoryKind


@registry.event("ledger.TransactionRecorded", consumers=("budget", "analytics"))
class TransactionRecorded(EventPayload):
    """Money went out of (expense) or came into (income) an account. The amount is always positive."""

    account_id: UUID
    kind: TransactionKind
    amount_minor: MinorUnits = Field(gt=0)
    currency: CurrencyCode
    category_id: UUID | None = None
    payee: str = Field(default="", max_length=200)
    booked_on: date
    note: str = Field(default="", max_length=1000)
