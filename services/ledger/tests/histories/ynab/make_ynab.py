"""Makes the YNAB fixtures of this folder: one household's budget written as YNAB's "Export budget data"
writes it, in three formats, and the figures expected of it (README.md says what each is and why).

YNAB has no library that could compute the figures, so they are computed here from the household as it is
described below (its transactions, splits and transfers), never from the CSV written: the Plan's Activity
per category and month, each account's balance, the budgets. The tests then read the CSV through the
reader and the ledger and compare with both the Plan's Activity and household.json.

    python make_ynab.py      # from this folder; writes the zips and household.json (the same every time)
"""

import csv
import io
import json
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

HERE = Path(__file__).parent
INCOME = "Inflow: Ready to Assign"  # YNAB's income pot; "Inflow: To be Budgeted" in older exports
EXPORTED = (2025, 5, 2, 9, 15, 0)  # when the export was made: in the members' names and zip times


# --- the household --------------------------------------------------------------------------------

@dataclass
class Tx:
    day: str
    account: str
    payee: str
    category: str | None  # "Group: Name", INCOME, or None (uncategorised)
    amount: int  # cents, money into the account positive
    memo: str = ""
    flag: str = ""
    cleared: str = "Cleared"


@dataclass
class Part:
    category: str | None
    amount: int
    memo: str = ""
    transfer: str | None = None  # the other account, for a part that is a transfer


@dataclass
class Split:
    day: str
    account: str
    payee: str
    parts: list[Part]
    flag: str = ""
    cleared: str = "Cleared"


@dataclass
class Transfer:
    day: str
    source: str
    target: str
    amount: int  # cents, positive: what leaves `source`
    memo: str = ""
    flag: str = ""
    cleared: str = "Cleared"


ACCOUNTS = {"Checking": 250000, "Savings": 1000000, "Visa Card": -12050}  # starting balances
OPENED = "2025-01-01"
R, C, U = "Reconciled", "Cleared", "Uncleared"

