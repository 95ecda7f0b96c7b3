"""CSV statements: any delimiter, a preamble before the header (or no header: a first row with dates and
amounts is data, and the columns are told by their contents), decimal comma or point, signs before or
after the amount or brackets around it, many date formats and encodings. `detect` proposes a mapping from
the file; the user confirms or corrects it; `parse` reads every row with that mapping or names the first
line it cannot read.

The payee is proposed only from a column whose header names the payee and whose value changes from row
to row (the account holder's name on every row is no payee); without one the payee stays empty and the
text goes to the description."""

import csv
import io
import re
from collections import Counter
from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from tally_ledger.importers.rows import StatementError, StatementRow
from tally_ledger.importers.values import (
    DATE_FORMATS,
    ENCODINGS,
    date_formats_matching,
    decode,
    guess_decimal_separator,
    parse_amount,
    parse_date,
)

Column = Annotated[int, Field(ge=0, le=200)]


class CsvMapping(BaseModel):
    """How to read a bank's CSV: which column holds what (0-based), and how values are written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    encoding: Literal[ENCODINGS]  # type: ignore[valid-type]
    delimiter: Annotated[str, StringConstraints(min_length=1, max_length=1)]
    skip_rows: Annotated[int, Field(ge=0, le=100)] = 0  # lines before the header (or the first row)
    has_header: bool = True
    date_column: Column
    date_format: Literal[DATE_FORMATS]  # type: ignore[valid-type]
    amount_column: Column | None = None  # signed amounts ...
    debit_column: Column | None = None  # ... or money out and money in in two columns
    credit_column: Column | None = None
    # Unsigned amounts with a column saying which way the money went ("Af"/"Bij", "D"/"C", "Debit"/...)
    direction_column: Column | None = None
    decimal_separator: Literal[".", ","] = "."
    payee_column: Column | None = None
    description_column: Column | None = None
    bank_id_column: Column | None = None
    currency_column: Column | None = None

    @model_validator(mode="after")
    def _one_way_to_read_amounts(self) -> "CsvMapping":
        if (self.amount_column is None) == (self.debit_column is None and self.credit_column is None):
            raise ValueError("map either amount_column, or debit_column and/or credit_column")
        if self.direction_column is not None and self.amount_column is None:
            raise ValueError("direction_column goes with amount_column")
        if self.delimiter in "\r\n\"" or self.delimiter.isalnum():
            raise ValueError("the delimiter cannot be a letter, digit, quote or line break")
        return self


class CsvPreview(BaseModel):
    mapping: CsvMapping
    headers: list[str]
    sample: list[list[str]]
    date_formats: list[str]  # more than one: the dates are ambiguous and the user must choose


_HEADER_WORDS: dict[str, tuple[str, ...]] = {
    "date": ("booking date", "posting date", "transaction date", "buchungstag", "buchungsdatum", "date",
             "datum", "fecha", "data", "valuta", "value date", "wertstellung"),
    "amount": ("amount", "betrag", "importe", "montant", "umsatz", "bedrag", "value", "sum"),
    "debit": ("debit", "withdrawal", "money out", "paid out", "soll", "ausgang", "outflow"),
    "credit": ("credit", "deposit", "money in", "paid in", "haben", "eingang", "inflow"),
    "payee": ("payee", "beneficiary", "counterparty", "merchant", "empfänger", "empfaenger",
              "begünstigter", "beguenstigter", "auftraggeber", "zahlungsempfänger", "name", "naam",
              "beneficiario"),
    "description": ("description", "memo", "detail", "détail", "verwendungszweck", "reference", "narrative",
                    "concepto", "libellé", "libelle", "buchungstext", "mededelingen", "text"),
    "bank_id": ("transaction id", "transaction reference", "fitid", "reference number", "ref", "id"),
    "currency": ("currency", "währung", "waehrung", "ccy", "devise", "moneda"),
}
_MONEY_OUT = frozenset({"af", "d", "dr", "debit", "debet", "out", "s", "soll", "withdrawal", "payment", "-"})
_MONEY_IN = frozenset({"bij", "c", "cr", "credit", "in", "h", "haben", "deposit", "+"})
_DATEISH = re.compile(r"^\s*\d{1,4}[./\- ]\w{1,9}[./\- ,]+\d{2,4}\s*$|^\s*\d{8}\s*$")
_CURRENCY = re.compile(r"[A-Z]{3}")
_ACCOUNT = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}")  # an IBAN
_AMOUNTISH = re.compile(r"^\s*[(+\-\u2212]?\s*[^\d\s]{0,3}\s*\d[\d.,'\u00a0 ]*\s*[^\d\s]{0,3}\s*[)\-]?\s*$")


def _directions(values: Sequence[str]) -> bool:
    """Whether a column only says which way money went."""
    return {v.strip().casefold() for v in values} <= _MONEY_OUT | _MONEY_IN


def _signed(values: Sequence[str]) -> bool:
    """Whether amounts carry their sign: -12.34, (12.34), 12,34- or 12.34-."""
    return any(v.strip().startswith(("-", "(", "\u2212")) or v.strip().endswith(("-", ")", "\u2212"))
               for v in values)


def _unsigned_number(value: str) -> str:
    """An amount without its sign or brackets, for guessing the decimal separator."""
    return value.strip().strip("()").strip().strip("-+\u2212").strip()


def _money_out_and_in(body: Sequence[Sequence[str]],
                      amount_columns: Sequence[int]) -> tuple[int | None, int | None]:
    """Header-less: two neighbouring columns of unsigned amounts, each row filling one of them, are money
    out and money in (in that order, as banks write them: "Debit;Credit", "Paid out,Paid in")."""
    for out in amount_columns:
        into = out + 1
        if into not in amount_columns:
            continue
        values = [v for row in body for v in (row[out], row[into]) if v.strip()]
        if (body and all(bool(row[out].strip()) != bool(row[into].strip()) for row in body)
                and any(row[out].strip() for row in body) and any(row[into].strip() for row in body)
                and not _signed(values)):
            return out, into
    return None, None


def _identifiers(values: Sequence[str], rows: int) -> bool:
    """Header-less: a column that gives every row its own code (letters and digits, no spaces), not an
    amount, date or account number, holds the bank's transaction ids."""
    def code(value: str) -> bool:
        value = value.strip()
        if len(value) < 6 or any(c.isspace() for c in value) or not any(c.isdigit() for c in value):
            return False
        return not (_AMOUNTISH.match(value) or _DATEISH.match(value) or _ACCOUNT.fullmatch(value))

    return len(values) == rows >= 3 and len(set(values)) == len(values) and all(map(code, values))


