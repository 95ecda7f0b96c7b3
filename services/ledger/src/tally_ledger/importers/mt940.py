"""SWIFT MT940 account statements and MT942 interim transaction reports (.sta, .mt940, .942).

The tags are read by the `mt-940` library (import name `mt940`): :20: reference, :25: account, :28C:
statement number, :60F:/:60M: and :62F:/:62M: balances, :61: statement lines, :86: details, and for MT942
:13D: date and time, :34F: floor limit, :90D:/:90C: number and sum of entries. Around it this module:

- decodes the text itself (UTF-8, else Windows-1252 or Latin-1 as German banks write it; the library
  would fall back to the DOS code page 852);
- splits the file into statements at each :20: (a file holds one per day, or several accounts) and
  drops the SWIFT envelope around them ({1:...}{2:...}{4: ... -});
- checks every :61: line against the SWIFT layout before the library reads it (the library reads what
  it can of a broken line: "12.50NTRF" would be 12.00), and checks that the statement adds up: opening
  balance plus the :61: lines is the closing balance (MT940), the debits and credits are what :90D: and
  :90C: say (MT942);
- reads the :86: details: German structured (?00 posting text, ?20-?29 and ?60-?63 purpose with the SEPA
  keywords EREF+ SVWZ+ ..., ?30/?31 the counterparty's bank and account, ?32/?33 its name), Dutch
  structured (/EREF/ /CNTP/account/BIC/name/city/ /REMI/USTD//text/, /NAME/ /REMI/ ...) or free text.

Payee is the counterparty's name when the details give one, else empty; description is the purpose (else
the posting text, else the :61: supplementary details). The booking date is the :61: entry date when
given, else the value date. The bank id is the :61: bank reference (after //, not NONREF); a reference
that one file gives to different transactions is no id, and those rows keep none.
"""

import dataclasses
import logging
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from mt940 import Options, processors
from mt940.models import Amount, Balance, SumAmount, Transaction, Transactions
from mt940.tags import Tag

from tally_ledger.importers.balances import ClosingBalance, latest, minor
from tally_ledger.importers.rows import SourceAccount, StatementError, StatementRow
from tally_ledger.importers.values import decimal_to_minor, decode

EXTENSIONS = (".sta", ".mt940", ".940", ".942", ".mt942")

# The library logs each tag it cannot read at ERROR, with its pattern; such a file is the uploader's
# mistake and comes back to them as a StatementError, so the service's log does not need it.
logging.getLogger("mt940").setLevel(logging.CRITICAL)

# Every fix the library offers over its 5.0 behaviour: ?31 (the counterparty's account) apart from the
# name, :86: never erasing a :61: reference, RC (reversal of a credit) as the debit it is, lowercase
# marks, details of any length.
_OPTIONS = Options(applicant_iban=True, merge_keeps_values=True, reversal_sign=True,
                   case_insensitive_marks=True, timezone_offset=True, unbounded_details=True,
                   non_swift_free_text=True, floor_limit_blank_mark=True, strip_bom=True,
                   gvc_leading_text=True)

_TAG_LINE = re.compile(r":(\d{2}[A-Z]?|NS):")
# 6!n value date, [4!n] entry date, 2a mark (D, C, RD, RC), [1!a] funds code, 15d amount with a decimal
# comma, 1!a3!c transaction type (then references, which the library reads).
_STATEMENT_LINE = re.compile(r"(?P<year>\d\d)(?P<month>\d\d)(?P<day>\d\d)(?P<entry>\d{4}|\s{4})?"
                             r"R?[DC][A-Z]?[ \n]?(?P<amount>\d+(?:,\d*)?)(?P<type>[A-Z][A-Z0-9 ]{3})",
                             re.IGNORECASE)
_GERMAN = re.compile(r"\d{3}\?\d\d")  # GVC then ?xx sub-fields (DFÜ-Abkommen, Anlage 3)
_SEPA_KEYWORD = re.compile(r"(EREF|KREF|MREF|CRED|DEBT|SVWZ|ABWA|ABWE|COAM|OAMT|SQTP|PURP)\+")
_DUTCH_KEYS = ("EREF", "PREF", "MARF", "CSID", "CNTP", "REMI", "PURP", "ULTC", "ULTD", "ULTB", "BENM", "ORDP",
               "NAME", "ADDR", "IBAN", "BIC", "TRCD", "TRTP", "RTRN", "ISDT", "SVCL", "BUSP", "CHGS", "EXCH",
               "OCMT", "IREF")
