"""Text, amounts and dates as banks write them, turned into exact values (never floats)."""

import codecs
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from tally_ledger.importers.rows import StatementError

# Bytes 0x80-0x9F: printable in Windows-1252 (the euro sign, curly quotes, ...), control codes in Latin-1.
# These five are unassigned in Windows-1252, so a file that has them is Latin-1.
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
_C1 = frozenset(range(0x80, 0xA0))
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "windows-1252", "latin-1")


def detect_encoding(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 (BOM, or NUL bytes in the ASCII range), else Windows-1252 or
    Latin-1 (which differ only in bytes 0x80-0x9F)."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = data[:4000]
    if len(sample) >= 4 and sample.count(0) > len(sample) // 4:
        return "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        present = set(data) & _C1
        if present & _CP1252_UNDEFINED:
            return "latin-1"
        return "windows-1252"
    return "utf-8"


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text of a file and the encoding it was read with (detected unless given)."""
    encoding = encoding or detect_encoding(data)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise StatementError(f"line {line}", f"not valid {encoding} text") from exc
    return text.removeprefix("\ufeff"), encoding


# --- amounts -------------------------------------------------------------------------------------

_MINUS = "-\u2212\u2013"
_JUNK = re.compile(r"[^\d.,'\u00a0\u202f +\-\u2212\u2013()]")  # currency symbols and codes go
_SPACES = re.compile(r"[\s\u00a0\u202f']")


def guess_decimal_separator(values: Iterable[str]) -> str:
    """"," when the column writes decimals with a comma (1.234,56 or 12,5), else "."."""
    comma_votes = point_votes = 0
    for raw in values:
        value = _JUNK.sub("", raw).strip()
        last_comma, last_point = value.rfind(","), value.rfind(".")
        if last_comma >= 0 and last_point >= 0:
            if last_comma > last_point:
                comma_votes += 1
            else:
                point_votes += 1
        elif last_comma >= 0:
            decimals = len(value) - last_comma - 1
            if decimals != 3 or (value.count(",") == 1 and value[:last_comma].strip("-+( ") in ("", "0")):
                comma_votes += 1
        elif last_point >= 0:
            decimals = len(value) - last_point - 1
            if decimals != 3 or (value.count(".") == 1 and value[:last_point].strip("-+( ") in ("", "0")):
                point_votes += 1
    return "," if comma_votes > point_votes else "."


def parse_amount(raw: str, *, decimal_separator: str = ".", digits: int = 2, where: str = "") -> int:
    """A bank's amount text ("-1.234,56 €", "(12.00)", "12.00-", "1'234.50") in exact minor units."""
    text = raw.strip()
    if not text:
        raise StatementError(where, "the amount is empty")
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    text = _JUNK.sub("", text).strip()
    if text and text[-1] in _MINUS + "+":
        negative, text = negative or text[-1] in _MINUS, text[:-1].strip()
    if text and text[0] in _MINUS + "+":
        negative, text = negative or text[0] in _MINUS, text[1:].strip()
    thousands = "," if decimal_separator == "." else "."
    text = _SPACES.sub("", text).replace(thousands, "")
    if decimal_separator == ",":
        text = text.replace(",", ".")
    if not re.fullmatch(r"\d+(\.\d*)?|\.\d+", text):
        raise StatementError(where, f"{raw.strip()!r} is not an amount")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - the pattern above already refuses these
        raise StatementError(where, f"{raw.strip()!r} is not an amount") from exc
    minor = value.scaleb(digits)
    if minor != minor.to_integral_value():
        raise StatementError(where, f"{raw.strip()!r} has more than {digits} decimal places")
    amount = int(minor)
    return -amount if negative else amount


def decimal_to_minor(value: Decimal, *, digits: int, where: str) -> int:
    minor = value.scaleb(digits)
    if not value.is_finite() or minor != minor.to_integral_value():
        raise StatementError(where, f"{value} is not an amount with at most {digits} decimal places")
    return int(minor)


# --- dates ---------------------------------------------------------------------------------------

DATE_FORMATS = (
    "%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%m/%d/%Y", "%d-%m-%Y", "%m-%d-%Y", "%Y/%m/%d", "%Y.%m.%d",
    "%d.%m.%y", "%d/%m/%y", "%m/%d/%y", "%d-%m-%y", "%Y%m%d", "%d %b %Y", "%d-%b-%Y", "%d %B %Y",
    "%b %d, %Y", "%B %d, %Y", "%d-%b-%y",
)


def parse_date(raw: str, date_format: str, *, where: str = "") -> date:
    read = _read_date(raw.strip(), date_format)
    if read is None:
        raise StatementError(where, f"{raw.strip()!r} is not a date like {date_format}")
    return read


@lru_cache(maxsize=4096)  # statements repeat the same few hundred dates; strptime is slow
def _read_date(text: str, date_format: str) -> date | None:
    # Some banks add a time ("2025-01-03 00:00:00" or "2025-01-03T10:15:00"): the date is what counts.
    if date_format in ("%Y-%m-%d", "%Y/%m/%d") and len(text) > 10 and text[10] in " T":
        text = text[:10]
    try:
        return datetime.strptime(text, date_format).date()
    except ValueError:
        return None


def _read_dates(values: Sequence[str], fmt: str) -> tuple[date | None, ...]:
    read: list[date | None] = []
    for value in values:
        try:
            read.append(parse_date(value, fmt))
        except StatementError:
            read.append(None)
    return tuple(read)


def date_formats_matching(values: Sequence[str], *, tolerate: float = 0.0) -> list[str]:
    """The known formats that read the most of `values` (all of them, unless `tolerate` allows a share of
    typos), dropping formats that agree on every value: more than one left means the column is
    ambiguous, like 03/04/2025 (the user must choose)."""
    values = [v for v in values if v.strip()]
    if not values:
        return []
    scored = [(fmt, read, sum(d is not None for d in read))
              for fmt in DATE_FORMATS for read in [_read_dates(values, fmt)]]
    best = max(score for _, _, score in scored)
    if best == 0 or best < len(values) * (1 - tolerate):
        return []
    matching: list[tuple[str, tuple[date | None, ...]]] = []
    for fmt, read, score in scored:
        if score == best and all(read != other for _, other in matching):
            matching.append((fmt, read))
    return [fmt for fmt, _ in matching]
