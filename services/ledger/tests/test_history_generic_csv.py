"""A whole household history from another app's CSV (Mint's transactions.csv, Monarch Money's export, and
the like) through the HTTP API on a real database: the fixtures (tests/histories/generic, see the
README) come out with each account's balance and each category's total per month as the app showed them;
the two sides of a transfer become one transfer, a side without partner stays on its category; importing
twice adds nothing; undo takes it out; a broken file is refused by name with nothing written, a bank
statement is not taken for a history; another household sees nothing. Then the reader alone: Copilot's
signs, other apps' columns, dates, decimal commas, encodings, pairing."""

import csv
import io
import json
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from tally_ledger.history import generic_csv, sources
from tally_ledger.history.model import HistoryError
from tallykit.contracts.ledger import AccountKind, CategoryKind, ClearedState
from tallystack.polling import finished

FOLDER = Path(__file__).parent / "histories" / "generic"
MINT = (FOLDER / "mint_transactions.csv").read_bytes()
MONARCH = (FOLDER / "monarch_transactions.csv").read_bytes()
Snapshot = Callable[[], Awaitable[dict[str, list[dict[str, Any]]]]]


def _figures(app: str) -> dict[str, Any]:
    return dict(json.loads((FOLDER / f"{app}_household.json").read_text()))


async def _import(ledger: httpx.AsyncClient, headers: dict[str, str], data: bytes = MINT,
                  name: str = "transactions.csv", **fields: str) -> httpx.Response:
    return await ledger.post("/histories", files={"file": (name, data)}, data={"currency": "USD"} | fields,
                             headers=headers)


async def _imported(ledger: httpx.AsyncClient, headers: dict[str, str], data: bytes = MINT) -> dict[str, Any]:
    response = await _import(ledger, headers, data)
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.mark.parametrize(("app", "data", "source"), [
    ("mint", MINT, "Mint export"), ("monarch", MONARCH, "Monarch Money export")])
async def test_an_export_comes_out_with_the_figures_the_app_shows(
    ledger: httpx.AsyncClient, household: Callable[[], Any], books: Any, app: str, data: bytes, source: str,
) -> None:
    home = household()
    figures = _figures(app)
    body = await _imported(ledger, home.headers, data)
    found, migration = body["found"], body["migration"]
    assert found["summary"] == f"{source}: 3 accounts, 10 categories, 48 transactions (8 transfers), " \
                               "2024-09..2024-12"
    assert found["skipped"] == {}
    assert [(a["name"], a["kind"], a["opening_balance_minor"]) for a in found["accounts"]] == [
        ("Everyday Checking", "checking", 0), ("Sapphire Card", "credit_card", 0),
        ("High-Yield Savings", "savings", 0)]
    assert migration["counts"].items() >= {"accounts_new": 3, "categories_new": 10, "transactions_new": 40,
                                           "transfers_new": 8}.items()

    assert await books.balances(home.headers) == figures["balance_minor"]
    assert await books.category_months(home.headers) == figures["category_month_minor"]
    assert await books.category_kinds(home.headers) == figures["category_kind"]
    transactions = await books.transactions(home.headers)
    names = {a["id"]: name for name, a in (await books.accounts(home.headers)).items()}
    assert sorted([names[t["account_id"]], names[t["counter_account_id"]], t["amount_minor"], t["booked_on"]]
                  for t in transactions if t["kind"] == "transfer") == figures["transfers"]
    venmo = next(t for t in transactions if t["payee"] == "Venmo")  # the other side is not in the export
    assert (venmo["kind"], venmo["amount_minor"], venmo["category_name"]) == ("expense", 4000, "Transfer")
    assert venmo["note"] == "to Sam, concert tickets · VENMO CASHOUT"
    refund = next(t for t in transactions if t["payee"] == "Amazon" and t["kind"] == "income")
    assert (refund["amount_minor"], refund["category_name"]) == (6499, "Shopping")
    flights = next(t for t in transactions if t["payee"] == "Delta Air Lines")
    assert flights["note"] == "Flights to Montréal\nseats 14A/14B · DELTA AIR 0062345"
    assert flights["tags"] == ["vacation"]
    hotel = next(t for t in transactions if t["payee"] == "Hôtel Le Germain")
    assert sorted(hotel["tags"]) == ["reimbursable", "vacation"]
    coffees = [t for t in transactions if t["payee"] == "Café Olé" and t["booked_on"] == "2024-10-10"]
    assert len(coffees) == 2  # two alike on one day: both kept
    check = next(t for t in transactions if t["payee"] == "Check #1043")
    assert check["category_id"] is None  # "Uncategorized"
    assert {t["status"] for t in transactions} == {"cleared"}


