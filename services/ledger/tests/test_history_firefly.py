"""A whole household history from Firefly III through the HTTP API on a real database: its transaction
export (written as Firefly's exporter writes it, tests/histories/firefly, see the README) comes out with
the balances and the totals per category and month Firefly computes for it; transfers (and paying off a
loan) stay transfers, splits stay split, opening balances and a liability's credit are the accounts' own;
the dollar account is left out, counted; importing twice adds nothing; undo takes it out; broken files
are refused by name with nothing written; another household sees nothing."""

import csv
import io
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tally_ledger.history import firefly, generic_csv, sources
from tally_ledger.history.model import HistoryError
from tallystack.polling import finished

FOLDER = Path(__file__).parent / "histories" / "firefly"
EXPORT_FILE = FOLDER / "firefly_export.csv"
EXPORT = EXPORT_FILE.read_bytes()
FIGURES: dict[str, Any] = json.loads((FOLDER / "firefly_household.json").read_text())
SUMMARY = "Firefly III export: 4 accounts, 10 categories, 47 transactions (12 transfers), 2025-01..2025-04"
LEFT_OUT = {"of accounts in USD: one currency per import, this one EUR": 2}
Snapshot = Callable[[], Awaitable[dict[str, list[dict[str, Any]]]]]


async def _import(ledger: httpx.AsyncClient, headers: dict[str, str], data: bytes = EXPORT,
                  name: str = "2025_05_02_transaction_export.csv", **fields: str) -> httpx.Response:
    return await ledger.post("/histories", files={"file": (name, data)}, data={"currency": "EUR"} | fields,
                             headers=headers)


async def _imported(ledger: httpx.AsyncClient, headers: dict[str, str], data: bytes = EXPORT,
                    **fields: str) -> dict[str, Any]:
    response = await _import(ledger, headers, data, **fields)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def test_a_firefly_export_comes_out_with_the_figures_firefly_computes(
    ledger: httpx.AsyncClient, household: Callable[[], Any], books: Any,
) -> None:
    home = household()
    body = await _imported(ledger, home.headers)
    found, migration = body["found"], body["migration"]
    assert found["summary"] == SUMMARY
    assert found["skipped"] == LEFT_OUT
    assert [(a["name"], a["kind"], a["opening_balance_minor"]) for a in found["accounts"]] == [
        ("Girokonto", "checking", 250000), ("Tagesgeld", "savings", 1000000),
        ("Kreditkarte", "credit_card", -12050), ("Autokredit", "loan", -800000)]
    assert migration["counts"].items() >= {"accounts_new": 4, "categories_new": 10, "categories_reused": 0,
                                           "transactions_new": 35, "transfers_new": 12, "restored": 0,
                                           "already_there": 0}.items()

    assert await books.balances(home.headers) == FIGURES["balance_minor"]
    assert await books.category_months(home.headers) == FIGURES["category_month_minor"]
    assert await books.category_kinds(home.headers) == FIGURES["category_kind"]

    transactions = await books.transactions(home.headers)
    accounts = await books.accounts(home.headers)
    names = {a["id"]: name for name, a in accounts.items()}
    transfers = [t for t in transactions if t["kind"] == "transfer"]
    assert sorted([names[t["account_id"]], names[t["counter_account_id"]], t["amount_minor"], t["booked_on"]]
                  for t in transfers) == FIGURES["transfers"]
    splits = sorted((t for t in transactions if t["splits"]), key=lambda t: t["booked_on"])
    assert [(t["payee"], t["note"], [(s["amount_minor"], s["note"]) for s in t["splits"]])
            for t in splits] == [
        ("Amazon", "Amazon Bestellung 302-1234567", [(3499, "Kochbuch"), (1990, "Küchenrolle")]),
        ("Apotheke am Markt", "Apotheke März", [(1275, "Apotheke"), (840, "Vitamine · Vitamin D"),
                                                (695, "Handcreme")]),
    ]
    refund = next(t for t in transactions if t["note"].startswith("Erstattung"))
    assert (refund["kind"], refund["amount_minor"], refund["category_name"], refund["payee"]) == (
        "income", 1599, "Bücher", "Amazon")
    breakfast = next(t for t in transactions if t["note"].startswith("Frühstück"))
    assert breakfast["note"] == 'Frühstück · mit Anna, "die Beste"\nzweite Zeile'
    assert breakfast["payee"] == "Café Über"
    train = next(t for t in transactions if t["payee"] == "Deutsche Bahn")
    assert sorted(train["tags"]) == ["hamburg", "urlaub-2025"]
    dollars = next(t for t in transactions if t["payee"] == "US-Konto")
    assert (dollars["kind"], dollars["amount_minor"], dollars["category_id"]) == ("expense", 10000, None)
    assert "not imported" in dollars["note"]
    cash = next(t for t in transactions if t["payee"] == "Cash account")
    assert (cash["kind"], cash["amount_minor"], cash["category_id"]) == ("expense", 10000, None)
    correction = next(t for t in transactions if t["note"].startswith("Reconciliation"))
    assert (correction["kind"], correction["amount_minor"], correction["status"]) == (
        "income", 37, "reconciled")
    reconciled = sorted((t["note"], t["booked_on"]) for t in transactions if t["status"] == "reconciled")
    assert len(reconciled) == 5  # January's and February's salary and rent, the reconciliation
    assert {t["status"] for t in transactions} == {"reconciled", "uncleared"}
    assert "US-Konto" not in accounts