HOUSEHOLD: list[Tx | Split | Transfer] = [
    # January: reconciled since
    Tx("2025-01-02", "Checking", "Landlord Ltd", "Bills: Rent", -120000, cleared=R),
    Tx("2025-01-03", "Checking", "Employer GmbH", INCOME, 310000, "January salary", cleared=R),
    Tx("2025-01-05", "Visa Card", "FreshMart", "Everyday: Groceries", -8437, cleared=R),
    Tx("2025-01-07", "Checking", "City Power", "Bills: Utilities", -9620, cleared=R),
    Tx("2025-01-09", "Visa Card", "Café Aroma", "Everyday: Dining Out", -2380, flag="Purple", cleared=R),
    Tx("2025-01-10", "Checking", "Hobby Shop", "Fun: Old Hobby", -2750, cleared=R),  # hidden since
    Tx("2025-01-12", "Checking", "Telco", "Bills: Phone", -3999, cleared=R),
    Split("2025-01-15", "Visa Card", "MegaStore", [
        Part("Everyday: Groceries", -6145), Part("Fun: Books", -1899, "cookbook"),
        Part("Everyday: Household", -1230, "light bulbs")], cleared=R),
    Transfer("2025-01-18", "Checking", "Visa Card", 12050, "pay off the card", cleared=R),
    Tx("2025-01-20", "Visa Card", "Metro Transit", "Everyday: Transport", -4500, cleared=R),
    Tx("2025-01-22", "Checking", "Grandma", None, -5000, "🎂 birthday present", flag="Red", cleared=R),
    Tx("2025-01-25", "Visa Card", "Bookworm", "Fun: Books", -3200, cleared=R),
    Transfer("2025-01-28", "Checking", "Savings", 50000, "monthly saving", flag="Blue", cleared=R),
    Tx("2025-01-31", "Savings", "Bank Interest", INCOME, 417, cleared=R),
    # February
    Tx("2025-02-01", "Checking", "Landlord Ltd", "Bills: Rent", -120000),
    Tx("2025-02-03", "Checking", "Employer GmbH", INCOME, 310000, "February salary"),
    Tx("2025-02-04", "Visa Card", "FreshMart", "Everyday: Groceries", -9210),
    Tx("2025-02-06", "Visa Card", "Bookworm", "Fun: Books", 1500, "refund: damaged copy"),
    Tx("2025-02-08", "Checking", "City Power", "Bills: Utilities", -8840),
    Tx("2025-02-11", "Checking", "Telco", "Bills: Phone", -3999),
    Tx("2025-02-14", "Visa Card", 'Joe\'s "Famous" Pizza, Downtown', "Everyday: Dining Out", -5860,
       "valentine's dinner", flag="Red"),
    Split("2025-02-15", "Checking", "SuperStore", [
        Part("Everyday: Groceries", -4000), Part(None, -6000, "set aside", transfer="Savings")]),
    Tx("2025-02-17", "Visa Card", "Metro Transit", "Everyday: Transport", -4500),
    Tx("2025-02-20", "Visa Card", "SkyHigh Air", "Fun: Travel", -31000, "Flight to Lisbon", flag="Green"),
    Tx("2025-02-25", "Checking", "FreshMart", "Everyday: Groceries", -7125),
    Transfer("2025-02-27", "Checking", "Visa Card", 20000, "card payment"),
    Transfer("2025-02-28", "Checking", "Savings", 50000, "monthly saving", flag="Blue"),
    Tx("2025-02-28", "Savings", "Bank Interest", INCOME, 421),
    # March
    Tx("2025-03-01", "Checking", "Landlord Ltd", "Bills: Rent", -120000),
    Tx("2025-03-03", "Checking", "Employer GmbH", INCOME, 310000, "March salary"),
    Tx("2025-03-05", "Visa Card", "FreshMart", "Everyday: Groceries", -10366),
    Tx("2025-03-08", "Checking", "City Power", "Bills: Utilities", -7995),
    Tx("2025-03-10", "Visa Card", "Hotel Sol", "Fun: Travel", -42000, "Lisbon, 3 nights"),
    Tx("2025-03-11", "Checking", "Telco", "Bills: Phone", -3999),
    Split("2025-03-12", "Visa Card", "MegaStore", [
        Part("Everyday: Groceries", -5500), Part("Everyday: Household", -2499),
        Part("Fun: Books", -1200, "puzzle book")]),
    Transfer("2025-03-15", "Savings", "Checking", 30000, "for the trip"),
    Tx("2025-03-18", "Checking", "Tax Office", INCOME, 21540, "tax refund"),
    Tx("2025-03-20", "Checking", "Kiosk", None, -1990),
    Tx("2025-03-22", "Checking", "City Parking", "Everyday: Transport", -500),
    Tx("2025-03-22", "Checking", "City Parking", "Everyday: Transport", -500),  # twice, alike
    Tx("2025-03-24", "Visa Card", "Café Aroma", "Everyday: Dining Out", -3120),
    Transfer("2025-03-28", "Checking", "Savings", 50000, "monthly saving"),
    Transfer("2025-03-28", "Checking", "Savings", 50000, "bonus saving"),  # alike but for the memo
    Transfer("2025-03-29", "Checking", "Visa Card", 30000, "card payment"),
    Tx("2025-03-31", "Savings", "Bank Interest", INCOME, 425),
    # April: not cleared yet
    Tx("2025-04-01", "Checking", "Landlord Ltd", "Bills: Rent", -120000),
    Tx("2025-04-03", "Checking", "Employer GmbH", INCOME, 310000, "April salary"),
    Split("2025-04-05", "Visa Card", "MegaStore", [
        Part("Everyday: Groceries", -4800), Part("Everyday: Household", 1000, "returned lamp")], cleared=U),
    Tx("2025-04-07", "Checking", "City Power", "Bills: Utilities", -7010, cleared=U),
    Tx("2025-04-09", "Visa Card", "FreshMart", "Everyday: Groceries", -8888, cleared=U),
    Tx("2025-04-11", "Checking", "Telco", "Bills: Phone", -3999, cleared=U),
    Tx("2025-04-14", "Visa Card", "Metro Transit", "Everyday: Transport", -4500, cleared=U),
    Tx("2025-04-20", "Checking", "Old Friend", INCOME, 5000, "paid back", flag="Yellow", cleared=U),
    Transfer("2025-04-24", "Checking", "Visa Card", 50000, "card payment", cleared=U),
    Tx("2025-04-28", "Checking", "Grandma", None, -2500, "flowers", cleared=U),
    Tx("2025-04-30", "Savings", "Bank Interest", INCOME, 430, cleared=U),
]

