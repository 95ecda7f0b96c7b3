"""OFX and QFX statements, version 1 (SGML) and 2 (XML), with or without their header.

The header is read here, leniently, because banks bend it: blank lines before it, `CHARSET:8859-1`,
`CHARSET:1252` over bytes that are really UTF-8, or no header at all (the body alone, from `<OFX>`). The
body is decoded as UTF-8 when its bytes are UTF-8, else in the declared character set, and handed to
ofxtools' TreeBuilder, a regex tag reader: no XML parser, so no DTD and no entity expansion. In values,
the predefined entities and numeric character references are decoded here, in one pass, so `&amp;lt;`
reads `&lt;`. Transactions are read from the element tree, keeping the bank's own posting date (ofxtools'
conversion would shift it to UTC) and amounts as exact decimals.
"""

import bisect
import codecs
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element

import ofxtools.models
from ofxtools.Parser import ParseError, TreeBuilder

from tally_ledger.importers.balances import ClosingBalance, latest, minor
from tally_ledger.importers.rows import SourceAccount, StatementError, StatementRow
from tally_ledger.importers.values import decimal_to_minor, detect_encoding
from tallykit.money import minor_unit_digits

_BOM = b"\xef\xbb\xbf"
_HEADER_HELP = "missing or malformed (expected OFXHEADER:100 ... or <?OFX OFXHEADER=\"200\" ...?>)"
# Character sets a header may name that decode like Windows-1252 (which is Latin-1 with printable
# characters at 0x80-0x9F, where Latin-1 has control codes no statement means) or are UTF-8 or ASCII.
_WESTERN = frozenset({
    "", "NONE", "UTF-8", "UTF8", "USASCII", "US-ASCII", "ASCII", "1252", "CP1252", "WINDOWS-1252",
    "ISO-8859-1", "8859-1", "ISO8859-1", "ISO_8859-1", "LATIN1", "LATIN-1",
})
# Other character sets a header may name: code pages ("1250", "CP850"), ISO, Mac and KOI8 ones.
_CHARSET = re.compile(r"[0-9]{3,5}|(?:CP|WINDOWS-|ISO-?8859-|ISO_8859-|MAC|KOI8-)[A-Z0-9_-]{1,20}")
_V1_FIELD = re.compile(r"([A-Za-z][A-Za-z0-9]*)[ \t]*:[ \t]*([^\s<]*)")
_V2_PROLOG = re.compile(r"(?:\s*<[?!][^>]*>)*\s*")
_XML_ENCODING = re.compile(r"""encoding\s*=\s*["']([\w.:-]+)["']""")
_ENTITY = re.compile(r"&(amp|lt|gt|quot|apos|nbsp|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'", "nbsp": " "}
_POSITION = re.compile(r"position=\[(\d+):(\d+)\]")
# Tags ofxtools knows as aggregates (elements holding other elements); any other tag holds a value.
_AGGREGATES = frozenset(name for name in dir(ofxtools.models) if name.isupper())
_BANK_KINDS = {"CHECKING": "checking", "SAVINGS": "savings", "MONEYMRKT": "savings", "CD": "savings",
               "CREDITLINE": "loan"}
_BANK_LABELS = {"CHECKING": "Checking", "SAVINGS": "Savings", "MONEYMRKT": "Money market", "CD": "CD",
                "CREDITLINE": "Credit line"}


def looks_like_ofx(data: bytes) -> bool:
    head = data[:2000].lstrip(b"\xef\xbb\xbf \r\n\t").upper()
    return head.startswith(b"OFXHEADER") or b"<?OFX" in head or b"<OFX>" in head


class _Builder(TreeBuilder):
    """ofxtools' tag reader, keeping count of the open aggregates: so that a value element left empty
    in SGML (`<MEMO>` then the next tag) is closed at once instead of swallowing the elements after it,
    an end tag that does not close the innermost open aggregate is an error (ofxtools would close
    whatever is open), and a file that ends with aggregates open is noticed (cut off)."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.started = False

    def _start(self, tag: str, text: str | None, closetag: str | None) -> None:
        if self.started and not self.open:
            raise ParseError(f"<{tag}> after the end of <OFX>")
        self.started = True
        if text is None and closetag is None:
            if tag not in _AGGREGATES:
                closetag = tag  # an empty value, or an aggregate ofxtools does not know: holds nothing
            else:
                self.open.append(tag)
        super()._start(tag, text, closetag)

    def _feedmatch(self, tag: str, text: str | None, closetag: str | None) -> None:
        if not tag.startswith("/") or text:
            super()._feedmatch(tag, text, closetag)
            return
        name = tag[1:]
        if self.open and self.open[-1] == name:
            self.end(self.open.pop())
        elif name in self.open:
            raise ParseError(f"</{name}> while <{self.open[-1]}> is open")
        elif name in _AGGREGATES:
            raise ParseError(f"</{name}> closes an element that is not open")
        # else: the end tag of a value, or of an element closed above as empty


def _unescape(text: str) -> str:
    """`&amp;` `&lt;` `&gt;` `&quot;` `&apos;` `&nbsp;` and `&#38;`/`&#x26;` decoded once, in one pass;
    anything else (a bare `&` as in AT&T, an unknown `&name;`) is kept as written."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if not name.startswith("#"):
            return _NAMED[name]
        code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return match.group(0)
        return chr(code)

    return _ENTITY.sub(replace, text)


