"""A whole household history from Beancount through the HTTP API on a real database: the ledger in
tests/histories/beancount comes out with every account's balance and every category's total per month
that Beancount's own realization computes (make_figures.py); transfers stay transfers, padding and tags
come along, what is not in euros is left out as documented; importing again, or a later version of the
ledger, adds only what is new; undo takes it out; a ledger with errors, an include or a plugin of its own
is refused or not run, by name, with nothing written or read; another household sees nothing."""

import json
import re
import sys
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tally_ledger.history import beancount, sources
from tally_ledger.history.double_entry import NO_ACCOUNT
from tally_ledger.history.model import HistoryError
from tallystack.polling import finished

FOLDER = Path(__file__).parent / "histories" / "beancount"
LEDGER_FILE = FOLDER / "household.beancount"
LEDGER = LEDGER_FILE.read_text()
FIGURES: dict[str, Any] = json.loads((FOLDER / "household.json").read_text())
SUMMARY = "Beancount ledger: 5 accounts, 13 categories, 30 transactions (6 transfers), 2025-01..2025-04"
SKIPPED = {
    "account without money in EUR: not imported": 1,  # the ACME shares
    beancount.OTHER_POSTING: 1,  # buying them
    NO_ACCOUNT: 1,  # 10.00 moved from Dining to Groceries, on no account
}
ACCOUNT_NAMES = {"Assets:Bank:Checking": "Checking", "Assets:Bank:Savings": "Savings", "Assets:Cash": "Cash",
                 "Liabilities:CreditCard:Visa": "Visa", "Liabilities:StoreCard": "StoreCard"}
Snapshot = Callable[[], Awaitable[dict[str, list[dict[str, Any]]]]]


def _expected_months() -> dict[str, dict[str, int]]:
    """Beancount's totals by Tally's names (the leaf's), less the one entry between two categories: it
    moves nothing on any account, so Tally leaves it out (and counts it)."""
    months = {name.rsplit(":", 1)[-1]: dict(m) for name, m in FIGURES["category_month_minor"].items()}
    assert (months["Dining"]["2025-04"], months["Groceries"]["2025-04"]) == (-2720, -1000)
    months["Dining"]["2025-04"] -= 1000
    del months["Groceries"]["2025-04"]
    return months


async def _import(ledger: httpx.AsyncClient, headers: dict[str, str], text: str = LEDGER,
                  name: str = "household.beancount", **fields: str) -> httpx.Response:
    return await ledger.post("/histories", files={"file": (name, text.encode())},
                             data={"currency": "EUR"} | fields, headers=headers)


async def _imported(ledger: httpx.AsyncClient, headers: dict[str, str], text: str = LEDGER,
                    **fields: str) -> dict[str, Any]:
    response = await _import(ledger, headers, text, **fields)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_beancount_ledger_comes_out_with_the_figures_beancount_computes(
    ledger: httpx.AsyncClient, household: Callable[[], Any], books: Any,
) -> None:
    home = household()
    body = await _imported(ledger, home.headers)
    found, migration = body["found"], body["migration"]
    assert (found["summary"], found["name"]) == (SUMMARY, "The Example Household")
    assert found["skipped"] == SKIPPED
    assert migration["status"] == "imported"
    assert migration["counts"]["transactions_new"] + migration["counts"]["transfers_new"] == 31

    assert await books.balances(home.headers) == {
        ACCOUNT_NAMES[name]: balance for name, balance in FIGURES["balance_minor"].items()}
    assert await books.category_months(home.headers) == _expected_months()
    accounts = await books.accounts(home.headers)
    assert {name: (a["kind"], a["archived"]) for name, a in accounts.items()} == {
        "Checking": ("checking", False), "Savings": ("savings", False), "Cash": ("cash", False),
        "Visa": ("credit_card", False), "StoreCard": ("credit_card", True)}  # closed in the ledger
    listed = (await ledger.get("/categories", headers=home.headers)).json()["items"]
    categories = {c["name"]: c for c in listed}
    names = ("Groceries", "Rent", "Income", "Books", "Salary")
    assert {name: categories[name]["group"] for name in names} == {
        "Groceries": "Food", "Rent": "Housing", "Income": "Taxes", "Books": "Expenses", "Salary": "Income"}
    assert (categories["Income"]["kind"], categories["Salary"]["kind"]) == ("expense", "income")
    assert "Gardening" in categories  # opened, never used

    transactions = await books.transactions(home.headers)
    ids = {a["id"]: name for name, a in accounts.items()}
    transfers = sorted((ids[t["account_id"]], ids[t["counter_account_id"]], t["amount_minor"], t["booked_on"])
                       for t in transactions if t["kind"] == "transfer")
    assert transfers == [
        ("Checking", "Cash", 10000, "2025-01-15"),
        ("Checking", "Savings", 50000, "2025-01-29"),
        ("Checking", "Savings", 50000, "2025-02-27"),  # part of the salary
        ("Checking", "Savings", 75000, "2025-03-29"),
        ("Checking", "StoreCard", 4500, "2025-01-30"),
        ("Checking", "Visa", 30000, "2025-02-20"),  # with a fee beside it
    ]
    by_payee: dict[str, list[dict[str, Any]]] = {}
    for t in transactions:
        by_payee.setdefault(t["payee"], []).append(t)
    [hotel] = by_payee["Hotel Central"]  # 240.00 USD at the price it was paid, 220.00 EUR
    assert (hotel["amount_minor"], hotel["category_name"], hotel["note"], sorted(hotel["tags"])) == (
        22000, "Travel", "two nights", ["link-booking-4711", "trip-2025"])
    [padding] = [t for t in by_payee[""] if t["note"].startswith("(Padding inserted")]
    assert (padding["amount_minor"], padding["category_name"], ids[padding["account_id"]]) == (
        1500, "Dining", "Cash")
    [shares] = by_payee["Broker"]
    assert (shares["amount_minor"], shares["category_id"], shares["note"]) == (
        100000, None, "10 ACME shares · into Assets:Broker:ACME (not imported)")
    assert len(by_payee["Corner Cafe"]) == 3  # the two alike on 2025-04-05 are two
    assert all(t["tags"] == ["rent"] for t in by_payee["Landlord Ltd"])
    [power] = [t for t in by_payee["City Power"] if t["booked_on"] == "2025-01-09"]
    assert (power["status"], power["tags"]) == ("uncleared", ["link-power-2025"])  # flagged !
    [atm] = by_payee["ATM withdrawal"]  # no payee: the narration names it
    assert (atm["kind"], atm["status"]) == ("transfer", "cleared")
    assert Counter(t["status"] for t in transactions)["uncleared"] == 3  # two ! and the padding