# The Plan: its categories in YNAB's order (Old Hobby is hidden: YNAB leaves it out), and what was
# assigned to each per month; May is planned ahead.
PLAN = ["Credit Card Payments: Visa Card", "Bills: Rent", "Bills: Utilities", "Bills: Phone",
        "Everyday: Groceries", "Everyday: Dining Out", "Everyday: Transport", "Everyday: Household",
        "Fun: Books", "Fun: Travel"]
MONTHS = ["2025-01", "2025-02", "2025-03", "2025-04", "2025-05"]
MONTHLY = {"Bills: Rent": 120000, "Bills: Utilities": 10000, "Bills: Phone": 4000,
           "Everyday: Groceries": 30000, "Everyday: Dining Out": 8000, "Everyday: Transport": 10000,
           "Everyday: Household": 5000, "Fun: Books": 4000}
ASSIGNED: dict[tuple[str, str], int] = {
    **{(category, month): amount for category, amount in MONTHLY.items() for month in MONTHS[:4]},
    ("Fun: Travel", "2025-01"): 20000, ("Fun: Travel", "2025-02"): 20000, ("Fun: Travel", "2025-03"): 40000,
    ("Credit Card Payments: Visa Card", "2025-01"): 12050, ("Bills: Rent", "2025-05"): 120000,
}


# --- the register as YNAB writes it ---------------------------------------------------------------

@dataclass
class Row:
    account: str
    flag: str
    day: str
    payee: str
    category: str | None
    memo: str
    amount: int
    cleared: str
    order: tuple[int, int] = field(default=(0, 0))


def register_rows() -> list[Row]:
    """YNAB's rows, newest first (as the all-accounts register shows them), a split's parts in turn."""
    rows = [Row(account, "", OPENED, "Starting Balance", INCOME, "", amount, "Cleared", (-1, 0))
            for account, amount in ACCOUNTS.items()]
    for n, entry in enumerate(HOUSEHOLD):
        if isinstance(entry, Tx):
            rows.append(Row(entry.account, entry.flag, entry.day, entry.payee, entry.category, entry.memo,
                            entry.amount, entry.cleared, (n, 0)))
        elif isinstance(entry, Transfer):
            rows.append(Row(entry.source, entry.flag, entry.day, f"Transfer : {entry.target}", None,
                            entry.memo, -entry.amount, entry.cleared, (n, 0)))
            rows.append(Row(entry.target, entry.flag, entry.day, f"Transfer : {entry.source}", None,
                            entry.memo, entry.amount, entry.cleared, (n, 1)))
        else:
            for i, part in enumerate(entry.parts, start=1):
                payee = f"Transfer : {part.transfer}" if part.transfer else entry.payee
                memo = f"Split ({i}/{len(entry.parts)}) {part.memo}"
                rows.append(Row(entry.account, entry.flag, entry.day, payee, part.category, memo, part.amount,
                                entry.cleared, (n, i)))
                if part.transfer:  # the other side: a plain row in the other account, after the split
                    rows.append(Row(part.transfer, entry.flag, entry.day, f"Transfer : {entry.account}", None,
                                    part.memo, -part.amount, entry.cleared, (n, 100 + i)))
    rows.sort(key=lambda r: (r.day, -r.order[0], -r.order[1]), reverse=True)
    return rows


