"""A household's history as another app kept it, in neutral terms: what a reader (`actual.py`) gives
and the writer (`write.py`) records. Amounts are signed minor units of the currency the person names
(money out of an account is negative); ids are the source app's own, as text."""

import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date

from tallykit.contracts.ledger import AccountKind, CategoryKind, ClearedState


class HistoryError(ValueError):
    """The file cannot be read as a history: `detail` says what is wrong, `where` where (a zip member,
    a table, a row)."""

    def __init__(self, detail: str, where: str | None = None) -> None:
        super().__init__(f"{where}: {detail}" if where else detail)
        self.detail = detail
        self.where = where


@dataclass(frozen=True)
class HistoryAccount:
    source_id: str
    name: str
    kind: AccountKind
    opening_balance_minor: int  # the source's starting balance, if it has one
    closed: bool
    off_budget: bool = False


@dataclass(frozen=True)
class HistoryCategory:
    source_id: str
    name: str
    group: str
    kind: CategoryKind
    hidden: bool = False


@dataclass(frozen=True)
class HistoryPart:
    """One part of a split transaction."""

    source_id: str
    amount_minor: int
    category_id: str | None
    note: str = ""


@dataclass(frozen=True)
class HistoryTransaction:
    """Money into (positive) or out of (negative) one account: on one category, on none, or split into
    `parts` (which then sum to the amount)."""

    source_id: str
    account_id: str
    booked_on: date
    amount_minor: int
    payee: str = ""
    note: str = ""
    category_id: str | None = None
    parts: tuple[HistoryPart, ...] = ()
    status: ClearedState = ClearedState.uncleared
    tags: tuple[str, ...] = ()  # as `tag()` makes them


@dataclass(frozen=True)
class HistoryTransfer:
    """Money from one account of the household to another: one entry, never income or spending."""

    source_id: str  # the outgoing side's id
    from_account_id: str
    to_account_id: str
    booked_on: date
    amount_minor: int  # positive: what left `from_account_id`
    payee: str = ""
    note: str = ""
    status: ClearedState = ClearedState.uncleared
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class HistoryBudget:
    """The amount budgeted on a category for a month, where the source keeps budgets."""

    category_id: str
    month: date  # its first day
    amount_minor: int
    rollover: bool = False  # what is left (or overspent) at the month's end carries into the next


Entry = HistoryTransaction | HistoryTransfer


@dataclass(frozen=True)
class Stream:
    """A history's transactions and transfers left in the file and read again whenever they are wanted, in
    booking order (day by day; on a day the transactions, then the transfers, each by source id), so
    that no more than a chunk of them is held at once; with what the first pass over them found."""

    entries: Callable[[], Iterator[Entry]]
    transactions: int  # transfers not included
    transfers: int
    first_day: date | None
    last_day: date | None
    first_days: dict[str, date]  # account source id → the first day it has an entry
    close: Callable[[], None]  # the file is not needed any more


@dataclass
class Found:
    """What a streaming reader keeps of the entries as it reads them once: no entry itself."""

    transactions: int = 0
    transfers: int = 0
    first_day: date | None = None
    last_day: date | None = None
    first_days: dict[str, date] = field(default_factory=dict)
    opening: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    used: set[str | None] = field(default_factory=set)  # categories of transactions and parts
    payees: set[str] = field(default_factory=set)

    def add(self, entry: Entry) -> None:
        day = entry.booked_on
        accounts: tuple[str, ...]
        if isinstance(entry, HistoryTransfer):
            self.transfers += 1
            accounts = (entry.from_account_id, entry.to_account_id)
        else:
            self.transactions += 1
            accounts = (entry.account_id,)
            self.used.add(entry.category_id)
            self.used.update(p.category_id for p in entry.parts)
            if entry.payee:
                self.payees.add(entry.payee)
        self.first_day = day if self.first_day is None else min(self.first_day, day)
        self.last_day = day if self.last_day is None else max(self.last_day, day)
        for account in accounts:
            if account not in self.first_days or day < self.first_days[account]:
                self.first_days[account] = day

    def stream(self, entries: Callable[[], Iterator[Entry]], close: Callable[[], None]) -> Stream:
        return Stream(entries=entries, transactions=self.transactions, transfers=self.transfers,
                      first_day=self.first_day, last_day=self.last_day, first_days=self.first_days,
                      close=close)


