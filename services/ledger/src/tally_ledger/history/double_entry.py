"""Double-entry books (GnuCash, Beancount) in Tally's terms, the same way for every such app.

A book has accounts of five sorts; a transaction moves money between them, its postings summing to
nothing. Tally keeps one entry per account of the household, so:

- The household's own accounts are the asset and liability accounts (`Role.own`): Tally accounts.
- Income and expense accounts are categories; their path below the top-level account is the group
  (`Expenses:Food:Groceries` → "Groceries" in "Food"; `Expenses:Rent` → "Rent" in "Expenses"). An
  account with sub-accounts that carries no money itself is only a group; two categories of one kind
  with the same name get their group in brackets ("Gas (Auto)", "Gas (Utilities)").
- Equity gives opening balances: a transaction between own accounts and equity only, dated before
  anything else happens on those accounts, adds to their opening balances.
- A transaction with one own account is a transaction on it: on one category, or split into parts
  (income and spending parts may mix: the ledger then records one entry per part). Two or more own
  accounts: the one that moves the most (on a tie, the one money leaves) carries the income and
  spending, and every other own account's money is a transfer to or from it. So a payslip paid into
  two accounts is the salary on the first and a transfer to the second; a card paid with a fee is a
  transfer and the fee. Each account's balance and each category's total come out as the book has them.
- Money on equity after the opening, on the source's "imbalance" accounts, or to and from what is not
  imported (another currency or commodity, investments) is an uncategorised part, so the own account's
  balance still comes out as the book's. A transaction touching no own account (income moved between
  categories, closing the books) is left out and counted.
"""

import pickle
import shutil
import sqlite3
import tempfile
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from pathlib import Path

from tally_ledger.history import sqlite_file
from tally_ledger.history.model import Entry as HistoryEntry
from tally_ledger.history.model import (
    Found,
    History,
    HistoryAccount,
    HistoryCategory,
    HistoryPart,
    HistoryTransaction,
    HistoryTransfer,
    in_booking_order,
)
from tallykit.contracts.ledger import AccountKind, CategoryKind, ClearedState


class Role(StrEnum):
    own = "own"
    income = "income"
    expense = "expense"
    equity = "equity"
    uncategorised = "uncategorised"  # the source's bucket for money it could not place (GnuCash's Imbalance)


@dataclass(frozen=True)
class BookAccount:
    source_id: str
    path: tuple[str, ...]  # names from the top-level account down: ("Expenses", "Auto", "Gas")
    role: Role
    kind: AccountKind = AccountKind.checking  # of an own account
    closed: bool = False  # an own account closed, a category hidden
    placeholder: bool = False  # holds other accounts only: left out unless money is on it

    @property
    def name(self) -> str:
        return self.path[-1]


@dataclass(frozen=True)
class Posting:
    source_id: str
    account_id: str  # an account of the book, in the currency read
    amount_minor: int  # a debit is positive: money into an own account, spending on an expense account
    memo: str = ""
    status: ClearedState = ClearedState.uncleared


@dataclass(frozen=True)
class Entry:
    """One transaction of the book, its postings in the currency read. What does not sum to nothing went
    to or came from `elsewhere` (accounts not imported, named)."""

    source_id: str
    booked_on: date
    postings: tuple[Posting, ...]
    payee: str = ""
    note: str = ""
    tags: tuple[str, ...] = ()
    elsewhere: tuple[str, ...] = ()


NO_ACCOUNT = "transaction on none of the household's accounts (between categories only, or closing the books)"
NOTHING = "transaction of nothing"
CANCELLING = "income and spending cancelling out within one transaction"
_ORDER = [ClearedState.uncleared, ClearedState.cleared, ClearedState.reconciled]
_SPOOLED_AT_ONCE = 1000  # entries written to the spool in one statement


@dataclass
class _Split:
    """An entry taken apart: each own account's net, and every other posting."""

    entry: Entry
    own: dict[str, int] = field(default_factory=dict)
    status: dict[str, ClearedState] = field(default_factory=dict)
    others: list[Posting] = field(default_factory=list)
    elsewhere_minor: int = 0


