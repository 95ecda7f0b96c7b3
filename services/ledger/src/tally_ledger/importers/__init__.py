"""Bank statement parsers: bytes in, normalised rows out (or an error naming the line or element).

No I/O here: the import flow (tally_ledger.import_api) stores uploads, detects duplicates and records
the rows as transactions.
"""

from enum import StrEnum

from tally_ledger.importers import camt, csv_import, mt940, ofx, qif
from tally_ledger.importers.csv_import import CsvMapping, CsvPreview
from tally_ledger.importers.rows import StatementError, StatementRow


class StatementFormat(StrEnum):
    csv = "csv"
    ofx = "ofx"
    qif = "qif"
    camt053 = "camt053"  # ISO 20022 statement; also any .xml file that does not say which camt it is
    camt052 = "camt052"  # ISO 20022 account report (intraday)
    camt054 = "camt054"  # ISO 20022 debit/credit notification
    mt940 = "mt940"  # SWIFT MT940 statement or MT942 interim report


_CAMT = frozenset({StatementFormat.camt052, StatementFormat.camt053, StatementFormat.camt054})


def detect_format(filename: str, data: bytes) -> StatementFormat:
    """By content first (a renamed file still reads), then by the file name's extension."""
    if ofx.looks_like_ofx(data):
        return StatementFormat.ofx
    if kind := camt.message_kind(data):
        return StatementFormat(kind)
    if mt940.looks_like_mt940(data):
        return StatementFormat.mt940
    if qif.looks_like_qif(data):
        return StatementFormat.qif
    name = filename.lower()
    if name.endswith((".ofx", ".qfx")):
        return StatementFormat.ofx
    if name.endswith(".qif"):
        return StatementFormat.qif
    if name.endswith(".xml"):
        return StatementFormat.camt053
    if name.endswith(mt940.EXTENSIONS):
        return StatementFormat.mt940
    return StatementFormat.csv


def parse(statement_format: StatementFormat, data: bytes, *, digits: int = 2,
          mapping: CsvMapping | None = None) -> list[StatementRow]:
    """Every row of a statement. CSV needs its mapping (see `csv_import.detect`)."""
    if statement_format == StatementFormat.csv:
        if mapping is None:
            raise ValueError("a CSV statement needs a column mapping")
        return csv_import.parse(data, mapping, digits=digits)
    if statement_format == StatementFormat.ofx:
        return ofx.parse(data, digits=digits)
    if statement_format == StatementFormat.qif:
        return qif.parse(data, digits=digits)
    if statement_format == StatementFormat.mt940:
        return mt940.parse(data, digits=digits)
    if statement_format in _CAMT:  # one parser reads all three: the file says which it is
        return camt.parse(data, digits=digits)
    raise ValueError(f"no parser for {statement_format!r}")


__all__ = ["CsvMapping", "CsvPreview", "StatementError", "StatementFormat", "StatementRow", "detect_format",
           "parse"]
