"""Firefly III's export of transactions (Options → Export data: `<date>_transaction_export.csv`, also the
API's /v1/data/export/transactions and `php artisan firefly-iii:export-data`) read into a neutral
`History`. Pure: a file in, dataclasses out.

The file, as Firefly's `app/Support/Export/ExportDataGenerator.php` writes it (league/csv, UTF-8 without
BOM, `,` and `"` quoting where needed, one row per journal): user_id, group_id, journal_id, created_at,
updated_at, group_title, type, currency_code, amount, foreign_currency_code, foreign_amount, then the
primary currency's code and amounts (`native_…` in 6.2, `primary_currency_code`/`pc_…` since 6.3, none
before), description, date (ISO 8601 with the offset: `2025-01-15T00:00:00+01:00`), source_name,
source_iban, source_type, destination_name, destination_iban, destination_type, reconciled (`1` or
empty), category, budget, bill, tags (comma separated), notes (newlines kept), then meta fields. Columns
are found by name, so the order of every version reads, and a row shorter than the header (6.4 names a
`recurrence_date` it does not write) is fine.

Amounts: up to 6.1 the source side's amount as stored (always negative, 12 decimals: `-12.340000000000`);
since 6.2 rounded to the currency and signed by type (withdrawals negative, the rest positive, an
opening balance out of an asset account negative). Neither sign is needed: money always goes from the
source account to the destination, so the reader takes the amount without its sign.

What it becomes:
- The household's accounts are those of type Asset account, Default account, Loan, Debt, Mortgage and
  Credit card. Firefly's "Cash account" (shown as "(cash)") is the other side of cash withdrawals and
  deposits, which Firefly reports as spending and income: it stays a payee, as do expense and revenue
  accounts.
- Between two of the household's accounts: a transfer (also a withdrawal into a loan: paying it off).
- Between one and an expense, revenue or cash account: a transaction, that account's name as payee, the
  category on it; a split journal group (several journals, one group_id, group_title its title) is one
  transaction with parts.
- With an "Initial balance account" or a "Liability credit account": the account's opening balance.
- With a "Reconciliation account": an uncategorised correction of the balance.
- Categories have no kind in Firefly: each is income or spending by the way most entries on it went
  (`kinds.py`); all go into one group, "Firefly III". Tags via `model.tag`; reconciled → reconciled,
  the rest uncleared (Firefly keeps no cleared state); description and notes → the note.
- The amount in the account's currency is what counts (`amount`); a foreign amount (what a card paid in
  dollars) is not read, except on the receiving side of a transfer between currencies.
- One currency per import: the currency of the accounts kept is Firefly's primary currency when some
  account is in it, else the currency most rows are in; it is the history's `currency`, so an import
  naming another is refused. Accounts in other currencies are left out with their rows (counted in
  `skipped`, the reason naming both currencies); a transfer between a kept account and one left out
  stays on the kept side as an uncategorised entry, so its balance is right.

Not read: budgets, bills, piggy banks, recurring transactions, attachments, SEPA and other meta fields,
accounts' IBANs and whether they are active (the transaction export does not hold them).
"""

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from tally_ledger.history import csv_table
from tally_ledger.history.kinds import kind_of
from tally_ledger.history.model import (
    History,
    HistoryAccount,
    HistoryCategory,
    HistoryError,
    HistoryPart,
    HistoryTransaction,
    HistoryTransfer,
    tag,
)
from tallykit.contracts.ledger import AccountKind, ClearedState

SOURCE = "Firefly III export"
APP = "firefly"
GROUP = "Firefly III"

REQUIRED = ("group_id", "journal_id", "type", "amount", "currency_code", "date", "source_name",
            "source_type", "destination_name", "destination_type")

# Firefly's account types (AccountTypeEnum): the household's own, with their kind (None: told by name) ...
OWN: dict[str, AccountKind | None] = {
    "Asset account": None, "Default account": None, "Credit card": AccountKind.credit_card,
    "Loan": AccountKind.loan, "Debt": AccountKind.loan, "Mortgage": AccountKind.loan,
}
# ... the other side of an opening balance or of a liability's starting credit, of a reconciliation ...
OPENING = frozenset({"Initial balance account", "Liability credit account"})
RECONCILIATION = frozenset({"Reconciliation account"})
# ... and the world outside: payees.
OUTSIDE = frozenset({"Expense account", "Revenue account", "Cash account", "Beneficiary account",
                     "Import account"})
