"""A whole household history from YNAB through the HTTP API on a real database.

YNAB has no library to compute figures with, but its export carries its own: the Plan's Activity per
category and month. The fixtures (tests/histories/ynab, made by make_ynab.py; its README says what is
known of the real format and from where) hold one household in three formats: today's US export (CSV,
12/31/2025, $1234.56), a German one (tab-separated .tsv with a BOM, 31.12.2025, 1234,56€) and one from
before 2025 (Budget.csv, "Budgeted", "To be Budgeted", backslash-escaped quotes). Each comes out with
Tally's total per category and month equal to the Plan's Activity, and each account's balance equal to the
sum of its Register rows; transfers stay transfers, splits splits; importing twice (or the same budget in
another format) adds nothing; undo takes it out; broken files are refused naming what and where, with
nothing written; another household sees nothing."""

import csv
import importlib.util
import io
import json
import re
import zipfile
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tally_ledger.history import sources, ynab
from tally_ledger.history.model import History, HistoryError
from tallystack.books import Books
from tallystack.polling import finished

HERE = Path(__file__).parent / "histories" / "ynab"
FIGURES: dict[str, Any] = json.loads((HERE / "household.json").read_text())
EXPORTS = {key: (HERE / f"household_{key}.zip").read_bytes() for key in ("us", "eu", "legacy")}
CURRENCY = {"us": "USD", "eu": "EUR", "legacy": "USD"}
BUDGET = {"us": "Household", "eu": "Haushalt", "legacy": "Household"}
SUMMARY = "YNAB export: 3 accounts, 11 categories, 57 transactions (10 transfers), 2025-01..2025-04"
REGISTER_HEADER = ["Account", "Flag", "Date", "Payee", "Category Group/Category", "Category Group",
                   "Category", "Memo", "Outflow", "Inflow", "Cleared"]
ZIP_NAME = "YNAB Export - Household as of 2025-05-02 09-15.zip"
Snapshot = Callable[[], Awaitable[dict[str, list[dict[str, Any]]]]]


# --- the export as the tests read it, independently of the reader -----------------------------------

def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _member(data: bytes, table: str) -> tuple[str, bytes]:
    [(name, content)] = [(n, c) for n, c in _members(data).items() if re.search(rf" - {table}\.[ct]sv$", n)]
    return name, content


def _rows(content: bytes) -> list[dict[str, str]]:
    text = content.decode("utf-8-sig")
    delimiter = "\t" if "\t" in text.split("\n", 1)[0] else ","
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter,
                               escapechar="\\" if '\\"' in text else None))


def _cents(text: str) -> int:
    """The fixtures' amounts: a symbol, two decimals, no grouping ($1234.56, -1234,56€)."""
    return (-1 if "-" in text else 1) * int(re.sub(r"\D", "", text) or 0)


def _plan_activity(data: bytes) -> dict[str, dict[str, int]]:
    """YNAB's own Activity per category (by name) and month, as the Plan says; Credit Card Payments
    apart (YNAB's bookkeeping of card debt, no category of Tally's)."""
    _, content = _member(data, "(Plan|Budget)")
    found: dict[str, dict[str, int]] = defaultdict(dict)
    for row in _rows(content):
        if row["Category Group"] == "Credit Card Payments" or not _cents(row["Activity"]):
            continue
        month = datetime.strptime(row["Month"], "%b %Y").strftime("%Y-%m")
        found[row["Category"]][month] = _cents(row["Activity"])
    return dict(found)


def _register_balances(data: bytes) -> dict[str, int]:
    """Each account's balance as the sum of its Register rows (its Starting Balance included)."""
    _, content = _member(data, "Register")
    balances: dict[str, int] = defaultdict(int)
    for row in _rows(content):
        balances[row["Account"]] += _cents(row["Inflow"]) - _cents(row["Outflow"])
    return dict(balances)


# --- the API ------------------------------------------------------------------------------------

async def _import(ledger: httpx.AsyncClient, headers: dict[str, str], data: bytes, name: str = ZIP_NAME,
                  **fields: str) -> httpx.Response:
    return await ledger.post("/histories", files={"file": (name, data)}, data=fields, headers=headers)


async def _imported(ledger: httpx.AsyncClient, headers: dict[str, str], data: bytes,
                    **fields: str) -> dict[str, Any]:
    response = await _import(ledger, headers, data, **fields)
    assert response.status_code == 201, response.text
    return dict(response.json())





