"""OFX and QFX statements, version 1 (SGML) and 2 (XML).

ofxtools reads the header and turns either version into an element tree without an XML parser (so no
entity expansion); the transactions are read from that tree here, keeping the bank's own posting date
(ofxtools' conversion would shift it to UTC) and amounts as exact decimals.
"""

import io
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element

from ofxtools.header import OFXHeaderError
from ofxtools.Parser import OFXTree, ParseError

from tally_ledger.importers.rows import StatementError, StatementRow
from tally_ledger.importers.values import decimal_to_minor


def looks_like_ofx(data: bytes) -> bool:
    head = data[:2000].lstrip(b"\xef\xbb\xbf \r\n\t").upper()
    return head.startswith(b"OFXHEADER") or b"<?OFX" in head or b"<OFX>" in head


def _text(element: Element, tag: str) -> str:
    child = element.find(tag)
    return (child.text or "").strip() if child is not None else ""


def _line_of(data: bytes, needle: str, nth: int) -> str:
    """The line of the nth occurrence of `needle` in the file, for error messages."""
    positions = [m.start() for m in re.finditer(re.escape(needle.encode()), data, re.IGNORECASE)]
    if nth < len(positions):
        line = data[: positions[nth]].count(b"\n") + 1
        return f"line {line}, "
    return ""


def parse(data: bytes, *, digits: int = 2) -> list[StatementRow]:
    tree = OFXTree()
    try:
        tree.parse(io.BytesIO(data))
    except OFXHeaderError as exc:
        raise StatementError("OFX header", "missing or malformed (expected OFXHEADER:100 ... or "
                             "<?OFX OFXHEADER=\"200\" ...?>)") from exc
    except (ParseError, SyntaxError, ValueError, IndexError) as exc:
        raise StatementError("OFX body", f"not well-formed ({exc})") from exc
    root = tree.getroot()
    if root is None:
        raise StatementError("OFX body", "empty")
    statements = [*root.iter("STMTRS"), *root.iter("CCSTMTRS")]
    if not statements:
        raise StatementError("OFX body", "no bank or credit card statement (STMTRS/CCSTMTRS)")
    rows: list[StatementRow] = []
    index = 0
    for statement in statements:
        currency = _text(statement, "CURDEF") or None
        for trn in statement.iter("STMTTRN"):
            where = f"{_line_of(data, '<STMTTRN>', index)}STMTTRN {index + 1}"
            index += 1
            posted = _text(trn, "DTPOSTED")
            if not re.match(r"^\d{8}", posted):
                raise StatementError(f"{where}, DTPOSTED", f"{posted!r} is not an OFX date (YYYYMMDD...)")
            try:
                booked_on = date(int(posted[:4]), int(posted[4:6]), int(posted[6:8]))
                amount = Decimal(_text(trn, "TRNAMT").replace(",", "."))
            except ValueError as exc:
                raise StatementError(f"{where}, DTPOSTED", f"{posted!r} is not a date") from exc
            except InvalidOperation as exc:
                raise StatementError(f"{where}, TRNAMT",
                                     f"{_text(trn, 'TRNAMT')!r} is not an amount") from exc
            payee = _text(trn, "NAME") or _text(trn, "PAYEE/NAME")
            rows.append(StatementRow(
                where=where, booked_on=booked_on,
                amount_minor=decimal_to_minor(amount, digits=digits, where=f"{where}, TRNAMT"),
                payee=payee[:200], description=_text(trn, "MEMO")[:1000],
                bank_id=_text(trn, "FITID")[:100] or None,
                currency=_text(trn, "CURRENCY/CURSYM") or _text(trn, "ORIGCURRENCY/CURSYM") or currency,
            ))
    if not rows:
        raise StatementError("BANKTRANLIST", "the statement has no transactions")
    return rows