TYPES = frozenset({"Withdrawal", "Deposit", "Transfer", "Opening balance", "Reconciliation",
                   "Liability credit", "Invalid"})


def looks_like(head: bytes, filename: str) -> bool:
    header = csv_table.header_of(head)
    return header is not None and set(REQUIRED) <= set(header.keys)


def read(file: Path, *, minor_digits: int = 2) -> History:
    """The history in a Firefly III export; amounts in minor units of a currency with `minor_digits`
    digits. Raises HistoryError naming what is wrong and where."""
    table = csv_table.read(file, delimiter=",")
    return _Reader(table, minor_digits).history()


@dataclass(frozen=True)
class _Side:
    name: str
    type: str

    @property
    def own(self) -> bool:
        return self.type in OWN


@dataclass(frozen=True)
class _Journal:
    line: int
    group_id: str
    journal_id: str
    group_title: str
    type: str
    currency: str
    amount: str
    foreign_currency: str
    foreign_amount: str
    description: str
    day: date
    source: _Side
    destination: _Side
    reconciled: bool
    category: str
    tags: tuple[str, ...]
    notes: str

    @property
    def where(self) -> str:
        return f"line {self.line} (journal {self.journal_id})"

    def currency_of(self, side: _Side) -> str:
        """The currency the money is in on this side: the journal's, but on the receiving side of a
        transfer between currencies the foreign one."""
        if side is self.destination and self.source.own and self.foreign_currency and self.foreign_amount:
            return self.foreign_currency
        return self.currency

    def note(self, payee: str = "") -> str:
        text = self.description if self.description.lower() != payee.lower() else ""
        return " · ".join(x for x in (text, self.notes) if x)[:1000]


@dataclass(frozen=True)
class _Part:
    journal: _Journal
    amount_minor: int
    payee: str
    note: str
    category: str | None