async def test_importing_again_adds_nothing_a_later_ledger_only_what_is_new_and_undo_takes_it_out(
    ledger: httpx.AsyncClient, household: Callable[[], Any], books: Any, snapshot: Snapshot,
) -> None:
    home = household()
    first = (await _imported(ledger, home.headers))["migration"]
    before = await snapshot()
    again = (await _imported(ledger, home.headers))["migration"]
    assert again["counts"]["already_there"] == 31
    after = await snapshot()
    for table in ("accounts", "categories", "transactions", "transaction_splits", "event_store", "outbox"):
        assert after[table] == before[table], table

    later = LEDGER + '\n2025-05-02 * "Landlord Ltd" "May rent" #rent\n  Assets:Bank:Checking  -950.00 EUR\n' \
        "  Expenses:Housing:Rent\n"
    grown = (await _imported(ledger, home.headers, later))["migration"]
    assert (grown["counts"]["transactions_new"], grown["counts"]["already_there"]) == (1, 31)
    checking = FIGURES["balance_minor"]["Assets:Bank:Checking"]
    assert (await books.balances(home.headers))["Checking"] == checking - 95000

    undoing = await ledger.post(f"/histories/{first['id']}/undo", headers=home.headers)
    assert undoing.status_code == 202, undoing.text
    undone = await finished(ledger, f"/histories/{first['id']}", home.headers, running=("undoing",))
    assert undone["status"] == "undone"
    assert [t["note"] for t in await books.transactions(home.headers)] == ["May rent"]  # the later import's


def _line(text: str) -> str:
    """The line of the ledger that starts with `text`, as errors name it."""
    return f"line {next(n for n, line in enumerate(LEDGER.splitlines(), 1) if line.startswith(text))}"


def _plugin(tmp: Path) -> str:
    """A module that leaves a mark when imported, named by the ledger as its plugin."""
    (tmp / "tally_marking_plugin.py").write_text(
        "from pathlib import Path\n"
        f"Path({str(tmp / 'imported')!r}).touch()\n"
        "__plugins__ = ()\n")
    return LEDGER.replace('plugin "beancount.plugins.implicit_prices"', 'plugin "tally_marking_plugin"')


