"""QIF (Quicken Interchange Format) bank, cash, credit card and other asset/liability registers.

A file is sections, each opened by a `!` line: `!Type:Bank` (or Cash, CCard, Oth A, Oth L) holds
transactions, `!Account` names the account the next register belongs to (a multi-account export),
`!Option:AutoSwitch` ... `!Clear:AutoSwitch` encloses a plain list of accounts, and lists that are not
transactions (`!Type:Cat`, `!Type:Class`, `!Type:Memorized`, ...) are read over. Investment registers
(`!Type:Invst`) are refused: their records are trades, not payments.

Each record is a few lines, one field a line, its code in the first character (D date, T/U amount,
P payee, M memo, N number, L category or [transfer account], S/E/$ a split's category, memo and amount)
and `^` ends it. Dates are written as banks like (US 1/15'25, 01/15/2025, European 15.01.2025 or
15/01/2025, ISO 2025-01-15), so whether the day or the month comes first is decided from every date in
the file.
"""

import re
from dataclasses import dataclass, field
from datetime import date

from tally_ledger.importers.ofx import with_check_number
from tally_ledger.importers.rows import SourceAccount, SplitRow, StatementError, StatementRow
from tally_ledger.importers.values import decode, guess_decimal_separator, parse_amount

_REGISTERS = {"bank": "checking", "cash": "cash", "ccard": "credit_card", "oth a": None, "oth l": "loan"}
_LISTS = frozenset({"cat", "class", "memorized", "security", "prices", "budget", "invitem", "template"})
_INVESTMENT = frozenset({"invst", "port", "401(k)/403(b)", "mutual"})
# An account's T line → Tally's account kind (None: the file does not say which).
_ACCOUNT_KINDS = {**_REGISTERS, **dict.fromkeys(_INVESTMENT, "investment")}
_FIELDS = "DTUPMNLCA%FXSE$"
_STARTS = (b"!type:", b"!account", b"!option:", b"!clear:")
_STARTS_WITH = "a QIF file starts with !Type:Bank (or Cash, CCard) or !Account"