class _Reader:
    def __init__(self, table: csv_table.Table, minor_digits: int) -> None:
        self.table = table
        self.minor_digits = minor_digits
        self.skipped: dict[str, int] = defaultdict(int)
        missing = [name for name in REQUIRED if table.column(name) is None]
        if missing:
            raise HistoryError(f"has no column {', '.join(missing)}: it is not a Firefly III export of "
                               "transactions", "header")

    def history(self) -> History:
        journals = self.journals()
        if not journals:
            raise HistoryError("holds no transactions: export them again from Firefly III "
                               "(Options → Export data)", "file")
        currency_of, kept = self.currencies(journals)
        accounts = {name for name, currency in currency_of.items() if currency == kept}
        opening: dict[str, int] = defaultdict(int)
        parts: dict[tuple[str, str], list[_Part]] = defaultdict(list)  # (group, account) → its journals
        transfers: list[HistoryTransfer] = []
        for journal in journals:
            self.journal(journal, accounts, kept, currency_of, opening, parts, transfers)

        history = History(source=SOURCE, name=f"Firefly III ({kept})", app=APP, currency=kept)
        transactions = [self.transaction(group, account, found)
                        for (group, account), found in parts.items()]
        history.transactions = sorted(transactions, key=lambda t: (t.booked_on, t.source_id))
        history.transfers = sorted(transfers, key=lambda t: (t.booked_on, t.source_id))
        history.accounts = [HistoryAccount(source_id=name, name=name[:100], kind=self.kind(name, types),
                                           opening_balance_minor=opening[name], closed=False)
                            for name, types in self.account_types(journals).items() if name in accounts]
        booked: dict[str, list[int]] = defaultdict(list)
        for t in history.transactions:
            for category, amount in [(p.category_id, p.amount_minor) for p in t.parts] or \
                    [(t.category_id, t.amount_minor)]:
                if category is not None:
                    booked[category].append(amount)
        history.categories = [HistoryCategory(source_id=name, name=name[:100], group=GROUP,
                                              kind=kind_of(amounts)) for name, amounts in booked.items()]
        history.payees = sorted({t.payee for t in history.transactions if t.payee}, key=str.lower)
        history.skipped = dict(self.skipped)
        return history

    # the rows

    def journals(self) -> list[_Journal]:
        table = self.table
        column = {name: table.column(name) for name in (
            *REQUIRED, "group_title", "foreign_currency_code", "foreign_amount", "description",
            "reconciled", "category", "tags", "notes")}

        journals: list[_Journal] = []
        seen: set[str] = set()
        for line, cells in table.rows:
            def cell(name: str, cells: list[str] = cells) -> str:
                index = column[name]
                return cells[index].strip() if index is not None and index < len(cells) else ""

            journal_id = cell("journal_id")
            where = f"line {line} (journal {journal_id})" if journal_id else f"line {line}"
            if not journal_id or not cell("group_id"):
                raise HistoryError("has no group_id or journal_id", where)
            if journal_id in seen:
                raise HistoryError(f"journal {journal_id} is in the file twice", where)
            seen.add(journal_id)
            kind = cell("type")
            if kind not in TYPES:
                raise HistoryError(f"type {kind!r} is not a Firefly III transaction type", where)
            source = _Side(cell("source_name"), cell("source_type"))
            destination = _Side(cell("destination_name"), cell("destination_type"))
            for side in (source, destination):
                if side.type not in OWN and side.type not in OPENING | RECONCILIATION | OUTSIDE:
                    raise HistoryError(f"account type {side.type!r} (of {side.name!r}) is not one this "
                                       "reader knows", where)
                if not side.name:
                    raise HistoryError("an account without a name", where)
            journals.append(_Journal(
                line=line, group_id=cell("group_id"), journal_id=journal_id, group_title=cell("group_title"),
                type=kind, currency=cell("currency_code").upper(), amount=cell("amount"),
                foreign_currency=cell("foreign_currency_code").upper(), foreign_amount=cell("foreign_amount"),
                description=cell("description"), day=_day(cell("date"), where), source=source,
                destination=destination, reconciled=cell("reconciled").lower() in ("1", "true", "yes"),
                category=cell("category"), tags=_tags(cell("tags")), notes=cell("notes")))
        return journals

    def currencies(self, journals: list[_Journal]) -> tuple[dict[str, str], str]:
        """Each of the household's accounts' currency (the one most of its rows are in), and the one
        imported: the primary currency Firefly names, when some account is in it, else the most used."""
        legs: dict[str, Counter[str]] = defaultdict(Counter)
        for journal in journals:
            for side in (journal.source, journal.destination):
                if side.own and journal.type != "Invalid":
                    legs[side.name][journal.currency_of(side)] += 1
        if not legs:
            raise HistoryError("names none of the household's accounts (asset accounts, loans, debts, "
                               "mortgages)", "file")
        currency_of = {name: min(found, key=lambda c: (-found[c], c)) for name, found in legs.items()}
        rows = Counter(currency for found in legs.values() for currency in found.elements())
        primary = self.primary_currency()
        if primary in currency_of.values():
            return currency_of, primary
        return currency_of, min(rows, key=lambda c: (-rows[c], c))

    def primary_currency(self) -> str:
        index = self.table.column("primary_currency_code", "native_currency_code")
        if index is None:
            return ""
        return next((cells[index].strip().upper() for _, cells in self.table.rows
                     if index < len(cells) and cells[index].strip()), "")

    def account_types(self, journals: list[_Journal]) -> dict[str, set[str]]:
        """The household's accounts in the order they first appear (the opening balances first), with
        their types."""
        found: dict[str, set[str]] = {}
        for journal in sorted(journals, key=lambda j: (j.day, _number(j.journal_id))):
            for side in (journal.source, journal.destination):
                if side.own:
                    found.setdefault(side.name, set()).add(side.type)
        return found

    def kind(self, name: str, types: set[str]) -> AccountKind:
        told = {OWN[t] for t in types} - {None}
        if len(told) == 1:
            [kind] = told
            assert kind is not None
            return kind
        lower = name.lower()
        if "saving" in lower or "spar" in lower or "tagesgeld" in lower:
            return AccountKind.savings
        if "card" in lower or "kredit" in lower:
            return AccountKind.credit_card
        if "cash" in lower or "wallet" in lower or "bargeld" in lower:
            return AccountKind.cash
        return AccountKind.checking

    # one journal

    def journal(self, journal: _Journal, accounts: set[str], kept: str, currency_of: dict[str, str],
                opening: dict[str, int], parts: dict[tuple[str, str], list[_Part]],
                transfers: list[HistoryTransfer]) -> None:
        source, destination = journal.source, journal.destination
        if journal.type == "Invalid":
            self.skipped["journal of type Invalid"] += 1
            return
        if not source.own and not destination.own:
            self.skipped["between two accounts that are not the household's"] += 1
            return
        # The household's sides that are imported, each in the kept currency on this row.
        ours = [side for side in (source, destination) if side.own and side.name in accounts]
        if not ours:
            others = sorted({currency_of[s.name] for s in (source, destination) if s.own})
            self.skipped[f"of accounts in {', '.join(others)}: one currency per import, this one "
                         f"{kept}"] += 1
            return
        for side in ours:
            if journal.currency_of(side) != kept:
                self.skipped[f"in {journal.currency_of(side)} on an account in {kept}"] += 1
                return
        amount = self.minor(journal, source if source in ours else destination)
        if amount == 0:
            self.skipped["journal of nothing"] += 1
            return
        if len(ours) == 2 and source.name != destination.name:
            transfers.append(HistoryTransfer(
                source_id=journal.journal_id, from_account_id=source.name, to_account_id=destination.name,
                booked_on=journal.day, amount_minor=amount, note=journal.note(), status=_status(journal),
                tags=journal.tags))
            return
        if len(ours) == 2:
            self.skipped["transfer from an account to itself"] += 1
            return
        [side] = ours
        other = destination if side is source else source
        signed = -amount if side is source else amount
        if other.type in OPENING:
            opening[side.name] += signed
            return
        if other.type in RECONCILIATION:
            part = _Part(journal, signed, "", f"Reconciliation in Firefly III: {journal.description}", None)
        elif other.own:  # a transfer with an account left out (another currency): this side of it
            note = f"{journal.note()} (transfer with {other.name}, in {currency_of[other.name]}, " \
                   "not imported)"
            part = _Part(journal, signed, other.name, note.strip(), None)
        else:
            part = _Part(journal, signed, other.name, journal.note(other.name), journal.category or None)
        parts[(journal.group_id, side.name)].append(part)

    def minor(self, journal: _Journal, side: _Side) -> int:
        """The amount that leaves the source, or on the receiving side of a transfer between currencies
        the foreign amount that arrives, in minor units and without sign."""
        raw = journal.amount
        if side is journal.destination and journal.currency_of(side) != journal.currency:
            raw = journal.foreign_amount
        try:
            value = abs(Decimal(raw))
        except InvalidOperation as exc:
            raise HistoryError(f"amount {raw!r} is not a number", journal.where) from exc
        if not value.is_finite():
            raise HistoryError(f"amount {raw!r} is not a number", journal.where)
        minor = value.scaleb(self.minor_digits)
        if minor != minor.to_integral_value():
            raise HistoryError(f"amount {raw} has more decimals than the currency's {self.minor_digits}",
                               journal.where)
        return int(minor)

    def transaction(self, group: str, account: str, found: list[_Part]) -> HistoryTransaction:
        first = found[0].journal
        if len(found) == 1:
            [part] = found
            return HistoryTransaction(
                source_id=first.journal_id, account_id=account, booked_on=first.day,
                amount_minor=part.amount_minor, payee=part.payee[:200], note=part.note[:1000],
                category_id=part.category, status=_status(first), tags=first.tags)
        tags = tuple(dict.fromkeys(t for part in found for t in part.journal.tags))
        reconciled = all(part.journal.reconciled for part in found)
        return HistoryTransaction(
            source_id=f"group-{group}-{first.journal_id}", account_id=account, booked_on=first.day,
            amount_minor=sum(part.amount_minor for part in found), payee=found[0].payee[:200],
            note=first.group_title[:1000],
            parts=tuple(HistoryPart(source_id=part.journal.journal_id, amount_minor=part.amount_minor,
                                    category_id=part.category, note=part.note[:200]) for part in found),
            status=ClearedState.reconciled if reconciled else ClearedState.uncleared, tags=tags)


def _day(value: str, where: str) -> date:
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        return datetime.fromisoformat(value).date()  # the day as Firefly shows it, in its time zone
    except ValueError as exc:
        raise HistoryError(f"date {value!r} is not a date (ISO 8601, as 2025-01-15T00:00:00+01:00)",
                           where) from exc


def _number(journal_id: str) -> int:
    return int(journal_id) if journal_id.isdigit() else 0


def _tags(value: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(t for t in (tag(text) for text in value.split(",")) if t))


def _status(journal: _Journal) -> ClearedState:
    return ClearedState.reconciled if journal.reconciled else ClearedState.uncleared
