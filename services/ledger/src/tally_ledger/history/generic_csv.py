"""A whole history as Mint, Monarch Money, Copilot Money and similar apps export it: one CSV of every
transaction of every account, each row naming its account and category. Read into a neutral `History`;
pure: a file in, dataclasses out.

Layouts told by their header (names compared without case):
- Mint's `transactions.csv`: "Date","Description","Original Description","Amount","Transaction Type",
  "Category","Account Name","Labels","Notes"; every cell quoted, dates M/D/YYYY, amounts unsigned with
  `debit` (money out) or `credit` (money in) in Transaction Type, labels separated by spaces.
- Monarch Money: Date,Merchant,Category,Account,Original Statement,Notes,Amount,Tags (newer exports add
  Owner); dates YYYY-MM-DD, amounts signed (money in positive), tags separated by commas.
- Copilot Money: date,name,amount,status,category,parent category,excluded,tags,type,account,account
  mask,note,recurring; amounts positive for money out and negative for money in; type `internal
  transfer` marks a transfer, status `pending` one not yet cleared, parent category the group.
- Any other app's CSV with at least a date, an amount, a category and an account column (`Account` or
  `Account Name`), a payee in Payee, Merchant, Description or Name, and notes and tags where it has them:
  amounts signed, money in positive, or unsigned with a Transaction Type (or Type) of debit/credit.
A file without category and account columns is a bank statement, not a history: it is not claimed here
(statements go through the import of statements).

What it becomes:
- Accounts are the names in the account column, their kind guessed from the name (card, savings, loan,
  investment, cash, else checking). The files hold no opening balances: every account starts at 0, so
  its balance in Tally is the sum of the rows exported (a full export from the first day gives the
  app's own balance).
- Categories: the files do not say whether a category is income or spending: each is income when most
  rows booked on it brought money in (`kinds.py`). "Uncategorized" is no category. The group is the
  app's name (Copilot's parent category where it has one).
- Transfers are two rows, one out of an account and one into another, both on a transfer category
  ("Transfer", "Credit Card Payment", "Internal Transfer"; Copilot's type `internal transfer`): rows of
  the same amount on two accounts are paired, the same day first, else the nearest within
  `TRANSFER_DAYS` days, into one transfer dated the day the money left. A row left without partner (the
  other account is not in the export) stays a transaction on its category.
- Payee: Description/Merchant/Name; the note: Notes, and the bank's original text when it differs from
  the payee. Tags via `model.tag`. Rows are cleared (these apps hold what the bank posted), Copilot's
  pending ones uncleared.
- Dates: the format every date of the file reads in; where both M/D and D/M read every date (no day
  past the 12th), month first, as these apps are American. Amounts: decimal point or comma told from
  the whole column; currency signs, thousands separators and (brackets) read.
- The rows have no ids: each gets one from its account, day, amount, payee and bank text (and how many
  such rows came before it), so importing the same export again, or a later one, adds only new rows;
  a row edited in the app since (its payee or amount) comes again as a new one.

Not read: budgets, goals, investment holdings, Mint's split rows as one split (each is a row of its own,
as Mint exports them), Copilot's excluded and recurring flags, Monarch's owner.
"""

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tally_ledger.history import csv_table
from tally_ledger.history.kinds import kind_of
from tally_ledger.history.model import (
    History,
    HistoryAccount,
    HistoryCategory,
    HistoryError,
    HistoryTransaction,
    HistoryTransfer,
    tag,
)
from tally_ledger.importers.rows import StatementError
from tally_ledger.importers.values import (
    date_formats_matching,
    guess_decimal_separator,
    parse_amount,
    parse_date,
)
from tallykit.contracts.ledger import AccountKind, ClearedState

SOURCE = "Mint, Monarch Money, Copilot or other app CSV"
APP = "csv"
TRANSFER_DAYS = 4  # banks book the two sides of a transfer between them a few days apart
TRANSFER_CATEGORIES = frozenset({"transfer", "transfers", "credit card payment", "internal transfer",
                                 "internal transfers"})
