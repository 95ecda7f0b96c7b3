"""Request and response bodies of the ledger API. Money is integer minor units plus ISO 4217."""

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from tallykit.contracts.ledger import AccountKind, CategoryKind, TransactionKind
from tallykit.money import CurrencyCode, MinorUnits

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class AccountCreate(_Request):
    name: Name
    kind: AccountKind
    currency: CurrencyCode
    opening_balance_minor: MinorUnits = 0


class AccountUpdate(_Request):
    name: Name
    expected_version: StrictInt = Field(ge=1)


class AccountPublic(_Response):
    id: UUID
    name: str
    kind: AccountKind
    currency: str
    balance_minor: int
    version: int


class AccountsPublic(BaseModel):
    items: list[AccountPublic]


class CategoryPublic(_Response):
    id: UUID
    name: str
    group: str
    kind: CategoryKind


class CategoriesPublic(BaseModel):
    items: list[CategoryPublic]


class TransactionCreate(_Request):
    account_id: UUID
    kind: TransactionKind
    amount_minor: MinorUnits = Field(gt=0)
    # Optional: when given it must be the account's currency (a guard against posting to the wrong account).
    currency: CurrencyCode | None = None
    category_id: UUID | None = None
    payee: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    booked_on: date | None = None
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)] = ""


class TransactionPublic(_Response):
    id: UUID
    account_id: UUID
    kind: TransactionKind
    amount_minor: int
    currency: str
    category_id: UUID | None
    category_name: str | None
    payee: str
    booked_on: date
    note: str
    recorded_at: datetime


class TransactionsPublic(BaseModel):
    items: list[TransactionPublic]