def _text(element: Element | None, path: str) -> str:
    child = element.find(path) if element is not None else None
    return _unescape((child.text or "").strip()) if child is not None else ""


def _header(prefix: bytes) -> dict[str, str]:
    """The header fields before `<OFX>` (none for a file that has no header). V1 fields are
    `NAME:VALUE`, one a line or all on one; for V2 the XML declaration's encoding is kept."""
    text = prefix.decode("ascii", "replace")
    stripped = text.strip()
    if not stripped:
        return {}
    if stripped.startswith("<"):
        if not stripped.startswith("<?") or not _V2_PROLOG.fullmatch(text):
            raise StatementError("OFX header", _HEADER_HELP)
        encoding = _XML_ENCODING.search(text)
        return {"VERSION": "2", "CHARSET": encoding.group(1) if encoding else "UTF-8"}
    if not stripped.upper().startswith("OFXHEADER"):
        raise StatementError("OFX header", _HEADER_HELP)
    fields: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        position = 0
        while position < len(line):
            if line[position].isspace():
                position += 1
                continue
            match = _V1_FIELD.match(line, position)
            if not match:
                raise StatementError("OFX header", f"{_HEADER_HELP}: line {number}, "
                                                   f"{line.strip()!r} is not NAME:VALUE")
            fields.setdefault(match.group(1).upper(), match.group(2))
            position = match.end()
    if fields.get("ENCODING", "").upper() in ("UTF-8", "UNICODE"):
        fields["CHARSET"] = "UTF-8"
    return fields


def _encoding(body: bytes, declared: str) -> str:
    """UTF-8 when the bytes are UTF-8, whatever the header says (banks write CHARSET:1252 over UTF-8);
    else the declared character set, Western ones read as Windows-1252 (or Latin-1 when the file has
    bytes Windows-1252 lacks)."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8"
    name = declared.strip().upper()
    if name in _WESTERN:
        return detect_encoding(body)
    if _CHARSET.fullmatch(name):
        try:
            return codecs.lookup(f"cp{name}" if name.isdigit() else name).name
        except LookupError:
            pass
    raise StatementError("OFX header, CHARSET", f"{declared!r} is not a character set Tally knows, "
                                                "and the file is not UTF-8")


def _line(newlines: list[int], position: int) -> int:
    return bisect.bisect_left(newlines, position) + 1


def _tree(data: bytes) -> tuple[Element, list[int]]:
    """The element tree of the body, and the offsets of the file's newlines (for line numbers)."""
    newlines = [m.start() for m in re.finditer(b"\n", data)]
    skip = len(data) - len(data.removeprefix(_BOM))
    start = data.find(b"<OFX>", skip)
    if start < 0:
        raise StatementError("OFX body", "no <OFX> element: this is not an OFX statement, or not all of one")
    header = _header(data[skip:start])
    body = data[start:]
    encoding = _encoding(body, header.get("CHARSET", ""))
    try:
        text = body.decode(encoding)
    except UnicodeDecodeError as exc:
        raise StatementError(f"line {_line(newlines, start + exc.start)}",
                             f"not valid {encoding} text") from exc
    except UnicodeError as exc:  # a codec that cannot decode at all
        raise StatementError("OFX header, CHARSET", f"cannot read {encoding} text") from exc
    builder = _Builder()
    try:
        builder.feed(text)
    except SyntaxError as exc:  # ofxtools' ParseError, or ElementTree's
        found = _POSITION.search(str(exc))
        at = int(found.group(1)) if found else 0
        end = int(found.group(2)) if found else 0
        line = _line(newlines, start) + text[:at].count("\n")
        near = text[at:end].strip()[:80]
        raise StatementError(f"line {line}", f"not well-formed OFX near {near!r}") from exc
    if builder.open:
        raise StatementError(f"line {len(newlines) + 1}", f"the file ends inside <{builder.open[-1]}>: "
                                                           "it was cut off (download it again)")
    root = builder.close()
    if root is None or root.tag != "OFX":
        raise StatementError("OFX body", "empty")
    return root, newlines


def _account(statement: Element, org: str) -> SourceAccount | None:
    kind: str | None
    if statement.tag == "CCSTMTRS":
        account_id = _text(statement, "CCACCTFROM/ACCTID")
        key, kind, label = f"ofx:cc/{account_id}", "credit_card", "Credit card"
    else:
        account_id = _text(statement, "BANKACCTFROM/ACCTID")
        account_type = _text(statement, "BANKACCTFROM/ACCTTYPE").upper()
        key = f"ofx:{_text(statement, 'BANKACCTFROM/BANKID')}/{account_id}"
        kind, label = _BANK_KINDS.get(account_type), _BANK_LABELS.get(account_type, "Account")
    if not account_id:
        return None
    name = " ".join(part for part in (org, label, f"…{re.sub(r'[^0-9A-Za-z]', '', account_id)[-4:]}") if part)
    return SourceAccount(key=key, name=name[:200], currency=_text(statement, "CURDEF") or None, kind=kind)


