"""ISO 20022 bank-to-customer cash management messages, any version of the schema (.001.02 to .001.13):
camt.053 statements (`BkToCstmrStmt/Stmt`), camt.052 account reports (`BkToCstmrAcctRpt/Rpt`) and camt.054
debit/credit notifications (`BkToCstmrDbtCdtNtfctn/Ntfctn`). Their entries (`Ntry`) are written alike.

Parsed with defusedxml, which refuses DTDs, entity expansion and external entities. Elements are found by
local name, so every namespace version reads the same way; where versions differ (`Sts` a code or
`Sts/Cd`, `Cdtr/Nm` or `Cdtr/Pty/Nm`, `TxDtls/Amt` or `TxDtls/AmtDtls/TxAmt/Amt`) both are read.

- Only booked entries become rows (`Sts` BOOK, or no status): pending (PDNG), informational (INFO) and
  future (FUTR) entries of intraday reports are not on the account yet and are left out.
- `CdtDbtInd` is the direction of the entry as booked, also for a reversal (`RvslInd`): per the ISO usage
  rule a reversal of a debit is a CRDT entry. The counterparty of a reversal is that of the original.
- An entry that batches several transactions (several `TxDtls`, with or without `Btch`) becomes one row
  per transaction when their amounts add up to the entry's, else one row for the entry.
"""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from tally_ledger.importers.balances import ClosingBalance, latest, minor
from tally_ledger.importers.rows import SourceAccount, StatementError, StatementRow
from tally_ledger.importers.values import decimal_to_minor, detect_encoding