async def test_importing_again_adds_nothing_and_undo_takes_it_out(
    ledger: httpx.AsyncClient, household: Callable[[], Any], books: Any, snapshot: Snapshot,
) -> None:
    home = household()
    first = (await _imported(ledger, home.headers))["migration"]
    before = await snapshot()
    again = (await _imported(ledger, home.headers))["migration"]
    assert again["counts"].items() >= {"accounts_new": 0, "categories_new": 0, "categories_reused": 0,
                                       "transactions_new": 0, "transfers_new": 0, "restored": 0,
                                       "already_there": 47}.items()
    after = await snapshot()
    for table in ("accounts", "categories", "transactions", "transaction_splits", "event_store", "outbox"):
        assert after[table] == before[table], table
    # The layout Firefly wrote up to 6.1 (other columns, amounts as stored) is the same history.
    older = await _imported(ledger, home.headers, (FOLDER / "firefly_export_v5.csv").read_bytes(),
                            name="export-v5.csv")
    assert older["migration"]["counts"]["already_there"] == 47

    assert (await ledger.post(f"/histories/{first['id']}/undo", headers=home.headers)).status_code == 202
    undone = await finished(ledger, f"/histories/{first['id']}", home.headers, running=("undoing",))
    assert (undone["status"], undone["counts"]["undone"]) == ("undone", 47)
    assert await books.transactions(home.headers) == []
    # Only the opening balances are left: the ledger never deletes an account.
    assert await books.balances(home.headers) == {"Girokonto": 250000, "Tagesgeld": 1000000,
                                                  "Kreditkarte": -12050, "Autokredit": -800000}
    restored = (await _imported(ledger, home.headers))["migration"]
    assert restored["counts"]["restored"] == 47
    assert await books.balances(home.headers) == FIGURES["balance_minor"]


def _replace(old: str, new: str) -> Callable[[], bytes]:
    def make() -> bytes:
        text = EXPORT.decode()
        assert old in text
        return text.replace(old, new, 1).encode()
    return make


def _header_only() -> bytes:
    return EXPORT.split(b"\n", 1)[0] + b"\n"


