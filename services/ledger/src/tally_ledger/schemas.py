"""Request and response bodies of the ledger API. Money is integer minor units plus ISO 4217."""

from datetime import date, datetime
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from tallykit.contracts.ledger import (
    AccountKind,
    Cadence,
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


class ConvertedPublic(_Response):
    """An amount in one currency at the rates of the day; `missing_rates`: currencies left out for want
    of a rate."""

    currency: str
    amount_minor: int
    missing_rates: list[str]


class NetWorthPublic(BaseModel):
    """The household's net worth per currency, and converted into one (null: no base currency known)."""

    as_of: date
    totals: list[CurrencyTotal]
    converted: ConvertedPublic | None = None


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


ClientChosenId = Annotated[
    UUID | None,
    Field(
        description="Chosen by the client (a random UUID) to make the request safe to send again: the "
        "same id again answers 200 with the transaction already recorded, and records nothing."
    ),
]


class TransactionCreate(_Request):
    id: ClientChosenId = None
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
    id: ClientChosenId = None
    from_account_id: UUID
    to_account_id: UUID
    amount_minor: MinorUnits = Field(gt=0)
    # Between accounts of different currencies (and only then): what arrived, in the target's currency.
    counter_amount_minor: MinorUnits | None = Field(default=None, gt=0)
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
    counter_amount_minor: MinorUnits | None = Field(default=None, gt=0)
    # A reconciled transaction's money, date or account change only when the person confirmed it (else 409).
    confirm_reconciled: bool = False

    def changes(self) -> dict[str, Any]:
        """What the caller set, except the nulls that only mean "unchanged"."""
        given = {name: getattr(self, name)
                 for name in self.model_fields_set - {"expected_version", "confirm_reconciled"}}
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
    counter_amount_minor: int | None = None


class TotalsPublic(_Response):
    """Totals of the whole filtered set in one currency (transfers are neither income nor expense)."""

    currency: str
    count: int
    income_minor: int
    expense_minor: int
    transfer_minor: int


class ConvertedTotalsPublic(_Response):
    currency: str
    income_minor: int
    expense_minor: int
    missing_rates: list[str]


class TotalsListPublic(BaseModel):
    items: list[TotalsPublic]
    converted: ConvertedTotalsPublic | None = None


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
    # The change it was part of (its correlation id): a bulk edit's id undoes the whole edit.
    change_id: UUID | None


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


# --- recurring transactions and bills ------------------------------------------------------------------

class RecurringFields(_Request):
    """A schedule: every `interval` days/weeks/months/years from `starts_on` (monthly ones on
    `day_of_month`, -1 for the last day), until `ends_on` and/or for `count` occurrences."""

    name: Name
    account_id: UUID
    kind: TransactionKind = TransactionKind.expense
    amount_minor: MinorUnits = Field(gt=0)
    category_id: UUID | None = None
    payee: PayeeName = ""
    note: Note = ""
    cadence: Cadence
    interval: int = Field(default=1, ge=1, le=366)
    day_of_month: int | None = Field(default=None, ge=-1, le=31)
    starts_on: date
    ends_on: date | None = None
    count: int | None = Field(default=None, ge=1, le=10_000)
    is_bill: bool = False
    auto_post: bool = False
    remind_days_before: int = Field(default=3, ge=0, le=60)
    tolerance_pct: int = Field(default=5, ge=0, le=50)


class RecurringCreate(RecurringFields):
    pass


class RecurringUpdate(RecurringFields):
    """The whole schedule again, as it should be from now on."""

    expected_version: Version


class OccurrenceSkip(_Request):
    due_on: date


class BillPayment(_Request):
    due_on: date
    transaction_id: UUID | None = None


class RecurringPublic(RecurringFields):
    model_config = ConfigDict(extra="ignore")

    id: UUID
    currency: str
    cancelled: bool
    next_due_on: date | None
    version: int

    @classmethod
    def of(cls, row: Any) -> "RecurringPublic":
        return cls.model_validate({**row.schedule, "id": row.id, "cancelled": row.cancelled,
                                   "next_due_on": row.next_due_on, "version": row.version})


class RecurringListPublic(BaseModel):
    items: list[RecurringPublic]


class OccurrencePublic(_Response):
    schedule_id: UUID
    name: str
    due_on: date
    status: str
    amount_minor: int
    currency: str
    account_id: UUID
    kind: TransactionKind
    is_bill: bool
    transaction_id: UUID | None


class OccurrencesPublic(BaseModel):
    items: list[OccurrencePublic]