def _counts(migration: dict[str, Any]) -> dict[str, int]:
    """What a migration wrote of the ledger's own (budgets, handed to the budget service, apart)."""
    keys = ("accounts_new", "categories_new", "categories_reused", "transactions_new", "transfers_new",
            "restored", "already_there")
    return {key: migration["counts"][key] for key in keys}


def _balances(accounts: dict[str, dict[str, Any]]) -> dict[str, int]:
    return {name: a["balance_minor"] for name, a in accounts.items()}


EXPECTED_BALANCES = {name: a["balance_minor"] for name, a in FIGURES["accounts"].items()}


# --- the household, in each format ----------------------------------------------------------------

@pytest.mark.parametrize("variant", ["us", "eu", "legacy"])
async def test_a_ynab_export_comes_out_with_ynab_s_own_activity_per_category_and_month(
    ledger: httpx.AsyncClient, household: Callable[[], Any],
    give_defaults: Callable[[Any], Awaitable[dict[str, dict[str, Any]]]], variant: str,
) -> None:
    home = household()
    defaults = await give_defaults(home)
    data = EXPORTS[variant]
    body = await _imported(ledger, home.headers, data, currency=CURRENCY[variant])
    found, migration = body["found"], body["migration"]
    assert (found["source"], found["name"], found["summary"]) == ("YNAB export", BUDGET[variant], SUMMARY)
    assert found["skipped"] == {"budget of a Credit Card Payments category (YNAB's bookkeeping)": 1}
    assert [(a["name"], a["kind"], a["opening_balance_minor"], a["closed"]) for a in found["accounts"]] == [
        ("Checking", "checking", 250000, False), ("Savings", "savings", 1000000, False),
        ("Visa Card", "credit_card", -12050, False)]
    assert migration["status"] == "imported"
    # Rent, Utilities, Groceries, Transport and Travel are the household's own; Phone, Dining Out,
    # Household, Books, Old Hobby and Ready to Assign are new. 47 transactions: the April split with a
    # refund among its parts is two.
    assert _counts(migration) == {"accounts_new": 3, "categories_new": 6, "categories_reused": 5,
                                  "transactions_new": 48, "transfers_new": 10, "restored": 0,
                                  "already_there": 0}

    # Each account's balance is the sum of its Register rows, and what the fixture's household says.
    accounts = await Books(ledger).accounts(home.headers)
    assert _balances(accounts) == _register_balances(data) == EXPECTED_BALANCES
    assert not any(a["archived"] for a in accounts.values())  # closed accounts cannot be told apart

    # Tally's total per category and month is YNAB's own Activity in the Plan, category by category;
    # those the Plan does not have (Ready to Assign; Old Hobby, hidden in YNAB) are the fixture's.
    totals = await Books(ledger).category_months(home.headers)
    plan = _plan_activity(data)
    assert set(plan) == {"Rent", "Utilities", "Phone", "Groceries", "Dining Out", "Transport", "Household",
                         "Books", "Travel"}
    for name, months in plan.items():
        assert totals.get(name) == months, name
    assert totals == FIGURES["category_month_minor"]
    assert set(totals) - set(plan) == {"Ready to Assign", "Old Hobby"}

    categories = {c["name"]: c for c in (await ledger.get(
        "/categories", params={"include_archived": True}, headers=home.headers)).json()["items"]}
    assert categories["Groceries"]["id"] == defaults["Groceries"]["id"]
    kinds = [(categories[n]["kind"], categories[n]["group"]) for n in ("Ready to Assign", "Dining Out")]
    assert kinds == [("income", "Income"), ("expense", "Everyday")]
    assert "Visa Card" not in categories  # the Credit Card Payments category

    transactions = await Books(ledger).transactions(home.headers)
    assert len(transactions) == 58
    ids = {a["id"]: name for name, a in accounts.items()}
    transfers = [t for t in transactions if t["kind"] == "transfer"]
    assert sorted([ids[t["account_id"]], ids[t["counter_account_id"]], t["amount_minor"], t["booked_on"],
                   t["note"]] for t in transfers) == FIGURES["transfers"]
    assert sorted(t["tags"] for t in transfers if t["tags"]) == [["flag-blue"], ["flag-blue"]]

    splits = sorted((t for t in transactions if t["splits"]), key=lambda t: t["booked_on"])
    assert [(t["booked_on"], t["payee"], t["amount_minor"],
             [(s["amount_minor"], s["note"]) for s in t["splits"]]) for t in splits] == [
        ("2025-01-15", "MegaStore", 9274, [(6145, ""), (1899, "cookbook"), (1230, "light bulbs")]),
        ("2025-03-12", "MegaStore", 9199, [(5500, ""), (2499, ""), (1200, "puzzle book")]),
    ]
    # The April split holds a refund (the lamp): one transaction per part; the February one lost its
    # transfer part to Savings and is its groceries alone.
    april = sorted((t["kind"], t["amount_minor"], t["category_name"], t["note"]) for t in transactions
                   if t["payee"] == "MegaStore" and t["booked_on"] == "2025-04-05")
    assert april == [("expense", 4800, "Groceries", "(part 1 of 2 of a split)"),
                     ("income", 1000, "Household", "returned lamp (part 2 of 2 of a split)")]
    [groceries] = [t for t in transactions if t["payee"] == "SuperStore"]
    assert (groceries["kind"], groceries["amount_minor"], groceries["category_name"]) == ("expense", 4000,
                                                                                          "Groceries")
    refund = next(t for t in transactions if t["note"] == "refund: damaged copy")
    assert (refund["kind"], refund["amount_minor"], refund["category_name"]) == ("income", 1500, "Books")
    salary = next(t for t in transactions if t["note"] == "January salary")
    assert (salary["kind"], salary["category_name"], salary["status"]) == ("income", "Ready to Assign",
                                                                           "reconciled")
    present = next(t for t in transactions if t["payee"] == "Grandma" and t["booked_on"] == "2025-01-22")
    assert (present["kind"], present["category_id"], present["note"], present["tags"]) == (
        "expense", None, "🎂 birthday present", ["flag-red"])
    pizza = next(t for t in transactions if t["note"] == "valentine's dinner")
    assert (pizza["payee"], pizza["tags"]) == ('Joe\'s "Famous" Pizza, Downtown', ["flag-red"])
    assert len([t for t in transactions if t["payee"] == "City Parking"]) == 2  # alike, both there
    statuses: dict[str, int] = defaultdict(int)
    for t in transactions:
        statuses[t["status"]] += 1
    assert dict(statuses) == {"reconciled": 14, "cleared": 34, "uncleared": 10}
    tagged = sorted((t["payee"], t["tags"]) for t in transactions if t["tags"] and t["kind"] != "transfer")
    assert tagged == [("Café Aroma", ["flag-purple"]), ("Grandma", ["flag-red"]),
                      ('Joe\'s "Famous" Pizza, Downtown', ["flag-red"]), ("Old Friend", ["flag-yellow"]),
                      ("SkyHigh Air", ["flag-green"])]