@pytest.mark.parametrize(("make", "fields", "problem", "where"), [
    (_replace("-950.00", "-9x50.00"), {}, "amount '-9x50.00' is not a number", "line 10 (journal 34)"),
    (_replace('"Expense account"', '"Savings account"'), {},
     "account type 'Savings account' (of 'Lidl') is not one this reader knows", "line 6 (journal 37)"),
    (_replace("2025-04-04T00:00:00+02:00", "04/04/2025"), {}, "date '04/04/2025' is not a date",
     "line 9 (journal 51)"),
    (_replace(",Deposit,", ",Gift,"), {}, "type 'Gift' is not a Firefly III transaction type",
     "line 2 (journal 40)"),
    (_header_only, {}, "holds no transactions", "file"),
    (lambda: EXPORT, {"currency": "JPY"}, "amount 8.21 has more decimals than the currency's 0",
     "line 2 (journal 40)"),
    (lambda: EXPORT + b"x" * 200_000, {}, "longer than 128 KiB", "line 59"),
    # The accounts kept are in Firefly's primary currency, euros: dollars are not what the file holds.
    (lambda: EXPORT, {"currency": "USD"}, "keeps its amounts in EUR", "currency"),
])
async def test_a_broken_file_is_refused_by_name_and_nothing_is_written(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot,
    make: Callable[[], bytes], fields: dict[str, str], problem: str, where: str,
) -> None:
    home = household()
    before = await snapshot()
    response = await _import(ledger, home.headers, make(), **fields)
    assert response.status_code == 422, response.text
    assert problem in response.json()["detail"], response.json()
    assert response.json()["where"] == where
    assert await snapshot() == before
    assert (await ledger.get("/histories", headers=home.headers)).json()["items"] == []


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
    assert theirs["counts"]["transactions_new"] == 35
    mine = {a["id"] for a in (await books.accounts(home.headers)).values()}
    assert not mine & {a["id"] for a in (await books.accounts(other.headers)).values()}


# --- the reader alone ---------------------------------------------------------------------------------

def test_the_layout_up_to_6_1_reads_as_the_same_history() -> None:
    """Amounts as stored (the source side's, negative, 12 decimals), currency codes after them, no
    primary currency column: the same accounts, entries and figures."""
    assert firefly.read(FOLDER / "firefly_export_v5.csv") == firefly.read(EXPORT_FILE)


def test_the_file_is_told_from_the_other_csv_histories_and_statements(tmp_path: Path) -> None:
    head = EXPORT[: sources.HEAD_BYTES]
    assert firefly.looks_like(head, "export.csv")
    assert not generic_csv.looks_like(head, "export.csv")
    assert sources.source_of(EXPORT_FILE, "x.csv") is firefly
    for other in (Path(__file__).parent / "histories" / "generic").glob("*.csv"):
        assert not firefly.looks_like(other.read_bytes()[: sources.HEAD_BYTES], other.name)
    ynab = b'"Account","Flag","Date","Payee","Category Group/Category","Category Group","Category",' \
           b'"Memo","Outflow","Inflow","Cleared"\n'
    assert not firefly.looks_like(ynab, "register.csv")
    assert not firefly.looks_like(b"PK\x03\x04" + bytes(100), "budget.zip")


def test_the_primary_currency_is_kept_and_the_others_left_out(tmp_path: Path) -> None:
    """With dollars as Firefly's primary currency the dollar account is the one imported; the EUR side
    of the transfer into it is not there, the dollars that came in stay as an entry."""
    rows = list(csv.reader(io.StringIO(EXPORT.decode(), newline="")))
    primary = rows[0].index("primary_currency_code")
    path = tmp_path / "dollars.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out, lineterminator="\n").writerows([rows[0], *([*r[:primary], "USD", *r[primary + 1:]]
                                                                  for r in rows[1:])])
    history = firefly.read(path)
    assert history.currency == "USD"
    assert [(a.name, a.opening_balance_minor) for a in history.accounts] == [("US-Konto", 50000)]
    assert [(t.payee, t.amount_minor, t.category_id) for t in history.transactions] == [
        ("Girokonto", 10850, None), ("Whole Foods", -4217, "Lebensmittel")]
    assert history.skipped == {"of accounts in EUR: one currency per import, this one USD": 53}
    with pytest.raises(HistoryError, match="has more decimals") as raised:
        firefly.read(path, minor_digits=0)
    assert raised.value.where is not None
