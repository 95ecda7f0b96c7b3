"""Write the Firefly III fixtures: one household's journals as Firefly III's exporter writes them, in the
layout of 6.3 and later (`firefly_export.csv`) and in that of 5.x to 6.1 (`firefly_export_v5.csv`), and
the figures Firefly III computes for them (`firefly_household.json`), worked out here from the journals
themselves, never from the CSV.

Every format rule below follows app/Support/Export/ExportDataGenerator.php::exportTransactions of
firefly-iii/firefly-iii (tags 5.7.18, v6.1.0, v6.4.23 and 6.6.6 read; see the README). Standard library
only: python3 make_firefly.py (from this folder) writes the three files again, the same every time.
"""

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).parent
TZ = ZoneInfo("Europe/Berlin")  # Firefly writes dates in its TZ, with the offset (toAtomString)
PRIMARY = "EUR"

# config('firefly.journal_meta_fields'): the header lists them all; the rows stop at recurrence_count
# (since 6.0 the config has recurrence_date too, which the exporter never writes: rows are one short).
META_V5 = ["sepa_cc", "sepa_ct_op", "sepa_ct_id", "sepa_db", "sepa_country", "sepa_ep", "sepa_ci",
           "sepa_batch_id", "external_url", "interest_date", "book_date", "process_date", "due_date",
           "payment_date", "invoice_date", "recurrence_id", "internal_reference", "bunq_payment_id",
           "import_hash", "import_hash_v2", "external_id", "original_source", "recurrence_total",
           "recurrence_count"]
META_V6 = [*META_V5, "recurrence_date"]
HEADER_V6 = ["user_id", "group_id", "journal_id", "created_at", "updated_at", "group_title", "type",
             "currency_code", "amount", "foreign_currency_code", "foreign_amount", "primary_currency_code",
             "pc_amount", "pc_foreign_amount", "description", "date", "source_name", "source_iban",
             "source_type", "destination_name", "destination_iban", "destination_type", "reconciled",
             "category", "budget", "bill", "tags", "notes", *META_V6]
HEADER_V5 = ["user_id", "group_id", "journal_id", "created_at", "updated_at", "group_title", "type",
             "amount", "foreign_amount", "currency_code", "foreign_currency_code", "description", "date",
             "source_name", "source_iban", "source_type", "destination_name", "destination_iban",
             "destination_type", "reconciled", "category", "budget", "bill", "tags", "notes", *META_V5]

ASSET, LOAN, EXPENSE, REVENUE = "Asset account", "Loan", "Expense account", "Revenue account"
CASH, INITIAL = "Cash account", "Initial balance account"
CREDIT, RECONCILIATION = "Liability credit account", "Reconciliation account"
OWN_TYPES = {ASSET, LOAN}

IBAN = {"Girokonto": "DE89370400440532013000", "Tagesgeld": "DE02120300000000202051",
        "Kreditkarte": "", "US-Konto": "US64SVBKUS6S3300958879", "Autokredit": ""}
CURRENCY = {"Girokonto": "EUR", "Tagesgeld": "EUR", "Kreditkarte": "EUR", "Autokredit": "EUR",
            "US-Konto": "USD"}


@dataclass
class Journal:
    type: str
    source: tuple[str, str]  # name, account type
    destination: tuple[str, str]
    amount: str  # positive, as entered
    day: date
    description: str
    category: str = ""
    budget: str = ""
    bill: str = ""
    tags: list[str] = field(default_factory=list)
    notes: str = ""
    reconciled: bool = False
    currency: str = "EUR"
    foreign_currency: str = ""
    foreign_amount: str = ""
    pc_amount: str = ""  # the amount in the primary currency, where Firefly converted it
    group_id: int = 0
    journal_id: int = 0
    group_title: str = ""


GROUPS: list[list[Journal]] = []


def group(*journals: Journal, title: str = "") -> None:
    for journal in journals:
        journal.group_title = title if len(journals) > 1 else ""
    GROUPS.append(list(journals))


def d(month: int, day: int) -> date:
    return date(2025, month, day)


def giro() -> tuple[str, str]:
    return ("Girokonto", ASSET)


# --- the household -------------------------------------------------------------------------------------