@pytest.mark.parametrize("variant", ["us", "eu", "legacy"])
def test_the_plan_s_assigned_amounts_are_the_budgets(tmp_path: Path, variant: str) -> None:
    path = tmp_path / "export.zip"
    path.write_bytes(EXPORTS[variant])
    history = ynab.read(path, minor_digits=2)
    names = {c.source_id: c.name for c in history.categories}
    found = sorted([names[b.category_id], b.month.strftime("%Y-%m"), b.amount_minor] for b in history.budgets)
    assert found == FIGURES["budgets"]
    assert [c.name for c in history.categories if c.hidden] == ["Old Hobby"]  # not in the Plan
    assert all(b.rollover for b in history.budgets)  # envelopes: what is left carries over


def test_the_fixtures_are_what_make_ynab_makes() -> None:
    """The checked-in zips and figures are the generator's output (its household, its formats)."""
    spec = importlib.util.spec_from_file_location("make_ynab", HERE / "make_ynab.py")
    assert spec is not None
    assert spec.loader is not None
    maker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maker)
    for key, fmt in maker.FORMATS.items():
        assert _members(maker.export(fmt)) == _members(EXPORTS[key]), key
    assert json.loads(json.dumps(maker.figures(), ensure_ascii=False)) == FIGURES


async def test_importing_the_same_export_again_or_in_another_format_adds_nothing(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot,
) -> None:
    """The export has no ids: a row's id is made of what it is, so the same budget exported again (here
    in the old format, with "To be Budgeted" for "Ready to Assign") is the same rows."""
    home = household()
    first = await _imported(ledger, home.headers, EXPORTS["us"], currency="USD")
    before = await snapshot()
    for data in (EXPORTS["us"], EXPORTS["legacy"]):
        again = await _imported(ledger, home.headers, data, currency="USD")
        assert again["migration"]["id"] != first["migration"]["id"]
        assert _counts(again["migration"]) == {"accounts_new": 0, "categories_new": 0, "categories_reused": 0,
                                               "transactions_new": 0, "transfers_new": 0, "restored": 0,
                                               "already_there": 58}
    after = await snapshot()
    for table in ("accounts", "categories", "transactions", "transaction_splits", "event_store", "outbox"):
        assert after[table] == before[table], table
    assert _balances(await Books(ledger).accounts(home.headers)) == EXPECTED_BALANCES