async def test_importing_again_adds_nothing_and_undo_takes_it_out(
    ledger: httpx.AsyncClient, household: Callable[[], Any], books: Any, snapshot: Snapshot,
) -> None:
    home = household()
    first = (await _imported(ledger, home.headers))["migration"]
    before = await snapshot()
    # The same export again, its rows in another order (the ids come from the rows, not their places).
    header, *rows = csv.reader(io.StringIO(MINT.decode("utf-8-sig"), newline=""))
    turned = io.StringIO()
    csv.writer(turned, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows([header, *reversed(rows)])
    again = (await _imported(ledger, home.headers, turned.getvalue().encode()))["migration"]
    assert again["counts"].items() >= {"accounts_new": 0, "categories_new": 0, "transactions_new": 0,
                                       "transfers_new": 0, "already_there": 48}.items()
    after = await snapshot()
    for table in ("accounts", "categories", "transactions", "transaction_splits", "event_store", "outbox"):
        assert after[table] == before[table], table

    assert (await ledger.post(f"/histories/{first['id']}/undo", headers=home.headers)).status_code == 202
    undone = await finished(ledger, f"/histories/{first['id']}", home.headers, running=("undoing",))
    assert (undone["status"], undone["counts"]["undone"]) == ("undone", 48)
    assert await books.transactions(home.headers) == []
    assert set((await books.balances(home.headers)).values()) == {0}
    restored = (await _imported(ledger, home.headers))["migration"]
    assert restored["counts"]["restored"] == 48
    assert await books.balances(home.headers) == _figures("mint")["balance_minor"]


def _mint_with(old: str, new: str) -> Callable[[], bytes]:
    def make() -> bytes:
        text = MINT.decode("utf-8")
        assert old in text
        return text.replace(old, new, 1).encode("utf-8")
    return make


@pytest.mark.parametrize(("make", "problem", "where"), [
    (_mint_with('"2150.00","credit"', '"2150.00","refund"'), "transaction type 'refund' is neither debit nor "
     "credit", "line 8"),
    (_mint_with('"12/30/2024"', '"12/32/2024"'), "date '12/32/2024' is not a date like the others (%m/%d/%Y)",
     "line 2"),
    (_mint_with('"13.02"', '"13.0.2"'), "'13.0.2' is not an amount", "line 2"),
    (_mint_with('"High-Yield Savings"', '""'), "names no account", "line 2"),
    (lambda: MINT.split(b"\n", 1)[0] + b"\n", "holds no transactions", "file"),
    (lambda: MINT + b'"1/02/2024","x","x","1.00","debit","x","x","","' + b"y\n" * 70_000 + b'"\n',
     "cannot be read as CSV (field larger than field limit", "line 59"),
    # A bank statement (no category, no account) is no history.
    (lambda: b"Date,Description,Amount,Balance\n2024-09-01,ACME PAYROLL,2150.00,2150.00\n",
     "is not a history export this version reads", None),
])
async def test_a_broken_file_or_a_statement_is_refused_by_name_and_nothing_is_written(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot,
    make: Callable[[], bytes], problem: str, where: str | None,
) -> None:
    home = household()
    before = await snapshot()
    response = await _import(ledger, home.headers, make())
    assert response.status_code == 422, response.text
    assert problem in response.json()["detail"], response.json()
    assert response.json().get("where") == where
    assert await snapshot() == before
    assert (await ledger.get("/histories", headers=home.headers)).json()["items"] == []


async def test_another_household_sees_nothing_of_it(
    ledger: httpx.AsyncClient, household: Callable[[], Any], books: Any,
) -> None:
    home, other = household(), household()
    migration = (await _imported(ledger, home.headers, MONARCH))["migration"]
    assert await books.accounts(other.headers) == {}
    assert await books.transactions(other.headers) == []
    assert (await ledger.get(f"/histories/{migration['id']}", headers=other.headers)).status_code == 404
    assert (await ledger.post(f"/histories/{migration['id']}/undo", headers=other.headers)).status_code == 404
    theirs = (await _imported(ledger, other.headers, MONARCH))["migration"]
    assert theirs["counts"]["transactions_new"] == 40
    mine = {a["id"] for a in (await books.accounts(home.headers)).values()}
    assert not mine & {a["id"] for a in (await books.accounts(other.headers)).values()}


# --- the reader alone ---------------------------------------------------------------------------------

def _read(tmp_path: Path, text: str, *, encoding: str = "utf-8", digits: int = 2) -> Any:
    path = tmp_path / "export.csv"
    path.write_bytes(text.encode(encoding))
    assert generic_csv.looks_like(path.read_bytes()[: sources.HEAD_BYTES], path.name)
    return generic_csv.read(path, minor_digits=digits)


def test_copilot_writes_money_out_positive_and_marks_transfers_by_type(tmp_path: Path) -> None:
    history = _read(tmp_path, (
        "date,name,amount,status,category,parent category,excluded,tags,type,account,account mask,note,"
        "recurring\n"
        "2025-03-02,Blue Bottle,5.50,posted,Coffee,Food & Drink,false,\"work, treats\",regular,Amex Gold,"
        "1005,,\n"
        "2025-03-03,Employer,-2500.00,posted,Paycheck,Income,false,,income,Chase Checking,2201,,\n"
        "2025-03-04,Amex Payment,-300.00,pending,,,false,,internal transfer,Amex Gold,1005,,\n"
        "2025-03-04,Amex Payment,300.00,posted,,,false,,internal transfer,Chase Checking,2201,,\n"))
    assert history.source == "Copilot Money export"
    assert history.app == "copilot"
    assert [(t.payee, t.amount_minor, t.category_id, t.status, t.tags) for t in history.transactions] == [
        ("Blue Bottle", -550, "Coffee", ClearedState.cleared, ("work", "treats")),
        ("Employer", 250000, "Paycheck", ClearedState.cleared, ())]
    [card_payment] = history.transfers
    assert (card_payment.from_account_id, card_payment.to_account_id, card_payment.amount_minor) == (
        "Chase Checking", "Amex Gold", 30000)
    assert card_payment.status == ClearedState.uncleared  # one side is pending
    assert {c.name: (c.group, c.kind) for c in history.categories} == {
        "Coffee": ("Food & Drink", CategoryKind.expense), "Paycheck": ("Income", CategoryKind.income)}
    assert {a.name: a.kind for a in history.accounts} == {"Amex Gold": AccountKind.credit_card,
                                                          "Chase Checking": AccountKind.checking}


def test_another_app_s_columns_semicolons_decimal_commas_and_windows_text(tmp_path: Path) -> None:
    """An app that writes day first (a day past the 12th says so), `;` and decimal commas, in
    Windows-1252; its Type column says debit or credit on unsigned amounts."""
    history = _read(tmp_path, (
        "Datum;Date;Payee;Category;Account;Amount;Type;Memo;Labels\n"
        "x;03/02/2025;Bäckerei Müller;Lebensmittel;Girokonto;1.234,50;Debit;Frühstück;Familie\n"
        "x;25/02/2025;Arbeitgeber;Gehalt;Girokonto;3.000,00;Credit;;\n"), encoding="windows-1252")
    assert history.source == "CSV from another app"
    assert [(t.booked_on, t.payee, t.amount_minor, t.note, t.tags) for t in history.transactions] == [
        (date(2025, 2, 3), "Bäckerei Müller", -123450, "Frühstück", ("familie",)),
        (date(2025, 2, 25), "Arbeitgeber", 300000, "", ())]


def test_dates_that_read_both_ways_are_month_first_and_amounts_follow_the_currency(tmp_path: Path) -> None:
    text = ("Date,Merchant,Category,Account,Original Statement,Notes,Amount,Tags\n"
            "03/02/2025,Shell,Gas,Checking,SHELL 123,,-$40.10,\n"
            "03/04/2025,Shell,Gas,Checking,SHELL 123,,(12.00),\n")
    history = _read(tmp_path, text)
    assert [(t.booked_on, t.amount_minor) for t in history.transactions] == [
        (date(2025, 3, 2), -4010), (date(2025, 3, 4), -1200)]
    with pytest.raises(HistoryError, match=r"'-\$40.10' has more than 0 decimal places") as raised:
        _read(tmp_path, text, digits=0)
    assert raised.value.where == "line 2"


def test_transfer_rows_too_far_apart_or_on_one_account_stay_on_their_category(tmp_path: Path) -> None:
    history = _read(tmp_path, (
        "Date,Merchant,Category,Account,Original Statement,Notes,Amount,Tags\n"
        "2025-01-01,To savings,Transfer,Checking,,,-100.00,\n"
        "2025-01-06,From checking,Transfer,Savings,,,100.00,\n"  # 5 days later: not the same transfer
        "2025-01-10,Move,Transfer,Checking,,,-20.00,\n"
        "2025-01-10,Move back,Transfer,Checking,,,20.00,\n"  # one account: no transfer
        "2025-01-20,To savings,Transfer,Checking,,,-50.00,\n"
        "2025-01-21,From checking,Transfer,Savings,,,50.00,\n"
        "2025-01-24,From checking,Transfer,Savings,,,50.00,\n"))  # the nearer day is the pair
    [pair] = history.transfers
    assert (pair.booked_on, pair.amount_minor, pair.from_account_id) == (date(2025, 1, 20), 5000, "Checking")
    assert [(t.booked_on.day, t.amount_minor) for t in history.transactions] == [
        (1, -10000), (6, 10000), (10, -2000), (10, 2000), (24, 5000)]
    assert [c.name for c in history.categories] == ["Transfer"]


def test_only_files_with_account_and_category_columns_are_taken() -> None:
    assert generic_csv.looks_like(MINT[: sources.HEAD_BYTES], "transactions.csv")
    assert generic_csv.looks_like(MONARCH[: sources.HEAD_BYTES], "transactions.csv")
    ynab = b'"Account","Flag","Date","Payee","Category Group/Category","Category Group","Category",' \
           b'"Memo","Outflow","Inflow","Cleared"\n'
    for head in (b"Date,Description,Amount\n", b"Date,Payee,Category,Amount\n", ynab,
                 b"PK\x03\x04" + bytes(60), b"\xff\xfe" + bytes(40)):
        assert not generic_csv.looks_like(head, "file.csv"), head
