"""YNAB's export (the web app's "Export budget data"/"Export plan data") read into a neutral `History`.
Pure: a file in, dataclasses out.

What YNAB gives, as found in public reports of real exports (tests/histories/ynab/README.md says which):
a zip of two tables, `<Budget> as of <date> <time> - Register.csv` and `<Budget> as of … - Plan.csv`
(`Budget.csv` before YNAB renamed budgets "plans" in 2025). Some exports are tab-separated and named
`.tsv` (reported in 2021 of budgets with a decimal comma, and in 2025), and a `.csv` has been seen
holding tabs: the separator is told from the header line, never from the name. UTF-8, with or without
a byte-order mark; text fields quoted, amounts not; a quote inside a field doubled, or (older exports)
escaped with a backslash.

- Register: "Account","Flag","Date","Payee","Category Group/Category","Category Group","Category",
  "Memo","Outflow","Inflow","Cleared". Dates follow the budget's date format (12/30/2025, 30/12/2025,
  30.12.2025, 2025-12-30, …): the order of day and month is settled for the whole file by any day past
  the 12th; when no row settles it, `/` is read month first (YNAB's default, US) and `.` or `-` day first.
  Amounts follow the budget's currency format: a symbol before or after ("$1234.56", "1234,56€",
  "kr 30,00", "SFr.222.65"), a decimal point or comma, YNAB writes no grouping but grouping by either mark,
  spaces or apostrophes is read too. Which mark is the decimal one is settled for the whole export (both
  tables) by the amounts themselves (YNAB pads every amount to the currency's decimals); `minor_digits`
  then says how many decimals the currency has, and an amount with more is refused by its row.
- Plan (Budget): "Month","Category Group/Category","Category Group","Category","Assigned" (older
  "Budgeted"),"Activity","Available"; months as "Jan 2025". Hidden categories are not in it.

How it maps:
- Accounts: one per name in the Account column. The export says nothing of an account's type, of its
  being closed or off budget (tracking): the kind is guessed from the name ("Savings" → savings, "Visa",
  "Card" → credit card, …; checking otherwise), and every account comes in open and on budget. Closed
  accounts cannot be told from the export: archive them by hand after the import.
- Opening balance: the account's "Starting Balance" row (payee "Starting Balance", category "Inflow: Ready
  to Assign", in older exports "Inflow: To be Budgeted") is the account's opening balance, not a
  transaction.
- Income: YNAB puts every inflow on one pot, "Inflow: Ready to Assign". It comes in on an income category
  of its own, "Ready to Assign" in the group "Income", rather than on one of the household's income
  categories: the export cannot tell salary from interest or a gift, and a guess would put money on the
  wrong one. Recategorise or merge it in Tally afterwards. Old exports' "To be Budgeted" is the same pot
  and the same category (one id across both names, so a later export adds to it).
- Categories: those of the Plan, in its order (its "Credit Card Payments" group apart: that is YNAB's
  own bookkeeping of card debt, the card's spending is already on its categories), then those the
  Register uses that the Plan lacks (YNAB leaves hidden categories out of the Plan: they come in hidden).
  All are expense categories but Ready to Assign. A row with no category (or YNAB's "Uncategorized")
  stays uncategorised.
- Transfers: a row whose payee is "Transfer : <Other Account>" is one side; both sides are in the
  Register. They are paired into one transfer by day, amount and the two account names (the outgoing
  side in A naming B with the incoming side in B naming A). Several alike in all of that are
  interchangeable in every figure: a side goes first with one of the same memo, then the rest in the
  order of the file. A side whose other account is not in the export (a Register of some accounts only),
  or whose other side is missing, stays a transaction with that payee. A transfer has no category in
  Tally (it is never spending): the category YNAB gives a transfer to a tracking account is left out (and
  counted in `skipped`), so YNAB's Activity differs from Tally's total by those transfers.
- Splits: consecutive rows of one account and day whose memos start "Split (1/3) ", "Split (2/3) ", …
  are one split transaction; the rest of each memo is its part's note. A part that is a transfer is
  paired like any other side and leaves the split. Parts that do not make a whole split (a part missing or
  out of turn) come in one by one, counted in `skipped`.
- Flag colour → a tag "flag-<colour>" (`model.tag`); Cleared ("Cleared", "Uncleared", "Reconciled") → the
  cleared state; Memo → the note.
- Budgets: every Plan row with a non-zero Assigned/Budgeted → `HistoryBudget(category, month, amount)`,
  with rollover: YNAB is envelope budgeting, what is left in a category carries into the next month (its
  overspending does not quite: YNAB takes cash overspending from the next month's Ready to Assign
  instead). Activity and Available are YNAB's figures, not read (the tests check the import against
  Activity).
- Ids: the export has none. A row's id is made of what identifies it (account, day, payee, category,
  amount; a split part's place in its split) and, for rows alike in all of that, their count so far: the
  same file, or a later export of the same budget, gives the same ids, so importing again adds only what
  is new. A row edited in YNAB since (another amount, payee, day or category) comes in as a new one;
  an edited memo, flag or cleared state does not.

A Register on its own (a CSV uploaded without its zip) is read the same, with no budgets. A Plan on its
own holds no transactions and is refused.

Not read: YNAB4 (the old desktop app's `.ynab4` folder: a JSON database of another shape, not cheap to
add), scheduled transactions, goals, payee rules (none of them are in the export).
"""

