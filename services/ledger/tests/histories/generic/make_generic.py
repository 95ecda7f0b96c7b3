"""Write the generic-CSV fixtures: one household's last four months of 2024 as Mint's `transactions.csv`
(`mint_transactions.csv`) and as Monarch Money's transactions export (`monarch_transactions.csv`), and the
figures each app shows for it (`mint_household.json`, `monarch_household.json`), worked out here from the
household's rows themselves, never from the CSV.

The format facts and where they come from are in the README. Standard library only:
python3 make_generic.py (from this folder) writes the four files again, the same every time.
"""

import csv
import io
import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).parent
CHECKING, CARD, SAVINGS = "Everyday Checking", "Sapphire Card", "High-Yield Savings"


@dataclass
class Row:
    account: str
    day: date
    payee: str
    original: str
    amount: str  # signed: money into the account positive
    category: str  # the household's own word for it; each app's name below
    notes: str = ""
    tags: list[str] = field(default_factory=list)
    transfer: int = 0  # the rows of one transfer share a number


ROWS: list[Row] = []
TRANSFERS = 0


def row(*args: object, **kwargs: object) -> Row:
    made = Row(*args, **kwargs)  # type: ignore[arg-type]
    ROWS.append(made)
    return made


def transfer(out_of: str, into: str, out_day: date, in_day: date, amount: str, category: str,
             out_text: str, in_text: str) -> None:
    global TRANSFERS
    TRANSFERS += 1
    row(out_of, out_day, out_text, out_text.upper(), f"-{amount}", category, transfer=TRANSFERS)
    row(into, in_day, in_text, in_text.upper(), amount, category, transfer=TRANSFERS)


def d(month: int, day: int) -> date:
    return date(2024, month, day)


GROCERIES = {9: ("85.43", "112.07"), 10: ("91.18", "77.95"), 11: ("143.60", "88.21"), 12: ("156.34", "99.99")}
POWER = {9: "92.10", 10: "88.45", 11: "101.33", 12: "127.80"}
INTEREST = {9: "12.34", 10: "12.51", 11: "12.77", 12: "13.02"}
CARD_BILL = {9: "311.50", 10: "298.42", 11: "402.19", 12: "377.65"}
for month in (9, 10, 11, 12):
    for day in (1, 15):
        row(CHECKING, d(month, day), "ACME Corp", "ACME CORP PAYROLL PPD ID: 4412", "2150.00", "salary")
    row(CHECKING, d(month, 1), "Oakwood Apartments", "OAKWOOD APTS WEB PMT", "-1800.00", "rent",
        tags=["Taxes"] if month == 12 else [])
    row(CHECKING, d(month, 8), "PG&E", "PGANDE WEB ONLINE", f"-{POWER[month]}", "utilities")
    row(CARD, d(month, 6), "Trader Joe's", "TRADER JOE S #123 SAN FRANCISCO CA", f"-{GROCERIES[month][0]}",
        "groceries")
    row(CARD, d(month, 19), "Whole Foods Market", "WHOLEFDS SFO 10234", f"-{GROCERIES[month][1]}",
        "groceries")
    row(CARD, d(month, 10), "Café Olé", "CAFE OLE SAN FRANCISCO", "-4.75", "coffee")
    row(SAVINGS, d(month, 30), "Interest", "INTEREST PAYMENT", INTEREST[month], "interest")
    transfer(CHECKING, SAVINGS, d(month, 20), d(month, 20), "500.00", "transfer",
             "Transfer to High-Yield Savings", "Transfer from Everyday Checking")
    # The card's bill is paid from checking; the card sees the payment two days later.
    transfer(CHECKING, CARD, d(month, 25), d(month, 27), CARD_BILL[month], "card payment",
             "Chase Card Payment", "Payment Thank You")

row(CARD, d(10, 10), "Café Olé", "CAFE OLE SAN FRANCISCO", "-4.75", "coffee",
    notes="second one, same day")  # two rows alike: both stay
row(CARD, d(9, 12), "Señor Taco", "SENOR TACO #2", "-32.60", "restaurants", notes='team lunch, "tacos"')
row(CARD, d(10, 22), "Amazon", "AMZN Mktp US*2K4L", "-64.99", "shopping", tags=["Reimbursable"])
row(CARD, d(11, 2), "Amazon", "AMZN Mktp US*2K4L REFUND", "64.99", "shopping", notes="returned: wrong size")
row(CARD, d(11, 23), "Delta Air Lines", "DELTA AIR 0062345", "-389.20", "travel", tags=["Vacation"],
    notes="Flights to Montréal\nseats 14A/14B")
