"""Events published by the ledger service on `ledger.events` (also the ledger's event store)."""

from datetime import date
from enum import StrEnum
from itertools import pairwise
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

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


class EntryKind(StrEnum):
    """What a transaction is, in the full-state events: transfers are a kind of their own, never spending."""

    expense = "expense"
    income = "income"
    transfer = "transfer"


class CategorisedBy(StrEnum):
    """Who chose a transaction's category, on an import or a bulk categorisation."""

    rule = "rule"  # one of the household's rules
    suggestion = "suggestion"  # the household's learned categoriser, its suggestion accepted
    person = "person"  # a person, on the import's preview or the bulk categorisation's list


class ClearedState(StrEnum):
    uncleared = "uncleared"
    cleared = "cleared"
    reconciled = "reconciled"


Tag = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, min_length=1, max_length=50, pattern=r"^[^\s,]+$"
    ),
]


class Split(BaseModel):
    """One part of a split transaction: an amount on one category (the parts sum to the total)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    category_id: UUID
    amount_minor: MinorUnits = Field(gt=0)
    note: str = Field(default="", max_length=200)


class TransactionState(BaseModel):
    """Everything a transaction says, as carried by the events that change it.

    A transfer moves `amount_minor` from `account_id` to `counter_account_id` and has no category. A
    split transaction has `splits` (summing to `amount_minor`) and no `category_id`.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    account_id: UUID
    kind: EntryKind
    amount_minor: MinorUnits = Field(gt=0)
    currency: CurrencyCode
    booked_on: date
    category_id: UUID | None = None
    counter_account_id: UUID | None = None
    payee: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=1000)
    splits: tuple[Split, ...] = ()
    tags: tuple[Tag, ...] = ()
    status: ClearedState = ClearedState.uncleared
    # A transfer between accounts of different currencies: what arrived, in the target's currency.
    counter_amount_minor: MinorUnits | None = Field(default=None, gt=0)
    counter_currency: CurrencyCode | None = None


@registry.event("ledger.AccountOpened", consumers=("budget", "analytics"))
class AccountOpened(EventPayload):
    """An account was opened with a currency and an opening balance."""

    name: str = Field(min_length=1, max_length=100)
    kind: AccountKind
    currency: CurrencyCode
    opening_balance_minor: MinorUnits


@registry.event("ledger.AccountRenamed", consumers=("budget", "analytics"))
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
    # Optional additions (older events lack them): a split transaction's parts (then no category_id),
    # free-form tags, and the cleared/reconciled state.
    splits: tuple[Split, ...] = ()
    tags: tuple[Tag, ...] = ()
    status: ClearedState = ClearedState.uncleared
    # Optional addition: who chose the category of an imported row (None: not said — older events,
    # entries made by hand, rows left uncategorised), so reports can say how much was categorised
    # automatically. Kept on the first event only: a later change of category is a TransactionAmended.
    categorised_by: CategorisedBy | None = None


@registry.event("ledger.AccountArchived")
class AccountArchived(EventPayload):
    """An account was archived: it keeps its history and balance but takes no new transactions."""


@registry.event("ledger.AccountReopened")
class AccountReopened(EventPayload):
    """An archived account was reopened."""


@registry.event("ledger.CategoryRenamed", consumers=("budget", "analytics"))
class CategoryRenamed(EventPayload):
    """A category got a new name and/or moved to another group."""

    name: str = Field(min_length=1, max_length=100)
    group: str = Field(min_length=1, max_length=100)


@registry.event("ledger.CategoryArchived", consumers=("budget",))
class CategoryArchived(EventPayload):
    """A category was archived: its history stays, new transactions cannot use it."""


@registry.event("ledger.CategoryMerged", consumers=("budget", "analytics"))
class CategoryMerged(EventPayload):
    """A category was merged into another of its kind (and archived): move what it counted to the target."""

    into_category_id: UUID


@registry.event("ledger.PayeeMerged", consumers=("analytics",))
class PayeeMerged(EventPayload):
    """Payee `name` was merged into `into_name`: its transactions, and later entries, name the target."""

    name: str = Field(min_length=1, max_length=200)
    into_name: str = Field(min_length=1, max_length=200)