def _digits(currency: str | None, default: int) -> int:
    """Amounts are in minor units of the row's own currency, when the file names a known one."""
    if currency:
        try:
            return minor_unit_digits(currency.upper())
        except ValueError:
            pass
    return default


def with_check_number(description: str, number: str, payee: str) -> str:
    """The description, followed by "Check 1500" for a cheque whose number payee and memo do not
    already show (a cheque is often known only by its number)."""
    number = number.strip().lstrip("#").strip()
    if not number.isdigit() or re.search(rf"(?<!\d){number}(?!\d)", f"{payee} {description}"):
        return description
    return f"{description} · Check {number}" if description else f"Check {number}"


def parse(data: bytes, *, digits: int = 2) -> list[StatementRow]:
    """Every transaction of every bank and credit card statement in the file, in file order, each with
    its account. `digits` is for rows whose currency the file does not name (or Tally does not know)."""
    root, newlines = _tree(data)
    statements = [e for e in root.iter() if e.tag in ("STMTRS", "CCSTMTRS")]
    if not statements:
        raise StatementError("OFX body", "no bank or credit card statement (STMTRS/CCSTMTRS)")
    org = _text(root, "SIGNONMSGSRSV1/SONRS/FI/ORG")
    # The nth <STMTTRN> of the file is the nth in the tree (investment statements have them too).
    positions = [m.start() for m in re.finditer(rb"<STMTTRN>", data, re.IGNORECASE)]
    number = {id(trn): n for n, trn in enumerate(root.iter("STMTTRN"))}
    rows: list[StatementRow] = []
    for statement in statements:
        account = _account(statement, org)
        currency = _text(statement, "CURDEF") or None
        for trn in statement.iter("STMTTRN"):
            index = number[id(trn)]
            line = f"line {_line(newlines, positions[index])}, " if index < len(positions) else ""
            rows.append(_row(trn, f"{line}STMTTRN {index + 1}", account, currency, digits))
    if not rows:
        raise StatementError("BANKTRANLIST", "the statement has no transactions")
    return rows


def closing_balances(data: bytes) -> list[ClosingBalance]:
    """Each statement's ledger balance (LEDGERBAL: BALAMT as of DTASOF), the latest per account. One the
    bank wrote wrongly is left out: it could only mislead a check."""
    root, _ = _tree(data)
    org = _text(root, "SIGNONMSGSRSV1/SONRS/FI/ORG")
    found = []
    for statement in (e for e in root.iter() if e.tag in ("STMTRS", "CCSTMTRS")):
        raw, as_of = _text(statement, "LEDGERBAL/BALAMT"), _text(statement, "LEDGERBAL/DTASOF")
        currency = _text(statement, "CURDEF") or None
        try:
            on = date(int(as_of[:4]), int(as_of[4:6]), int(as_of[6:8]))
            amount = minor(Decimal(raw.replace(",", ".")), currency, "LEDGERBAL/BALAMT")
        except (ValueError, InvalidOperation, StatementError):
            continue
        account = _account(statement, org)
        found.append(ClosingBalance(account.key if account else None, on, amount, currency))
    return latest(found)


def _row(trn: Element, where: str, account: SourceAccount | None, statement_currency: str | None,
         digits: int) -> StatementRow:
    posted = _text(trn, "DTPOSTED")
    if not re.match(r"^\d{8}", posted):
        raise StatementError(f"{where}, DTPOSTED", f"{posted!r} is not an OFX date (YYYYMMDD...)")
    try:
        booked_on = date(int(posted[:4]), int(posted[4:6]), int(posted[6:8]))
    except ValueError as exc:
        raise StatementError(f"{where}, DTPOSTED", f"{posted!r} is not a date") from exc
    raw_amount = _text(trn, "TRNAMT")
    try:
        amount = Decimal(raw_amount.replace(",", "."))
    except InvalidOperation as exc:
        raise StatementError(f"{where}, TRNAMT", f"{raw_amount!r} is not an amount") from exc
    if amount.is_finite() and amount.adjusted() > 15:  # (and beyond what decimals can scale)
        raise StatementError(f"{where}, TRNAMT", f"{raw_amount!r} is too large an amount")
    # CURRENCY: the amounts are in that currency; ORIGCURRENCY: they were converted to CURDEF already.
    currency = _text(trn, "CURRENCY/CURSYM") or statement_currency
    payee = _text(trn, "NAME") or _text(trn, "PAYEE/NAME")
    description = with_check_number(_text(trn, "MEMO"), _text(trn, "CHECKNUM"), payee)
    return StatementRow(
        where=where, booked_on=booked_on,
        amount_minor=decimal_to_minor(amount, digits=_digits(currency, digits), where=f"{where}, TRNAMT"),
        payee=payee[:200], description=description[:1000],
        bank_id=_text(trn, "FITID")[:100] or None,
        currency=currency, account=account,
    )
