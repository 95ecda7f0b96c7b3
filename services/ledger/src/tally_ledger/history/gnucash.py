"""A GnuCash book read into a neutral `History`: the SQLite file GnuCash saves (File → Save As, SQLite;
or one made by piecash) or its XML file (`.gnucash`, gzip-compressed by default, also plain). Pure: a file
in, dataclasses out.

- SQLite is read with the standard library from a copy of its own, opened read-only and immutable, with
  untrusted schema code switched off; it must have GnuCash's tables and columns (as since GnuCash 2.4).
- XML is parsed as a stream by defusedxml, which refuses a DTD, entities and external references (a
  GnuCash book has none); the compressed file is inflated as it is read, within `MAX_INFLATED` bytes and
  at a plausible ratio. Scheduled transactions' templates (`gnc:template-transactions`) are not read.

The book's currency is its root account's (GnuCash's default currency for the book); accounts and
postings in another currency or commodity are not imported (see `double_entry` for what their money
becomes). Account types: BANK, CASH, ASSET, CREDIT and LIABILITY are the household's accounts (closed
when hidden or a placeholder); INCOME and EXPENSE categories (hidden when hidden); EQUITY opening balances;
the top-level "Imbalance-XXX" and "Orphan-XXX" accounts GnuCash makes hold uncategorised money; STOCK,
MUTUAL, RECEIVABLE, PAYABLE and TRADING accounts are not imported and counted. Amounts are GnuCash's
exact fractions (quantity, in the account's commodity): one that does not fit the currency's minor unit is
refused, naming its transaction. The day of a transaction is its `date-posted` slot, or else the day
nearest to its posting time (GnuCash stores 10:59 UTC for a day, older books local midnight).
Description → payee, notes → note, split memos → notes of parts, reconcile state c → cleared, y (and
frozen, f) → reconciled.

Not read: scheduled transactions, budgets, prices, business features (invoices, customers, vendors),
lots, transaction numbers and split actions.
"""

import gzip
import os
import re
import shutil
import sqlite3
import tempfile
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from tally_ledger.history import sqlite_file
from tally_ledger.history.double_entry import BookAccount, Books, Entry, Posting, Role
from tally_ledger.history.model import History, HistoryError
from tallykit.contracts.ledger import AccountKind, ClearedState

SOURCE = "GnuCash book"
APP = "gnucash"
MAX_INFLATED = 1024 * 1024 * 1024  # a large personal book is some 100 MiB of XML
MAX_RATIO = 100  # GnuCash's XML deflates some tenfold, not a hundredfold
RATIO_FROM = 16 * 1024 * 1024
_SQLITE_HEADER = b"SQLite format 3\x00"
_GZIP_HEADER = b"\x1f\x8b"
_XML_ROOT = b"<gnc-v2"

# The tables and columns read; a SQLite file without them is not GnuCash's.
REQUIRED = {
    "books": ("guid", "root_account_guid"),
    "commodities": ("guid", "namespace", "mnemonic"),
    "accounts": ("guid", "name", "account_type", "commodity_guid", "parent_guid", "hidden", "placeholder"),
    "transactions": ("guid", "currency_guid", "post_date", "description"),
    "splits": ("guid", "tx_guid", "account_guid", "memo", "reconcile_state", "quantity_num",
               "quantity_denom"),
    "slots": ("obj_guid", "name", "string_val", "gdate_val"),
}

_OWN = {"BANK", "CASH", "ASSET", "CREDIT", "LIABILITY"}
_ROLES = {"INCOME": Role.income, "EXPENSE": Role.expense, "EQUITY": Role.equity}
_NOT_READ = {"STOCK", "MUTUAL", "RECEIVABLE", "PAYABLE", "TRADING"}
_STATES = {"c": ClearedState.cleared, "y": ClearedState.reconciled, "f": ClearedState.reconciled}
_UNPLACED = re.compile(r"(Imbalance|Orphan)-[A-Z]{3}")
OTHER_POSTING = "posting on an account not imported (another currency or commodity, or an investment): " \
    "its money kept as uncategorised"


def looks_like(head: bytes, filename: str) -> bool:
    """A SQLite file (no other source app hands one over bare), or GnuCash's XML, compressed or not."""
    if head.startswith(_SQLITE_HEADER):
        return True
    if head.startswith(_GZIP_HEADER):
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 4096)
        except zlib.error:
            return False
    return _XML_ROOT in head[:4096]