row(CARD, d(11, 25), "Hôtel Le Germain", "HOTEL LE GERMAIN MTL", "-612.00", "travel",
    tags=["Vacation", "Reimbursable"])
row(CHECKING, d(12, 14), "Venmo", "VENMO CASHOUT", "-40.00", "transfer", notes="to Sam, concert tickets")
row(CHECKING, d(10, 3), "Check #1043", "CHECK 1043", "-120.00", "none")

# --- the two apps' words and layouts ------------------------------------------------------------------

MINT_CATEGORIES = {"salary": "Paycheck", "rent": "Mortgage & Rent", "utilities": "Utilities",
                   "groceries": "Groceries", "coffee": "Coffee Shops", "interest": "Interest Income",
                   "transfer": "Transfer", "card payment": "Credit Card Payment",
                   "restaurants": "Restaurants", "shopping": "Shopping", "travel": "Travel",
                   "none": "Uncategorized"}
MONARCH_CATEGORIES = {"salary": "Paychecks", "rent": "Rent", "utilities": "Gas & Electric",
                      "groceries": "Groceries", "coffee": "Coffee Shops", "interest": "Interest",
                      "transfer": "Transfer", "card payment": "Credit Card Payment",
                      "restaurants": "Restaurants & Bars", "shopping": "Shopping",
                      "travel": "Travel & Vacation", "none": "Uncategorized"}
KINDS = {"salary": "income", "interest": "income"}  # the rest are spending


def newest_first(rows: list[Row]) -> list[Row]:
    return sorted(rows, key=lambda r: (-r.day.toordinal(), ROWS.index(r)))


def mint() -> str:
    """Every cell quoted, header too; dates M/DD/YYYY; amounts unsigned with debit/credit; labels
    separated by spaces; newest first. Starts with a UTF-8 BOM (see the README)."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(["Date", "Description", "Original Description", "Amount", "Transaction Type",
                     "Category", "Account Name", "Labels", "Notes"])
    for r in newest_first(ROWS):
        amount = Decimal(r.amount)
        writer.writerow([f"{r.day.month}/{r.day.day:02d}/{r.day.year}", r.payee, r.original,
                         f"{abs(amount):.2f}", "debit" if amount < 0 else "credit",
                         MINT_CATEGORIES[r.category], r.account, " ".join(r.tags), r.notes])
    return "\ufeff" + out.getvalue()


def monarch() -> str:
    """Quoted only where needed; dates YYYY-MM-DD; amounts signed; tags separated by commas; the Owner
    column of newer exports; newest first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Date", "Merchant", "Category", "Account", "Original Statement", "Notes", "Amount",
                     "Tags", "Owner"])
    for r in newest_first(ROWS):
        writer.writerow([r.day.isoformat(), r.payee, MONARCH_CATEGORIES[r.category], r.account, r.original,
                         r.notes, f"{Decimal(r.amount):.2f}", ",".join(r.tags), "Shared"])
    return out.getvalue()


def figures(names: dict[str, str], app: str) -> dict[str, object]:
    """Each account's balance (the sum of its rows: the export holds no opening balance), each
    category's total per month (transfers apart; a transfer row without its other side counts where
    the app put it), the transfers, in cents."""
    cents = lambda a: int(Decimal(a) * 100)  # noqa: E731
    balance: dict[str, int] = defaultdict(int)
    months: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in ROWS:
        balance[r.account] += cents(r.amount)
        if not r.transfer and r.category != "none":
            months[names[r.category]][r.day.strftime("%Y-%m")] += cents(r.amount)
    pairs = defaultdict(list)
    for r in ROWS:
        if r.transfer:
            pairs[r.transfer].append(r)
    transfers = sorted([out.account, into.account, cents(into.amount), out.day.isoformat()]
                       for out, into in pairs.values())
    categorised = sorted({r.category for r in ROWS if not r.transfer and r.category != "none"})
    return {
        "source": f"services/ledger/tests/histories/generic/make_generic.py ({app})",
        "currency": "USD",
        "rows": len(ROWS),
        "balance_minor": dict(sorted(balance.items())),
        "category_month_minor": {c: dict(sorted(m.items())) for c, m in sorted(months.items())},
        "category_kind": {names[c]: KINDS.get(c, "expense") for c in categorised},
        "transfers": transfers,
    }


def main() -> None:
    (HERE / "mint_transactions.csv").write_text(mint(), encoding="utf-8", newline="")
    (HERE / "monarch_transactions.csv").write_text(monarch(), encoding="utf-8", newline="")
    for app, names in (("mint", MINT_CATEGORIES), ("monarch", MONARCH_CATEGORIES)):
        (HERE / f"{app}_household.json").write_text(
            json.dumps(figures(names, app), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