# Opening balances, as Firefly makes them when an account is created (AccountServiceTrait): a positive
# one from 'Initial balance for "<name>"', a negative one to 'Initial balance account of <name>'; a loan
# owed starts with a "Liability credit" from the loan to 'Liability credit for "<name>"'.
for name, amount in (("Girokonto", "2500.00"), ("Tagesgeld", "10000.00"), ("US-Konto", "500.00")):
    group(Journal("Opening balance", (f'Initial balance for "{name}"', INITIAL), (name, ASSET), amount,
                  d(1, 1), f'Initial balance for "{name}"', currency=CURRENCY[name]))
group(Journal("Opening balance", ("Kreditkarte", ASSET), ("Initial balance account of Kreditkarte", INITIAL),
              "120.50", d(1, 1), 'Initial balance for "Kreditkarte"'))
group(Journal("Liability credit", ("Autokredit", LOAN), ('Liability credit for "Autokredit"', CREDIT),
              "8000.00", d(1, 1), 'Liability credit for "Autokredit"'))

SALARY = {1: "3200.00", 2: "3200.00", 3: "3350.00", 4: "3350.00"}
POWER = {1: "64.20", 2: "67.30", 3: "70.40", 4: "73.50"}
INTEREST = {1: "8.12", 2: "8.15", 3: "8.18", 4: "8.21"}
CARD_PAYOFF = {1: "144.30", 2: "158.70", 3: "73.40", 4: "92.50"}  # the card back to 0
for month in (1, 2, 3, 4):
    name = ("Januar", "Februar", "März", "April")[month - 1]
    group(Journal("Deposit", ("Arbeitgeber GmbH", REVENUE), giro(), SALARY[month], d(month, 1),
                  f"Gehalt {name}", category="Gehalt", reconciled=month <= 2))
    group(Journal("Withdrawal", giro(), ("Hausverwaltung Müller", EXPENSE), "950.00", d(month, 2),
                  "Miete", category="Miete", budget="Wohnen", bill="Miete", tags=["Wohnung"],
                  reconciled=month <= 2))
    group(Journal("Withdrawal", giro(), ("Stadtwerke München", EXPENSE), POWER[month], d(month, 5),
                  "Strom & Gas", category="Nebenkosten", budget="Wohnen", bill="Stadtwerke"))
    group(Journal("Withdrawal", giro(), ("REWE", EXPENSE), f"{52 + month}.{10 + month * 7:02d}",
                  d(month, 6), "REWE", category="Lebensmittel", budget="Essen"))
    group(Journal("Withdrawal", giro(), ("Lidl", EXPENSE), f"{31 + 2 * month}.{45 - month:02d}",
                  d(month, 17), "Wocheneinkauf", category="Lebensmittel", budget="Essen"))
    group(Journal("Transfer", giro(), ("Tagesgeld", ASSET), "500.00", d(month, 25), "Sparen",
                  category="Sparen" if month == 1 else "", notes="monatlich" if month == 3 else ""))
    group(Journal("Withdrawal", giro(), ("Autokredit", LOAN), "250.00", d(month, 28), "Rate Autokredit"))
    group(Journal("Deposit", ("Tagesbank AG", REVENUE), ("Tagesgeld", ASSET), INTEREST[month],
                  d(month, 28), "Zinsen", category="Zinsen"))
    group(Journal("Transfer", giro(), ("Kreditkarte", ASSET), CARD_PAYOFF[month], d(month, 27),
                  "Kreditkartenabrechnung"))

card = ("Kreditkarte", ASSET)
group(Journal("Withdrawal", card, ("Café Über", EXPENSE), "23.80", d(1, 11), "Frühstück",
              category="Restaurants", notes="mit Anna, \"die Beste\"\nzweite Zeile"))
group(Journal("Withdrawal", card, ("Amazon", EXPENSE), "34.99", d(2, 3), "Kochbuch", category="Bücher"),
      Journal("Withdrawal", card, ("Amazon", EXPENSE), "19.90", d(2, 3), "Küchenrolle",
              category="Haushalt"),
      title="Amazon Bestellung 302-1234567")
group(Journal("Deposit", ("Amazon", REVENUE), card, "15.99", d(2, 14), "Erstattung Kochbuch",
              category="Bücher", notes="Rücksendung, beschädigt"))
group(Journal("Withdrawal", card, ("Deutsche Bahn", EXPENSE), "119.80", d(2, 20), "ICE nach Hamburg",
              category="Reisen", tags=["Urlaub 2025", "Hamburg"]))