@registry.event("ledger.TransferRecorded", consumers=("budget", "analytics"))
class TransferRecorded(EventPayload):
    """Money moved between two of the household's own accounts (never income or spending)."""

    from_account_id: UUID
    to_account_id: UUID
    amount_minor: MinorUnits = Field(gt=0)
    currency: CurrencyCode
    booked_on: date
    payee: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=1000)
    tags: tuple[Tag, ...] = ()
    status: ClearedState = ClearedState.uncleared
    # Optional addition: between accounts of different currencies, the amount that arrived in the
    # target account's currency (absent: the same amount in the same currency).
    counter_amount_minor: MinorUnits | None = Field(default=None, gt=0)
    counter_currency: CurrencyCode | None = None


@registry.event("ledger.TransactionAmended", consumers=("budget", "analytics"))
class TransactionAmended(EventPayload):
    """A transaction was edited (or an edit undone): take out what `before` counted, count `after`."""

    # Full states (fields of TransactionState: account_id, kind, amount_minor, currency, booked_on,
    # category_id, counter_account_id, payee, note, splits, tags, status). `undoes` is the stream
    # version this change reverts, when it is an undo.

    before: TransactionState
    after: TransactionState
    undoes: int | None = None
    # Optional addition: who chose the new category when the amendment is part of a bulk categorisation
    # of uncategorised transactions (its correlation id is that change's id, which an undo names); None
    # for every other edit.
    categorised_by: CategorisedBy | None = None


@registry.event("ledger.TransactionDeleted", consumers=("budget", "analytics"))
class TransactionDeleted(EventPayload):
    """A transaction (or transfer) was deleted: take out what `before` counted."""

    before: TransactionState
    undoes: int | None = None


@registry.event("ledger.TransactionRestored", consumers=("budget", "analytics"))
class TransactionRestored(EventPayload):
    """A deleted transaction came back (an undo of its deletion): count `after` again."""

    after: TransactionState
    undoes: int | None = None


# --- recurring transactions and bills --------------------------------------------------------------------
# The stream is the schedule. The scheduler emits each due/reminder event exactly once per occurrence.


class Cadence(StrEnum):
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    yearly = "yearly"


@registry.event("ledger.RecurringScheduled", consumers=("analytics",))
class RecurringScheduled(EventPayload):
    """A recurring transaction or bill was set up or changed (the whole schedule each time).

    Every `interval` days/weeks/months/years from `starts_on`; monthly ones on `day_of_month` (-1 for the
    last day); until `ends_on` or `count` occurrences. `auto_post` records the transaction when due,
    otherwise it is a reminder only. `next_due_on` is the next occurrence not yet due (None when done)."""

    name: str = Field(min_length=1, max_length=100)
    account_id: UUID
    kind: TransactionKind
    amount_minor: MinorUnits = Field(gt=0)
    currency: CurrencyCode
    category_id: UUID | None = None
    payee: str = Field(default="", max_length=200)
    cadence: Cadence
    interval: int = Field(default=1, ge=1, le=366)
    day_of_month: int | None = Field(default=None, ge=-1, le=31)
    starts_on: date
    ends_on: date | None = None
    count: int | None = Field(default=None, ge=1)
    is_bill: bool = False
    auto_post: bool = False
    remind_days_before: int = Field(default=3, ge=0, le=60)
    next_due_on: date | None = None
    # Optional additions: a transaction counts as paying a bill when its amount is within this many
    # percent of the bill's (and booked within a few days of the due date); the note auto-posts carry.
    tolerance_pct: int = Field(default=5, ge=0, le=50)
    note: str = Field(default="", max_length=1000)


@registry.event("ledger.RecurringCancelled", consumers=("analytics",))
class RecurringCancelled(EventPayload):
    """A recurring transaction or bill was cancelled: no further occurrences."""


@registry.event("ledger.RecurringOccurrenceSkipped")
class RecurringOccurrenceSkipped(EventPayload):
    """One occurrence of a recurring transaction or bill will not happen (no due event, no reminder)."""

    due_on: date