def read(file: Path, *, minor_digits: int = 2) -> History:
    """The history in a GnuCash book, amounts in minor units of a currency with `minor_digits` digits.
    Raises HistoryError naming what is wrong and where."""
    with file.open("rb") as stream:
        head = stream.read(len(_SQLITE_HEADER))
    if head != _SQLITE_HEADER:
        return _xml_book(file).history(minor_digits)
    with tempfile.TemporaryDirectory(prefix="tally-history-") as folder:
        copy = Path(folder) / "book.gnucash"
        shutil.copyfile(file, copy)  # SQLite's journal or WAL files, if it looked for any, are then ours
        with sqlite_file.opened(copy, "SQLite") as db:
            _require_schema(db)
            return _sqlite_book(db).history(minor_digits)  # which reads the transactions from the copy


# --- the book, as either file gives it -------------------------------------------------------------

@dataclass(frozen=True)
class _Account:
    guid: str
    name: str
    type: str
    commodity: tuple[str, str] | None  # (namespace, mnemonic)
    parent: str | None
    placeholder: bool
    hidden: bool


@dataclass(frozen=True)
class _Split:
    guid: str
    account: str
    memo: str
    state: str
    quantity: tuple[int, int]  # numerator, denominator


@dataclass
class _Transaction:
    guid: str
    day: date
    description: str
    notes: str
    splits: list[_Split] = field(default_factory=list)


@dataclass
class _Book:
    root: str
    accounts: dict[str, _Account]
    transactions: Iterable[_Transaction]  # read from the file as they are wanted, once

    def history(self, minor_digits: int) -> History:
        currency = self.currency()
        skipped: dict[str, int] = defaultdict(int)
        paths = self.paths()
        accounts: dict[str, BookAccount] = {}
        for guid, path in paths.items():
            account = self.accounts[guid]
            role = self.role(account, path)
            if account.type in _NOT_READ:
                skipped[f"account of a type not imported ({account.type})"] += 1
            elif account.commodity != currency:
                if role is not None:
                    skipped[f"account in another currency or commodity ({_mnemonic(account)})"] += 1
            elif role is not None:
                accounts[guid] = BookAccount(
                    source_id=guid, path=path, role=role, kind=_kind(account),
                    closed=account.hidden or (account.placeholder and role == Role.own),
                    placeholder=account.placeholder)
        books = Books([accounts[guid] for guid in paths if guid in accounts])
        return books.history(self.entries(paths, accounts, minor_digits, skipped), source=SOURCE,
                             name="GnuCash book", app=APP, currency=currency[1], skipped=skipped)

    def entries(self, paths: dict[str, tuple[str, ...]], accounts: dict[str, BookAccount], minor_digits: int,
                skipped: dict[str, int]) -> Iterator[Entry]:
        for transaction in self.transactions:
            splits = [s for s in transaction.splits if s.account in paths]
            if not splits:
                continue  # a scheduled transaction's template, on accounts outside the book's tree
            postings, elsewhere = [], []
            where = f"transaction {transaction.guid} of {transaction.day} ({transaction.description[:40]!r})"
            for split in splits:
                if split.account not in accounts:
                    skipped[OTHER_POSTING] += 1
                    elsewhere.append(":".join(paths[split.account]))
                    continue
                postings.append(Posting(
                    source_id=split.guid, account_id=split.account,
                    amount_minor=_minor(split.quantity, minor_digits, f"{where}, split {split.guid}"),
                    memo=split.memo.strip(), status=_STATES.get(split.state.lower(), ClearedState.uncleared)))
            yield Entry(source_id=transaction.guid, booked_on=transaction.day, postings=tuple(postings),
                        payee=transaction.description.strip(), note=transaction.notes.strip(),
                        elsewhere=tuple(dict.fromkeys(elsewhere)))

    def currency(self) -> tuple[str, str]:
        """The root account's currency, GnuCash's default for the book; else the one most accounts use."""
        root = self.accounts.get(self.root)
        if root is not None and root.commodity is not None and _is_currency(root.commodity):
            return root.commodity
        used = [a.commodity for a in self.accounts.values()
                if a.commodity is not None and _is_currency(a.commodity) and a.type in _OWN]
        if not used:
            raise HistoryError("the book has no account in a currency", "accounts")
        return max(set(used), key=used.count)

    def paths(self) -> dict[str, tuple[str, ...]]:
        """Every account below the book's root, with its names from the top-level account down, in
        the book's order (parents before children)."""
        children: dict[str, list[str]] = defaultdict(list)
        for account in self.accounts.values():
            if account.parent:
                children[account.parent].append(account.guid)
        if self.root not in self.accounts:
            raise HistoryError("the book's root account is missing", "accounts")
        paths: dict[str, tuple[str, ...]] = {}
        stack: list[tuple[str, tuple[str, ...]]] = [(guid, ()) for guid in reversed(children[self.root])]
        while stack:
            guid, above = stack.pop()
            if guid in paths:
                raise HistoryError("the accounts' parents make a loop", f"account {guid}")
            path = (*above, self.accounts[guid].name.strip() or "GnuCash account")
            paths[guid] = path
            stack.extend((child, path) for child in reversed(children[guid]))
        return paths

    def role(self, account: _Account, path: tuple[str, ...]) -> Role | None:
        if len(path) == 1 and _UNPLACED.fullmatch(account.name.strip()):
            return Role.uncategorised
        if account.type in _OWN:
            return Role.own
        return _ROLES.get(account.type)