import codecs
import csv
import hashlib
import re
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from tally_ledger.history import archive
from tally_ledger.history.model import (
    History,
    HistoryAccount,
    HistoryBudget,
    HistoryCategory,
    HistoryError,
    HistoryPart,
    HistoryTransaction,
    HistoryTransfer,
    tag,
)
from tallykit.contracts.ledger import AccountKind, CategoryKind, ClearedState

SOURCE = "YNAB export"
APP = "ynab"
MAX_MEMBERS = 8
MAX_UNCOMPRESSED = 500 * 1024 * 1024
MAX_ROWS = 1_000_000

STARTING_BALANCE = "Starting Balance"
INCOME_ID = "Inflow: Ready to Assign"  # the source id of YNAB's income pot, whatever the export calls it
INCOME_NAME, INCOME_GROUP = "Ready to Assign", "Income"
CARD_PAYMENTS = "credit card payments"

REGISTER_COLUMNS = ("Account", "Flag", "Date", "Payee", "Category Group/Category", "Category Group",
                    "Category", "Memo", "Outflow", "Inflow", "Cleared")
REGISTER_NEEDS = ("Account", "Date", "Payee", "Outflow", "Inflow")
PLAN_NEEDS = ("Month", "Activity")
COMBINED, GROUP, CATEGORY = "Category Group/Category", "Category Group", "Category"