@registry.event("ledger.BillPaid")
class BillPaid(EventPayload):
    """An occurrence of a bill was paid by `transaction_id` (matched, posted automatically, or marked)."""

    due_on: date
    transaction_id: UUID | None = None
    amount_minor: MinorUnits = Field(default=0, ge=0)


@registry.event("ledger.RecurringTransactionDue", consumers=("notifier",))
class RecurringTransactionDue(EventPayload):
    """An occurrence of a recurring transaction fell due (once per occurrence). When the schedule posts
    automatically, `transaction_id` is the transaction recorded for it."""

    name: str = Field(min_length=1, max_length=100)
    due_on: date
    account_id: UUID
    kind: TransactionKind
    amount_minor: MinorUnits = Field(gt=0)
    currency: CurrencyCode
    payee: str = Field(default="", max_length=200)
    transaction_id: UUID | None = None


@registry.event("ledger.BillDueSoon", consumers=("notifier",))
class BillDueSoon(EventPayload):
    """A bill falls due in `days_ahead` days and is not paid yet (once per occurrence)."""

    name: str = Field(min_length=1, max_length=100)
    due_on: date
    days_ahead: int = Field(ge=0, le=60)
    account_id: UUID
    amount_minor: MinorUnits = Field(gt=0)
    currency: CurrencyCode
    payee: str = Field(default="", max_length=200)


# --- budgets of a household history brought over from another app ---------------------------------------
# The ledger records what a history import budgeted (it owns the migration and its undo); the budget
# service, which owns budgets, turns it into its own. One stream per category of the household:
# uuid5(tenant, "history:budgets:<category id>").


class BudgetMonth(BaseModel):
    """What a category was budgeted in one month, and whether what was left at its end carried over."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    month: date  # its first day
    amount_minor: MinorUnits = Field(ge=0)  # 0: nothing budgeted that month
    rollover: bool = False

    @field_validator("month")
    @classmethod
    def _first_day(cls, month: date) -> date:
        if month.day != 1:
            raise ValueError("a month is given by its first day")
        return month


@registry.event("ledger.BudgetsImported", consumers=("budget",))
class BudgetsImported(EventPayload):
    """A history imported from another app (`migration_id`, also the envelope's correlation id) budgeted
    an expense category month by month: consecutive months, from the first one budgeted above nothing to
    the last month the history budgets anything in. Only months not imported onto the category before."""

    migration_id: UUID
    category_id: UUID
    currency: CurrencyCode
    source: str = Field(min_length=1, max_length=40)  # e.g. "Actual Budget export"
    months: tuple[BudgetMonth, ...] = Field(min_length=1, max_length=1200)

    @field_validator("months")
    @classmethod
    def _in_order(cls, months: tuple[BudgetMonth, ...]) -> tuple[BudgetMonth, ...]:
        if any(a.month >= b.month for a, b in pairwise(months)):
            raise ValueError("months must be in order, each once")
        return months


@registry.event("ledger.ImportedBudgetsRemoved", consumers=("budget",))
class ImportedBudgetsRemoved(EventPayload):
    """The history import `migration_id` was undone: the months it budgeted on the category are taken out
    (what was set by hand since stays)."""

    migration_id: UUID
    category_id: UUID
    months: tuple[date, ...] = Field(min_length=1, max_length=1200)


class SplitMethod(StrEnum):
    """How a shared expense is divided between members."""

    equally = "equally"  # the same for each member named
    by_shares = "by_shares"  # in proportion to each member's whole-number share (2:1:1)
    exactly = "exactly"  # each member's exact amount (they add up to the expense when shared)
    for_one = "for_one"  # all of it for one member (who owes the payer)


class MemberPart(BaseModel):
    """A member's part of a shared expense: a weight (`equally`: 1, `by_shares`: the share, `exactly`:
    the amount in minor units, `for_one`: 1)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user_id: UUID
    weight: int = Field(gt=0, le=10**15)