group(Journal("Withdrawal", card, ("Katz's Delicatessen", EXPENSE), "45.30", d(3, 9), "Dinner NYC",
              category="Restaurants", tags=["Urlaub 2025"], foreign_currency="USD",
              foreign_amount="49.00", notes="paid in dollars"))
group(Journal("Withdrawal", card, ("Apotheke am Markt", EXPENSE), "12.75", d(3, 12), "Apotheke",
              category="Gesundheit"),
      Journal("Withdrawal", card, ("Apotheke am Markt", EXPENSE), "8.40", d(3, 12), "Vitamine",
              category="Gesundheit", notes="Vitamin D"),
      Journal("Withdrawal", card, ("Apotheke am Markt", EXPENSE), "6.95", d(3, 12), "Handcreme",
              category="Haushalt"),
      title="Apotheke März")
group(Journal("Withdrawal", card, ("Café Über", EXPENSE), "92.50", d(4, 4), "Geburtstagsessen",
              category="Restaurants", tags=["Familie"]))
group(Journal("Withdrawal", giro(), ("Cash account", CASH), "100.00", d(2, 8), "Geldautomat"))
group(Journal("Withdrawal", giro(), ("Oma Gerda", EXPENSE), "50.00", d(3, 15), "Geschenk"))
group(Journal("Reconciliation", ("Girokonto reconciliation (EUR)", RECONCILIATION), giro(), "0.37",
              d(1, 31), "Reconciliation (January 1st to January 31st)", reconciled=True))
# The dollar account: its rows are left out of a EUR import; the transfer into it stays on Girokonto.
group(Journal("Withdrawal", ("US-Konto", ASSET), ("Whole Foods", EXPENSE), "42.17", d(3, 10), "Groceries",
              category="Lebensmittel", currency="USD", pc_amount="38.88"))
group(Journal("Transfer", giro(), ("US-Konto", ASSET), "100.00", d(3, 1), "Dollars für New York",
              foreign_currency="USD", foreign_amount="108.50"))


# --- ids, as Firefly gives them: groups and journals numbered in the order they were made ---------------

def number() -> list[Journal]:
    journals = []
    journal_id = 0
    for group_id, journals_of_group in enumerate(GROUPS, start=1):
        for journal in journals_of_group:
            journal_id += 1
            journal.group_id, journal.journal_id = group_id, journal_id
            journals.append(journal)
    # GroupCollector's order: date desc, order asc (a split's journals in the order entered), id desc
    order = {id(j): n for g in GROUPS for n, j in enumerate(g)}
    return sorted(journals, key=lambda j: (-j.day.toordinal(), order[id(j)], -j.journal_id))


# --- the two layouts --------------------------------------------------------------------------------

def atom(moment: datetime) -> str:
    return moment.isoformat()  # Carbon::toAtomString, Y-m-d\TH:i:sP


def negative(amount: str) -> str:
    return amount if amount.startswith("-") else f"-{amount}"


def row_v6(j: Journal) -> list[str]:
    """Since 6.2 (pc_ columns since 6.3): amounts rounded to the currency (Steam::bcround), negative
    for withdrawals, positive for the rest, negative again for an opening balance out of an asset."""
    sign = negative if j.type == "Withdrawal" or (j.type == "Opening balance" and j.source[1] == ASSET) \
        else (lambda a: a)
    created = datetime.combine(j.day, datetime.min.time(), TZ) + timedelta(hours=18, minutes=j.journal_id)
    return [
        "1", str(j.group_id), str(j.journal_id), atom(created), atom(created), j.group_title, j.type,
        j.currency, sign(j.amount), j.foreign_currency, sign(j.foreign_amount) if j.foreign_amount else "",
        PRIMARY, sign(j.pc_amount) if j.pc_amount else "", "",
        j.description, atom(datetime.combine(j.day, datetime.min.time(), TZ)),
        j.source[0], IBAN.get(j.source[0], ""), j.source[1],
        j.destination[0], IBAN.get(j.destination[0], ""), j.destination[1],
        "1" if j.reconciled else "", j.category, j.budget, j.bill, ",".join(j.tags), j.notes,
        *[""] * len(META_V5),  # no recurrence_date: the exporter does not write it
    ]