async def test_a_plugin_that_is_not_beancount_s_own_is_neither_imported_nor_run(
    ledger: httpx.AsyncClient, household: Callable[[], Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    text = _plugin(tmp_path)
    home = household()
    body = await _imported(ledger, home.headers, text, dry_run="true")
    assert body["found"]["skipped"] == SKIPPED | {
        "plugin not run (only Beancount's own are): tally_marking_plugin": 1}
    assert not (tmp_path / "imported").exists()
    assert "tally_marking_plugin" not in sys.modules


@pytest.mark.parametrize(("name", "text", "problem", "where"), [
    ("syntax", LEDGER.replace("2025-02-20 * \"Card payment\"", "2025-02-20 * \"Card payment"),
     "Beancount reports an error", r"line \d+"),
    ("unbalanced", LEDGER.replace("Liabilities:CreditCard:Visa      300.00 EUR",
                                  "Liabilities:CreditCard:Visa      301.00 EUR"),
     "Transaction does not balance", _line('2025-02-20 * "Card payment"')),
    ("balance", LEDGER.replace("balance Assets:Bank:Checking  4957.00 EUR",
                               "balance Assets:Bank:Checking  4958.00 EUR"),
     "Balance failed for 'Assets:Bank:Checking'", _line("2025-04-30 balance Assets:Bank:Checking")),
    ("not-opened", LEDGER.replace("2024-12-31 open Expenses:Fees\n", ""), "Expenses:Fees", r"line \d+"),
    ("include", LEDGER.replace('plugin "beancount.plugins.implicit_prices"', 'include "/etc/passwd"'),
     "includes other files ('/etc/passwd'), which are not read from this server", "line 7"),
    ("thousandths", LEDGER.replace("Assets:Bank:Checking            2500.00 EUR",
                                   "Assets:Bank:Checking            2500.001 EUR"),
     "amount 2500.001 EUR has more decimals than the currency's 2",
     _line("  Assets:Bank:Checking            2500.00 EUR")),
])
async def test_a_ledger_with_errors_or_an_include_is_refused_by_name_and_nothing_is_written(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot,
    name: str, text: str, problem: str, where: str,
) -> None:
    assert text != LEDGER
    home = household()
    before = await snapshot()
    response = await _import(ledger, home.headers, text)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["detail"].startswith("the file cannot be imported: "), body
    assert problem in body["detail"], body
    assert re.fullmatch(where, body["where"]), body
    assert await snapshot() == before
    assert (await ledger.get("/histories", headers=home.headers)).json()["items"] == []


def test_an_include_names_nothing_that_is_then_read(tmp_path: Path) -> None:
    """The include is refused before anything is loaded: the file it names, a valid ledger that would
    otherwise add an account, is never opened."""
    other = tmp_path / "other.beancount"
    other.write_text("2024-12-31 open Assets:Secret EUR\n")
    other.chmod(0)  # reading it would fail loudly, were it read
    path = tmp_path / "main.beancount"
    path.write_text(f'include "{other}"\n' + LEDGER)
    with pytest.raises(HistoryError, match="includes other files") as raised:
        beancount.read(path)
    assert raised.value.where == "line 1"


def test_text_that_is_not_utf_8_is_named_by_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.beancount"
    path.write_bytes(LEDGER.replace("Corner Cafe", "Café Eck").encode("latin-1"))
    with pytest.raises(HistoryError, match="is not UTF-8 text") as raised:
        beancount.read(path)
    line = LEDGER.splitlines().index('2025-01-18 * "Corner Cafe" ""') + 1
    assert raised.value.where == f"line {line}"


async def test_a_ledger_in_euros_is_not_imported_in_another_currency(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot,
) -> None:
    home = household()
    before = await snapshot()
    response = await _import(ledger, home.headers, currency="USD")
    assert response.status_code == 422, response.text
    assert "keeps its amounts in EUR; import it with currency EUR" in response.json()["detail"]
    assert await snapshot() == before


def test_without_an_operating_currency_the_one_most_used_is_read(tmp_path: Path) -> None:
    path = tmp_path / "plain.beancount"
    path.write_text(LEDGER.replace('option "operating_currency" "EUR"\n', ""))
    assert beancount.read(path).currency == "EUR"


def test_a_ledger_is_told_by_its_name_or_its_lines() -> None:
    head = LEDGER.encode()[:sources.HEAD_BYTES]
    assert beancount.looks_like(head, "anything.txt")
    assert beancount.looks_like(b"; nothing yet\n", "main.beancount")
    assert sources.source_of(LEDGER_FILE, "ledger.txt") is beancount
    assert not beancount.looks_like(b"date,amount,payee\n2025-01-01,5.00,Shop\n", "bank.csv")
    assert not beancount.looks_like(b"!Type:Bank\nD01/02/2025\nT-5.00\n^\n", "bank.qif")


async def test_another_household_sees_nothing_of_it(
    ledger: httpx.AsyncClient, household: Callable[[], Any], books: Any,
) -> None:
    home, other = household(), household()
    migration = (await _imported(ledger, home.headers))["migration"]
    assert await books.accounts(other.headers) == {}
    assert await books.transactions(other.headers) == []
    assert (await ledger.get(f"/histories/{migration['id']}", headers=other.headers)).status_code == 404
    assert (await ledger.post(f"/histories/{migration['id']}/undo", headers=other.headers)).status_code == 404
    theirs = (await _imported(ledger, other.headers))["migration"]
    assert theirs["counts"]["accounts_new"] == 5
    mine = {a["id"] for a in (await books.accounts(home.headers)).values()}
    assert not mine & {a["id"] for a in (await books.accounts(other.headers)).values()}