@registry.event("ledger.ExpenseShared")
class ExpenseShared(EventPayload):
    """An expense of the household was paid by one member for several (or for one): the whole sharing,
    each time it is set. Its stream is the sharing's own (derived from the transaction's id); each
    member's amount is the expense's current amount divided by the weights (largest remainder), so an
    amended expense keeps its sharing."""

    transaction_id: UUID
    paid_by: UUID
    method: SplitMethod
    parts: tuple[MemberPart, ...] = Field(min_length=1, max_length=50)

    @field_validator("parts")
    @classmethod
    def _each_member_once(cls, parts: tuple[MemberPart, ...]) -> tuple[MemberPart, ...]:
        if len({p.user_id for p in parts}) != len(parts):
            raise ValueError("each member may have one part")
        return parts


@registry.event("ledger.ExpenseUnshared")
class ExpenseUnshared(EventPayload):
    """The expense is no longer shared: it counts for the household as a whole again."""

    transaction_id: UUID


@registry.event("ledger.MembersSettledUp")
class MembersSettledUp(EventPayload):
    """A member paid another back (outside the household's accounts): it counts against what one owes
    the other, in that currency."""

    from_user_id: UUID
    to_user_id: UUID
    amount_minor: MinorUnits = Field(gt=0)
    currency: CurrencyCode
    booked_on: date
    note: str = Field(default="", max_length=200)


# --- recurring series found in the history ----------------------------------------------------------------
# The stream is one series the ledger's detector found (docs/recurring.md): what the household was told
# about it (found, a new price, stopped) and what it decided (dismissed the proposal, or accepted it as a
# schedule).


class SeriesPeriod(StrEnum):
    weekly = "weekly"
    monthly = "monthly"
    quarterly = "quarterly"
    yearly = "yearly"


@registry.event("ledger.RecurringSeriesFound", consumers=("notifier", "analytics"))
class RecurringSeriesFound(EventPayload):
    """A recurring payment (a subscription, a bill) or income no schedule stands for was found in the
    household's transactions: a proposal to make it a schedule. When its price changed on the way,
    `previous_amount_minor` is the price before the latest change, from `price_changed_on`."""

    name: str = Field(min_length=1, max_length=100)
    payee: str = Field(default="", max_length=200)
    account_id: UUID
    kind: TransactionKind
    period: SeriesPeriod
    amount_minor: MinorUnits = Field(gt=0)
    currency: CurrencyCode
    occurrences: int = Field(ge=2)
    first_on: date
    last_on: date
    next_on: date
    previous_amount_minor: MinorUnits | None = Field(default=None, gt=0)
    price_changed_on: date | None = None


@registry.event("ledger.RecurringSeriesPriceChanged", consumers=("notifier", "analytics"))
class RecurringSeriesPriceChanged(EventPayload):
    """A series found before is paid at a new price from `changed_on` (its first payment at it)."""

    name: str = Field(min_length=1, max_length=100)
    payee: str = Field(default="", max_length=200)
    account_id: UUID
    kind: TransactionKind
    period: SeriesPeriod
    old_amount_minor: MinorUnits = Field(gt=0)
    new_amount_minor: MinorUnits = Field(gt=0)
    currency: CurrencyCode
    changed_on: date


@registry.event("ledger.RecurringSeriesStopped", consumers=("notifier", "analytics"))
class RecurringSeriesStopped(EventPayload):
    """A series found before missed `missed` expected payments since its last one, `last_on`."""

    name: str = Field(min_length=1, max_length=100)
    payee: str = Field(default="", max_length=200)
    account_id: UUID
    kind: TransactionKind
    period: SeriesPeriod
    amount_minor: MinorUnits = Field(gt=0)
    currency: CurrencyCode
    last_on: date
    missed: int = Field(ge=2)


@registry.event("ledger.RecurringProposalDismissed", consumers=("analytics",))
class RecurringProposalDismissed(EventPayload):
    """The household does not want the series as a schedule; it is not proposed or told of again."""


@registry.event("ledger.RecurringProposalAccepted")
class RecurringProposalAccepted(EventPayload):
    """The series became the schedule `schedule_id` (set up in the same unit of work)."""

    schedule_id: UUID