_DUTCH_FIELD = re.compile(r"/(" + "|".join(_DUTCH_KEYS) + r")/")
_IBAN = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")


def looks_like_mt940(data: bytes) -> bool:
    """:20:, :25: and :61: lines (an MT942 without transactions is known by its file name)."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    return all(re.search(rb"(?m)^:" + tag + rb":", data) for tag in (b"20", b"25", b"61"))


def _iban(value: str) -> str | None:
    """The IBAN `value` is (spaces and a trailing currency code allowed, "NL91INGB0001234567EUR"), or None."""
    compact = value.replace(" ", "").upper()
    for candidate in (compact, compact[:-3] if re.fullmatch(r".*\d[A-Z]{3}", compact) else ""):
        if _IBAN.fullmatch(candidate):
            digits = "".join(str(int(c, 36)) for c in candidate[4:] + candidate[:4])
            if int(digits) % 97 == 1:
                return candidate
    return None


def _source_account(identification: str, currency: str | None) -> SourceAccount | None:
    identification = identification.strip()
    if not identification:
        return None
    iban = _iban(identification)
    return SourceAccount(key=f"iban:{iban}" if iban else f"mt940:{identification}",
                         name=iban or identification, currency=currency)


# --- :86: details ---------------------------------------------------------------------------------

def _german(transactions: Transactions, tag: Tag, details: str) -> tuple[str, str]:
    # ?20-?29 hold ten lines of the purpose and ?60-?63 go on with it: handed to the library as purpose
    # lines (sub-field keys 2A-2D), so its SEPA keyword parsing (SVWZ+ ...) sees the whole text.
    details = re.sub(r"\?6([0-3])", lambda m: f"?2{'ABCD'[int(m.group(1))]}", details)
    sepa = bool(_SEPA_KEYWORD.search(details))
    # SEPA text is cut into 27-character lines wherever the 27th character falls: joined as it was.
    # Older texts wrote one thing a line: joined with spaces.
    read = processors.transaction_details_post_processor(
        transactions, tag, {"transaction_details": details}, {"transaction_details": details}, space=not sepa)
    payee = str(read.get("applicant_name") or "")
    description = str(read.get("purpose") or read.get("posting_text") or "")
    return payee, description


def _dutch(details: str) -> tuple[str, str]:
    parts = _DUTCH_FIELD.split(details)
    fields: dict[str, str] = {}
    for key, value in zip(parts[1::2], parts[2::2], strict=True):
        fields.setdefault(key, value.removesuffix("/").strip())
    counterparty = fields.get("CNTP", "").split("/")
    payee = (counterparty[2] if len(counterparty) > 2 else "") or fields.get("NAME", "")
    remittance = fields.get("REMI", "")
    if remittance.upper().startswith("USTD//"):
        remittance = remittance[6:]
    elif remittance.upper().startswith("STRD/"):  # a structured reference: STRD/CUR/<issuer>/<reference>
        remittance = next((p for p in reversed(remittance.split("/")) if p), "")
    return payee.strip(), (remittance or fields.get("TRTP", "")).strip()


def _details_processor(transactions: Transactions, tag: Tag, tag_dict: dict[str, Any],
                       result: dict[str, Any]) -> dict[str, Any]:
    """Payee and description of a :86: (kept as tally_payee and tally_description)."""
    raw = str(tag_dict.get("transaction_details") or "")
    joined = "".join(raw.splitlines())  # structured details are cut into 65-character lines anywhere
    if _GERMAN.match(joined):
        payee, description = _german(transactions, tag, joined)
    elif _DUTCH_FIELD.match(joined):
        payee, description = _dutch(joined)
    else:  # free text, a line at a time
        payee, description = "", " ".join(line.strip() for line in raw.splitlines())
    return {**result, "tally_payee": payee, "tally_description": " ".join(description.split())}


_PROCESSORS: dict[str, list[Callable[..., dict[str, Any]]]] = {
    "post_transaction_details": [_details_processor],
}


# --- statements ----------------------------------------------------------------------------------

class _Block:
    """One statement: its lines (numbered as in the file) and where each tag starts."""

    def __init__(self, lines: list[tuple[int, str]]) -> None:
        self.lines = lines
        self.tags: list[tuple[int, str, int]] = []  # (line number, tag, index in lines)
        for index, (number, line) in enumerate(lines):
            if found := _TAG_LINE.match(line):
                self.tags.append((number, found.group(1), index))

    @property
    def first_line(self) -> int:
        return self.lines[0][0]

    def text(self, start: int = 0, end: int | None = None) -> str:
        return "\n".join(line for _, line in self.lines[start:end])

    def tag_text(self, position: int) -> str:
        end = self.tags[position + 1][2] if position + 1 < len(self.tags) else None
        return self.text(self.tags[position][2], end)

    def line_of(self, tag: str, nth: int = 0) -> int:
        found = [number for number, name, _ in self.tags if name == tag]
        return found[nth] if nth < len(found) else self.first_line


def _blocks(text: str) -> list[_Block]:
    """The statements of a file, each from its :20: line to the next or to the end of its envelope."""
    blocks: list[list[tuple[int, str]]] = []
    current: list[tuple[int, str]] | None = None
    for number, line in enumerate(re.split(r"\r\n|\r|\n", text), start=1):
        if line.startswith(":20:"):
            current = []
            blocks.append(current)
        elif current is not None and (line.strip() == "-" or line.startswith(("-}", "{"))):
            current = None  # the end of the SWIFT text block, or the next message's envelope
            continue
        if current is not None and line.strip():
            current.append((number, line))
    return [_Block(lines) for lines in blocks]


class _Statement(Transactions):
    @staticmethod
    def strip(lines: list[str]) -> list[str]:
        """As the library does, but a line keeps its trailing spaces: SEPA text is cut into 27-character
        ?2x fields wherever the 27th character falls, so a line may end with the space between two words."""
        return [line.replace("\r", "") for line in lines if line.strip() not in ("", "-")]


def _new() -> Transactions:
    return _Statement(processors={**Transactions.DEFAULT_PROCESSORS, **_PROCESSORS}, options=_OPTIONS)


def _check_statement_lines(block: _Block) -> None:
    for position, (number, tag, _) in enumerate(block.tags):
        if tag != "61":
            continue
        value = block.tag_text(position)[4:]
        where = f"line {number}"
        found = _STATEMENT_LINE.match(value)
        if found is None:
            first = (value.splitlines() or [""])[0]
            raise StatementError(where, f":61: {first!r} is not a statement line (value date YYMMDD, "
                                        "entry date MMDD, D/C/RD/RC, amount with a decimal comma, "
                                        "transaction type)")
        year, month, day = (int(found.group(k)) for k in ("year", "month", "day"))
        try:  # February 29-31 is taken as the month's last day (banks book quarterly interest on 30.02.)
            date(2000 + year, month, min(day, 28) if month == 2 and day <= 31 else day)
        except ValueError as exc:
            raise StatementError(where, f":61: {value[:6]!r} is not a value date (YYMMDD)") from exc
        entry = (found.group("entry") or "").strip()
        if entry and not (1 <= int(entry[:2]) <= 12 and 1 <= int(entry[2:]) <= 31):
            raise StatementError(where, f":61: {entry!r} is not an entry date (MMDD)")


def _read_block(block: _Block) -> Transactions:
    _check_statement_lines(block)
    statement = _new()
    try:
        statement.parse(block.text())
    except Exception as exc:  # the library raises what it meets (RuntimeError, ValueError, ...): find the tag
        for position, (number, tag, _) in enumerate(block.tags):
            try:
                _new().parse(block.tag_text(position))
            except Exception as alone:  # any failure of the tag alone is that tag's fault
                # The library's own refusal is RuntimeError(message, tag, value).
                value = alone.args[2] if len(alone.args) == 3 and isinstance(alone.args[2], str) \
                    else block.tag_text(position)[len(tag) + 2:]
                raise StatementError(f"line {number}", f":{tag}: {value!r} cannot be read") from exc
        raise StatementError(f"line {block.first_line}", f"the statement cannot be read ({exc})") from exc
    statement_lines = sum(1 for _, tag, _ in block.tags if tag == "61")
    if len(statement.transactions) != statement_lines:
        raise StatementError(f"line {block.first_line}", f"{statement_lines} :61: lines, "
                                                          f"{len(statement.transactions)} transactions read")
    return statement


def _balance(statement: Transactions, *slugs: str) -> tuple[str, Decimal] | None:
    for slug in slugs:
        balance = statement.data.get(slug)
        if isinstance(balance, Balance) and isinstance(balance.amount, Amount):
            return slug, balance.amount.amount
    return None


_TAG_OF = {"final_opening_balance": "60F", "intermediate_opening_balance": "60M", "opening_balance": "60",
           "final_closing_balance": "62F", "intermediate_closing_balance": "62M", "closing_balance": "62"}


def _check_sums(block: _Block, statement: Transactions, amounts: list[Decimal]) -> None:
    opening = _balance(statement, "final_opening_balance", "intermediate_opening_balance", "opening_balance")
    closing = _balance(statement, "final_closing_balance", "intermediate_closing_balance", "closing_balance")
    if opening and closing and opening[1] + sum(amounts, Decimal(0)) != closing[1]:
        tag = _TAG_OF[closing[0]]
        raise StatementError(f"line {block.line_of(tag)}",
                             f":{tag}: closing balance {closing[1]} is not the opening balance {opening[1]} "
                             f"plus the {len(amounts)} :61: lines ({sum(amounts, Decimal(0))})")
    for slug, tag, total in (("sum_debit_entries", "90D", -sum((a for a in amounts if a < 0), Decimal(0))),
                             ("sum_credit_entries", "90C", sum((a for a in amounts if a > 0), Decimal(0)))):
        said = statement.data.get(slug)
        if isinstance(said, SumAmount) and abs(said.amount) != total:
            raise StatementError(f"line {block.line_of(tag)}",
                                 f":{tag}: says {abs(said.amount)}, the :61: lines add up to {total}")


def _rows(block: _Block, statement: Transactions, digits: int) -> list[StatementRow]:
    currency = statement.currency
    account = _source_account(str(statement.data.get("account_identification") or ""), currency)
    rows: list[StatementRow] = []
    amounts: list[Decimal] = []
    for nth, transaction in enumerate(statement.transactions):
        where = f"line {block.line_of('61', nth)}"
        rows.append(_row(transaction, where, digits, account, currency))
        amounts.append(transaction.data["amount"].amount)
    _check_sums(block, statement, amounts)
    return rows


def _row(transaction: Transaction, where: str, digits: int, account: SourceAccount | None,
         currency: str | None) -> StatementRow:
    data = transaction.data
    amount: Amount = data["amount"]
    minor = decimal_to_minor(abs(amount.amount), digits=digits, where=f"{where}, :61: amount")
    booked = data.get("entry_date") or data["date"]
    reference = str(data.get("bank_reference") or "").strip()
    description = str(data.get("tally_description") or data.get("extra_details") or "").strip()
    return StatementRow(
        where=where, booked_on=date(booked.year, booked.month, booked.day),
        amount_minor=-minor if amount.amount < 0 else minor,
        payee=str(data.get("tally_payee") or "")[:200], description=description[:1000],
        bank_id=reference[:100] if reference and reference.upper() != "NONREF" else None,
        currency=amount.currency or currency, account=account,
    )


def closing_balances(data: bytes) -> list[ClosingBalance]:
    """Each statement's closing balance (:62F:, else the intermediate :62M:), the latest per account."""
    text, _ = decode(data)
    found = []
    for block in _blocks(text):
        statement = _read_block(block)
        for slug in ("final_closing_balance", "intermediate_closing_balance"):
            balance = statement.data.get(slug)
            if isinstance(balance, Balance) and isinstance(balance.amount, Amount) and balance.date:
                currency = balance.amount.currency or statement.currency
                account = _source_account(str(statement.data.get("account_identification") or ""), currency)
                on = date(balance.date.year, balance.date.month, balance.date.day)
                amount = minor(balance.amount.amount, currency, f":{_TAG_OF[slug]}:")
                found.append(ClosingBalance(account.key if account else None, on, amount, currency))
                break
    return latest(found)


def _without_reused_references(rows: list[StatementRow]) -> list[StatementRow]:
    """A bank reference that names different transactions (another date or amount) in one file does not
    tell transactions apart: those rows keep no bank id (duplicates are then found by amount and payee).
    The same transaction twice (overlapping statements) keeps it, so it is imported once."""
    seen: dict[str, set[tuple[date, int]]] = defaultdict(set)
    for row in rows:
        if row.bank_id:
            seen[row.bank_id].add((row.booked_on, row.amount_minor))
    reused = {bank_id for bank_id, found in seen.items() if len(found) > 1}
    return [dataclasses.replace(row, bank_id=None) if row.bank_id in reused else row for row in rows]


def parse(data: bytes, *, digits: int = 2) -> list[StatementRow]:
    text, _ = decode(data)
    blocks = _blocks(text)
    if not blocks:
        raise StatementError("line 1", "no statement: an MT940 statement starts with a :20: line")
    rows: list[StatementRow] = []
    for block in blocks:
        rows.extend(_rows(block, _read_block(block), digits))
    if not rows:
        raise StatementError(f"line {blocks[0].first_line}", "the statement has no transactions (:61: lines)")
    return _without_reused_references(rows)