def _is_currency(commodity: tuple[str, str]) -> bool:
    return commodity[0].upper() in ("CURRENCY", "ISO4217") and bool(re.fullmatch(r"[A-Z]{3}", commodity[1]))


def _mnemonic(account: _Account) -> str:
    return account.commodity[1] if account.commodity else "none"


def _kind(account: _Account) -> AccountKind:
    name = account.name.lower()
    if account.type == "CASH":
        return AccountKind.cash
    if account.type == "CREDIT" or (account.type == "LIABILITY" and "card" in name):
        return AccountKind.credit_card
    if account.type == "LIABILITY":
        return AccountKind.loan
    if account.type == "ASSET" or "saving" in name:
        return AccountKind.savings
    return AccountKind.checking


def _minor(quantity: tuple[int, int], digits: int, where: str) -> int:
    numerator, denominator = quantity
    if denominator <= 0:
        raise HistoryError(f"amount {numerator}/{denominator} has no valid denominator", where)
    minor, left = divmod(numerator * int(10 ** digits), denominator)
    if left:
        raise HistoryError(f"amount {numerator}/{denominator} has more decimals than the currency's "
                           f"{digits}", where)
    return minor


def _day(posted: str, slot: str | None, where: str) -> date:
    """The `date-posted` slot (YYYYMMDD or YYYY-MM-DD), else the day nearest to the posting time: GnuCash
    stores 10:59 UTC for a day, and books before 2.6.x local midnight, hours from UTC either way."""
    if slot:
        digits = slot.replace("-", "")[:8]
        if re.fullmatch(r"\d{8}", digits):
            try:
                return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
            except ValueError:
                pass
    text = posted.strip()
    for pattern in ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S", "%Y%m%d%H%M%S"):
        try:
            moment = datetime.strptime(text, pattern)
        except ValueError:
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return (moment + timedelta(hours=12)).date()
    raise HistoryError(f"posting date {posted!r} is not a date GnuCash writes", where)


# --- SQLite ------------------------------------------------------------------------------------------

def _require_schema(db: sqlite3.Connection) -> None:
    sqlite_file.require(db, REQUIRED, what="a GnuCash book", since="2.4 on", where="SQLite")


def _sqlite_book(db: sqlite3.Connection) -> _Book:
    roots = [row["root_account_guid"] for row in db.execute("SELECT root_account_guid FROM books")]
    if len(roots) != 1:
        raise HistoryError(f"holds {len(roots)} books; a GnuCash file holds one", "SQLite, table books")
    commodities = {row["guid"]: (_text(row["namespace"]), _text(row["mnemonic"]))
                   for row in db.execute("SELECT guid, namespace, mnemonic FROM commodities")}
    accounts = {}
    for row in db.execute("SELECT guid, name, account_type, commodity_guid, parent_guid, hidden, placeholder "
                          "FROM accounts"):
        accounts[row["guid"]] = _Account(
            guid=row["guid"], name=_text(row["name"]), type=_text(row["account_type"]).upper(),
            commodity=commodities.get(row["commodity_guid"]), parent=row["parent_guid"] or None,
            placeholder=bool(row["placeholder"]), hidden=bool(row["hidden"]))
    return _Book(root=roots[0], accounts=accounts, transactions=_sqlite_transactions(db))