_MEMBER = re.compile(r"(?:^|\s-\s|_)(register|plan|budget)\.(?:csv|tsv)$", re.IGNORECASE)
_BUDGET_NAME = re.compile(r"^(?:YNAB Export - )?(?P<name>.+?) as of .*$", re.IGNORECASE)
_TRANSFER = re.compile(r"^Transfer\s*:\s*(?P<account>.+)$", re.DOTALL)
_SPLIT = re.compile(r"^Split \((?P<n>\d+)/(?P<of>\d+)\) ?(?P<memo>.*)$", re.DOTALL)
_YEAR_FIRST = re.compile(r"^(\d{4})([-./])(\d{1,2})\2(\d{1,2})$")
_YEAR_LAST = re.compile(r"^(\d{1,2})([-./])(\d{1,2})\2(\d{4})$")
_MONTH_NAMED = re.compile(r"^([^\W\d_]+)\.?\s+(\d{4})$")
_MONTH_NUMBERED = re.compile(r"^(\d{4})[-/.](\d{1,2})$|^(\d{1,2})[-/.](\d{4})$")
_MONTHS = {name: n for n, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_GROUPING = " \u00a0\u202f\u2009'\u2019"  # spaces (plain, no-break, narrow, thin) and apostrophes
_MINUS = "-\u2212"
_CLEARED = {"cleared": ClearedState.cleared, "uncleared": ClearedState.uncleared,
            "reconciled": ClearedState.reconciled}
_STATUS_ORDER = [ClearedState.uncleared, ClearedState.cleared, ClearedState.reconciled]
_KINDS = (("saving", AccountKind.savings), ("card", AccountKind.credit_card),
          ("visa", AccountKind.credit_card), ("mastercard", AccountKind.credit_card),
          ("amex", AccountKind.credit_card), ("credit", AccountKind.credit_card),
          ("mortgage", AccountKind.loan), ("loan", AccountKind.loan),
          ("cash", AccountKind.cash), ("wallet", AccountKind.cash), ("invest", AccountKind.investment),
          ("brokerage", AccountKind.investment), ("pension", AccountKind.investment))


# --- telling the file -----------------------------------------------------------------------------

def looks_like(head: bytes, filename: str) -> bool:
    """A zip whose first member is a YNAB table (or named as YNAB names its exports), or a delimited text
    file whose header is a YNAB Register's or Plan's (it is then refused by name if it is not whole)."""
    if head[:4] == b"PK\x03\x04":
        length = int.from_bytes(head[26:28], "little")
        first = head[30:30 + length].decode("utf-8", "replace")
        return _role(first) is not None or PurePosixPath(filename).name.lower().startswith("ynab export") \
            or PurePosixPath(first.rstrip("/")).name.lower().startswith("ynab export")
    return _header_kind(head) is not None


def _role(member: str) -> str | None:
    """"register" or "plan" for a zip member named as YNAB names them."""
    found = _MEMBER.search(PurePosixPath(member).name)
    if found is None:
        return None
    return "register" if found.group(1).lower() == "register" else "plan"


def _header_kind(head: bytes) -> str | None:
    line = head.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].decode("utf-8", "replace")
    names = {cell.strip().strip('"').strip().lower() for cell in line.split(_delimiter(line))}
    if {"outflow", "inflow"} <= names:
        return "register"
    if {"month", "activity"} <= names:
        return "plan"
    return None


def _delimiter(header: str) -> str:
    return "\t" if header.count("\t") > header.count(",") else ","


# --- reading --------------------------------------------------------------------------------------

def read(file: Path, *, minor_digits: int = 2) -> History:
    """The history in a YNAB export (the zip, or a Register on its own); amounts in minor units of a
    currency with `minor_digits` digits. Raises HistoryError naming what is wrong and where."""
    with file.open("rb") as stream:
        head = stream.read(64 * 1024)
    if head[:4] == b"PK\x03\x04":
        with tempfile.TemporaryDirectory(prefix="tally-history-") as folder:
            register, plan, name = _unzip(file, Path(folder))
            return _Reader(minor_digits).history(register, plan, name)
    if _header_kind(head) == "plan":
        raise HistoryError("a YNAB Plan on its own holds no transactions: upload the whole export (the zip "
                           "YNAB gives) or its Register", "plan CSV, line 1")
    return _Reader(minor_digits).history(_Table.load(file, "register CSV"), None, "YNAB budget")


def _unzip(file: Path, folder: Path) -> tuple["_Table", "_Table | None", str]:
    """Check the zip and read its Register and Plan (inflated into `folder`); the budget's name."""
    with archive.open_zip(file) as zipped:
        infos = archive.checked(zipped, max_members=MAX_MEMBERS, max_bytes=MAX_UNCOMPRESSED,
                                usual="a YNAB export holds 2")
        files = [info for info in infos if not info.is_dir()]
        registers = [info for info in files if _role(info.filename) == "register"]
        plans = [info for info in files if _role(info.filename) == "plan"]
        if not registers:
            held = ", ".join(sorted(info.filename for info in files)[:5]) or "nothing"
            raise HistoryError("the zip has no Register (\"<budget> as of <date> - Register.csv\"): it is "
                               f"not a whole YNAB export (it holds {held})", "zip")
        for found, what in ((registers, "Register"), (plans, "Plan")):
            if len(found) > 1:
                raise HistoryError(f"the zip holds {len(found)} {what} files "
                                   f"({', '.join(i.filename for i in found)}): export one budget at a time",
                                   "zip")
        left = MAX_UNCOMPRESSED
        tables = []
        for n, info in enumerate([registers[0], *plans]):
            path = folder / f"table-{n}"
            with path.open("xb") as out:
                archive.inflate(zipped, info, out, left)
                left -= out.tell()
            tables.append(_Table.load(path, info.filename))
    named = _BUDGET_NAME.match(PurePosixPath(registers[0].filename).name)
    name = named.group("name").strip() if named else ""
    return tables[0], (tables[1] if len(tables) > 1 else None), name[:200] or "YNAB budget"


