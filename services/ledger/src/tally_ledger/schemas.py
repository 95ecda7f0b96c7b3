"""Request and response bodies of the ledger API. Money is integer minor units plus ISO 4217."""

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from tallykit.contracts.ledger import (
    AccountKind,
    CategoryKind,
    ClearedState,
    EntryKind,
    Split,
    Tag,
    TransactionKind,
    TransactionState,
)
from tallykit.money import CurrencyCode, MinorUnits

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
PayeeName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000)]
Version = Annotated[StrictInt, Field(ge=1)]
Tags = Annotated[list[Tag], Field(max_length=20)]
Splits = Annotated[list[Split], Field(max_length=50)]


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
    expected_version: Version


class VersionSeen(_Request):
    """The version the caller saw: the change applies only if it is still the current one."""

    expected_version: Version


class AccountPublic(_Response):
    id: UUID
    name: str
    kind: AccountKind
    currency: str
    balance_minor: int
    version: int
    archived: bool


class AccountsPublic(BaseModel):
    items: list[AccountPublic]


class BalancePublic(BaseModel):
    account_id: UUID
    currency: str
    as_of: date
    balance_minor: int


class CurrencyTotal(BaseModel):
    currency: str
    amount_minor: int


class NetWorthPublic(BaseModel):
    """The household's net worth per currency; amounts in different currencies are not converted."""

    as_of: date
    totals: list[CurrencyTotal]


class CategoryCreate(_Request):
    name: Name
    group: Name
    kind: CategoryKind


class CategoryUpdate(_Request):
    name: Name | None = None
    group: Name | None = None


class CategoryMerge(_Request):
    into_category_id: UUID


class CategoryPublic(_Response):
    id: UUID
    name: str
    group: str
    kind: CategoryKind
    archived: bool
    merged_into: UUID | None


class CategoriesPublic(BaseModel):
    items: list[CategoryPublic]


class TransactionCreate(_Request):
    account_id: UUID
    kind: TransactionKind
    amount_minor: MinorUnits = Field(gt=0)
    # Optional: when given it must be the account's currency (a guard against posting to the wrong account).
    currency: CurrencyCode | None = None
    category_id: UUID | None = None
    payee: PayeeName = ""
    booked_on: date | None = None
    note: Note = ""
    splits: Splits = []
    tags: Tags = []
    status: ClearedState = ClearedState.uncleared


class TransferCreate(_Request):
    from_account_id: UUID
    to_account_id: UUID
    amount_minor: MinorUnits = Field(gt=0)
    booked_on: date | None = None
    payee: PayeeName = ""
    note: Note = ""
    tags: Tags = []
    status: ClearedState = ClearedState.uncleared


class TransactionUpdate(_Request):
    """The fields to change (leave out what stays); `category_id: null` clears the category."""

    expected_version: Version
    account_id: UUID | None = None
    counter_account_id: UUID | None = None
    kind: EntryKind | None = None
    amount_minor: MinorUnits | None = Field(default=None, gt=0)
    currency: CurrencyCode | None = None
    category_id: UUID | None = None
    payee: PayeeName | None = None
    booked_on: date | None = None
    note: Note | None = None
    splits: Splits | None = None
    tags: Tags | None = None
    status: ClearedState | None = None

    def changes(self) -> dict[str, Any]:
        """What the caller set, except the nulls that only mean "unchanged"."""
        given = {name: getattr(self, name) for name in self.model_fields_set - {"expected_version"}}
        return {k: v for k, v in given.items() if v is not None or k == "category_id"}


class SplitPublic(_Response):
    category_id: UUID
    amount_minor: int
    note: str


class TransactionPublic(_Response):
    """A transaction; a transfer moves the amount from `account_id` to `counter_account_id`."""

    id: UUID
    account_id: UUID
    kind: EntryKind
    amount_minor: int
    currency: str
    category_id: UUID | None
    category_name: str | None
    payee: str
    booked_on: date
    note: str
    recorded_at: datetime
    counter_account_id: UUID | None = None
    splits: list[SplitPublic] = []
    tags: list[str] = []
    status: ClearedState = ClearedState.uncleared
    version: int = 1


class TotalsPublic(_Response):
    """Totals of the whole filtered set in one currency (transfers are neither income nor expense)."""

    currency: str
    count: int
    income_minor: int
    expense_minor: int
    transfer_minor: int


class TotalsListPublic(BaseModel):
    items: list[TotalsPublic]


class TransactionsPublic(BaseModel):
    items: list[TransactionPublic]
    next_cursor: str | None = None


class TransactionChangePublic(BaseModel):
    """A transaction after a delete or an undo: `transaction` is null when it now stands deleted."""

    id: UUID
    version: int
    deleted: bool
    transaction: TransactionPublic | None


class HistoryEntryPublic(_Response):
    version: int
    change: str
    occurred_at: datetime
    actor: str
    undoes: int | None
    changes: dict[str, list[Any]]
    state: TransactionState | None


class HistoryPublic(BaseModel):
    items: list[HistoryEntryPublic]


class PayeeMerge(_Request):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    into_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class PayeePublic(_Response):
    name: str
    usage_count: int


class PayeesPublic(BaseModel):
    items: list[PayeePublic]


class TagPublic(BaseModel):
    name: str
    usage_count: int


class TagsPublic(BaseModel):
    items: list[TagPublic]