class Books:
    def __init__(self, accounts: Sequence[BookAccount]) -> None:
        self.accounts = {a.source_id: a for a in accounts}
        self.order = [a.source_id for a in accounts]
        self.skipped: dict[str, int] = defaultdict(int)

    def history(self, entries: Iterable[Entry], *, source: str, name: str, app: str,
                currency: str | None, skipped: dict[str, int] | None = None) -> History:
        """The book's history, which streams: `entries` (in any order) are read once, each taken apart and
        kept in a spool (a SQLite file in a temporary folder of its own, removed by `History.close()` or
        once the history is garbage), from which the transactions and transfers are worked out again, in
        booking order, whenever they are wanted. What is held meanwhile is what they found (accounts,
        categories, payees, counts, days), never the entries: a book of any size takes the same memory."""
        folder = Path(tempfile.mkdtemp(prefix="tally-history-"))
        try:
            spool = folder / "entries.sqlite"
            openings = self._spool(entries, spool)
            found = Found()
            for item in self._entries(spool, openings, self.skipped, found.opening):
                found.add(item)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        used = set(found.first_days) | {a for a, amount in found.opening.items() if amount}
        history = History(source=source, name=name, app=app, currency=currency)
        history.accounts = self._accounts(used, found.opening)
        history.categories = self._categories(found.used)
        history.payees = sorted(found.payees, key=str.lower)
        counts = defaultdict(int, skipped or {})
        for reason, n in self.skipped.items():
            counts[reason] += n
        history.skipped = dict(counts)
        close = weakref.finalize(history, shutil.rmtree, folder, True)

        def again() -> Iterator[HistoryEntry]:
            return self._entries(spool, openings, defaultdict(int))  # what is skipped was counted once

        history.stream = found.stream(again, close)
        return history

    # taking entries apart

    def _split(self, entry: Entry) -> _Split:
        split = _Split(entry)
        total = 0
        for posting in entry.postings:
            total += posting.amount_minor
            account = self.accounts[posting.account_id]
            if account.role == Role.own:
                split.own[account.source_id] = split.own.get(account.source_id, 0) + posting.amount_minor
                status = split.status.get(account.source_id, ClearedState.reconciled)
                split.status[account.source_id] = min(status, posting.status, key=_ORDER.index)
            elif posting.amount_minor:
                split.others.append(posting)
        split.own = {a: net for a, net in split.own.items() if net}
        split.elsewhere_minor = -total
        return split

    def _spool(self, entries: Iterable[Entry], spool: Path) -> set[int]:
        """Keep every entry in a new spool, numbered in the order given; the numbers of those that are
        opening balances: between own accounts and equity only, on or before the first day anything
        else happens on those accounts."""
        candidates: list[tuple[int, date, tuple[str, ...]]] = []
        first: dict[str, date] = {}
        with closing(sqlite3.connect(spool)) as db:
            db.execute("PRAGMA journal_mode = OFF")  # a scratch file: nothing to roll back or recover
            db.execute("PRAGMA synchronous = OFF")
            db.execute("CREATE TABLE entries (number INTEGER PRIMARY KEY, day TEXT NOT NULL, "
                       "entry BLOB NOT NULL)")
            kept: list[tuple[int, str, bytes]] = []
            for number, entry in enumerate(entries):
                split = self._split(entry)
                day = entry.booked_on
                if split.own and not split.elsewhere_minor and split.others and all(
                        self.accounts[p.account_id].role == Role.equity for p in split.others):
                    candidates.append((number, day, tuple(split.own)))
                else:
                    for account in split.own:
                        if account not in first or day < first[account]:
                            first[account] = day
                kept.append((number, day.isoformat(), pickle.dumps(entry, pickle.HIGHEST_PROTOCOL)))
                if len(kept) == _SPOOLED_AT_ONCE:
                    db.executemany("INSERT INTO entries VALUES (?, ?, ?)", kept)
                    kept.clear()
            db.executemany("INSERT INTO entries VALUES (?, ?, ?)", kept)
            db.execute("CREATE INDEX entries_booked ON entries (day, number)")
            db.commit()
        return {number for number, day, accounts in candidates
                if all(account not in first or day <= first[account] for account in accounts)}

    def _entries(self, spool: Path, openings: set[int], skipped: dict[str, int],
                 opening: dict[str, int] | None = None) -> Iterator[HistoryEntry]:
        """The transactions and transfers of the spooled entries in booking order (day by day, as
        `History.entries` gives them); the opening balances go into `opening`, what is left out into
        `skipped`."""
        day: str | None = None
        plain: list[HistoryTransaction] = []
        transfers: list[HistoryTransfer] = []
        # Its own connection, which the worker threads that read a migration's chunks take in turn.
        with sqlite_file.opened(spool, "spool", any_thread=True) as db:
            for row in db.execute("SELECT number, day, entry FROM entries ORDER BY day, number"):
                if row["day"] != day:
                    yield from in_booking_order(plain, transfers)
                    day, plain, transfers = row["day"], [], []
                split = self._split(pickle.loads(row["entry"]))  # noqa: S301 (written by _spool just before)
                if row["number"] in openings:
                    for account, net in split.own.items():
                        if opening is not None:
                            opening[account] += net
                    continue
                self._record(split, plain, transfers, skipped)
        yield from in_booking_order(plain, transfers)

    def _record(self, split: _Split, transactions: list[HistoryTransaction],
                transfers: list[HistoryTransfer], skipped: dict[str, int]) -> None:
        entry = split.entry
        if not split.own:
            skipped[NO_ACCOUNT if split.others or split.elsewhere_minor else NOTHING] += 1
            return
        # The same account whatever order the source keeps postings in: ids are derived from it.
        main = max(sorted(split.own), key=lambda a: (abs(split.own[a]), split.own[a] < 0))
        parts = [self._part(p) for p in split.others]
        if split.elsewhere_minor:
            names = ", ".join(entry.elsewhere) or "accounts not imported"
            direction = "into" if split.elsewhere_minor > 0 else "from"
            parts.append(HistoryPart(source_id=f"{entry.source_id}/elsewhere",
                                     amount_minor=-split.elsewhere_minor, category_id=None,
                                     note=f"{direction} {names} (not imported)"[:200]))
        if parts and sum(p.amount_minor for p in parts) == 0:
            skipped[CANCELLING] += 1
        elif parts:
            transactions.append(self._transaction(entry, main, parts, split.status[main]))
        for account, net in split.own.items():
            if account == main:
                continue
            source, target = (main, account) if net > 0 else (account, main)
            transfers.append(HistoryTransfer(
                source_id=f"{entry.source_id}/{account}", from_account_id=source, to_account_id=target,
                booked_on=entry.booked_on, amount_minor=abs(net), payee=entry.payee[:200],
                note=entry.note[:1000], tags=entry.tags,
                status=max(split.status[main], split.status[account], key=_ORDER.index)))

    def _part(self, posting: Posting) -> HistoryPart:
        account = self.accounts[posting.account_id]
        category = account.source_id if account.role in (Role.income, Role.expense) else None
        note = posting.memo
        if account.role == Role.equity:
            note = " · ".join(n for n in (note, ":".join(account.path)) if n)
        return HistoryPart(source_id=posting.source_id, amount_minor=-posting.amount_minor,
                           category_id=category, note=note[:200])

    def _transaction(self, entry: Entry, account: str, parts: list[HistoryPart],
                     status: ClearedState) -> HistoryTransaction:
        whole = HistoryTransaction(
            source_id=entry.source_id, account_id=account, booked_on=entry.booked_on,
            amount_minor=sum(p.amount_minor for p in parts), payee=entry.payee[:200], note=entry.note[:1000],
            parts=tuple(parts), status=status, tags=entry.tags)
        if len(parts) > 1:
            return whole
        [part] = parts
        note = " · ".join(n for n in (entry.note, part.note) if n)
        return replace(whole, note=note[:1000], category_id=part.category_id, parts=())

    # accounts and categories

    def _accounts(self, used: set[str], opening: dict[str, int]) -> list[HistoryAccount]:
        own = [self.accounts[a] for a in self.order if self.accounts[a].role == Role.own
               and (a in used or not self.accounts[a].placeholder)]
        names = _names(own, lambda a: "")
        return [HistoryAccount(source_id=a.source_id, name=names[a.source_id], kind=a.kind,
                               opening_balance_minor=opening.get(a.source_id, 0), closed=a.closed)
                for a in own]

    def _categories(self, used: set[str | None]) -> list[HistoryCategory]:
        parents = {a.path[:-1] for a in self.accounts.values()}
        chosen = [a for a in (self.accounts[s] for s in self.order)
                  if a.role in (Role.income, Role.expense)
                  and (a.source_id in used or not (a.placeholder or a.path in parents))]
        names = _names(chosen, lambda a: a.role.value)
        return [HistoryCategory(source_id=a.source_id, name=names[a.source_id], group=_group(a),
                                kind=CategoryKind.income if a.role == Role.income else CategoryKind.expense,
                                hidden=a.closed)
                for a in chosen]


def _group(account: BookAccount) -> str:
    inner = account.path[1:-1]
    return (":".join(inner) if inner else account.path[0])[:100]


def _names(accounts: list[BookAccount], key: Callable[[BookAccount], str]) -> dict[str, str]:
    """Each account's name; where two of the same `key` share one, with its parent's path in brackets."""
    count: dict[tuple[str, str], int] = defaultdict(int)
    for account in accounts:
        count[(key(account), account.name.strip().lower())] += 1
    names = {}
    for account in accounts:
        name = account.name.strip() or ":".join(account.path)
        if count[(key(account), account.name.strip().lower())] > 1 and len(account.path) > 1:
            parent = ":".join(account.path[1:-1]) or account.path[0]
            name = f"{name} ({parent})"
        names[account.source_id] = name[:100]
    return names

