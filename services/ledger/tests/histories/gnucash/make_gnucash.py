"""Make the GnuCash fixtures of the ledger's history import, and the figures GnuCash's books say.

Run in a throwaway virtualenv with requirements.txt (piecash pins SQLAlchemy 1.4, which the project
cannot have), with Debian's `python3-gnucash` installed for the second step; see ../README.md.

1. piecash builds a small household book as a GnuCash SQLite file (`household-piecash.gnucash`).
2. GnuCash itself (4.13, through its Python bindings, `gnucash_save_as.py` under the system Python)
   opens that book and saves it the way its File → Save As does, as SQLite (`household.gnucash`) and as
   gzip-compressed XML, GnuCash's default (`household-xml.gnucash`).
3. piecash reads GnuCash's SQLite back and writes `household.json`: every account's balance (piecash's
   `Account.get_balance`) and the total of every income and expense account per month (its splits), in
   cents, keyed by the accounts' full names. Tally's totals count spending negative, as here: the
   negated sum of the account's splits.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from collections import defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import piecash

# piecash 1.2's mappings make SQLAlchemy 1.4 warn about overlapping relationships; harmless here.
warnings.filterwarnings("ignore", module="piecash")
warnings.filterwarnings("ignore", message="relationship")

HERE = Path(__file__).resolve().parent
PIECASH_BOOK = HERE / "household-piecash.gnucash"
SQLITE_BOOK = HERE / "household.gnucash"
XML_BOOK = HERE / "household-xml.gnucash"
FIGURES = HERE / "household.json"

# (full name, type, commodity, placeholder, hidden)
ACCOUNTS = [
    ("Assets", "ASSET", "EUR", True, False),
    ("Assets:Current Assets", "ASSET", "EUR", True, False),
    ("Assets:Current Assets:Checking Account", "BANK", "EUR", False, False),
    ("Assets:Current Assets:Savings Account", "BANK", "EUR", False, False),
    ("Assets:Current Assets:Cash in Wallet", "CASH", "EUR", False, False),
    ("Assets:Current Assets:Travel Dollars", "CASH", "USD", False, False),
    ("Assets:Investments", "ASSET", "EUR", True, False),
    ("Assets:Investments:ACME Shares", "STOCK", "ACME", False, False),
    ("Liabilities", "LIABILITY", "EUR", True, False),
    ("Liabilities:Credit Card", "CREDIT", "EUR", False, False),
    ("Liabilities:Store Card", "CREDIT", "EUR", False, True),
    ("Income", "INCOME", "EUR", True, False),
    ("Income:Salary", "INCOME", "EUR", False, False),
    ("Income:Interest", "INCOME", "EUR", False, False),
    ("Income:Gifts Received", "INCOME", "EUR", False, False),
    ("Expenses", "EXPENSE", "EUR", True, False),
    ("Expenses:Groceries", "EXPENSE", "EUR", False, False),
    ("Expenses:Rent", "EXPENSE", "EUR", False, False),
    ("Expenses:Books", "EXPENSE", "EUR", False, False),
    ("Expenses:Dining", "EXPENSE", "EUR", False, False),
    ("Expenses:Bank Service Charge", "EXPENSE", "EUR", False, False),
    ("Expenses:Auto", "EXPENSE", "EUR", True, False),
    ("Expenses:Auto:Gas", "EXPENSE", "EUR", False, False),
    ("Expenses:Utilities", "EXPENSE", "EUR", True, False),
    ("Expenses:Utilities:Electric", "EXPENSE", "EUR", False, False),
    ("Expenses:Utilities:Gas", "EXPENSE", "EUR", False, False),
    ("Expenses:Taxes", "EXPENSE", "EUR", True, False),
    ("Expenses:Taxes:Income Tax", "EXPENSE", "EUR", False, False),
    ("Expenses:Old Hobby", "EXPENSE", "EUR", False, True),
    ("Equity", "EQUITY", "EUR", True, False),
    ("Equity:Opening Balances", "EQUITY", "EUR", False, False),
    ("Imbalance-EUR", "BANK", "EUR", False, False),
]

CHECKING = "Assets:Current Assets:Checking Account"
SAVINGS = "Assets:Current Assets:Savings Account"
CASH = "Assets:Current Assets:Cash in Wallet"
DOLLARS = "Assets:Current Assets:Travel Dollars"
SHARES = "Assets:Investments:ACME Shares"
CARD = "Liabilities:Credit Card"
STORE = "Liabilities:Store Card"
OPENING = "Equity:Opening Balances"

# (day, description, notes, [(account, value in EUR, quantity in the account's commodity or None, memo,
# reconcile state)]); the values of a transaction sum to nothing.
Split = tuple[str, str, str | None, str, str]
TRANSACTIONS: list[tuple[date, str, str, list[Split]]] = [
    (date(2025, 1, 1), "Opening Balance", "", [
        (CHECKING, "2500.00", None, "", "y"), (OPENING, "-2500.00", None, "", "n")]),
    (date(2025, 1, 1), "Opening Balance", "", [
        (SAVINGS, "10000.00", None, "", "y"), (OPENING, "-10000.00", None, "", "n")]),
    (date(2025, 1, 1), "Opening Balance", "", [
        (CARD, "-120.50", None, "", "y"), (OPENING, "120.50", None, "", "n")]),
    (date(2025, 1, 1), "Opening Balance", "", [
        (STORE, "-45.00", None, "", "y"), (CASH, "80.00", None, "", "y"),
        (OPENING, "-35.00", None, "", "n")]),
    (date(2025, 1, 2), "Landlord Ltd", "January rent", [
        (CHECKING, "-950.00", None, "", "y"), ("Expenses:Rent", "950.00", None, "", "n")]),
    (date(2025, 1, 4), "FreshMart", "", [
        (CARD, "-64.30", None, "", "c"), ("Expenses:Groceries", "64.30", None, "", "n")]),
    (date(2025, 1, 9), "City Power", "", [
        (CHECKING, "-71.20", None, "", "c"), ("Expenses:Utilities:Electric", "71.20", None, "", "n")]),
    (date(2025, 1, 11), "Shell", "", [
        (CARD, "-48.90", None, "", "n"), ("Expenses:Auto:Gas", "48.90", None, "", "n")]),
    (date(2025, 1, 15), "ATM Main Street", "", [
        (CHECKING, "-100.00", None, "", "c"), (CASH, "100.00", None, "", "n")]),
    (date(2025, 1, 18), "Corner Cafe", "", [
        (CASH, "-23.40", None, "", "n"), ("Expenses:Dining", "23.40", None, "", "n")]),
    # A payslip: the gross salary, the tax withheld, the net into the account.
    (date(2025, 1, 28), "ACME GmbH", "Salary January", [
        (CHECKING, "3200.00", None, "", "c"), ("Income:Salary", "-4000.00", None, "gross", "n"),
        ("Expenses:Taxes:Income Tax", "800.00", None, "withheld", "n")]),
    (date(2025, 1, 29), "Monthly saving", "", [
        (CHECKING, "-500.00", None, "", "c"), (SAVINGS, "500.00", None, "", "c")]),
    (date(2025, 1, 30), "Store card paid off", "closing the store card", [
        (CHECKING, "-45.00", None, "", "c"), (STORE, "45.00", None, "", "c")]),
    (date(2025, 1, 31), "Bank", "", [
        (SAVINGS, "12.34", None, "", "c"), ("Income:Interest", "-12.34", None, "", "n")]),
    (date(2025, 2, 2), "Landlord Ltd", "February rent", [
        (CHECKING, "-950.00", None, "", "c"), ("Expenses:Rent", "950.00", None, "", "n")]),
    # A split purchase on the card: food and a cookbook.
    (date(2025, 2, 6), "MegaStore", "", [
        (CARD, "-124.80", None, "", "c"), ("Expenses:Groceries", "94.80", None, "", "n"),
        ("Expenses:Books", "30.00", None, "cookbook", "n")]),
    (date(2025, 2, 10), "Bookworm", "refund: damaged copy", [
        (CARD, "15.00", None, "", "c"), ("Expenses:Books", "-15.00", None, "", "n")]),
    (date(2025, 2, 12), "Gas Utility", "", [
        (CHECKING, "-58.75", None, "", "n"), ("Expenses:Utilities:Gas", "58.75", None, "", "n")]),
    # Paying the card with a fee: a transfer and a charge in one transaction.
    (date(2025, 2, 20), "Card payment", "", [
        (CHECKING, "-310.00", None, "", "c"), (CARD, "300.00", None, "", "c"),
        ("Expenses:Bank Service Charge", "10.00", None, "late fee", "n")]),
    (date(2025, 2, 22), "Grandma", "birthday present", [
        (CASH, "50.00", None, "", "n"), ("Income:Gifts Received", "-50.00", None, "", "n")]),
    (date(2025, 2, 24), "Pizza Place", "forgot to categorise", [
        (CHECKING, "-32.50", None, "", "n"), ("Imbalance-EUR", "32.50", None, "", "n")]),
    # The salary split between two accounts.
    (date(2025, 2, 27), "ACME GmbH", "Salary February", [
        (CHECKING, "2700.00", None, "", "c"), (SAVINGS, "500.00", None, "", "c"),
        ("Income:Salary", "-3200.00", None, "", "n")]),
    (date(2025, 3, 2), "Landlord Ltd", "March rent", [
        (CHECKING, "-950.00", None, "", "n"), ("Expenses:Rent", "950.00", None, "", "n")]),
    (date(2025, 3, 5), "Broker", "10 ACME shares", [
        (CHECKING, "-1000.00", None, "", "n"), (SHARES, "1000.00", "10", "", "n")]),
    (date(2025, 3, 8), "FreshMart", "", [
        (CARD, "-81.15", None, "", "n"), ("Expenses:Groceries", "81.15", None, "", "n")]),
    (date(2025, 3, 14), "Exchange office", "dollars for the trip", [
        (CHECKING, "-220.00", None, "", "n"), (DOLLARS, "220.00", "240.00", "", "n")]),
    (date(2025, 3, 20), "Shell", "", [
        (CARD, "-52.10", None, "", "n"), ("Expenses:Auto:Gas", "52.10", None, "", "n")]),
    (date(2025, 3, 27), "ACME GmbH", "Salary March", [
        (CHECKING, "3200.00", None, "", "n"), ("Income:Salary", "-3200.00", None, "", "n")]),
    (date(2025, 3, 29), "Monthly saving", "", [
        (CHECKING, "-750.00", None, "", "n"), (SAVINGS, "750.00", None, "", "n")]),
    (date(2025, 4, 2), "Landlord Ltd", "April rent", [
        (CHECKING, "-950.00", None, "", "n"), ("Expenses:Rent", "950.00", None, "", "n")]),
    (date(2025, 4, 3), "Voided purchase", "", [
        (CARD, "0", None, "", "n"), ("Expenses:Groceries", "0", None, "", "n")]),
    (date(2025, 4, 5), "Corner Cafe", "", [
        (CARD, "-18.60", None, "", "n"), ("Expenses:Dining", "18.60", None, "", "n")]),
    (date(2025, 4, 9), "City Power", "", [
        (CHECKING, "-66.80", None, "", "n"), ("Expenses:Utilities:Electric", "66.80", None, "", "n")]),
]


def build() -> None:
    PIECASH_BOOK.unlink(missing_ok=True)
    book = piecash.create_book(sqlite_file=str(PIECASH_BOOK), currency="EUR", overwrite=True)
    eur = book.default_currency
    usd = piecash.factories.create_currency_from_ISO("USD")
    acme = piecash.Commodity(namespace="NYSE", mnemonic="ACME", fullname="Acme Corporation", fraction=1)
    book.add(usd)
    book.add(acme)
    commodities = {"EUR": eur, "USD": usd, "ACME": acme}
    accounts: dict[str, piecash.Account] = {}
    for full, kind, commodity, placeholder, hidden in ACCOUNTS:
        parent_name, _, name = full.rpartition(":")
        parent = accounts[parent_name] if parent_name else book.root_account
        accounts[full] = piecash.Account(name=name, type=kind, parent=parent,
                                         commodity=commodities[commodity],
                                         placeholder=placeholder, hidden=hidden)
    book.flush()
    for day, description, notes, splits in TRANSACTIONS:
        piecash.Transaction(
            currency=eur, description=description, post_date=day, notes=notes or None,
            splits=[piecash.Split(account=accounts[account], value=Decimal(value),
                                  quantity=Decimal(quantity) if quantity is not None else Decimal(value),
                                  memo=memo, reconcile_state=state)
                    for account, value, quantity, memo, state in splits])
    book.save()
    book.close()


def convert() -> None:
    """GnuCash itself saves the book again, as SQLite and as gzip-compressed XML. It opens a copy: even
    read-only, GnuCash writes a log beside the book it opens."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "household-piecash.gnucash"
        shutil.copy(PIECASH_BOOK, source)
        targets = Path(folder) / "household.gnucash", Path(folder) / "household-xml.gnucash"
        subprocess.run(["/usr/bin/python3", str(HERE / "gnucash_save_as.py"), str(source),
                        *(str(t) for t in targets)], check=True, env={**os.environ, "TZ": "UTC"})
        for made, kept in zip(targets, (SQLITE_BOOK, XML_BOOK), strict=True):
            shutil.copy(made, kept)