NO_CATEGORY = frozenset({"", "uncategorized", "uncategorised"})
# Where every date reads both ways, the first of these that reads them all is taken.
PREFERRED_DATES = ("%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d", "%m-%d-%Y")

DATE = ("date", "transaction date")
AMOUNT = ("amount",)
CATEGORY = ("category",)
ACCOUNT = ("account", "account name")
PAYEE = ("payee", "merchant", "description", "name", "merchant name")
ORIGINAL = ("original description", "original statement", "bank description")
NOTES = ("notes", "note", "memo")
TAGS = ("tags", "labels", "tag")
GROUP = ("parent category", "category group")
DIRECTION = ("transaction type", "type")
STATUS = ("status",)


@dataclass(frozen=True)
class Layout:
    app: str  # part of the ids written: never change it
    source: str
    signature: frozenset[str]  # header names that tell it
    money_out_positive: bool = False
    tags_by_space: bool = False


LAYOUTS = (
    Layout("mint", "Mint export", frozenset({"date", "description", "original description", "amount",
                                             "transaction type", "category", "account name", "labels",
                                             "notes"}), tags_by_space=True),
    Layout("monarch", "Monarch Money export", frozenset({"date", "merchant", "category", "account",
                                                         "original statement", "notes", "amount", "tags"})),
    Layout("copilot", "Copilot Money export", frozenset({"date", "name", "amount", "status", "category",
                                                         "parent category", "excluded", "type", "account",
                                                         "account mask"}), money_out_positive=True),
)
OTHER = Layout("csv", "CSV from another app", frozenset())


def looks_like(head: bytes, filename: str) -> bool:
    """A CSV with date, amount, category and account columns (a bank statement has no category and
    account columns; Firefly III's export is claimed before)."""
    header = csv_table.header_of(head)
    if header is None:
        return False
    keys = set(header.keys)
    return all(keys & set(names) for names in (DATE, AMOUNT, CATEGORY, ACCOUNT)) and "source_type" not in keys


def layout_of(keys: set[str]) -> Layout:
    return next((layout for layout in LAYOUTS if layout.signature <= keys), OTHER)


def read(file: Path, *, minor_digits: int = 2) -> History:
    """The history in the file; amounts in minor units of a currency with `minor_digits` digits. Raises
    HistoryError naming what is wrong and where."""
    table = csv_table.read(file)
    return _Reader(table, minor_digits).history()


@dataclass(frozen=True)
class _Row:
    line: int
    source_id: str
    account: str
    day: date
    amount_minor: int
    payee: str
    note: str
    category: str | None
    group: str
    tags: tuple[str, ...]
    status: ClearedState
    transfer: bool  # on a transfer category: one side of a transfer, if its other side is found