@dataclass(frozen=True)
class Format:
    """How one budget's settings make YNAB write its export."""

    budget: str
    dates: str  # strftime
    symbol: str
    before: bool  # the symbol before the amount
    decimal: str
    delimiter: str
    extension: str
    plan: str  # "Plan" (its column "Assigned") or, before 2025, "Budget" ("Budgeted")
    income: str  # the income pot's name
    bom: bool
    backslash_quotes: bool  # older exports escaped a quote with a backslash

    def money(self, cents: int) -> str:
        sign = "-" if cents < 0 else ""
        digits = f"{abs(cents) // 100}{self.decimal}{abs(cents) % 100:02d}"
        return f"{sign}{self.symbol}{digits}" if self.before else f"{sign}{digits}{self.symbol}"

    def day(self, iso: str) -> str:
        return date.fromisoformat(iso).strftime(self.dates)

    def month(self, iso_month: str) -> str:
        return date.fromisoformat(iso_month + "-01").strftime("%b %Y")

    def table(self, header: list[str], rows: list[list[str]]) -> bytes:
        """Text fields quoted, amounts (`_Amount`) not."""
        lines = [self.delimiter.join(self.quote(cell) for cell in header)]
        for row in rows:
            lines.append(self.delimiter.join(cell if isinstance(cell, _Amount) else self.quote(cell)
                                             for cell in row))
        text = "\n".join(lines) + "\n"
        return (b"\xef\xbb\xbf" if self.bom else b"") + text.encode()

    def quote(self, text: str) -> str:
        if self.backslash_quotes:
            return '"' + text.replace('"', '\\"') + '"'
        out = io.StringIO()
        csv.writer(out, delimiter=self.delimiter, quoting=csv.QUOTE_ALL, lineterminator="").writerow([text])
        return out.getvalue()


class _Amount(str):
    """An amount: written unquoted, as YNAB writes them."""


FORMATS = {
    # The current web app, a US budget: the default formats.
    "us": Format("Household", "%m/%d/%Y", "$", True, ".", ",", "csv", "Plan", INCOME, False, False),
    # A German budget: 31.12.2025, 1234,56€; tab-separated as reported of such exports, with a BOM.
    "eu": Format("Haushalt", "%d.%m.%Y", "€", False, ",", "\t", "tsv", "Plan", INCOME, True, False),
    # An export from before 2025: Budget.csv and "Budgeted", "To be Budgeted", backslash-escaped quotes.
    "legacy": Format("Household", "%m/%d/%Y", "$", True, ".", ",", "csv", "Budget", "Inflow: To be Budgeted",
                     False, True),
}

REGISTER_HEADER = ["Account", "Flag", "Date", "Payee", "Category Group/Category", "Category Group",
                   "Category", "Memo", "Outflow", "Inflow", "Cleared"]


def register(fmt: Format) -> bytes:
    rows = []
    for row in register_rows():
        category = fmt.income if row.category == INCOME else row.category
        group, name = category.split(": ", 1) if category else ("", "")
        outflow, inflow = _Amount(fmt.money(max(-row.amount, 0))), _Amount(fmt.money(max(row.amount, 0)))
        rows.append([row.account, row.flag, fmt.day(row.day), row.payee, category or "", group, name,
                     row.memo, outflow, inflow, row.cleared])
    return fmt.table(REGISTER_HEADER, rows)


def plan(fmt: Format) -> bytes:
    activity = plan_activity()
    header = ["Month", "Category Group/Category", "Category Group", "Category",
              "Assigned" if fmt.plan == "Plan" else "Budgeted", "Activity", "Available"]
    rows: list[list[str]] = []
    available: dict[str, int] = defaultdict(int)
    for month in MONTHS:
        for category in PLAN:
            group, name = category.split(": ", 1)
            assigned = ASSIGNED.get((category, month), 0)
            spent = activity[category].get(month, 0)
            # YNAB's rule: what is left rolls over; an overspending of cash does not (it comes off Ready to
            # Assign the next month instead).
            available[category] = max(available[category], 0) + assigned + spent
            rows.append([fmt.month(month), category, group, name, _Amount(fmt.money(assigned)),
                         _Amount(fmt.money(spent)), _Amount(fmt.money(available[category]))])
    return fmt.table(header, rows)


