"""QIF (Quicken Interchange Format) bank, cash and credit card registers.

Each record is a few lines, one field a line, its code in the first character (D date, T/U amount,
P payee, M memo, N number) and `^` ends it. Dates are written as banks like (US 1/15'25, 01/15/2025 or
European 15.01.2025), so the format is detected from every date in the file, as for CSV.
"""

from dataclasses import dataclass, field

from tally_ledger.importers.rows import StatementError, StatementRow
from tally_ledger.importers.values import (
    date_formats_matching,
    decode,
    guess_decimal_separator,
    parse_amount,
    parse_date,
)

_REGISTERS = ("!type:bank", "!type:cash", "!type:ccard", "!type:oth a", "!type:oth l")


def looks_like_qif(data: bytes) -> bool:
    return data[:200].lstrip(b"\xef\xbb\xbf \r\n\t").lower().startswith(b"!type:")


@dataclass
class _Record:
    line: int
    fields: dict[str, str] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)


def _normal_date(raw: str) -> str:
    # Quicken writes 1/15'25 for 2025 and " 1/ 5/25" with spaces.
    return raw.replace(" ", "").replace("'", "/")


def parse(data: bytes, *, digits: int = 2, date_format: str | None = None) -> list[StatementRow]:
    text, _ = decode(data)
    lines = text.splitlines()
    if not lines or not lines[0].strip().lower().startswith("!type:"):
        raise StatementError("line 1", "a QIF file starts with !Type:Bank (or Cash, CCard)")
    if lines[0].strip().lower() not in _REGISTERS:
        raise StatementError("line 1", f"{lines[0].strip()!r} is not a bank, cash or card register")
    records: list[_Record] = []
    current = _Record(line=2)
    for number, raw in enumerate(lines[1:], start=2):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("!"):
            raise StatementError(f"line {number}", f"{line!r}: only one register per file is supported")
        if line == "^":
            if current.fields:
                records.append(current)
            current = _Record(line=number + 1)
            continue
        code, value = line[0], line[1:].strip()
        if code in "DTUPMNLC":
            current.fields.setdefault(code, value)
            current.lines.setdefault(code, number)
        elif code not in "SE$A%FX":  # split lines and addresses are read over, not misread
            raise StatementError(f"line {number}", f"unknown QIF field code {code!r}")
    if current.fields:
        raise StatementError(f"line {len(lines)}", "the last record does not end with ^")
    for record in records:
        for code in "DT":
            if code not in record.fields and not (code == "T" and "U" in record.fields):
                what = "date" if code == "D" else "amount"
                raise StatementError(f"line {record.line}", f"record without a {what} ({code} line)")
    if not records:
        raise StatementError("line 2", "the file has no transactions")
    if date_format is None:
        formats = date_formats_matching([_normal_date(r.fields["D"]) for r in records])
        if not formats:
            bad = next(r for r in records if not date_formats_matching([_normal_date(r.fields["D"])]))
            raise StatementError(f"line {bad.lines['D']}", f"{bad.fields['D']!r} is not a date")
        date_format = formats[0]
    separator = guess_decimal_separator(r.fields.get("T", r.fields.get("U", "")) for r in records)
    rows = []
    for record in records:
        amount_code = "T" if "T" in record.fields else "U"
        rows.append(StatementRow(
            where=f"line {record.line}",
            booked_on=parse_date(_normal_date(record.fields["D"]), date_format,
                                 where=f"line {record.lines['D']}"),
            amount_minor=parse_amount(record.fields[amount_code], decimal_separator=separator, digits=digits,
                                      where=f"line {record.lines[amount_code]}"),
            payee=record.fields.get("P", "")[:200],
            description=record.fields.get("M", "")[:1000],
            bank_id=None,
        ))
    return rows