async def test_a_dry_run_says_what_the_file_holds_and_writes_nothing(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot,
) -> None:
    home = household()
    before = await snapshot()
    response = await _import(ledger, home.headers, EXPORTS["eu"], currency="EUR", dry_run="true")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["migration"] is None
    found = body["found"]
    assert (found["summary"], found["transfers"], found["categories"]) == (SUMMARY, 10, 11)
    assert await snapshot() == before


async def test_undo_takes_it_out_and_a_new_import_brings_it_back(
    ledger: httpx.AsyncClient, household: Callable[[], Any],
) -> None:
    home = household()
    migration = (await _imported(ledger, home.headers, EXPORTS["us"], currency="USD"))["migration"]
    undoing = await ledger.post(f"/histories/{migration['id']}/undo", headers=home.headers)
    assert undoing.status_code == 202, undoing.text
    undone = await finished(ledger, f"/histories/{migration['id']}", home.headers, running=("undoing",))
    assert (undone["status"], undone["counts"]["undone"]) == ("undone", 58)
    assert await Books(ledger).transactions(home.headers) == []
    accounts = await Books(ledger).accounts(home.headers)
    assert all(a["archived"] for a in accounts.values())
    openings = {name: a["opening_balance_minor"] for name, a in FIGURES["accounts"].items()}
    assert _balances(accounts) == openings

    again = (await _imported(ledger, home.headers, EXPORTS["us"], currency="USD"))["migration"]
    assert (again["counts"]["restored"], again["counts"]["transactions_new"]) == (58, 0)
    accounts = await Books(ledger).accounts(home.headers)
    assert _balances(accounts) == EXPECTED_BALANCES
    assert not any(a["archived"] for a in accounts.values())
    assert await Books(ledger).category_months(home.headers) == FIGURES["category_month_minor"]


async def test_a_register_on_its_own_comes_in_without_budgets(
    ledger: httpx.AsyncClient, household: Callable[[], Any], tmp_path: Path,
) -> None:
    name, register = _member(EXPORTS["us"], "Register")
    path = tmp_path / "Register.csv"
    path.write_bytes(register)
    history = ynab.read(path, minor_digits=2)
    assert (history.name, history.summary(), history.budgets) == ("YNAB budget", SUMMARY, [])
    assert not any(c.hidden for c in history.categories)  # with no Plan, nothing tells a hidden one

    home = household()
    body = await _imported(ledger, home.headers, register, name=name, currency="USD")
    assert body["migration"]["counts"]["transactions_new"] == 48
    assert _balances(await Books(ledger).accounts(home.headers)) == EXPECTED_BALANCES
    assert await Books(ledger).category_months(home.headers) == FIGURES["category_month_minor"]