def in_booking_order(plain: list[HistoryTransaction], transfers: list[HistoryTransfer]) -> Iterator[Entry]:
    """A day's entries as `History.entries` gives them: its transactions, then its transfers, each by
    source id."""
    yield from sorted(plain, key=_source_id)
    yield from sorted(transfers, key=_source_id)


def _source_id(entry: Entry) -> str:
    return entry.source_id


@dataclass
class History:
    source: str  # e.g. "Actual Budget export"
    name: str  # the source's name for it (the budget's name)
    app: str = "history"  # a short key of the source app ("actual"): it is part of the ids written
    accounts: list[HistoryAccount] = field(default_factory=list)
    categories: list[HistoryCategory] = field(default_factory=list)
    payees: list[str] = field(default_factory=list)
    transactions: list[HistoryTransaction] = field(default_factory=list)
    transfers: list[HistoryTransfer] = field(default_factory=list)
    budgets: list[HistoryBudget] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)  # why → how many source rows were left out
    # The currency the source keeps its amounts in, where it says (a GnuCash book's, a Beancount ledger's
    # operating currency): an import in another currency is refused.
    currency: str | None = None
    # A reader that streams (Actual's, double_entry's) leaves `transactions` and `transfers` empty and gives
    # this instead.
    stream: Stream | None = None

    def entries(self) -> Iterator[Entry]:
        """The transactions and transfers in booking order: by day; on a day the transactions, then the
        transfers, each in the order the reader gave them."""
        if self.stream is not None:
            return self.stream.entries()
        items: list[Entry] = [*self.transactions, *self.transfers]
        items.sort(key=_booked_on)
        return iter(items)

    @property
    def transaction_count(self) -> int:
        """Transactions and transfers."""
        if self.stream is not None:
            return self.stream.transactions + self.stream.transfers
        return len(self.transactions) + len(self.transfers)

    @property
    def transfer_count(self) -> int:
        return self.stream.transfers if self.stream is not None else len(self.transfers)

    def first_day_of(self, account_id: str) -> date | None:
        """The first day the account has a transaction or transfer."""
        if self.stream is not None:
            return self.stream.first_days.get(account_id)
        days = [t.booked_on for t in self.transactions if t.account_id == account_id]
        days += [t.booked_on for t in self.transfers if account_id in (t.from_account_id, t.to_account_id)]
        return min(days, default=None)

    def close(self) -> None:
        """Let go of the file a streamed history reads (nothing for the others)."""
        if self.stream is not None:
            self.stream.close()

    @property
    def groups(self) -> list[str]:
        return list(dict.fromkeys(c.group for c in self.categories))

    @property
    def first_day(self) -> date | None:
        if self.stream is not None:
            return self.stream.first_day
        days = [t.booked_on for t in self.transactions] + [t.booked_on for t in self.transfers]
        return min(days, default=None)

    @property
    def last_day(self) -> date | None:
        if self.stream is not None:
            return self.stream.last_day
        days = [t.booked_on for t in self.transactions] + [t.booked_on for t in self.transfers]
        return max(days, default=None)

    def summary(self) -> str:
        """What was found, in one line: 'Actual Budget export: 3 accounts, 15 categories, …'."""
        count = self.transaction_count
        span = ""
        if self.first_day and self.last_day:
            first, last = self.first_day.strftime("%Y-%m"), self.last_day.strftime("%Y-%m")
            span = f", {first}" + (f"..{last}" if last != first else "")
        return (f"{self.source}: {_n(len(self.accounts), 'account')}, "
                f"{_n(len(self.categories), 'category')}, {_n(count, 'transaction')} "
                f"({_n(self.transfer_count, 'transfer')}){span}")


def _booked_on(entry: Entry) -> date:
    return entry.booked_on


def tag(text: str) -> str | None:
    """A source's tag or label as a Tally tag (lower case, no spaces or commas, at most 50 characters):
    "Trip 2025" → "trip-2025"; None when nothing is left."""
    cleaned = "-".join(re.split(r"[\s,]+", text.strip().lower())).strip("-")[:50].rstrip("-")
    return cleaned or None


def _n(count: int, word: str) -> str:
    if count == 1:
        return f"1 {word}"
    return f"{count} {word[:-1] + 'ies' if word.endswith('y') else word + 's'}"