def plan_activity() -> dict[str, dict[str, int]]:
    """YNAB's Activity per category and month: the money on the category (split parts on theirs); a Credit
    Card Payments category gets the card's spending on budget categories and loses the card's payments."""
    activity: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    card = "Credit Card Payments: Visa Card"
    for category, month, amount, account in _categorised():
        activity[category][month] += amount
        if account == "Visa Card" and category != INCOME:
            activity[card][month] -= amount
    for entry in HOUSEHOLD:
        if isinstance(entry, Transfer) and entry.target == "Visa Card":
            activity[card][entry.day[:7]] -= entry.amount
    return {category: dict(months) for category, months in activity.items()}


def _categorised() -> list[tuple[str, str, int, str]]:
    """(category, month, amount, account) of every categorised amount: transactions and split parts."""
    found = []
    for entry in HOUSEHOLD:
        if isinstance(entry, Tx) and entry.category:
            found.append((entry.category, entry.day[:7], entry.amount, entry.account))
        elif isinstance(entry, Split):
            found += [(p.category, entry.day[:7], p.amount, entry.account) for p in entry.parts
                      if p.category and not p.transfer]
    return found


# --- the expected figures ---------------------------------------------------------------------------

def figures() -> dict[str, object]:
    """What Tally must come out with, from the household above (not from the CSV)."""
    balance = dict(ACCOUNTS)
    for row in register_rows():
        if row.payee != "Starting Balance":
            balance[row.account] += row.amount
    months: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for category, month, amount, _ in _categorised():
        name = "Ready to Assign" if category == INCOME else category.split(": ", 1)[1]
        months[name][month] += amount
    transfers = [[e.source, e.target, e.amount, e.day, e.memo] for e in HOUSEHOLD if isinstance(e, Transfer)]
    transfers += [[e.account, p.transfer, -p.amount, e.day, p.memo] for e in HOUSEHOLD if isinstance(e, Split)
                  for p in e.parts if p.transfer]
    splits = [e for e in HOUSEHOLD if isinstance(e, Split)]
    return {
        "accounts": {name: {"opening_balance_minor": opening, "balance_minor": balance[name]}
                     for name, opening in ACCOUNTS.items()},
        "category_month_minor": {name: dict(sorted(m.items())) for name, m in sorted(months.items())},
        "budgets": sorted([category.split(": ", 1)[1], month, amount]
                          for (category, month), amount in ASSIGNED.items()
                          if amount and not category.startswith("Credit Card Payments")),
        "transfers": sorted(transfers),
        "transactions": sum(isinstance(e, Tx) for e in HOUSEHOLD) + len(splits),
        "splits": len(splits),
        "register_rows": len(register_rows()),
        "plan_activity": plan_activity(),
    }


def member(fmt: Format, table: str) -> str:
    stamp = f"{EXPORTED[0]}-{EXPORTED[1]:02d}-{EXPORTED[2]:02d} {EXPORTED[3]:02d}-{EXPORTED[4]:02d}"
    return f"{fmt.budget} as of {stamp} - {table}.{fmt.extension}"


def export(fmt: Format) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for table, data in (("Register", register(fmt)), (fmt.plan, plan(fmt))):
            info = zipfile.ZipInfo(member(fmt, table), date_time=EXPORTED)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue()


def main() -> None:
    for key, fmt in FORMATS.items():
        (HERE / f"household_{key}.zip").write_bytes(export(fmt))
    (HERE / "household.json").write_text(json.dumps(figures(), indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