def _says_payee(header: str) -> bool:
    name = header.strip().lower()
    return name in _HEADER_WORDS["payee"] and name not in ("name", "naam")


def _rows(text: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def _sniff_delimiter(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    sample = "\n".join(lines[-50:] if len(lines) > 60 else lines[:60])
    try:
        return csv.Sniffer().sniff(sample, delimiters=";,\t|").delimiter
    except csv.Error:
        counts = {d: sum(line.count(d) for line in lines[-50:]) for d in ";,\t|"}
        return max(counts, key=lambda d: counts[d])


def _match_header(header: str, kind: str) -> bool:
    name = header.strip().lower()
    return any(name == word or (len(word) > 3 and word in name) for word in _HEADER_WORDS[kind])


def detect(data: bytes) -> CsvPreview:
    """Propose a mapping for a CSV statement; raises StatementError when it cannot find dates and amounts."""
    text, encoding = decode(data)
    if not text.strip():
        raise StatementError("line 1", "the file is empty")
    delimiter = _sniff_delimiter(text)
    rows = _rows(text, delimiter)
    width = Counter(len(r) for r in rows if len(r) > 1).most_common(1)
    if not width:
        raise StatementError("line 1", "no columns found: is this a CSV file?")
    columns = width[0][0]
    skip = next(i for i, r in enumerate(rows) if len(r) == columns)
    first = rows[skip]
    has_header = not any(_DATEISH.match(cell) or _AMOUNTISH.match(cell) for cell in first if cell.strip())
    headers = first if has_header else [f"Column {i + 1}" for i in range(columns)]
    body = [r for r in rows[skip + int(has_header):] if len(r) == columns]
    sample_body = body[:500]

    def column(i: int) -> list[str]:
        return [r[i] for r in sample_body if r[i].strip()]

    date_columns = [i for i in range(columns)
                    if column(i) and date_formats_matching(column(i)[:200], tolerate=0.1)]
    amount_columns = [i for i in range(columns) if column(i) and i not in date_columns
                      and all(_AMOUNTISH.match(v) for v in column(i))]

    def by_header(kind: str, candidates: Sequence[int] = range(columns)) -> int | None:
        return next((i for i in candidates if has_header and _match_header(headers[i], kind)), None)

    def texts_by_header(kind: str, candidates: Sequence[int]) -> list[int]:
        """Text columns named like `kind`, the most telling (most distinct values) first."""
        found = [i for i in candidates if has_header and _match_header(headers[i], kind)]
        return sorted(found, key=lambda i: -len(set(column(i))))

    date_column = by_header("date", date_columns)
    if date_column is None:
        if not date_columns:
            raise StatementError(f"line {skip + 1 + int(has_header)}", "no column holds dates")
        date_column = date_columns[0]
    formats = date_formats_matching(column(date_column), tolerate=0.1)
    amount_column = by_header("amount", amount_columns)
    debit_column = by_header("debit", [i for i in range(columns) if i in amount_columns or not column(i)])
    credit_column = by_header("credit", [i for i in range(columns) if i in amount_columns or not column(i)])
    if not has_header:
        debit_column, credit_column = _money_out_and_in(sample_body, amount_columns)
    if amount_column is None and debit_column is None and credit_column is None:
        signed = [i for i in amount_columns if any(ch in v for v in column(i) for ch in ".,")]
        if not (signed or amount_columns):
            raise StatementError(f"line {skip + 1 + int(has_header)}", "no column holds amounts")
        amount_column = (signed or amount_columns)[0]
    if amount_column is not None:
        debit_column = credit_column = None
    direction_column = None
    if amount_column is not None and not _signed(column(amount_column)):
        direction_column = next((i for i in range(columns) if i not in (date_column, amount_column)
                                 and column(i) and _directions(column(i))), None)
    amount_values = [v for i in (amount_column, debit_column, credit_column) if i is not None
                     for v in column(i)]
    taken = {date_column, amount_column, debit_column, credit_column, direction_column}
    free = [i for i in range(columns) if i not in taken]

    def constant(i: int) -> bool:
        """The same value on every row (the account holder's name or IBAN, a currency): no payee."""
        values = column(i)
        return len(values) >= 3 and len({v.strip().casefold() for v in values}) == 1

    def texts(candidates: Sequence[int]) -> list[int]:
        """Columns of text that tell rows apart, the most telling (most distinct values, longest) first."""
        found = [i for i in candidates if column(i) and not constant(i)
                 and not all(_AMOUNTISH.match(v) or _DATEISH.match(v) for v in column(i))]
        return sorted(found, key=lambda i: (-len(set(column(i))), -sum(map(len, column(i)))))

    bank_id_column = by_header("bank_id", free)
    currency_column = by_header("currency", [i for i in free if i != bank_id_column])
    if not has_header:
        currency_column = next((i for i in free if column(i) and len(column(i)) == len(sample_body)
                                and all(_CURRENCY.fullmatch(v.strip()) for v in column(i))), None)
        bank_id_column = next((i for i in free if i != currency_column
                               and _identifiers(column(i), len(sample_body))), None)
    free = [i for i in free if i not in (bank_id_column, currency_column)]
    # A column is the payee only when its header says so; one whose value never changes is not (the
    # account holder's name), unless its header is nothing but a payee word ("Payee", "Empfänger").
    payees = [i for i in texts_by_header("payee", free) if not constant(i) or _says_payee(headers[i])]
    payee_column = payees[0] if payees else None
    descriptions = [i for i in texts_by_header("description", free) if i != payee_column and not constant(i)]
    if not descriptions:  # no column is named like a description: the most telling text column is one
        descriptions = [i for i in texts(free) if i != payee_column
                        and not (has_header and _match_header(headers[i], "payee"))]
    description_column = descriptions[0] if descriptions else None
    mapping = CsvMapping(
        encoding=encoding, delimiter=delimiter, skip_rows=skip, has_header=has_header,
        date_column=date_column, date_format=formats[0] if formats else DATE_FORMATS[0],
        amount_column=amount_column, debit_column=debit_column, credit_column=credit_column,
        direction_column=direction_column,
        decimal_separator=guess_decimal_separator([_unsigned_number(v) for v in amount_values]),
        payee_column=payee_column,
        description_column=description_column, bank_id_column=bank_id_column,
        currency_column=currency_column,
    )
    return CsvPreview(mapping=mapping, headers=headers, sample=body[:20], date_formats=formats)


def parse(data: bytes, mapping: CsvMapping, *, digits: int = 2) -> list[StatementRow]:
    """Every data row, read with `mapping`. Blank lines are skipped; any other unreadable line is an error."""
    text, _ = decode(data, mapping.encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=mapping.delimiter)
    needed = max(i for i in (mapping.date_column, mapping.amount_column, mapping.debit_column,
                             mapping.credit_column, mapping.direction_column, mapping.payee_column,
                             mapping.description_column,
                             mapping.bank_id_column, mapping.currency_column) if i is not None) + 1
    start = mapping.skip_rows + int(mapping.has_header)
    rows: list[StatementRow] = []
    try:
        for number, record in enumerate(reader):
            if number < start or not any(cell.strip() for cell in record):
                continue
            where = f"line {reader.line_num}"
            if len(record) < needed:
                raise StatementError(where, f"has {len(record)} fields, the mapping needs {needed}")
            rows.append(_row(record, mapping, where, digits))
    except csv.Error as exc:
        raise StatementError(f"line {reader.line_num}", f"not valid CSV ({exc})") from exc
    if not rows:
        raise StatementError(f"line {start + 1}", "the file has no transactions")
    return rows


def _cell(record: list[str], column: int | None) -> str:
    return record[column].strip() if column is not None else ""


def _row(record: list[str], mapping: CsvMapping, where: str, digits: int) -> StatementRow:
    def amount(column: int | None) -> int:
        raw = _cell(record, column)
        if column is None or not raw:
            return 0
        return parse_amount(raw, decimal_separator=mapping.decimal_separator, digits=digits,
                            where=f"{where}, column {column + 1}")

    if mapping.amount_column is not None:
        value = amount(mapping.amount_column)
        if mapping.direction_column is not None:
            direction = _cell(record, mapping.direction_column).casefold()
            if direction not in _MONEY_OUT | _MONEY_IN:
                raise StatementError(f"{where}, column {mapping.direction_column + 1}",
                                     f"{direction!r} says neither money in nor money out")
            value = -abs(value) if direction in _MONEY_OUT else abs(value)
    else:
        if not _cell(record, mapping.debit_column) and not _cell(record, mapping.credit_column):
            raise StatementError(where, "neither the debit nor the credit column has an amount")
        value = amount(mapping.credit_column) - abs(amount(mapping.debit_column))
    currency = _cell(record, mapping.currency_column).upper() or None
    return StatementRow(
        where=where,
        booked_on=parse_date(_cell(record, mapping.date_column), mapping.date_format,
                             where=f"{where}, column {mapping.date_column + 1}"),
        amount_minor=value,
        payee=_cell(record, mapping.payee_column)[:200],
        description=_cell(record, mapping.description_column)[:1000],
        bank_id=_cell(record, mapping.bank_id_column)[:100] or None,
        currency=currency,
    )