@dataclass
class _Table:
    """A delimited text table: its header and its rows, each with the line it ends on."""

    where: str  # the member's name, or "register CSV"
    header: list[str]
    rows: list[tuple[int, list[str]]]
    columns: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path, where: str) -> "_Table":
        with path.open("rb") as raw:
            escaped = _scan(raw, where)
        with path.open(encoding="utf-8-sig", newline="") as text:
            first = text.readline()
            text.seek(0)
            reader = csv.reader(text, delimiter=_delimiter(first), doublequote=True,
                                escapechar="\\" if escaped else None, strict=False)
            header: list[str] | None = None
            rows: list[tuple[int, list[str]]] = []
            try:
                for cells in reader:
                    if header is None:
                        header = [cell.strip().lstrip("\ufeff").strip() for cell in cells]
                        continue
                    if not any(cell.strip() for cell in cells):
                        continue
                    if len(rows) >= MAX_ROWS:
                        raise HistoryError(f"has more than {MAX_ROWS} rows", where)
                    rows.append((reader.line_num, cells))
            except csv.Error as exc:
                raise HistoryError(f"cannot be read as a table ({exc})",
                                   f"{where}, line {reader.line_num}") from exc
        if not header:
            raise HistoryError("is empty", where)
        table = cls(where, header, rows, {name: n for n, name in reversed(list(enumerate(header))) if name})
        for line, cells in rows:
            if len(cells) > len(header) and any(cell.strip() for cell in cells[len(header):]):
                raise HistoryError(f"has {len(cells)} fields where the header has {len(header)}: its quotes "
                                   "or separators are broken", table.at(line))
        return table

    def at(self, line: int) -> str:
        return f"{self.where}, line {line}"

    def require(self, needs: Sequence[str], what: str) -> None:
        missing = [name for name in needs if name not in self.columns]
        if missing:
            raise HistoryError(f"has no column {', '.join(missing)}: it is not {what} (its header is "
                               f"{', '.join(self.header[:12])})", self.at(1))

    def cell(self, cells: list[str], name: str) -> str:
        n = self.columns.get(name)
        return cells[n].strip() if n is not None and n < len(cells) else ""