async def test_a_transfer_to_an_account_not_in_the_export_stays_a_transaction(
    ledger: httpx.AsyncClient, household: Callable[[], Any],
) -> None:
    """A Register of Checking alone (as exported from the account's own register): its transfers to
    Savings and the card have no other side and come in as transactions; the balance is still right."""
    _, register = _member(EXPORTS["us"], "Register")
    lines = register.decode().splitlines(keepends=True)
    checking = "".join([lines[0], *(line for line in lines[1:] if line.startswith('"Checking"'))]).encode()
    home = household()
    body = await _imported(ledger, home.headers, checking, name="Checking.csv", currency="USD")
    assert body["found"]["transfers"] == 0
    assert [a["name"] for a in body["found"]["accounts"]] == ["Checking"]
    only_checking = {"Checking": EXPECTED_BALANCES["Checking"]}
    assert _balances(await Books(ledger).accounts(home.headers)) == only_checking
    transactions = await Books(ledger).transactions(home.headers)
    sides = sorted((t["payee"], t["kind"], t["amount_minor"]) for t in transactions
                   if t["payee"].startswith("Transfer : "))
    assert sides == [("Transfer : Savings", "expense", 50000),
                     ("Transfer : Savings", "expense", 50000), ("Transfer : Savings", "expense", 50000),
                     ("Transfer : Savings", "expense", 50000), ("Transfer : Savings", "income", 30000),
                     ("Transfer : Visa Card", "expense", 12050), ("Transfer : Visa Card", "expense", 20000),
                     ("Transfer : Visa Card", "expense", 30000), ("Transfer : Visa Card", "expense", 50000)]
    assert all(t["category_id"] is None for t in transactions if t["payee"].startswith("Transfer : "))
    # The February split's part to Savings stays a part of it, on no category: one transaction a part.
    assert sorted((t["amount_minor"], t["category_name"], t["note"]) for t in transactions
                  if t["payee"] == "SuperStore") == [(4000, "Groceries", "(part 1 of 2 of a split)"),
                                                     (6000, None, "set aside (part 2 of 2 of a split)")]


async def test_another_household_sees_nothing_of_it(
    ledger: httpx.AsyncClient, household: Callable[[], Any],
) -> None:
    home, other = household(), household()
    migration = (await _imported(ledger, home.headers, EXPORTS["us"], currency="USD"))["migration"]
    assert (await ledger.get("/accounts", params={"include_archived": True},
                             headers=other.headers)).json()["items"] == []
    assert await Books(ledger).transactions(other.headers) == []
    assert (await ledger.get("/histories", headers=other.headers)).json()["items"] == []
    assert (await ledger.get(f"/histories/{migration['id']}", headers=other.headers)).status_code == 404
    assert (await ledger.post(f"/histories/{migration['id']}/undo", headers=other.headers)).status_code == 404
    theirs = (await _imported(ledger, other.headers, EXPORTS["us"], currency="USD"))["migration"]
    assert (theirs["counts"]["transactions_new"], theirs["counts"]["accounts_new"]) == (48, 3)
    mine = {a["id"] for a in (await Books(ledger).accounts(home.headers)).values()}
    assert not mine & {a["id"] for a in (await Books(ledger).accounts(other.headers)).values()}


# --- broken files -----------------------------------------------------------------------------------

def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _us() -> tuple[str, bytes, str, bytes]:
    register_name, register = _member(EXPORTS["us"], "Register")
    plan_name, plan = _member(EXPORTS["us"], "Plan")
    return register_name, register, plan_name, plan


def _changed(line_with: str, old: str, new: str) -> tuple[bytes, int]:
    """The US export with one Register line changed, and that line's number."""
    register_name, register, plan_name, plan = _us()
    lines = register.decode().split("\n")
    n = next(i for i, line in enumerate(lines) if line_with in line)
    lines[n] = lines[n].replace(old, new, 1)
    return _zip({register_name: "\n".join(lines).encode(), plan_name: plan}), n + 1


REGISTER_NAME = _us()[0]
PLAN_NAME = _us()[2]
_BAD_AMOUNT, _BAD_AMOUNT_LINE = _changed('"Telco","Bills: Phone","Bills","Phone","",$39.99', "$39.99",
                                         "$39.9x9")
_HEADER = ",".join(f'"{h}"' for h in REGISTER_HEADER) + "\n"
_BAD_DAY, _BAD_DAY_LINE = _changed('"Kiosk"', "03/20/2025", "02/30/2025")