def row_v5(j: Journal) -> list[str]:
    """Up to 6.1: the source side's amount and foreign amount as the database holds them
    (decimal(32,12), always negative), currency codes after the amounts."""
    created = datetime.combine(j.day, datetime.min.time(), TZ) + timedelta(hours=18, minutes=j.journal_id)
    stored = lambda a: f"-{Decimal(a):.12f}" if a else ""  # noqa: E731
    return [
        "1", str(j.group_id), str(j.journal_id), atom(created), atom(created), j.group_title, j.type,
        stored(j.amount), stored(j.foreign_amount), j.currency, j.foreign_currency, j.description,
        atom(datetime.combine(j.day, datetime.min.time(), TZ)),
        j.source[0], IBAN.get(j.source[0], ""), j.source[1],
        j.destination[0], IBAN.get(j.destination[0], ""), j.destination[1],
        "1" if j.reconciled else "", j.category, j.budget, j.bill, ",".join(j.tags), j.notes,
        *[""] * len(META_V5),
    ]


def fputcsv(cells: list[str]) -> str:
    """PHP's fputcsv as league/csv's Writer calls it: a cell is enclosed in double quotes (doubled
    inside) when it holds the delimiter, a quote, the escape character, a space, tab, CR or LF; rows end
    with a bare LF; no BOM."""
    out = []
    for cell in cells:
        if any(c in cell for c in ',"\\ \t\r\n'):
            cell = '"' + cell.replace('"', '""') + '"'
        out.append(cell)
    return ",".join(out) + "\n"


# --- what Firefly computes --------------------------------------------------------------------------

def figures(journals: list[Journal]) -> dict[str, object]:
    """Each EUR account's balance (the sum of its journals' sides, the opening ones included: money
    leaves the source and reaches the destination), each category's total per month in Firefly's
    reports (withdrawals spent, deposits earned; transfers apart), and the transfers, in cents."""
    cents = lambda a: int(Decimal(a) * 100)  # noqa: E731
    balance: dict[str, int] = defaultdict(int)
    months: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    kinds: dict[str, list[int]] = defaultdict(list)
    for j in journals:
        out, into = cents(j.amount), cents(j.foreign_amount) if j.foreign_amount else cents(j.amount)
        if j.source[1] in OWN_TYPES:
            balance[j.source[0]] -= out
        if j.destination[1] in OWN_TYPES:
            balance[j.destination[0]] += into
        if j.category and j.currency == "EUR" and j.type in ("Withdrawal", "Deposit"):
            signed = -out if j.type == "Withdrawal" else out
            months[j.category][j.day.strftime("%Y-%m")] += signed
            kinds[j.category].append(signed)
    # Between two of the household's EUR accounts (paying the loan off included): transfers.
    transfers = sorted([j.source[0], j.destination[0], cents(j.amount), j.day.isoformat()] for j in journals
                       if j.source[1] in OWN_TYPES and j.destination[1] in OWN_TYPES
                       and CURRENCY[j.source[0]] == CURRENCY[j.destination[0]] == "EUR")
    return {
        "source": "services/ledger/tests/histories/firefly/make_firefly.py",
        "currency": "EUR",
        "balance_minor": {name: balance[name] for name in CURRENCY if CURRENCY[name] == "EUR"},
        "left_out_balance_minor": {name: balance[name] for name in CURRENCY if CURRENCY[name] != "EUR"},
        "category_month_minor": {c: dict(sorted(m.items())) for c, m in sorted(months.items())},
        "category_kind": {c: "income" if sum(a > 0 for a in v) > sum(a < 0 for a in v) else "expense"
                          for c, v in sorted(kinds.items())},
        "transfers": transfers,
        "journals": len(journals),
        "groups": len(GROUPS),
    }


def main() -> None:
    journals = number()
    (HERE / "firefly_export.csv").write_text(
        "".join(fputcsv(row) for row in [HEADER_V6, *map(row_v6, journals)]), encoding="utf-8", newline="")
    (HERE / "firefly_export_v5.csv").write_text(
        "".join(fputcsv(row) for row in [HEADER_V5, *map(row_v5, journals)]), encoding="utf-8", newline="")
    (HERE / "firefly_household.json").write_text(json.dumps(figures(journals), indent=2, ensure_ascii=False)
                                                 + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