_ISO_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_DATE = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})(?:(')(\d{1,2}|\d{4})|[/.\-](\d{2}|\d{4}))")


def looks_like_qif(data: bytes) -> bool:
    return data[:200].lstrip(b"\xef\xbb\xbf \r\n\t").lower().startswith(_STARTS)


@dataclass
class _Split:
    line: int
    end: int
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class _Record:
    line: int
    fields: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    splits: list[_Split] = field(default_factory=list)
    account: SourceAccount | None = None


def _header(line: str) -> str:
    """`!Type:Oth A ` → "!type:oth a" (case and spacing as exporters vary them)."""
    return " ".join(line.lower().split()).replace(": ", ":")


def _source_account(fields: dict[str, str]) -> SourceAccount | None:
    name = fields.get("N", "").strip()
    if not name:
        return None
    account_type = _header(fields.get("T", ""))
    return SourceAccount(key=f"qif:{name}"[:200], name=name[:200], kind=_ACCOUNT_KINDS.get(account_type))


def _records(lines: list[str]) -> list[_Record]:
    """The transaction records of every register in the file, each with the account it belongs to."""
    records: list[_Record] = []
    section = ""  # "register", "account", "list" (read over), "" (an !Option line)
    autoswitch = False  # between !Option:AutoSwitch and !Clear:AutoSwitch, !Account is a list of accounts
    account: SourceAccount | None = None
    listed: list[dict[str, str]] = []  # the records of the !Account section being read
    seen_header = False
    current = _Record(line=0)

    def end_account_section() -> None:
        nonlocal account
        if section == "account" and listed:
            # One account: the registers that follow are its. A list of several (AutoSwitch): nobody's.
            one = len(listed) == 1 or not autoswitch
            account = _source_account(listed[-1]) if one else None
            listed.clear()

    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("!"):
            if current.fields or current.splits:
                if section == "register":
                    raise StatementError(f"line {number}", f"{line!r} begins before the record of line "
                                                           f"{current.line} ends with ^")
                if section == "account":
                    listed.append(current.fields)
            current = _Record(line=0)
            end_account_section()
            seen_header = True
            header = _header(line)
            kind = header.removeprefix("!type:")
            if header == "!option:autoswitch":
                autoswitch, section = True, ""
            elif header == "!clear:autoswitch":
                autoswitch, section = False, ""
            elif header.startswith(("!option:", "!clear:")):
                section = ""
            elif header == "!account":
                section = "account"
            elif not header.startswith("!type:"):
                raise StatementError(f"line {number}", f"{line!r} is not a QIF section (!Type:Bank, "
                                                       "!Account, ...)")
            elif kind in _REGISTERS:
                section = "register"
            elif kind in _LISTS:
                section = "list"
            elif kind in _INVESTMENT:
                raise StatementError(f"line {number}", f"{line!r} is an investment account: Tally imports "
                                                       "bank, cash and credit card registers (export the "
                                                       "other accounts without it)")
            else:
                raise StatementError(f"line {number}", f"{line!r} is not a bank, cash or card register")
            continue
        if not section:
            if not seen_header:
                raise StatementError(f"line {number}", _STARTS_WITH)
            raise StatementError(f"line {number}", f"{line!r} is outside any !Type or !Account section")
        if line == "^":
            if section == "register" and (current.fields or current.splits):
                records.append(current)
            elif section == "account" and current.fields:
                listed.append(current.fields)
            current = _Record(line=0)
            continue
        if not current.line:
            current = _Record(line=number, account=account if section == "register" else None)
        code, value = line[0], line[1:].strip()
        if section == "list":
            continue
        if section == "account":
            current.fields.setdefault(code, value)
            continue
        if code not in _FIELDS:
            raise StatementError(f"line {number}", f"unknown QIF field code {code!r}")
        if code == "S" or (code in "E$%" and (not current.splits or code in current.splits[-1].fields)):
            current.splits.append(_Split(line=number, end=number))
        if code in "SE$%":
            current.splits[-1].fields[code] = value
            current.splits[-1].end = number
        else:
            current.fields.setdefault(code, value)
            current.lines.setdefault(code, number)
    if section == "register" and (current.fields or current.splits):
        raise StatementError(f"line {len(lines)}", "the last record does not end with ^")
    return records


# --- dates ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Date:
    first: int
    second: int
    year: int
    orders: frozenset[str]  # which of "DM", "MD" read it as a real date ("YMD" for ISO dates)


def _year(text: str) -> int:
    """Two-digit years as strptime reads them (the POSIX rule): 00-68 are 2000-2068, 69-99 are 19xx.
    Quicken's 1/15'25 (an apostrophe for years from 2000) agrees."""
    value = int(text)
    if len(text) == 4:
        return value
    return value + (2000 if value < 69 else 1900)


def _valid(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _read_date(raw: str) -> _Date | None:
    text = raw.replace(" ", "")
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
        return _Date(month, day, year, frozenset({"YMD"})) if _valid(year, month, day) else None
    match = _DATE.fullmatch(text)
    if not match:
        return None
    first, separator, second = int(match.group(1)), match.group(2), int(match.group(3))
    year = _year(match.group(5) or match.group(6))
    orders = {"DM"} if separator == "." else {"DM", "MD"}  # 15.01.2025: nobody writes the month first
    orders = {o for o in orders if _valid(year, *((second, first) if o == "DM" else (first, second)))}
    return _Date(first, second, year, frozenset(orders)) if orders else None


def _order(records: list[_Record], date_format: str | None) -> str:
    """"DM" or "MD" for the whole file: the order every date allows. Where both read every date (no day
    above 12): month first when the dates are Quicken's US style (1/5'25: the apostrophe is Quicken's,
    whose US edition writes the month first), else day first, as this importer always did (a given
    `date_format` decides)."""
    if date_format is not None:
        day, month = date_format.find("%d"), date_format.find("%m")
        return "MD" if 0 <= month < day else "DM"
    first_of: dict[str, _Record] = {}  # the first date only one order reads, for each order
    for record in records:
        read = _read_date(record.fields["D"])
        if read is not None and len(read.orders) == 1 and "YMD" not in read.orders:
            first_of.setdefault(next(iter(read.orders)), record)
    if len(first_of) == 2:
        (earlier_order, earlier), (later_order, later) = sorted(first_of.items(), key=lambda o: o[1].line)
        what = {"DM": "the day", "MD": "the month"}
        raise StatementError(f"line {later.lines['D']}",
                             f"{later.fields['D']!r} puts {what[later_order]} first, but "
                             f"{earlier.fields['D']!r} (line {earlier.lines['D']}) puts "
                             f"{what[earlier_order]} first: the file mixes two date orders")
    if first_of:
        return next(iter(first_of))
    return "MD" if any("'" in record.fields["D"] for record in records) else "DM"


def _date(record: _Record, order: str) -> date:
    raw = record.fields["D"]
    read = _read_date(raw)
    if read is None or not read.orders & {order, "YMD"}:
        raise StatementError(f"line {record.lines['D']}", f"{raw!r} is not a date")
    if "YMD" in read.orders:
        return date(read.year, read.first, read.second)
    month, day = (read.first, read.second) if order == "MD" else (read.second, read.first)
    return date(read.year, month, day)


# --- categories, splits, rows --------------------------------------------------------------------

def _category(value: str) -> tuple[str, str]:
    """(category, transfer account) of an L or S value: "Food:Groceries/Vacation" is the category
    Food:Groceries (the class after / is dropped), "[Savings]" a transfer to the account Savings."""
    value = value.strip()
    if value.startswith("["):
        end = value.find("]")
        if end > 0:
            return "", value[1:end].strip()
    category = value.split("/", 1)[0].strip()
    return ("" if category == "--Split--" else category), ""


def _money(minor: int, digits: int) -> str:
    sign, whole = ("-" if minor < 0 else ""), abs(minor)
    if not digits:
        return f"{sign}{whole}"
    return f"{sign}{whole // 10**digits}.{whole % 10**digits:0{digits}d}"


def _splits(record: _Record, amount: int, separator: str, digits: int) -> tuple[SplitRow, ...]:
    splits = []
    for split in record.splits:
        if "$" not in split.fields:
            raise StatementError(f"line {split.line}", "a split without an amount ($ line)")
        category, transfer = _category(split.fields.get("S", ""))
        splits.append(SplitRow(
            amount_minor=parse_amount(split.fields["$"], decimal_separator=separator, digits=digits,
                                      where=f"line {split.line}"),
            category=(f"[{transfer}]" if transfer else category)[:200],
            memo=split.fields.get("E", "")[:1000],
        ))
    total = sum(s.amount_minor for s in splits)
    if splits and total != amount:
        code = "T" if "T" in record.fields else "U"
        raise StatementError(f"line {record.lines[code]}",
                             f"the splits (lines {record.splits[0].line}-{record.splits[-1].end}) add up to "
                             f"{_money(total, digits)}, not to the amount {_money(amount, digits)}")
    return tuple(splits)


def parse(data: bytes, *, digits: int = 2, date_format: str | None = None) -> list[StatementRow]:
    """Every transaction of every bank, cash and card register in the file. `date_format` (a strptime
    format such as "%m/%d/%Y") says whether the month or the day comes first where the dates do not."""
    text, _ = decode(data)
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise StatementError("line 1", _STARTS_WITH)
    records = _records(lines)
    for record in records:
        if "D" not in record.fields:
            raise StatementError(f"line {record.line}", "record without a date (D line)")
        if "T" not in record.fields and "U" not in record.fields:
            raise StatementError(f"line {record.line}", "record without an amount (T line)")
    if not records:
        raise StatementError("line 1", "the file has no transactions")
    order = _order(records, date_format)
    separator = guess_decimal_separator(
        [r.fields.get("T", r.fields.get("U", "")) for r in records]
        + [s.fields.get("$", "") for r in records for s in r.splits])
    rows = []
    for record in records:
        code = "T" if "T" in record.fields else "U"
        amount = parse_amount(record.fields[code], decimal_separator=separator, digits=digits,
                              where=f"line {record.lines[code]}")
        category, transfer = _category(record.fields.get("L", ""))
        payee = record.fields.get("P", "")
        description = with_check_number(record.fields.get("M", ""), record.fields.get("N", ""), payee)
        rows.append(StatementRow(
            where=f"line {record.line}",
            booked_on=_date(record, order),
            amount_minor=amount,
            payee=payee[:200],
            description=description[:1000],
            account=record.account,
            category=category[:200],
            transfer_account=transfer[:200],
            splits=_splits(record, amount, separator, digits),
        ))
    return rows