def _scan(raw: BinaryIO, where: str) -> bool:
    """Check that the file is UTF-8 (naming the line where it is not); whether it escapes quotes with a
    backslash (older YNAB exports) rather than doubling them."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    escaped, tail, lines = False, b"", 0
    for chunk in iter(lambda: raw.read(1024 * 1024), b""):
        try:
            decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            line = lines + chunk[:max(exc.start, 0)].count(b"\n") + 1
            raise HistoryError(f"is not UTF-8 text, as YNAB writes it ({exc.reason}): was it saved again by "
                               "another program?", f"{where}, line {line}") from exc
        escaped = escaped or b'\\"' in tail + chunk
        tail, lines = chunk[-1:], lines + chunk.count(b"\n")
    return escaped


# --- amounts and dates --------------------------------------------------------------------------

def _number(text: str) -> tuple[str, bool] | None:
    """The digits-and-marks of an amount and whether it is negative; None when it holds no digit or
    something else sits among its digits."""
    digits = [n for n, char in enumerate(text) if char.isdigit()]
    if not digits:
        return None
    token = text[digits[0]:digits[-1] + 1]
    for mark in _GROUPING:
        token = token.replace(mark, "")
    if not re.fullmatch(r"[0-9.,]+", token):
        return None
    outside = text[:digits[0]] + text[digits[-1] + 1:]
    negative = any(minus in outside for minus in _MINUS) or ("(" in outside and ")" in outside)
    return token, negative


def _vote(token: str, minor_digits: int) -> str | None:
    """The decimal mark this amount points to, if it points to one."""
    dot, comma = token.rfind("."), token.rfind(",")
    if dot >= 0 and comma >= 0:
        return "." if dot > comma else ","
    mark = "." if dot >= 0 else "," if comma >= 0 else None
    if mark is None:
        return None
    other = "," if mark == "." else "."
    if token.count(mark) > 1:
        return other  # repeated: grouping
    after = len(token) - token.rfind(mark) - 1
    if after == 3 and minor_digits != 3:
        return other  # YNAB pads to the currency's decimals: three digits after it make it grouping
    return mark


class _Money:
    def __init__(self, cells: Iterable[str], minor_digits: int) -> None:
        self.digits = minor_digits
        votes = {".": 0, ",": 0}
        for text in cells:
            found = _number(text)
            if found is not None and (mark := _vote(found[0], minor_digits)) is not None:
                votes[mark] += 1
        self.decimal = "," if votes[","] > votes["."] else "."
        self.grouping = "." if self.decimal == "," else ","

    def minor(self, text: str, column: str, where: str) -> int:
        if not text:
            return 0
        found = _number(text)
        if found is None:
            raise HistoryError(f"{column} {text!r} is not an amount", where)
        token, negative = found
        point = token.rfind(self.decimal)
        if token.count(self.decimal) > 1 or (point >= 0 and self.grouping in token[point:]):
            raise HistoryError(f"{column} {text!r} is not an amount in the budget's format (decimal "
                               f"{'comma' if self.decimal == ',' else 'point'})", where)
        value = Decimal(token.replace(self.grouping, "").replace(self.decimal, "."))
        scaled = value.scaleb(self.digits)
        if scaled != scaled.to_integral_value():
            raise HistoryError(f"{column} {text!r} has more decimals than the currency's {self.digits}",
                               where)
        return -int(scaled) if negative else int(scaled)


class _Days:
    """The register's dates, read in the order (day or month first) the whole file settles."""

    def __init__(self, table: "_Table") -> None:
        day_first = month_first = None
        separators = set()
        for line, cells in table.rows:
            found = _YEAR_LAST.match(table.cell(cells, "Date"))
            if found is None:
                continue
            separators.add(found.group(2))
            if int(found.group(1)) > 12 and day_first is None:
                day_first = line
            if int(found.group(3)) > 12 and month_first is None:
                month_first = line
        if day_first is not None and month_first is not None:
            raise HistoryError(f"its dates are day first on line {day_first} and month first on line "
                               f"{month_first}: export the budget again", table.where)
        if day_first is not None or month_first is not None:
            self.day_first = day_first is not None
        else:
            self.day_first = "/" not in separators

    def day(self, text: str, where: str) -> date:
        try:
            if found := _YEAR_FIRST.match(text):
                return date(int(found.group(1)), int(found.group(3)), int(found.group(4)))
            if found := _YEAR_LAST.match(text):
                first, second, year = int(found.group(1)), int(found.group(3)), int(found.group(4))
                return date(year, second, first) if self.day_first else date(year, first, second)
        except ValueError as exc:
            raise HistoryError(f"date {text!r} is not a day", where) from exc
        raise HistoryError(f"date {text!r} is not a date this reader knows (12/30/2025, 30.12.2025, "
                           "2025-12-30, …)", where)


def _month(text: str, where: str) -> date:
    if named := _MONTH_NAMED.match(text):
        month = _MONTHS.get(named.group(1)[:3].lower())
        if month is not None:
            return date(int(named.group(2)), month, 1)
    elif numbered := _MONTH_NUMBERED.match(text):
        year, number = numbered.group(1, 2) if numbered.group(1) else numbered.group(4, 3)
        if 1 <= int(number) <= 12:
            return date(int(year), int(number), 1)
    raise HistoryError(f"month {text!r} is not a month this reader knows (Jan 2025)", where)


# --- the rows -----------------------------------------------------------------------------------