class _Reader:
    def __init__(self, table: csv_table.Table, minor_digits: int) -> None:
        self.table = table
        self.minor_digits = minor_digits
        keys = set(table.header.keys)
        missing = [names[0] for names in (DATE, AMOUNT, CATEGORY, ACCOUNT) if not keys & set(names)]
        if missing:
            raise HistoryError(f"has no column {', '.join(missing)}: a history needs date, amount, category "
                               "and account columns", "header")
        self.layout = layout_of(keys)

    def history(self) -> History:
        if not self.table.rows:
            raise HistoryError("holds no transactions", "file")
        rows = self.rows()
        transfers, plain = self.pair(rows)
        history = History(source=self.layout.source, name=self.layout.source.removesuffix(" export"),
                          app=self.layout.app)
        accounts: dict[str, None] = {}
        for row in sorted(rows, key=lambda r: (r.day, r.line)):
            accounts.setdefault(row.account)
        history.accounts = [HistoryAccount(source_id=name, name=name[:100], kind=_kind(name),
                                           opening_balance_minor=0, closed=False) for name in accounts]
        history.transactions = [HistoryTransaction(
            source_id=row.source_id, account_id=row.account, booked_on=row.day, amount_minor=row.amount_minor,
            payee=row.payee[:200], note=row.note[:1000], category_id=row.category, status=row.status,
            tags=row.tags) for row in sorted(plain, key=lambda r: (r.day, r.line))]
        history.transfers = sorted(transfers, key=lambda t: (t.booked_on, t.source_id))
        booked: dict[str, list[int]] = defaultdict(list)
        groups: dict[str, str] = {}
        for row in plain:
            if row.category is not None:
                booked[row.category].append(row.amount_minor)
                if row.group and row.category not in groups:
                    groups[row.category] = row.group
        app_name = self.layout.source.removesuffix(" export")
        history.categories = [HistoryCategory(source_id=name, name=name[:100], kind=kind_of(amounts),
                                              group=(groups.get(name) or app_name)[:100])
                              for name, amounts in booked.items()]
        history.payees = sorted({t.payee for t in history.transactions if t.payee}, key=str.lower)
        return history

    # the rows

    def rows(self) -> list["_Row"]:
        table, layout = self.table, self.layout
        column = {
            "date": table.column(*DATE), "amount": table.column(*AMOUNT), "category": table.column(*CATEGORY),
            "account": table.column(*ACCOUNT), "payee": table.column(*PAYEE),
            "original": table.column(*ORIGINAL), "notes": table.column(*NOTES), "tags": table.column(*TAGS),
            "group": table.column(*GROUP), "status": table.column(*STATUS),
            "type": table.column("type"), "direction": self.direction_column(),
        }

        def cell(cells: list[str], name: str) -> str:
            index = column[name]
            return cells[index].strip() if index is not None and index < len(cells) else ""

        date_format = self.date_format([cell(cells, "date") for _, cells in table.rows], column["date"])
        separator = guess_decimal_separator(cell(cells, "amount") for _, cells in table.rows)
        rows: list[_Row] = []
        seen: dict[tuple[str, ...], int] = defaultdict(int)
        for line, cells in table.rows:
            where = f"line {line}"
            account = cell(cells, "account")
            if not account:
                raise HistoryError("names no account", where)
            try:
                day = parse_date(cell(cells, "date"), date_format, where=where)
                amount = parse_amount(cell(cells, "amount"), decimal_separator=separator,
                                      digits=self.minor_digits, where=where)
            except StatementError as exc:
                raise HistoryError(exc.problem, where) from exc
            direction = cell(cells, "direction").lower()
            if column["direction"] is not None:
                if direction not in ("debit", "credit"):
                    raise HistoryError(f"transaction type {direction!r} is neither debit nor credit", where)
                amount = -abs(amount) if direction == "debit" else abs(amount)
            elif layout.money_out_positive:
                amount = -amount
            if amount == 0:
                continue  # moves no money (a $0.00 authorisation): nothing to record
            payee, original = cell(cells, "payee"), cell(cells, "original")
            notes = [cell(cells, "notes")]
            if original and original.lower() != payee.lower():
                notes.append(original)
            category = cell(cells, "category")
            key = (account, day.isoformat(), str(amount), payee, original)
            seen[key] += 1
            rows.append(_Row(
                line=line, source_id=_row_id(key, seen[key]), account=account, day=day, amount_minor=amount,
                payee=payee, note=" · ".join(n for n in notes if n), group=cell(cells, "group"),
                category=None if category.lower() in NO_CATEGORY else category,
                tags=self.tags(cell(cells, "tags")),
                status=ClearedState.uncleared if cell(cells, "status").lower() == "pending"
                else ClearedState.cleared,
                transfer=category.lower() in TRANSFER_CATEGORIES
                or cell(cells, "type").lower() == "internal transfer"))
        return rows

    def direction_column(self) -> int | None:
        """A Transaction Type (or Type) column saying debit or credit on every row, for unsigned amounts."""
        for name in DIRECTION:
            index = self.table.column(name)
            if index is None:
                continue
            values = {cells[index].strip().lower() for _, cells in self.table.rows if index < len(cells)}
            if values and values <= {"debit", "credit"}:
                return index
            if self.layout.app == "mint" and name == "transaction type":
                return index  # Mint's: a row saying neither is named when read
        return None

    def date_format(self, values: list[str], index: int | None) -> str:
        distinct = sorted({v for v in values if v})
        formats = date_formats_matching(distinct)
        if formats:
            return next((f for f in PREFERRED_DATES if f in formats), formats[0])
        # Name the first row that the format reading most of the dates cannot read.
        best = date_formats_matching(distinct, tolerate=0.5)
        for (line, _), value in zip(self.table.rows, values, strict=True):
            if not value:
                raise HistoryError("has no date", f"line {line}")
            if best:
                try:
                    parse_date(value, best[0])
                except StatementError:
                    raise HistoryError(f"date {value!r} is not a date like the others ({best[0]})",
                                       f"line {line}") from None
        raise HistoryError("the dates are in no format this reader knows (as 2025-01-31 or 01/31/2025)",
                           "date column")

    def tags(self, text: str) -> tuple[str, ...]:
        pieces = re.split(r"\s+" if self.layout.tags_by_space else r"[,;|]", text)
        return tuple(dict.fromkeys(t for t in (tag(piece) for piece in pieces) if t))

    # transfers

    def pair(self, rows: list[_Row]) -> tuple[list[HistoryTransfer], list[_Row]]:
        """Rows on transfer categories paired into transfers (the same amount out of one account and into
        another, the nearest day within TRANSFER_DAYS, the same day first); the rest as they are."""
        incoming: dict[int, list[_Row]] = defaultdict(list)
        for row in rows:
            if row.transfer and row.amount_minor > 0:
                incoming[row.amount_minor].append(row)
        used: set[str] = set()
        transfers: list[HistoryTransfer] = []
        outgoing = sorted((r for r in rows if r.transfer and r.amount_minor < 0),
                          key=lambda r: (r.day, r.line))
        for out in outgoing:
            candidates = [r for r in incoming.get(-out.amount_minor, [])
                          if r.source_id not in used and r.account != out.account
                          and abs((r.day - out.day).days) <= TRANSFER_DAYS]
            if not candidates:
                continue
            into = min(candidates, key=lambda r: (abs((r.day - out.day).days), r.line))
            used |= {out.source_id, into.source_id}
            notes = dict.fromkeys(n for n in (out.payee, out.note, into.payee, into.note) if n)
            transfers.append(HistoryTransfer(
                source_id=out.source_id, from_account_id=out.account, to_account_id=into.account,
                booked_on=out.day, amount_minor=-out.amount_minor, note=" · ".join(notes)[:1000],
                status=out.status if out.status == into.status else ClearedState.uncleared,
                tags=tuple(dict.fromkeys((*out.tags, *into.tags)))))
        return transfers, [row for row in rows if row.source_id not in used]


def _row_id(key: tuple[str, ...], occurrence: int) -> str:
    digest = hashlib.blake2s("\x1f".join(key).encode(), digest_size=12).hexdigest()
    return f"{digest}-{occurrence}"


_KINDS = (
    (re.compile(r"card|credit|visa|amex|american express|mastercard|discover", re.I),
     AccountKind.credit_card),
    (re.compile(r"saving|money market|\bcd\b", re.I), AccountKind.savings),
    (re.compile(r"loan|mortgage|heloc", re.I), AccountKind.loan),
    (re.compile(r"brokerage|invest|401k|401\(k\)|\bira\b|roth|retirement|hsa", re.I), AccountKind.investment),
    (re.compile(r"cash|wallet", re.I), AccountKind.cash),
)


def _kind(name: str) -> AccountKind:
    return next((kind for pattern, kind in _KINDS if pattern.search(name)), AccountKind.checking)
