"""Actual Budget's export (Settings → Export data: a zip of `db.sqlite` and `metadata.json`) read into a
neutral `History`. Pure: bytes in, dataclasses out; the SQLite file is inflated into a temp file of its own
and opened read-only.

The zip is checked (archive.py) before anything is read from it: a few members only, no links, no
absolute or `..` names, no encryption, and at most `MAX_UNCOMPRESSED` bytes once inflated (counted while
inflating, not taken from the headers) at a plausible ratio. The SQLite file must have Actual's tables
and columns.

What is read, in Actual's own schema (its migrations in @actual-app/api):
- `accounts`: live ones (tombstone = 0); `closed` → closed; `offbudget` kept.
- `category_groups` and `categories`: live ones; an income group (`is_income`) gives income categories.
  A transaction's category goes through `category_mapping` (a deleted category maps to the one its
  transactions moved to, as Actual shows them).
- `payees` through `payee_mapping` (merged payees); a transfer payee (`transfer_acct`) names no one.
- `transactions`: amounts are integer cents (hundredths whatever the currency), dates integers YYYYMMDD.
  A split is a parent row (`isParent`) and its child rows (`isChild`, `parent_id`): the children carry
  the money, as in Actual's own balances. A transfer is two rows naming each other (`transferred_id`):
  it becomes one transfer, with no category (Actual gives one to a transfer to an off-budget account:
  in Tally a transfer is never spending). A row with `starting_balance_flag` (or the payee "Starting
  Balance") is the account's opening balance.
  `cleared`/`reconciled` give the cleared state, `notes` the note. Deleted rows (tombstone) are left out.
- Budgets: the amount budgeted per category and month, in `zero_budgets` for envelope budgeting (Actual's
  default) or `reflect_budgets` for tracking budgeting (`budgetType` in `preferences`); months are
  integers YYYYMM, amounts cents. Only live expense categories' rows, as Actual's own budget sheet reads
  them: a deleted category's rows count nowhere (when Actual deletes a category into another it adds the
  amounts of the months it has open itself, so following `category_mapping` would count them twice),
  and Tally budgets spending only (an income category's amount is counted as skipped). A month without a
  row is one Actual shows as nothing budgeted. What is left of a category at a month's end: envelope
  budgeting keeps it in the category, so the months carry over (rollover; Actual carries overspending
  only with the `carryover` flag, Tally's rollover always does: see docs/importing.md); tracking
  budgeting carries only with the `carryover` flag, so rollover is that flag.

Not read: schedules, rules, tags, notes on accounts and categories (the `notes` table), bank-sync links,
budget goals and templates, money held for next month.
"""

import io
import json
import os
import shutil
import sqlite3
import tempfile
import weakref
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from tally_ledger.history import archive, sqlite_file
from tally_ledger.history.model import (
    Entry,
    Found,
    History,
    HistoryAccount,
    HistoryBudget,
    HistoryCategory,
    HistoryError,
    HistoryPart,
    HistoryTransaction,
    HistoryTransfer,
    in_booking_order,
)
from tallykit.contracts.ledger import AccountKind, CategoryKind, ClearedState

SOURCE = "Actual Budget export"
APP = "actual"
MAX_MEMBERS = 8
MAX_UNCOMPRESSED = 500 * 1024 * 1024  # Actual's own limit for an export (MAX_ZIP_SIZE)
MAX_METADATA = 1024 * 1024
_SQLITE_HEADER = b"SQLite format 3\x00"

# The tables and columns read; a file without them is not Actual's (or is of a version too old).
REQUIRED = {
    "accounts": ("id", "name", "offbudget", "closed", "tombstone"),
    "category_groups": ("id", "name", "is_income", "tombstone"),
    "categories": ("id", "name", "is_income", "cat_group", "tombstone"),
    "payees": ("id", "name", "transfer_acct", "tombstone"),
    "transactions": ("id", "isParent", "isChild", "acct", "category", "amount", "description", "notes",
                     "date", "transferred_id", "tombstone", "cleared", "parent_id"),
}