# message root → (the element of each statement / report / notification, the format's name)
_MESSAGES = {
    "BkToCstmrStmt": ("Stmt", "camt053"),
    "BkToCstmrAcctRpt": ("Rpt", "camt052"),
    "BkToCstmrDbtCdtNtfctn": ("Ntfctn", "camt054"),
}
_BOOKED = ("BOOK", "")
_AMOUNT = re.compile(r"\d+(\.\d+)?")
_DECLARED = re.compile(rb"""^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")


def message_kind(data: bytes) -> str | None:
    """"camt052", "camt053" or "camt054" when the file looks like that ISO 20022 message, else None."""
    head = data[:4000]
    for root, (_, kind) in _MESSAGES.items():
        if root.encode() in head:
            return kind
    found = re.search(rb"camt\.05([234])", head)
    return f"camt05{found.group(1).decode()}" if found else None


def looks_like_camt(data: bytes) -> bool:
    return message_kind(data) is not None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: Element | None, *path: str) -> Element | None:
    for name in path:
        if element is None:
            return None
        element = next((c for c in element if _local(c.tag) == name), None)
    return element


def _children(element: Element | None, name: str) -> list[Element]:
    return [c for c in element if _local(c.tag) == name] if element is not None else []


def _text(element: Element | None, *path: str) -> str:
    found = _child(element, *path)
    return " ".join((found.text or "").split()) if found is not None else ""


def _recoded(data: bytes) -> bytes | None:
    """A body in Latin-1 or Windows-1252 that says it is UTF-8 (or says nothing, which means UTF-8), as
    UTF-8; None when that is not the file's problem."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return None
    declared = _DECLARED.match(data[:300])
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        return None
    encoding = detect_encoding(data)
    if encoding not in ("windows-1252", "latin-1"):
        return None
    text = data.decode(encoding)
    if declared:
        text = re.sub(r"""encoding\s*=\s*["'][^"']*["']""", 'encoding="UTF-8"', text, count=1)
    return text.encode("utf-8")


def _xml(data: bytes) -> Element:
    for attempt in (data, _recoded(data)):
        if attempt is None:
            break
        try:
            root: Element = SafeET.fromstring(attempt, forbid_dtd=True)
            return root
        except DefusedXmlException as exc:
            raise StatementError("XML", f"refused: {exc}") from exc
        except (LookupError, ValueError) as exc:  # a declared encoding with no codec, or a multi-byte one
            raise StatementError("XML declaration", f"an encoding this reader cannot use ({exc})") from exc
        except ParseError as exc:
            failure = exc
    line, column = failure.position
    raise StatementError(f"line {line}, column {column}", f"not well-formed XML ({failure.msg})") from failure


def parse(data: bytes, *, digits: int = 2) -> list[StatementRow]:
    root = _xml(data)
    message = next((c for c in root if _local(c.tag) in _MESSAGES), None)
    if _local(root.tag) != "Document" or message is None:
        raise StatementError(_local(root.tag), "not an ISO 20022 bank-to-customer message (Document/"
                                               "BkToCstmrStmt, BkToCstmrAcctRpt or BkToCstmrDbtCdtNtfctn)")
    part, _ = _MESSAGES[_local(message.tag)]
    reports = _children(message, part)
    if not reports:
        raise StatementError(_local(message.tag), f"no {part} element")
    rows: list[StatementRow] = []
    left_out = 0
    for r_index, report in enumerate(reports, start=1):
        account = _account(report)
        for e_index, entry in enumerate(_children(report, "Ntry"), start=1):
            if _status(entry) not in _BOOKED:
                left_out += 1
                continue
            rows.extend(_entry(entry, f"{part}[{r_index}]/Ntry[{e_index}]", digits, account))
    if not rows:
        problem = f"no booked entries ({left_out} pending or for information only)" if left_out \
            else "no entries (Ntry)"
        raise StatementError(part, problem)
    return rows


def closing_balances(data: bytes) -> list[ClosingBalance]:
    """Each statement's or report's closing booked balance (`Bal` of type CLBD), the latest per account.
    A notification (camt.054) has none; one the bank wrote wrongly is left out."""
    root = _xml(data)
    message = next((c for c in root if _local(c.tag) in _MESSAGES), None)
    if message is None:
        return []
    found = []
    for report in _children(message, _MESSAGES[_local(message.tag)][0]):
        account = _account(report)
        for balance in _children(report, "Bal"):
            if _text(balance, "Tp", "CdOrPrtry", "Cd").upper() != "CLBD":
                continue
            amount = _child(balance, "Amt")
            currency = (amount.get("Ccy") or "").upper() or None if amount is not None else None
            day = _text(balance, "Dt", "Dt") or _text(balance, "Dt", "DtTm")[:10]
            try:
                value = minor(_amount(amount, "Bal/Amt"), currency, "Bal/Amt")
                sign = -1 if _indicator(balance, "Bal") == "DBIT" else 1
                on = date.fromisoformat(day)
            except (StatementError, ValueError):
                continue
            found.append(ClosingBalance(account.key if account else None, on, sign * value, currency))
    return latest(found)


def _status(entry: Element) -> str:
    status = _child(entry, "Sts")
    if status is None:
        return ""
    return (_text(status, "Cd") or _text(status, "Prtry") or _text(entry, "Sts")).upper()


def _account(report: Element) -> SourceAccount | None:
    account = _child(report, "Acct")
    iban = _text(account, "Id", "IBAN").replace(" ", "").upper()
    other = _text(account, "Id", "Othr", "Id")
    if not iban and not other:
        return None
    return SourceAccount(key=f"iban:{iban}" if iban else f"acct:{other}",
                         name=(_text(account, "Nm") or iban or other)[:200],
                         currency=_text(account, "Ccy").upper() or None)


def _amount(element: Element | None, where: str) -> Decimal:
    if element is None:
        raise StatementError(where, "missing")
    raw = (element.text or "").strip()
    if not _AMOUNT.fullmatch(raw):
        problem = "amounts are positive; CdtDbtInd gives the direction" if raw.startswith("-") \
            else f"{element.text!r} is not an amount"
        raise StatementError(where, problem)
    return Decimal(raw)


def _indicator(element: Element | None, where: str) -> str:
    indicator = _text(element, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise StatementError(f"{where}/CdtDbtInd", f"{indicator!r} is not CRDT or DBIT")
    return indicator


def _booked_on(entry: Element, where: str) -> date:
    booked = _text(entry, "BookgDt", "Dt") or _text(entry, "BookgDt", "DtTm")[:10] \
        or _text(entry, "ValDt", "Dt") or _text(entry, "ValDt", "DtTm")[:10]
    try:
        return date.fromisoformat(booked)
    except ValueError as exc:
        raise StatementError(f"{where}/BookgDt", f"{booked!r} is not a date") from exc


@dataclass(frozen=True)
class _Details:
    """What a TxDtls says of one transaction."""

    payee: str
    description: str
    account_servicer_ref: str
    end_to_end_id: str


def _party(details: Element, role: str) -> str:
    """The counterparty's name: the ultimate creditor or debtor when given (the shop behind PayPal, the
    employer behind a payroll service), else the creditor or debtor."""
    parties = _child(details, "RltdPties")
    for who in (f"Ultmt{role}", role):
        name = _text(parties, who, "Nm") or _text(parties, who, "Pty", "Nm")
        if name:
            return name
    return ""


def _remittance(details: Element) -> str:
    remittance = _child(details, "RmtInf")
    lines = (" ".join((c.text or "").split()) for c in _children(remittance, "Ustrd"))
    unstructured = " ".join(line for line in lines if line)
    if unstructured:
        return unstructured
    structured = _children(remittance, "Strd")
    texts = [_text(s, "AddtlRmtInf") for s in structured] or []
    texts = [t for t in texts if t] or [_text(s, "CdtrRefInf", "Ref") for s in structured]
    return " ".join(t for t in texts if t) or _text(details, "AddtlTxInf")


def _details(details: Element, money_in: bool) -> _Details:
    """`money_in`: the original transaction brought money in (the debtor is the counterparty)."""
    end_to_end = _text(details, "Refs", "EndToEndId")
    return _Details(payee=_party(details, "Dbtr" if money_in else "Cdtr"), description=_remittance(details),
                    account_servicer_ref=_text(details, "Refs", "AcctSvcrRef"),
                    end_to_end_id="" if end_to_end.upper() == "NOTPROVIDED" else end_to_end)


def _transaction_amount(details: Element, where: str, currency: str | None, indicator: str,
                        digits: int) -> int | None:
    """The signed amount of one TxDtls in the entry's currency, or None when it gives none."""
    for path in (("Amt",), ("AmtDtls", "TxAmt", "Amt"), ("AmtDtls", "CntrValAmt", "Amt"),
                 ("AmtDtls", "InstdAmt", "Amt")):
        element = _child(details, *path)
        if element is None or (currency and element.get("Ccy", currency) != currency):
            continue
        at = f"{where}/{'/'.join(path)}"
        minor = decimal_to_minor(_amount(element, at), digits=digits, where=at)
        direction = _indicator(details, where) if _child(details, "CdtDbtInd") is not None else indicator
        return -minor if direction == "DBIT" else minor
    return None


def _entry(entry: Element, where: str, digits: int, account: SourceAccount | None) -> list[StatementRow]:
    amount_element = _child(entry, "Amt")
    minor = decimal_to_minor(_amount(amount_element, f"{where}/Amt"), digits=digits, where=f"{where}/Amt")
    currency = amount_element.get("Ccy") if amount_element is not None else None
    indicator = _indicator(entry, where)
    signed = -minor if indicator == "DBIT" else minor
    booked_on = _booked_on(entry, where)
    reversal = _text(entry, "RvslInd").lower() in ("true", "1")
    money_in = (indicator == "CRDT") != reversal
    entry_ref = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
    transactions = [t for d in _children(entry, "NtryDtls") for t in _children(d, "TxDtls")]

    def row(at: str, amount: int, details: _Details | None, bank_id: str) -> StatementRow:
        description = (details.description if details else "") or _text(entry, "AddtlNtryInf")
        return StatementRow(where=at, booked_on=booked_on, amount_minor=amount,
                            payee=(details.payee if details else "")[:200], description=description[:1000],
                            bank_id=bank_id[:100] or None, currency=currency, account=account)

    if len(transactions) > 1:
        amounts = [_transaction_amount(t, f"{where}/TxDtls[{n}]", currency, indicator, digits)
                   for n, t in enumerate(transactions, start=1)]
        read = [_details(t, money_in) for t in transactions]
        if None not in amounts and sum(a for a in amounts if a is not None) == signed:
            ids = [d.account_servicer_ref or d.end_to_end_id for d in read]

            def own_id(n: int, bank_id: str) -> str:
                """The transaction's reference when it has its own, else the entry's numbered."""
                if bank_id and ids.count(bank_id) == 1:
                    return bank_id
                return f"{entry_ref}/{n}" if entry_ref else ""

            parts = zip(amounts, read, ids, strict=True)
            return [row(f"{where}/TxDtls[{n}]", amount or 0, details, own_id(n, bank_id))
                    for n, (amount, details, bank_id) in enumerate(parts, start=1)]
        payees = {d.payee for d in read}
        texts = list(dict.fromkeys(d.description for d in read if d.description))
        together = _Details(payee=payees.pop() if len(payees) == 1 else "",
                            description=_text(entry, "AddtlNtryInf") or " / ".join(texts),
                            account_servicer_ref="", end_to_end_id="")
        return [row(where, signed, together, entry_ref)]
    details = _details(transactions[0], money_in) if transactions else None
    bank_id = _text(entry, "AcctSvcrRef") or (details.account_servicer_ref if details else "") \
        or _text(entry, "NtryRef") or (details.end_to_end_id if details else "")
    return [row(where, signed, details, bank_id)]