def _sqlite_transactions(db: sqlite3.Connection) -> Iterator[_Transaction]:
    """The book's transactions with their splits, one at a time, by posting date: transactions, their
    slots and their splits are read side by side in that one order (as a merge join), so that no more
    than one transaction is held, however large the book."""
    # The three in the same order, by their transaction's (post_date, guid, rowid).
    slots = _OfTransaction(db.execute(
        "SELECT t.rowid AS key, s.name, s.string_val, s.gdate_val FROM slots s "
        "JOIN transactions t ON t.guid = s.obj_guid WHERE s.name IN ('notes', 'date-posted') "
        "ORDER BY t.post_date, t.guid, t.rowid, s.rowid"))
    splits = _OfTransaction(db.execute(
        "SELECT t.rowid AS key, s.guid, s.account_guid, s.memo, s.reconcile_state, s.quantity_num, "
        "s.quantity_denom FROM splits s JOIN transactions t ON t.guid = s.tx_guid "
        "ORDER BY t.post_date, t.guid, t.rowid, s.rowid"))
    for row in db.execute("SELECT t.rowid AS key, t.guid, t.post_date, t.description FROM transactions t "
                          "WHERE t.guid IS NOT NULL ORDER BY t.post_date, t.guid, t.rowid"):
        guid = row["guid"]
        where = f"SQLite, transaction {guid}"
        found = {slot["name"]: slot["gdate_val"] if slot["name"] == "date-posted" else slot["string_val"]
                 for slot in slots.take(row["key"])}
        day = _day(_text(row["post_date"]), _text(found.get("date-posted")) or None, where)
        transaction = _Transaction(guid=guid, day=day, description=_text(row["description"]),
                                   notes=_text(found.get("notes")))
        for split in splits.take(row["key"]):
            numerator, denominator = split["quantity_num"], split["quantity_denom"]
            if not isinstance(numerator, int) or not isinstance(denominator, int):
                raise HistoryError(f"amount {numerator!r}/{denominator!r} is not a fraction of whole numbers",
                                   f"SQLite, split {split['guid']}")
            transaction.splits.append(_Split(
                guid=split["guid"], account=split["account_guid"], memo=_text(split["memo"]),
                state=_text(split["reconcile_state"]), quantity=(numerator, denominator)))
        yield transaction


class _OfTransaction:
    """The rows of a query in the transactions' order, each with its transaction's rowid (`key`), taken a
    transaction at a time."""

    def __init__(self, rows: Iterator[sqlite3.Row]) -> None:
        self.rows = rows
        self.next: sqlite3.Row | None = next(rows, None)

    def take(self, key: int) -> list[sqlite3.Row]:
        found = []
        while self.next is not None and self.next["key"] == key:
            found.append(self.next)
            self.next = next(self.rows, None)
        return found


def _text(value: Any) -> str:
    return "" if value is None else str(value)


# --- XML ---------------------------------------------------------------------------------------------

_NS = {prefix: f"{{http://www.gnucash.org/XML/{prefix}}}"
       for prefix in ("gnc", "act", "book", "cmdty", "trn", "split", "ts", "slot")}
_BOOK = _NS["gnc"] + "book"
_ACCOUNT = _NS["gnc"] + "account"
_TRANSACTION = _NS["gnc"] + "transaction"