_KINDS = {"checking": AccountKind.checking, "savings": AccountKind.savings, "credit": AccountKind.credit_card,
          "investment": AccountKind.investment, "mortgage": AccountKind.loan, "debt": AccountKind.loan}


def looks_like(head: bytes, filename: str) -> bool:
    """A zip: the sources list Actual after the other apps whose exports are zips, so a zip no one else
    claims is read here and, when it is not Actual's either, refused naming what it holds."""
    return head[:4] == b"PK\x03\x04"


def read(file: Path, *, minor_digits: int = 2) -> History:
    """The history in an Actual export; amounts in minor units of a currency with `minor_digits` digits.
    Raises HistoryError naming what is wrong and where.

    The history streams: its transactions and transfers stay in the inflated db.sqlite (a temporary
    folder of its own, removed by `History.close()` or once the history is garbage) and are read again,
    in booking order, whenever they are wanted. This first pass reads every row, raising what is wrong
    with any, and keeps only what it found: accounts with their opening balances, categories, payees,
    budgets, counts and days, and which rows are parts of which split."""
    folder = Path(tempfile.mkdtemp(prefix="tally-history-"))
    try:
        path = folder / "db.sqlite"
        metadata = _metadata(_unzip(file, path))
        with _database(path) as db:
            _require_schema(db)
            history, found, tables = _Reader(db, metadata, minor_digits).history()
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    close = weakref.finalize(history, shutil.rmtree, folder, True)

    def entries() -> Iterator[Entry]:
        # Its own connection, which the worker threads that read a migration's chunks take in turn.
        with sqlite_file.opened(path, "db.sqlite", any_thread=True) as db:
            yield from _Reader(db, metadata, minor_digits).entries(tables)

    history.stream = found.stream(entries, close)
    return history


# --- the zip -------------------------------------------------------------------------------------

def _unzip(file: Path, database: Path) -> bytes:
    """Check the zip, inflate its db.sqlite into `database` (a new file) and return its metadata.json."""
    with archive.open_zip(file) as zipped:
        infos = archive.checked(zipped, max_members=MAX_MEMBERS, max_bytes=MAX_UNCOMPRESSED,
                                usual="an Actual export holds 2")
        names = {info.filename for info in infos}
        missing = [n for n in ("db.sqlite", "metadata.json") if n not in names]
        if missing:
            raise HistoryError(f"the zip has no {' and no '.join(missing)} at its top: it is not an Actual "
                               f"Budget export (it holds {', '.join(sorted(names)[:5]) or 'nothing'})", "zip")
        metadata = io.BytesIO()
        archive.inflate(zipped, zipped.getinfo("metadata.json"), metadata, MAX_METADATA)
        fd = os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            archive.inflate(zipped, zipped.getinfo("db.sqlite"), out, MAX_UNCOMPRESSED - metadata.tell())
        return metadata.getvalue()


