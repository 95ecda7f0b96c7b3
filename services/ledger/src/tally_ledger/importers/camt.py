"""CAMT.053 (ISO 20022 bank-to-customer statement), any version of the schema.

Parsed with defusedxml, which refuses DTDs, entity expansion and external entities. Elements are found
by local name, so camt.053.001.02 to .001.13 all read the same way.
"""

from datetime import date
from decimal import Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from tally_ledger.importers.rows import StatementError, StatementRow
from tally_ledger.importers.values import decimal_to_minor


def looks_like_camt(data: bytes) -> bool:
    head = data[:3000]
    return b"camt.053" in head or b"BkToCstmrStmt" in head


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: Element | None, *path: str) -> Element | None:
    for name in path:
        if element is None:
            return None
        element = next((c for c in element if _local(c.tag) == name), None)
    return element


def _text(element: Element | None, *path: str) -> str:
    found = _child(element, *path)
    return (found.text or "").strip() if found is not None else ""


def parse(data: bytes, *, digits: int = 2) -> list[StatementRow]:
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise StatementError("XML", f"refused: {exc}") from exc
    except ParseError as exc:
        line, column = exc.position
        raise StatementError(f"line {line}, column {column}", f"not well-formed XML ({exc.msg})") from exc
    statement_root = _child(root, "BkToCstmrStmt")
    if _local(root.tag) != "Document" or statement_root is None:
        raise StatementError(_local(root.tag), "not a CAMT.053 document (Document/BkToCstmrStmt)")
    rows: list[StatementRow] = []
    statements = [s for s in statement_root if _local(s.tag) == "Stmt"]
    if not statements:
        raise StatementError("BkToCstmrStmt", "no Stmt element")
    for s_index, statement in enumerate(statements, start=1):
        entries = [e for e in statement if _local(e.tag) == "Ntry"]
        for e_index, entry in enumerate(entries, start=1):
            where = f"Stmt[{s_index}]/Ntry[{e_index}]"
            rows.append(_entry(entry, where, digits))
    if not rows:
        raise StatementError("Stmt", "the statement has no entries (Ntry)")
    return rows


def _entry(entry: Element, where: str, digits: int) -> StatementRow:
    amount_element = _child(entry, "Amt")
    if amount_element is None:
        raise StatementError(f"{where}/Amt", "missing")
    try:
        amount = Decimal((amount_element.text or "").strip())
    except InvalidOperation as exc:
        raise StatementError(f"{where}/Amt", f"{amount_element.text!r} is not an amount") from exc
    if amount < 0:
        raise StatementError(f"{where}/Amt", "amounts are positive; CdtDbtInd gives the direction")
    indicator = _text(entry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise StatementError(f"{where}/CdtDbtInd", f"{indicator!r} is not CRDT or DBIT")
    if _text(entry, "RvslInd").lower() == "true":  # a reversal flips the direction
        indicator = "CRDT" if indicator == "DBIT" else "DBIT"
    booked = _text(entry, "BookgDt", "Dt") or _text(entry, "BookgDt", "DtTm")[:10] \
        or _text(entry, "ValDt", "Dt")
    try:
        booked_on = date.fromisoformat(booked)
    except ValueError as exc:
        raise StatementError(f"{where}/BookgDt", f"{booked!r} is not a date") from exc
    minor = decimal_to_minor(amount, digits=digits, where=f"{where}/Amt")
    details = _child(entry, "NtryDtls", "TxDtls")
    party = "Cdtr" if indicator == "DBIT" else "Dbtr"
    payee = (_text(details, "RltdPties", party, "Nm") or _text(details, "RltdPties", party, "Pty", "Nm")
             or _text(entry, "AddtlNtryInf"))
    remittance = _child(details, "RmtInf")
    unstructured = [c for c in (remittance if remittance is not None else []) if _local(c.tag) == "Ustrd"]
    description = " ".join((c.text or "").strip() for c in unstructured) or _text(entry, "AddtlNtryInf")
    bank_id = _text(entry, "AcctSvcrRef") or _text(details, "Refs", "AcctSvcrRef") \
        or _text(entry, "NtryRef") or _text(details, "Refs", "EndToEndId").replace("NOTPROVIDED", "")
    return StatementRow(
        where=where, booked_on=booked_on, amount_minor=-minor if indicator == "DBIT" else minor,
        payee=payee[:200], description=description[:1000], bank_id=bank_id[:100] or None,
        currency=amount_element.get("Ccy"),
    )