@pytest.mark.parametrize(("name", "data", "problem", "where"), [
    ("no-register", _zip({PLAN_NAME: _us()[3]}), "the zip has no Register", "zip"),
    ("two-registers", _zip({REGISTER_NAME: _us()[1], "Other as of 2025-05-02 - Register.csv": _us()[1]}),
     "holds 2 Register files", "zip"),
    ("traversal", _zip({REGISTER_NAME: _us()[1], "../../etc/cron.d/evil": b"x"}),
     "a path that leaves the archive", "zip member '../../etc/cron.d/evil'"),
    ("truncated", EXPORTS["us"][: len(EXPORTS["us"]) // 2], "not a zip, or it is truncated", "zip"),
    ("bad-amount", _BAD_AMOUNT, "Outflow '$39.9x9' is not an amount",
     f"{REGISTER_NAME}, line {_BAD_AMOUNT_LINE}"),
    ("bad-day", _BAD_DAY, "date '02/30/2025' is not a day", f"{REGISTER_NAME}, line {_BAD_DAY_LINE}"),
    ("not-ynab-csv", b'"Date","Payee","Memo","Outflow","Inflow"\n"01/02/2025","Shop","",$5.00,\n',
     "has no column Account: it is not a YNAB Register", "register CSV, line 1"),
    ("empty", _zip({REGISTER_NAME: _HEADER.encode(), PLAN_NAME: _us()[3]}), "has no rows", REGISTER_NAME),
    ("plan-alone", _us()[3], "a YNAB Plan on its own holds no transactions", "plan CSV, line 1"),
    ("decimal-comma-in-a-csv",
     (_HEADER + '"Checking","","31.01.2025","Shop","","","","",12,50€,0,00€,"Cleared"\n').encode(),
     "has 13 fields where the header has 11", "register CSV, line 2"),
    ("not-utf8", (_HEADER + '"Checking","","01/31/2025","Caf\xe9","","","","",$1.00,$0.00,"Cleared"\n')
     .encode("latin-1"), "is not UTF-8 text", "register CSV, line 2"),
    ("days-both-ways", (_HEADER
                        + '"Checking","","31/01/2025","A","","","","",$1.00,$0.00,"Cleared"\n'
                        + '"Checking","","01/31/2025","B","","","","",$1.00,$0.00,"Cleared"\n').encode(),
     "its dates are day first on line 2 and month first on line 3", "register CSV"),
])
async def test_a_broken_file_is_refused_by_name_and_nothing_is_written(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot,
    name: str, data: bytes, problem: str, where: str,
) -> None:
    home = household()
    before = await snapshot()
    filename = f"{name}.zip" if data[:2] == b"PK" else f"{name}.csv"
    response = await _import(ledger, home.headers, data, name=filename, currency="USD")
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["detail"].startswith("the file cannot be imported: "), body
    assert problem in body["detail"], body
    assert body["where"] == where
    assert await snapshot() == before
    assert (await ledger.get("/histories", headers=home.headers)).json()["items"] == []


async def test_a_csv_of_no_known_app_names_ynab_among_those_read(
    ledger: httpx.AsyncClient, household: Callable[[], Any],
) -> None:
    home = household()
    response = await _import(ledger, home.headers, b"date,amount\n2025-01-01,5\n", "bank.csv", currency="USD")
    assert response.status_code == 422
    assert "YNAB export" in response.json()["detail"]


# --- the reader, row by row -------------------------------------------------------------------------

def _register(*rows: dict[str, str], delimiter: str = ",") -> bytes:
    """A Register of these rows (Account, Date, Payee, … as keys; the rest empty), as YNAB quotes it."""
    def line(cells: list[str], quoted: set[int]) -> str:
        return delimiter.join(f'"{c}"' if n in quoted or delimiter in c else c for n, c in enumerate(cells))
    text = [line(REGISTER_HEADER, set(range(11)))]
    for row in rows:
        cells = [{"Cleared": "Cleared"}.get(h, "") for h in REGISTER_HEADER]
        for key, value in row.items():
            cells[REGISTER_HEADER.index(key)] = value
        text.append(line(cells, {0, 1, 2, 3, 4, 5, 6, 7, 10}))
    return ("\n".join(text) + "\n").encode()


def _read(tmp_path: Path, data: bytes, minor_digits: int = 2) -> History:
    path = tmp_path / "Register.csv"
    path.write_bytes(data)
    return ynab.read(path, minor_digits=minor_digits)


def _row(outflow: str = "", inflow: str = "", **cells: str) -> dict[str, str]:
    names = {"Category_Group_Category": "Category Group/Category", "Category_Group": "Category Group"}
    return {"Account": "Checking", "Date": "01/31/2025", "Payee": "Shop", "Outflow": outflow,
            "Inflow": inflow, **{names.get(key, key): value for key, value in cells.items()}}


@pytest.mark.parametrize(("outflow", "digits", "minor"), [
    ("$1,234.56", 2, 123456), ("€1.234,56", 2, 123456), ("1.234,56€", 2, 123456), ("1 234,56 kr", 2, 123456),
    ("1\u00a0234,56\u00a0€", 2, 123456), ("SFr.1'234.50", 2, 123450), ("kr 30,00", 2, 3000),
    ("1681,50\u0433\u0440\u043d.", 2, 168150), ("¥1,234", 0, 1234), ("₹1,23,456.78", 2, 12345678),
    ("KD1.234", 3, 1234),
    ("$0.50", 2, 50), ("$1234.56", 2, 123456), ("$12", 2, 1200),
])
def test_amounts_are_read_in_the_budget_s_currency_format(tmp_path: Path, outflow: str, digits: int,
                                                          minor: int) -> None:
    history = _read(tmp_path, _register(_row(outflow)), digits)
    assert [t.amount_minor for t in history.transactions] == [-minor]


@pytest.mark.parametrize(("outflow", "digits", "problem"), [
    ("$12.345", 2, "Outflow '$12.345' has more decimals than the currency's 2"),
    ("$12.50", 0, "Outflow '$12.50' has more decimals than the currency's 0"),
    ("12a34", 2, "Outflow '12a34' is not an amount"),
    ("$", 2, "Outflow '$' is not an amount"),
    ("1,234.5,6", 2, "is not an amount in the budget's format"),
])
def test_an_amount_that_cannot_be_read_is_named_with_its_row(tmp_path: Path, outflow: str, digits: int,
                                                             problem: str) -> None:
    with pytest.raises(HistoryError, match=re.escape(problem)) as raised:
        _read(tmp_path, _register(_row("$1.00"), _row(outflow)), digits)
    assert raised.value.where == "register CSV, line 3"


def test_amounts_follow_the_currency_s_minor_unit(tmp_path: Path) -> None:
    """In dinars (3 digits) the export's hundredths are tenfold; in yen they cannot be, and the row is
    named."""
    path = tmp_path / "export.zip"
    path.write_bytes(EXPORTS["us"])
    dinars = ynab.read(path, minor_digits=3)
    assert {a.name: a.opening_balance_minor for a in dinars.accounts} == {
        "Checking": 2_500_000, "Savings": 10_000_000, "Visa Card": -120_500}
    with pytest.raises(HistoryError, match="has more decimals than the currency's 0") as raised:
        ynab.read(path, minor_digits=0)
    assert raised.value.where is not None
    assert raised.value.where.startswith(REGISTER_NAME + ", line ")


@pytest.mark.parametrize(("days", "expected"), [
    (["31/01/2025", "02/01/2025"], [date(2025, 1, 31), date(2025, 1, 2)]),  # settled: day first
    (["01/31/2025", "01/02/2025"], [date(2025, 1, 31), date(2025, 1, 2)]),  # settled: month first
    (["01/02/2025"], [date(2025, 1, 2)]),  # not settled: "/" is month first (YNAB's default)
    (["01.02.2025"], [date(2025, 2, 1)]),  # not settled: "." is day first
    (["31.01.2025", "02.01.2025"], [date(2025, 1, 31), date(2025, 1, 2)]),
    (["2025-01-31"], [date(2025, 1, 31)]), (["2025/01/31"], [date(2025, 1, 31)]),
])
def test_dates_are_read_in_the_budget_s_date_format(tmp_path: Path, days: list[str],
                                                    expected: list[date]) -> None:
    rows = [_row("$1.00", Date=day, Payee=f"Shop {n}") for n, day in enumerate(days)]
    history = _read(tmp_path, _register(*rows))
    assert [t.booked_on for t in sorted(history.transactions, key=lambda t: t.payee)] == expected


def test_alike_transfer_sides_pair_by_memo_first_then_in_turn(tmp_path: Path) -> None:
    out = {"Payee": "Transfer : Savings", "Date": "03/28/2025"}
    into = {"Account": "Savings", "Payee": "Transfer : Checking", "Date": "03/28/2025"}
    history = _read(tmp_path, _register(
        _row("$500.00", Memo="monthly", **out), _row("$500.00", Memo="bonus", **out),
        _row("", "$500.00", Memo="bonus", **into), _row("", "$500.00", Memo="monthly", **into),
        _row("$20.00", Memo="a", **out), _row("$20.00", Memo="b", **out),
        _row("", "$20.00", Memo="c", **into), _row("", "$20.00", Memo="d", **into),
        _row("$7.00", Memo="no other side", **out),
        _row("", "$1.00", Account="Savings", Payee="Transfer : Brokerage", Memo="an account not in the file"),
    ))
    assert sorted((t.amount_minor, t.note) for t in history.transfers) == [
        (2000, "a / c"), (2000, "b / d"), (50000, "bonus"), (50000, "monthly")]
    assert sorted((t.payee, t.amount_minor, t.note) for t in history.transactions) == [
        ("Transfer : Brokerage", 100, "an account not in the file"),
        ("Transfer : Savings", -700, "no other side")]


def test_a_transfer_to_a_tracking_account_loses_its_category_and_says_so(tmp_path: Path) -> None:
    history = _read(tmp_path, _register(
        _row("$900.00", Payee="Transfer : Mortgage", Category_Group_Category="Bills: Mortgage",
             Category_Group="Bills", Category="Mortgage"),
        _row("", "$900.00", Account="Mortgage", Payee="Transfer : Checking"),
    ))
    [transfer] = history.transfers
    assert (transfer.from_account_id, transfer.to_account_id, transfer.amount_minor) == (
        "Checking", "Mortgage", 90000)
    assert history.categories == []
    assert history.skipped == {"category of a transfer left out (a transfer is never spending in Tally)": 1}
    assert {a.name: a.kind.value for a in history.accounts} == {"Checking": "checking", "Mortgage": "loan"}


def test_split_parts_that_do_not_make_a_whole_split_come_one_by_one(tmp_path: Path) -> None:
    groceries = {"Category_Group_Category": "Everyday: Groceries", "Category_Group": "Everyday",
                 "Category": "Groceries"}
    history = _read(tmp_path, _register(
        _row("$3.00", Memo="Split (1/3) ", **groceries), _row("$4.00", Memo="Split (2/3) tea", **groceries),
        _row("$9.00", Payee="Bakery"),
        _row("$1.00", Memo="Split (1/2) ", Date="01/30/2025", **groceries),
        _row("$2.00", Memo="Split (2/2) milk", Date="01/30/2025", **groceries),
    ))
    assert sorted((t.amount_minor, t.note, len(t.parts)) for t in history.transactions) == [
        (-900, "", 0), (-400, "tea", 0), (-300, "", 0), (-300, "", 2)]
    whole = next(t for t in history.transactions if t.parts)
    assert [(p.amount_minor, p.note) for p in whole.parts] == [(-100, ""), (-200, "milk")]
    assert history.skipped == {"split parts whose split is not whole (imported one by one)": 2}


def test_a_tab_separated_register_with_a_bom_and_backslashed_quotes_is_read(tmp_path: Path) -> None:
    data = b"\xef\xbb\xbf" + _register(_row("12,50\u20ac", Payee='Joe\\"s', Date="31.01.2025"),
                                       delimiter="\t")
    history = _read(tmp_path, data)
    [transaction] = history.transactions
    assert (transaction.payee, transaction.amount_minor, transaction.booked_on) == ('Joe"s', -1250,
                                                                                  date(2025, 1, 31))


@pytest.mark.parametrize(("head", "filename", "claimed"), [
    (EXPORTS["us"], "export.zip", True),
    (EXPORTS["eu"], "export.zip", True),
    (_zip({"x as of 2025-01-01 - Plan.csv": b"", "x as of 2025-01-01 - Register.csv": b""}), "a.zip", True),
    (_zip({"notes.txt": b"hello"}), "YNAB Export - Household as of 2025-05-02 09-15.zip", True),
    ((Path(__file__).parent / "histories" / "actual_household.zip").read_bytes(), "My-Finances.zip", False),
    (b"\xef\xbb\xbf" + "\t".join(f'"{h}"' for h in REGISTER_HEADER).encode(), "Register.tsv", True),
    (b'"Month","Category Group/Category","Category Group","Category","Assigned","Activity","Available"\n',
     "p.csv", True),
    (b"date,amount\n2025-01-01,5\n", "bank.csv", False),
])
def test_a_ynab_export_is_told_by_its_content(head: bytes, filename: str, claimed: bool) -> None:
    assert ynab.looks_like(head[: sources.HEAD_BYTES], filename) is claimed