@dataclass
class _Row:
    line: int
    where: str
    account: str
    day: date
    payee: str
    category: tuple[str, str] | None  # (group, name); None: uncategorised
    memo: str
    amount: int
    status: ClearedState
    tags: tuple[str, ...]
    split: tuple[int, int] | None  # (n, of) for a split's part
    id: str = ""
    other: str | None = None  # a transfer's other account, when it is in the export

    @property
    def income(self) -> bool:
        return self.category is not None and _is_income(*self.category)


def _is_income(group: str, name: str) -> bool:
    return group.lower() == "inflow" and name.lower() in ("ready to assign", "to be budgeted")


def _category(table: _Table, cells: list[str]) -> tuple[str, str] | None:
    group, name = table.cell(cells, GROUP), table.cell(cells, CATEGORY)
    if GROUP not in table.columns or CATEGORY not in table.columns:
        combined = table.cell(cells, COMBINED)
        group, _, name = combined.partition(": ") if ": " in combined else ("", "", combined)
        group, name = group.strip(), name.strip()
    if not name:
        return None
    if name.lower() in ("uncategorized", "uncategorised") and \
            group.lower() in ("", "internal master category"):
        return None
    return group, name


def _source_id(category: tuple[str, str]) -> str:
    return INCOME_ID if _is_income(*category) else f"{category[0]}: {category[1]}"