def _metadata(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HistoryError(f"is not JSON ({exc})", "metadata.json") from exc
    if not isinstance(value, dict):
        raise HistoryError("is not a JSON object", "metadata.json")
    return value


@contextmanager
def _database(path: Path) -> Iterator[sqlite3.Connection]:
    with path.open("rb") as file:
        if file.read(len(_SQLITE_HEADER)) != _SQLITE_HEADER:
            raise HistoryError("is not a SQLite database", "db.sqlite")
    with sqlite_file.opened(path, "db.sqlite") as db:
        yield db


def _require_schema(db: sqlite3.Connection) -> None:
    sqlite_file.require(db, REQUIRED, what="an Actual Budget database", since="2022 on", where="db.sqlite")


# --- the rows ------------------------------------------------------------------------------------

def _optional(db: sqlite3.Connection, table: str, column: str, default: str) -> str:
    """A column that older Actual files lack, or a constant in its place under its name."""
    return column if column in sqlite_file.columns(db, table) else f"{default} AS {column}"


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


class _Reader:
    def __init__(self, db: sqlite3.Connection, metadata: dict[str, Any], minor_digits: int) -> None:
        self.db = db
        self.metadata = metadata
        self.minor_digits = minor_digits
        self.skipped: dict[str, int] = defaultdict(int)

    def history(self) -> tuple[History, "Found", "_Tables"]:
        """The first pass: everything but the entries themselves, and what reading them again needs."""
        accounts = self.accounts()
        categories, category_of = self.categories()
        payee_of = self.payees()
        tables = _Tables(set(accounts), category_of, payee_of, self.split_parts(set(accounts)))
        found = Found()
        for entry in self.entries(tables, found):
            found.add(entry)
        history = History(source=SOURCE, name=_text(self.metadata.get("budgetName")) or "Actual budget",
                          app=APP)
        history.accounts = [a.__class__(**{**a.__dict__, "opening_balance_minor": found.opening[a.source_id]})
                            for a in accounts.values()]
        history.categories = [c for c in categories if c.source_id in found.used or not _starting_balances(c)]
        history.payees = sorted(found.payees, key=str.lower)
        history.budgets = self.budgets(categories)
        history.skipped = dict(self.skipped)
        return history, found, tables

    def split_parts(self, accounts: set[str]) -> dict[str, list[int]]:
        """Split transaction id → the rowids of its parts (live rows of live accounts whose parent is a
        live split of a live account), in booking order."""
        parts: dict[str, list[int]] = defaultdict(list)
        for row in self.db.execute(
                f"SELECT t.rowid, t.acct, p.acct AS parent_acct, p.id AS parent FROM transactions t "  # noqa: S608
                f"JOIN transactions p ON p.id = {_PARENT} "
                "WHERE t.tombstone = 0 AND t.isChild AND p.tombstone = 0 AND p.isParent "
                "ORDER BY t.date, t.rowid"):
            if row["acct"] in accounts and row["parent_acct"] in accounts:
                parts[row["parent"]].append(row["rowid"])
        return dict(parts)

    def entries(self, tables: "_Tables", found: "Found | None" = None) -> Iterator[Entry]:
        """Every transaction and transfer, in booking order: day by day; on a day the transactions, then
        the transfers, each by source id. A transfer is given by its outgoing side, a split by its parent
        row (with its parts). `found` (the first pass) gets the opening balances."""
        day: Any = None
        plain: list[HistoryTransaction] = []
        transfers: list[HistoryTransfer] = []
        for row in self.rows(tables.accounts, "t.tombstone = 0"):
            if row["date"] != day:
                yield from in_booking_order(plain, transfers)
                day, plain, transfers = row["date"], [], []
            if row["isParent"]:
                transaction = self.parent(row, tables)
                if transaction is not None:
                    plain.append(transaction)
                continue
            if _paired(row, tables.accounts):
                if row["amount"] < 0:
                    transfers.append(self.transfer(row, tables.payee_of))
                elif row["amount"] == 0 and row["id"] < row["p_id"]:
                    self.skipped["transfer of nothing"] += 1
                continue
            if row["isChild"]:
                if _parent_id(row) not in tables.parts:
                    self.skipped["split part whose transaction was deleted"] += 1
                continue  # with its parent
            if self.is_starting_balance(row, tables.payee_of):
                if found is not None:
                    found.opening[row["acct"]] += self.minor(row)
                continue
            if row["amount"] == 0:
                self.skipped["transaction of nothing"] += 1
                continue
            plain.append(self.transaction(row, tables.category_of, tables.payee_of))
        yield from in_booking_order(plain, transfers)

    def parent(self, row: sqlite3.Row, tables: "_Tables") -> HistoryTransaction | None:
        """A split transaction with its parts that are not sides of a transfer."""
        rowids = tables.parts.get(row["id"], [])
        if not rowids:
            self.skipped["split transaction without parts"] += 1
            return None
        children = list(self.rows(tables.accounts, f"t.rowid IN ({', '.join('?' * len(rowids))})", rowids))
        parts = [c for c in children if not _paired(c, tables.accounts)]
        if not parts:
            return None  # every part is a transfer
        return self.split(row, parts, tables.category_of, tables.payee_of)

    def rows(self, accounts: set[str], where: str, parameters: Sequence[Any] = ()) -> Iterator[sqlite3.Row]:
        """Live rows of live accounts in booking order, each with its transfer partner's columns (p_…)."""
        present = sqlite_file.columns(self.db, "transactions")
        reconciled = "{}.reconciled" if "reconciled" in present else "0"
        starting = "t.starting_balance_flag" if "starting_balance_flag" in present else "0"
        for row in self.db.execute(
                "SELECT t.id, t.isParent, t.isChild, t.acct, t.category, t.amount, t.description, "  # noqa: S608
                f"t.notes, t.date, t.transferred_id, t.cleared, t.parent_id, {reconciled.format('t')} "
                f"AS reconciled, {starting} AS starting_balance_flag, p.id AS p_id, "
                "p.isParent AS p_isParent, p.acct AS p_acct, p.amount AS p_amount, "
                "p.transferred_id AS p_transferred_id, p.notes AS p_notes, p.cleared AS p_cleared, "
                f"{reconciled.format('p')} AS p_reconciled "
                "FROM transactions t LEFT JOIN transactions p ON p.id = t.transferred_id AND p.tombstone = 0 "
                f"WHERE {where} ORDER BY t.date, t.rowid", parameters):
            if row["acct"] not in accounts:
                self.skipped["transaction of a deleted account"] += 1
                continue
            if not isinstance(row["amount"], int):
                raise HistoryError(f"amount {row['amount']!r} is not a whole number of cents",
                                   f"db.sqlite, transactions row {row['id']}")
            yield row

    # accounts, categories, payees

    def accounts(self) -> dict[str, HistoryAccount]:
        kind_column = _optional(self.db, "accounts", "type", "NULL")
        found = {}
        for row in self.db.execute(f"SELECT id, name, offbudget, closed, {kind_column} FROM accounts "  # noqa: S608
                                   "WHERE tombstone = 0 ORDER BY rowid"):
            name = _text(row["name"])[:100] or "Actual account"
            kind = _KINDS.get(_text(row["type"]).lower())
            if kind is None:
                kind = AccountKind.savings if "saving" in name.lower() else \
                    AccountKind.credit_card if "card" in name.lower() else AccountKind.checking
            found[row["id"]] = HistoryAccount(source_id=row["id"], name=name, kind=kind,
                                              opening_balance_minor=0, closed=bool(row["closed"]),
                                              off_budget=bool(row["offbudget"]))
        return found

    def categories(self) -> tuple[list[HistoryCategory], dict[str, str]]:
        """The live categories, and for every category id a transaction may name, the live one it
        stands for today (through `category_mapping`)."""
        groups = {row["id"]: row for row in self.db.execute(
            "SELECT id, name, is_income FROM category_groups WHERE tombstone = 0")}
        hidden = _optional(self.db, "categories", "hidden", "0")
        order = _optional(self.db, "categories", "sort_order", "0")
        categories = []
        for row in self.db.execute(f"SELECT id, name, is_income, cat_group, {hidden}, {order} "  # noqa: S608
                                   "FROM categories WHERE tombstone = 0 ORDER BY sort_order, rowid"):
            group = groups.get(row["cat_group"])
            if group is None:
                self.skipped["category of a deleted group"] += 1
                continue
            income = bool(group["is_income"] or row["is_income"])
            categories.append(HistoryCategory(
                source_id=row["id"], name=_text(row["name"])[:100] or "Actual category",
                group=_text(group["name"])[:100] or "Actual", kind=CategoryKind.income if income
                else CategoryKind.expense, hidden=bool(row["hidden"])))
        live = {c.source_id for c in categories}
        mapping = {}
        if "category_mapping" in sqlite_file.tables(self.db):
            mapping = {row["id"]: row["transferId"] for row in self.db.execute(
                "SELECT id, transferId FROM category_mapping")}
        category_of = {c: c for c in live}
        for source, target in mapping.items():
            seen = {source}
            while target in mapping and mapping[target] != target and target not in seen:
                seen.add(target)
                target = mapping[target]
            if target in live:
                category_of[source] = target
        return categories, category_of

    def payees(self) -> dict[str, str]:
        """Payee id → name (merged payees → their target's); transfer payees name no one."""
        names = {row["id"]: "" if row["transfer_acct"] else _text(row["name"])[:200]
                 for row in self.db.execute("SELECT id, name, transfer_acct FROM payees WHERE tombstone = 0")}
        if "payee_mapping" in sqlite_file.tables(self.db):
            for row in self.db.execute("SELECT id, targetId FROM payee_mapping"):
                if row["targetId"] in names and row["id"] != row["targetId"]:
                    names[row["id"]] = names[row["targetId"]]
        return names

    # transactions

    def is_starting_balance(self, row: sqlite3.Row, payee_of: dict[str, str]) -> bool:
        if row["starting_balance_flag"]:
            return True
        return payee_of.get(row["description"] or "") == "Starting Balance"

    def minor(self, row: sqlite3.Row, table: str = "transactions") -> int:
        cents = int(row["amount"])
        if self.minor_digits == 2:
            return cents
        scaled, left = divmod(cents * 10 ** self.minor_digits, 100)
        if left:
            raise HistoryError(f"amount {cents / 100} has more decimals than the currency's "
                               f"{self.minor_digits}", f"db.sqlite, {table} row {row['id']}")
        return int(scaled)

    def day(self, row: sqlite3.Row) -> date:
        value = row["date"]
        try:
            number = int(value)
            return date(number // 10000, number // 100 % 100, number % 100)
        except (TypeError, ValueError) as exc:
            raise HistoryError(f"date {value!r} is not a day (YYYYMMDD)",
                               f"db.sqlite, transactions row {row['id']}") from exc

    def status(self, row: sqlite3.Row) -> ClearedState:
        if row["reconciled"]:
            return ClearedState.reconciled
        return ClearedState.cleared if row["cleared"] else ClearedState.uncleared

    def transaction(self, row: sqlite3.Row, category_of: dict[str, str],
                    payee_of: dict[str, str]) -> HistoryTransaction:
        return HistoryTransaction(
            source_id=row["id"], account_id=row["acct"], booked_on=self.day(row),
            amount_minor=self.minor(row), payee=payee_of.get(row["description"] or "", ""),
            note=_text(row["notes"])[:1000],
            category_id=self.category(row, category_of), status=self.status(row))

    def category(self, row: sqlite3.Row, category_of: dict[str, str]) -> str | None:
        if not row["category"]:
            return None
        found = category_of.get(row["category"])
        if found is None:
            self.skipped["category left out: it was deleted"] += 1
        return found

    def split(self, parent: sqlite3.Row, children: list[sqlite3.Row], category_of: dict[str, str],
              payee_of: dict[str, str]) -> HistoryTransaction | None:
        parts = []
        for child in children:
            if child["amount"] == 0:
                self.skipped["split part of nothing"] += 1
                continue
            parts.append(HistoryPart(source_id=child["id"], amount_minor=self.minor(child),
                                     category_id=self.category(child, category_of),
                                     note=_text(child["notes"])[:200]))
        if not parts:
            return None
        named = [payee_of.get(row["description"] or "", "") for row in (parent, *children)]
        payee = next((name for name in named if name), "")
        return HistoryTransaction(
            source_id=parent["id"], account_id=parent["acct"], booked_on=self.day(parent),
            amount_minor=sum(p.amount_minor for p in parts), payee=payee, note=_text(parent["notes"])[:1000],
            parts=tuple(parts), status=self.status(parent))

    def transfer(self, out: sqlite3.Row, payee_of: dict[str, str]) -> HistoryTransfer:
        """The transfer whose outgoing side is `out` (its partner's columns, p_…, the incoming side)."""
        notes = [n for n in dict.fromkeys((_text(out["notes"]), _text(out["p_notes"]))) if n]
        into = ClearedState.reconciled if out["p_reconciled"] else \
            ClearedState.cleared if out["p_cleared"] else ClearedState.uncleared
        return HistoryTransfer(
            source_id=out["id"], from_account_id=out["acct"], to_account_id=out["p_acct"],
            booked_on=self.day(out), amount_minor=-self.minor(out), note=" / ".join(notes)[:1000],
            status=max(self.status(out), into, key=_STATUS_ORDER.index))

    # budgets

    def budget_type(self) -> str:
        """"envelope" (Actual's default, also when the file does not say) or "tracking"."""
        if "preferences" not in sqlite_file.tables(self.db) or \
                "value" not in sqlite_file.columns(self.db, "preferences"):
            return "envelope"
        row = self.db.execute("SELECT value FROM preferences WHERE id = 'budgetType'").fetchone()
        return "tracking" if row is not None and _text(row["value"]) == "tracking" else "envelope"

    def budgets(self, categories: list[HistoryCategory]) -> list[HistoryBudget]:
        """The rows of the budget table in use, of live expense categories, month by month."""
        tracking = self.budget_type() == "tracking"
        table = "reflect_budgets" if tracking else "zero_budgets"
        if table not in sqlite_file.tables(self.db):
            return []
        present = sqlite_file.columns(self.db, table)
        absent = [c for c in ("id", "month", "category", "amount") if c not in present]
        if absent:
            raise HistoryError(f"table {table} has no column {', '.join(absent)}: not an Actual Budget "
                               "database, or one older than this reader knows (2022 on)", "db.sqlite")
        carryover = _optional(self.db, table, "carryover", "0")
        kinds = {c.source_id: c.kind for c in categories}
        found = []
        for row in self.db.execute(f"SELECT id, month, category, amount, {carryover} "  # noqa: S608
                                   f"FROM {table} ORDER BY month, rowid"):
            kind = kinds.get(row["category"])
            if kind is None:
                continue  # a deleted category's: Actual's sheet counts it nowhere
            where = f"db.sqlite, {table} row {row['id']}"
            if row["amount"] is not None and not isinstance(row["amount"], int):
                raise HistoryError(f"amount {row['amount']!r} is not a whole number of cents", where)
            amount = self.minor(row, table) if row["amount"] else 0
            if kind is CategoryKind.income:
                if amount:
                    self.skipped["budget of an income category (Tally budgets spending)"] += 1
                continue
            if amount < 0:
                self.skipped["budget below nothing (counted as nothing budgeted)"] += 1
                amount = 0
            found.append(HistoryBudget(category_id=row["category"], month=_month(row["month"], where),
                                       amount_minor=amount, rollover=not tracking or bool(row["carryover"])))
        return found


_STATUS_ORDER = [ClearedState.uncleared, ClearedState.cleared, ClearedState.reconciled]


def _month(value: Any, where: str) -> date:
    """Actual's month, an integer YYYYMM, as its first day."""
    try:
        number = int(value)
        return date(number // 100, number % 100, 1)
    except (TypeError, ValueError) as exc:
        raise HistoryError(f"month {value!r} is not a month (YYYYMM)", where) from exc


# `_parent_id` in SQL, of the row `t`.
_PARENT = ("CASE WHEN t.parent_id IS NOT NULL AND t.parent_id != '' THEN t.parent_id "
           "WHEN instr(t.id, '/') > 0 THEN substr(t.id, 1, instr(t.id, '/') - 1) ELSE t.id END")


@dataclass(frozen=True)
class _Tables:
    """What reading the entries needs of the first pass."""

    accounts: set[str]  # live accounts
    category_of: dict[str, str]
    payee_of: dict[str, str]
    parts: dict[str, list[int]]  # split transaction id → its parts' rowids


def _paired(row: sqlite3.Row, accounts: set[str]) -> bool:
    """Whether the row is one side of a transfer: two live rows of two live accounts, neither a split,
    naming each other, of opposite amounts."""
    return (row["p_id"] is not None and not row["isParent"] and not row["p_isParent"]
            and row["p_transferred_id"] == row["id"] and row["p_acct"] != row["acct"]
            and row["p_acct"] in accounts and row["p_amount"] == -row["amount"])


def _parent_id(row: sqlite3.Row) -> str:
    """A child's parent: `parent_id`, or in old files the part of its id before the slash."""
    return str(row["parent_id"] or str(row["id"]).split("/")[0])


def _starting_balances(category: HistoryCategory) -> bool:
    return category.kind == CategoryKind.income and category.name.lower() == "starting balances"