def cents(value: Decimal | int) -> int:
    scaled = Decimal(value) * 100
    assert scaled == scaled.to_integral_value(), value
    return int(scaled)


def figures() -> dict[str, object]:
    book = piecash.open_book(str(SQLITE_BOOK), readonly=True, open_if_lock=True)
    balances: dict[str, int] = {}
    months: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for account in book.accounts:
        if account.type in ("BANK", "CASH", "ASSET", "CREDIT", "LIABILITY") and \
                account.commodity == book.default_currency:
            balances[account.fullname] = cents(account.get_balance(recurse=False, natural_sign=False))
        if account.type in ("INCOME", "EXPENSE"):
            for split in account.splits:
                month = split.transaction.post_date.strftime("%Y-%m")
                months[account.fullname][month] -= cents(split.quantity)
    result = {
        "currency": book.default_currency.mnemonic,
        "balance_minor": dict(sorted(balances.items())),
        "category_month_minor": {name: dict(sorted((m, v) for m, v in by_month.items() if v))
                                 for name, by_month in sorted(months.items())
                                 if any(by_month.values())},
    }
    book.close()
    return result


def main() -> None:
    if os.environ.get("TZ") != "UTC":
        sys.exit("run with TZ=UTC: piecash and GnuCash turn posting dates into local days")
    build()
    convert()
    FIGURES.write_text(json.dumps(figures(), indent=2) + "\n")


if __name__ == "__main__":
    main()