class _Inflating:
    """The XML of a gzip-compressed book as it is read, refused past `MAX_INFLATED` bytes or at a ratio
    only a compression bomb has."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.gzip = gzip.GzipFile(fileobj=raw, mode="rb")
        self.inflated = 0

    def read(self, size: int = -1) -> bytes:
        try:
            chunk = self.gzip.read(size if size > 0 else 1024 * 1024)
        except (OSError, EOFError, zlib.error) as exc:
            raise HistoryError(f"cannot be inflated, the file is damaged or truncated ({exc})",
                               "gzip") from exc
        self.inflated += len(chunk)
        if self.inflated > MAX_INFLATED:
            raise HistoryError(f"inflates past {MAX_INFLATED // 2**20} MiB: a compression bomb or too large",
                               "gzip")
        compressed = max(self.raw.tell(), 1)
        if self.inflated > RATIO_FROM and self.inflated > MAX_RATIO * compressed:
            raise HistoryError(f"inflates more than {MAX_RATIO}-fold: a compression bomb; refused", "gzip")
        return chunk


def _xml_book(file: Path) -> _Book:
    """The book's root and accounts; its transactions are read (and so checked) too but let go of, and
    read again from the file when they are wanted."""
    accounts: dict[str, _Account] = {}
    root: str | None = None
    for element in _xml_elements(file):
        if element.tag == _ACCOUNT:
            account = _xml_account(element)
            accounts[account.guid] = account
            if account.type == "ROOT" and root is None:
                root = account.guid
        else:
            _xml_transaction(element)
    if root is None:
        raise HistoryError("has no book with a root account: not a GnuCash book", "XML")
    transactions = (_xml_transaction(e) for e in _xml_elements(file) if e.tag == _TRANSACTION)
    return _Book(root=root, accounts=accounts, transactions=transactions)


def _xml_elements(file: Path) -> Iterator[Element]:
    """The book's accounts and transactions as the file streams by, compressed or not; each is let go of
    once the next is wanted."""
    with file.open("rb") as raw:
        compressed = raw.read(2) == _GZIP_HEADER
        raw.seek(0)
        if not compressed and os.fstat(raw.fileno()).st_size > MAX_INFLATED:
            raise HistoryError(f"is larger than {MAX_INFLATED // 2**20} MiB", "XML")
        stream: Any = _Inflating(raw) if compressed else raw
        stack: list[Element] = []
        try:
            for event, element in SafeET.iterparse(stream, events=("start", "end"), forbid_dtd=True):
                if event == "start":
                    if not stack and element.tag != "gnc-v2":
                        raise HistoryError(f"the XML's root is <{element.tag}>, not GnuCash's <gnc-v2>",
                                           "XML")
                    stack.append(element)
                    continue
                stack.pop()
                parent = stack[-1] if stack else None
                if parent is None or parent.tag != _BOOK:
                    continue  # inside an account or a transaction, or outside the book (templates)
                if element.tag in (_ACCOUNT, _TRANSACTION):
                    yield element
                parent.remove(element)
        except HistoryError:
            raise
        except DefusedXmlException as exc:
            raise HistoryError("declares a DTD, entities or external references, which a GnuCash book never "
                               f"does; refused ({type(exc).__name__})", "XML") from exc
        except ParseError as exc:
            line = exc.position[0] if exc.position else "?"
            raise HistoryError(f"is not well-formed XML ({exc})", f"XML line {line}") from exc
        except (LookupError, ValueError) as exc:  # a declared encoding with no codec, or a multi-byte one
            raise HistoryError(f"declares an encoding this reader cannot use ({exc})",
                               "XML declaration") from exc


def _child_text(element: Element, path: str) -> str:
    found = element.find(path)
    return (found.text or "") if found is not None else ""


def _slots(element: Element | None) -> dict[str, str]:
    """The slots directly in a slots element: key → its text (a gdate's day)."""
    found: dict[str, str] = {}
    for slot in element.findall("slot") if element is not None else []:
        key, value = slot.find(_NS["slot"] + "key"), slot.find(_NS["slot"] + "value")
        if key is None or value is None or not key.text:
            continue
        gdate = value.find("gdate")
        found[key.text] = (gdate.text if gdate is not None else value.text) or ""
    return found


def _commodity(element: Element | None) -> tuple[str, str] | None:
    if element is None:
        return None
    space, mnemonic = _child_text(element, _NS["cmdty"] + "space"), _child_text(element, _NS["cmdty"] + "id")
    return space.strip(), mnemonic.strip()


def _xml_account(element: Element) -> _Account:
    guid = _child_text(element, _NS["act"] + "id").strip()
    if not guid:
        raise HistoryError("an account without an id", "XML, gnc:account")
    slots = _slots(element.find(_NS["act"] + "slots"))
    return _Account(
        guid=guid, name=_child_text(element, _NS["act"] + "name"),
        type=_child_text(element, _NS["act"] + "type").strip().upper(),
        commodity=_commodity(element.find(_NS["act"] + "commodity")),
        parent=_child_text(element, _NS["act"] + "parent").strip() or None,
        placeholder=slots.get("placeholder", "").lower() == "true",
        hidden=slots.get("hidden", "").lower() == "true")


def _xml_transaction(element: Element) -> _Transaction:
    trn, split_ns = _NS["trn"], _NS["split"]
    guid = _child_text(element, trn + "id").strip()
    where = f"XML, transaction {guid or '(without an id)'}"
    slots = _slots(element.find(trn + "slots"))
    posted = _child_text(element, f"{trn}date-posted/{_NS['ts']}date")
    transaction = _Transaction(guid=guid, day=_day(posted, slots.get("date-posted"), where),
                               description=_child_text(element, trn + "description"),
                               notes=slots.get("notes", ""))
    for split in element.iterfind(f"{trn}splits/{trn}split"):
        split_guid = _child_text(split, split_ns + "id").strip()
        quantity = _child_text(split, split_ns + "quantity").strip()
        match = re.fullmatch(r"(-?\d{1,30})/(\d{1,30})", quantity)
        if match is None:
            raise HistoryError(f"amount {quantity[:40]!r} is not a fraction GnuCash writes",
                               f"{where}, split {split_guid}")
        transaction.splits.append(_Split(
            guid=split_guid, account=_child_text(split, split_ns + "account").strip(),
            memo=_child_text(split, split_ns + "memo"),
            state=_child_text(split, split_ns + "reconciled-state"), quantity=(int(match[1]), int(match[2]))))
    if not guid:
        raise HistoryError("a transaction without an id", where)
    return transaction