class _Reader:
    def __init__(self, minor_digits: int) -> None:
        self.minor_digits = minor_digits
        self.skipped: dict[str, int] = defaultdict(int)

    def history(self, register: _Table, plan: _Table | None, name: str) -> History:
        register.require(REGISTER_NEEDS, "a YNAB Register (" + ", ".join(REGISTER_COLUMNS) + ")")
        if COMBINED not in register.columns and CATEGORY not in register.columns:
            register.require((COMBINED,), "a YNAB Register")
        if not register.rows:
            raise HistoryError("has no rows: the budget holds no transactions", register.where)
        if plan is not None:
            plan.require(PLAN_NEEDS, "a YNAB Plan")
            if "Assigned" not in plan.columns and "Budgeted" not in plan.columns:
                plan.require(("Assigned",), "a YNAB Plan")
        cells = [register.cell(c, column) for _, c in register.rows for column in ("Outflow", "Inflow")]
        if plan is not None:
            cells += [plan.cell(c, column) for _, c in plan.rows
                      for column in ("Assigned", "Budgeted", "Activity")]
        money = _Money(cells, self.minor_digits)
        rows = self.rows(register, money)

        accounts = sorted({row.account for row in rows}, key=lambda a: (a.casefold(), a))
        opening: dict[str, int] = defaultdict(int)
        units = self.splits(rows)
        plain: list[_Row | list[_Row]] = []
        for unit in units:
            if isinstance(unit, _Row) and unit.payee == STARTING_BALANCE and \
                    (unit.category is None or unit.income):
                opening[unit.account] += unit.amount
            else:
                plain.append(unit)
        legs = [row for unit in plain for row in (unit if isinstance(unit, list) else [unit])]
        names = set(accounts)
        for row in legs:
            found = _TRANSFER.match(row.payee)
            other = found.group("account").strip() if found else None
            if other in names and other != row.account:
                row.other = other
        transfers, paired = self.transfers([row for row in legs if row.other is not None])

        transactions: list[HistoryTransaction] = []
        for unit in plain:
            if isinstance(unit, list):
                parts = [row for row in unit if id(row) not in paired]
                if parts:
                    transactions.append(self.split(parts))
            elif id(unit) not in paired:
                if unit.amount == 0:
                    self.skipped["transaction of nothing"] += 1
                    continue
                transactions.append(self.transaction(unit))

        history = History(source=SOURCE, name=name, app=APP)
        history.accounts = [HistoryAccount(source_id=account, name=account[:100], kind=_kind(account),
                                           opening_balance_minor=opening[account], closed=False)
                            for account in accounts]
        used = [t.category_id for t in transactions] + [p.category_id for t in transactions for p in t.parts]
        history.categories, history.budgets = self.categories(rows, {c for c in used if c}, plan, money)
        history.transactions = sorted(transactions, key=lambda t: (t.booked_on, t.source_id))
        history.transfers = sorted(transfers, key=lambda t: (t.booked_on, t.source_id))
        history.payees = sorted({t.payee for t in history.transactions if t.payee}, key=str.lower)
        history.skipped = dict(self.skipped)
        return history

    def rows(self, table: _Table, money: _Money) -> list[_Row]:
        days = _Days(table)
        rows: list[_Row] = []
        seen: dict[str, int] = defaultdict(int)
        for line, cells in table.rows:
            where = table.at(line)
            account = table.cell(cells, "Account")
            if not account:
                raise HistoryError("has no account", where)
            memo = table.cell(cells, "Memo")
            split = None
            if found := _SPLIT.match(memo):
                split, memo = (int(found.group("n")), int(found.group("of"))), found.group("memo").strip()
            flag = table.cell(cells, "Flag")
            label = tag(f"flag-{flag}") if flag else None
            row = _Row(line=line, where=where, account=account,
                       day=days.day(table.cell(cells, "Date"), where), payee=table.cell(cells, "Payee"),
                       category=_category(table, cells), memo=memo,
                       amount=money.minor(table.cell(cells, "Inflow"), "Inflow", where)
                       - money.minor(table.cell(cells, "Outflow"), "Outflow", where),
                       status=_CLEARED.get(table.cell(cells, "Cleared").lower(), ClearedState.uncleared),
                       tags=(label,) if label else (), split=split)
            key = "\x1f".join((row.account, row.day.isoformat(), row.payee,
                               _source_id(row.category) if row.category else "", str(row.amount),
                               f"{split[0]}/{split[1]}" if split else ""))
            seen[key] += 1
            row.id = f"{hashlib.sha256(key.encode()).hexdigest()[:20]}.{seen[key]}"
            rows.append(row)
        return rows

    def splits(self, rows: list[_Row]) -> list[_Row | list[_Row]]:
        """The rows as transactions: a row, or a split's parts (consecutive, in turn, of one account and
        day); parts that do not make a whole split stand alone."""
        units: list[_Row | list[_Row]] = []
        pending: list[_Row] = []

        def flush() -> None:
            self.skipped["split parts whose split is not whole (imported one by one)"] += len(pending)
            units.extend(pending)
            pending.clear()

        for row in rows:
            if row.split is None:
                if pending:
                    flush()
                units.append(row)
                continue
            n, of = row.split
            if pending and not (n == len(pending) + 1 and of == pending[0].split[1]  # type: ignore[index]
                                and row.account == pending[0].account and row.day == pending[0].day):
                flush()
            if not pending and n != 1:
                pending.append(row)
                flush()
                continue
            pending.append(row)
            if n == of:
                units.append(list(pending))
                pending.clear()
        if pending:
            flush()
        return units

    def transfers(self, legs: list[_Row]) -> tuple[list[HistoryTransfer], set[int]]:
        """Pair each outgoing side with an incoming one of the same day, amount and accounts: one of the
        same memo first, then the rest in the order of the file. Returns the transfers and the rows they
        took (by `id`), sides of nothing included."""
        outgoing: dict[tuple[date, str, str, int], list[_Row]] = defaultdict(list)
        incoming: dict[tuple[date, str, str, int], list[_Row]] = defaultdict(list)
        for row in legs:
            assert row.other is not None
            if row.amount < 0:
                outgoing[(row.day, row.account, row.other, -row.amount)].append(row)
            elif row.amount > 0:
                incoming[(row.day, row.other, row.account, row.amount)].append(row)
        pairs: list[tuple[_Row, _Row]] = []
        for key, outs in outgoing.items():
            ins = list(incoming.get(key, ()))
            rest = []
            for out in outs:
                same = next((n for n, row in enumerate(ins) if row.memo == out.memo), None)
                if same is None:
                    rest.append(out)
                else:
                    pairs.append((out, ins.pop(same)))
            pairs += zip(rest, ins, strict=False)
        taken = {id(row) for pair in pairs for row in pair}
        for row in legs:
            if row.amount == 0 and row.split is None:
                self.skipped["side of a transfer of nothing"] += 1
                taken.add(id(row))
        return [self.transfer(out, into) for out, into in pairs], taken

    def transfer(self, out: _Row, into: _Row) -> HistoryTransfer:
        if out.category is not None or into.category is not None:
            self.skipped["category of a transfer left out (a transfer is never spending in Tally)"] += 1
        notes = [note for note in dict.fromkeys((out.memo, into.memo)) if note]
        return HistoryTransfer(
            source_id=out.id, from_account_id=out.account, to_account_id=into.account, booked_on=out.day,
            amount_minor=-out.amount, note=" / ".join(notes)[:1000],
            status=max(out.status, into.status, key=_STATUS_ORDER.index),
            tags=tuple(dict.fromkeys((*out.tags, *into.tags))))

    def transaction(self, row: _Row) -> HistoryTransaction:
        return HistoryTransaction(
            source_id=row.id, account_id=row.account, booked_on=row.day, amount_minor=row.amount,
            payee=row.payee[:200], note=row.memo[:1000],
            category_id=_source_id(row.category) if row.category else None, status=row.status, tags=row.tags)

    def split(self, rows: list[_Row]) -> HistoryTransaction:
        parts = []
        for row in rows:
            if row.amount == 0:
                self.skipped["split part of nothing"] += 1
                continue
            parts.append(HistoryPart(source_id=row.id, amount_minor=row.amount,
                                     category_id=_source_id(row.category) if row.category else None,
                                     note=row.memo[:200]))
        first = rows[0]
        payee = next((row.payee for row in rows if row.payee and row.other is None), "")
        return HistoryTransaction(
            source_id=f"split:{first.id}", account_id=first.account, booked_on=first.day,
            amount_minor=sum(p.amount_minor for p in parts), payee=payee[:200], parts=tuple(parts),
            status=first.status, tags=tuple(dict.fromkeys(t for row in rows for t in row.tags)))

    def categories(self, rows: list[_Row], ids: set[str], plan: _Table | None,
                   money: _Money) -> tuple[list[HistoryCategory], list[HistoryBudget]]:
        """The Plan's categories in its order (bar Credit Card Payments), then those of the transactions
        (`ids`) the Plan lacks (hidden in YNAB when there is a Plan); the Plan's budgets."""
        used: dict[str, tuple[str, str]] = {}
        for row in rows:
            if row.category is not None and _source_id(row.category) in ids:
                used.setdefault(_source_id(row.category), row.category)
        found: dict[str, tuple[str, str]] = {}
        budgets = []
        if plan is not None:
            column = "Assigned" if "Assigned" in plan.columns else "Budgeted"
            for line, cells in plan.rows:
                where = plan.at(line)
                category = _category(plan, cells)
                month = _month(plan.cell(cells, "Month"), where)
                amount = money.minor(plan.cell(cells, column), column, where)
                if category is None or _is_income(*category):
                    continue
                key = _source_id(category)
                if category[0].lower() == CARD_PAYMENTS and key not in used:
                    if amount:
                        self.skipped["budget of a Credit Card Payments category (YNAB's bookkeeping)"] += 1
                    continue
                found.setdefault(key, category)
                if amount:
                    budgets.append(HistoryBudget(category_id=key, month=month, amount_minor=amount,
                                                 rollover=True))
        categories = [HistoryCategory(source_id=key, name=name[:100], group=group[:100] or "YNAB",
                                      kind=CategoryKind.expense) for key, (group, name) in found.items()]
        for key, (group, name) in used.items():
            if key in found:
                continue
            if key == INCOME_ID:
                categories.append(HistoryCategory(source_id=INCOME_ID, name=INCOME_NAME, group=INCOME_GROUP,
                                                  kind=CategoryKind.income))
            else:
                categories.append(HistoryCategory(source_id=key, name=name[:100], group=group[:100] or "YNAB",
                                                  kind=CategoryKind.expense, hidden=plan is not None))
        return categories, budgets


def _kind(name: str) -> AccountKind:
    lower = name.lower()
    return next((kind for word, kind in _KINDS if word in lower), AccountKind.checking)

