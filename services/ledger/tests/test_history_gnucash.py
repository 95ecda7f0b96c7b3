"""A whole household history from GnuCash through the HTTP API on a real database: the book made with
piecash and saved by GnuCash 4.13 itself as SQLite and as compressed XML (tests/histories/gnucash, see
the README) comes out with every account's balance and every category's total per month that piecash
computes from GnuCash's file; transfers stay transfers, a payslip and a card payment with a fee are taken
apart as documented, investments and another currency are left out (their money uncategorised); the same
book in either format, or again, adds nothing; undo takes it out; hostile or broken files are refused by
name with nothing written; another household sees nothing."""

import gzip
import json
import re
import sqlite3
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from tally_ledger.history import gnucash, sources
from tally_ledger.history.model import History, HistoryError, HistoryTransaction, HistoryTransfer
from tallystack.polling import finished

FOLDER = Path(__file__).parent / "histories" / "gnucash"
SQLITE_FILE = FOLDER / "household.gnucash"
XML_FILE = FOLDER / "household-xml.gnucash"
XML = gzip.decompress(XML_FILE.read_bytes()).decode()
FIGURES: dict[str, Any] = json.loads((FOLDER / "household.json").read_text())
SUMMARY = "GnuCash book: 5 accounts, 13 categories, 30 transactions (6 transfers), 2025-01..2025-04"
SKIPPED = {
    "account of a type not imported (STOCK)": 1,
    "account in another currency or commodity (USD)": 1,
    gnucash.OTHER_POSTING: 2,  # the shares bought, the dollars changed
    "transaction of nothing": 1,  # voided
}
# GnuCash's account → Tally's: the leaf's name; the two "Gas" categories get their group.
ACCOUNT_NAMES = {
    "Assets:Current Assets:Checking Account": "Checking Account",
    "Assets:Current Assets:Savings Account": "Savings Account",
    "Assets:Current Assets:Cash in Wallet": "Cash in Wallet",
    "Liabilities:Credit Card": "Credit Card",
    "Liabilities:Store Card": "Store Card",
}
Snapshot = Callable[[], Awaitable[dict[str, list[dict[str, Any]]]]]


def _category_name(full: str) -> str:
    return {"Expenses:Auto:Gas": "Gas (Auto)", "Expenses:Utilities:Gas": "Gas (Utilities)"}.get(
        full, full.rsplit(":", 1)[-1])


def _expected_balances() -> dict[str, int]:
    """GnuCash's balances of the accounts imported: its placeholders (no money) are folders, and the
    Imbalance-EUR account's money is an uncategorised expense of the checking account."""
    balances = FIGURES["balance_minor"]
    assert balances["Imbalance-EUR"] == 3250
    assert all(balances[name] == 0 for name in ("Assets", "Assets:Current Assets", "Assets:Investments",
                                                "Liabilities"))
    return {tally: balances[name] for name, tally in ACCOUNT_NAMES.items()}


def _expected_months() -> dict[str, dict[str, int]]:
    return {_category_name(name): months for name, months in FIGURES["category_month_minor"].items()}


async def _import(ledger: httpx.AsyncClient, headers: dict[str, str], data: bytes | None = None,
                  name: str = "household.gnucash", **fields: str) -> httpx.Response:
    body = SQLITE_FILE.read_bytes() if data is None else data
    return await ledger.post("/histories", files={"file": (name, body)}, data={"currency": "EUR"} | fields,
                             headers=headers)


async def _imported(ledger: httpx.AsyncClient, headers: dict[str, str], data: bytes | None = None,
                    **fields: str) -> dict[str, Any]:
    response = await _import(ledger, headers, data, **fields)
    assert response.status_code == 201, response.text
    return dict(response.json())


@pytest.mark.parametrize("book", [SQLITE_FILE, XML_FILE], ids=["sqlite", "xml"])
async def test_a_gnucash_book_comes_out_with_the_figures_gnucash_keeps(
    ledger: httpx.AsyncClient, household: Callable[[], Any], books: Any,
    give_defaults: Callable[[Any], Awaitable[dict[str, dict[str, Any]]]], book: Path,
) -> None:
    home = household()
    defaults = await give_defaults(home)  # the household's default categories, in EUR
    body = await _imported(ledger, home.headers, book.read_bytes())
    found, migration = body["found"], body["migration"]
    assert found["summary"] == SUMMARY
    assert found["skipped"] == SKIPPED
    assert migration["status"] == "imported"
    assert migration["counts"]["transactions_new"] + migration["counts"]["transfers_new"] == 31

    assert await books.balances(home.headers) == _expected_balances()
    assert await books.category_months(home.headers) == _expected_months()
    accounts = await books.accounts(home.headers)
    assert {name: (a["kind"], a["archived"]) for name, a in accounts.items()} == {
        "Checking Account": ("checking", False), "Savings Account": ("savings", False),
        "Cash in Wallet": ("cash", False), "Credit Card": ("credit_card", False),
        "Store Card": ("credit_card", True),  # hidden in GnuCash
    }
    categories = {c["name"]: c for c in (await ledger.get(
        "/categories", params={"include_archived": True}, headers=home.headers)).json()["items"]}
    assert (categories["Gas (Auto)"]["group"], categories["Gas (Utilities)"]["group"]) == (
        "Auto", "Utilities")
    assert categories["Income Tax"]["group"] == "Taxes"
    assert categories["Books"]["group"] == "Expenses"
    assert categories["Groceries"]["id"] == defaults["Groceries"]["id"]
    assert categories["Salary"]["id"] == defaults["Salary"]["id"]
    assert "Old Hobby" in categories  # hidden in GnuCash, unused
    # GnuCash's parents without money of their own are groups, not categories ("Utilities" is the
    # household's own default category).
    assert not {"Auto", "Taxes", "Expenses", "Income", "Opening Balances"} & set(categories)
    assert categories["Utilities"]["id"] == defaults["Utilities"]["id"]

    transactions = await books.transactions(home.headers)
    ids = {a["id"]: name for name, a in accounts.items()}
    transfers = sorted((ids[t["account_id"]], ids[t["counter_account_id"]], t["amount_minor"], t["booked_on"])
                       for t in transactions if t["kind"] == "transfer")
    assert transfers == [
        ("Checking Account", "Cash in Wallet", 10000, "2025-01-15"),
        ("Checking Account", "Credit Card", 30000, "2025-02-20"),  # with a fee beside it
        ("Checking Account", "Savings Account", 50000, "2025-01-29"),
        ("Checking Account", "Savings Account", 50000, "2025-02-27"),  # part of the salary
        ("Checking Account", "Savings Account", 75000, "2025-03-29"),
        ("Checking Account", "Store Card", 4500, "2025-01-30"),
    ]
    by_payee: dict[str, list[dict[str, Any]]] = {}
    for t in transactions:
        by_payee.setdefault(t["payee"], []).append(t)
    # The payslip: the gross salary and the tax withheld, each on its category, on the checking account.
    payslip = sorted((t["kind"], t["amount_minor"], t["category_name"]) for t in by_payee["ACME GmbH"]
                     if t["booked_on"] == "2025-01-28")
    assert payslip == [("expense", 80000, "Income Tax"), ("income", 400000, "Salary")]
    fee = [(t["kind"], t["amount_minor"], t["category_name"], t["note"]) for t in by_payee["Card payment"]
           if t["kind"] != "transfer"]
    assert fee == [("expense", 1000, "Bank Service Charge", "late fee")]
    [split] = by_payee["MegaStore"]
    assert sorted((s["amount_minor"], s["note"]) for s in split["splits"]) == [(3000, "cookbook"), (9480, "")]
    [refund] = by_payee["Bookworm"]
    assert (refund["kind"], refund["amount_minor"], refund["category_name"], refund["note"]) == (
        "income", 1500, "Books", "refund: damaged copy")
    [pizza] = by_payee["Pizza Place"]  # booked to Imbalance-EUR in GnuCash
    assert (pizza["kind"], pizza["amount_minor"], pizza["category_id"]) == ("expense", 3250, None)
    [shares] = by_payee["Broker"]
    assert (shares["amount_minor"], shares["category_id"], shares["note"]) == (
        100000, None, "10 ACME shares · into Assets:Investments:ACME Shares (not imported)")
    [rent] = [t for t in by_payee["Landlord Ltd"] if t["booked_on"] == "2025-01-02"]
    assert (rent["status"], rent["note"]) == ("reconciled", "January rent")
    statuses = Counter(t["status"] for t in transactions)
    assert (statuses["reconciled"], statuses["cleared"]) == (1, 15)
    assert "Voided purchase" not in by_payee


def _normalised(history: History) -> History:
    """The same history whatever order a writer keeps splits in, its entries read out of its stream."""
    entries = list(history.entries())
    history.close()
    return replace(history, stream=None,
                   transactions=[replace(t, parts=tuple(sorted(t.parts, key=lambda p: p.source_id)))
                                 for t in entries if isinstance(t, HistoryTransaction)],
                   transfers=[t for t in entries if isinstance(t, HistoryTransfer)])


def test_the_same_book_reads_the_same_as_sqlite_xml_compressed_or_not_and_as_piecash_wrote_it(
        tmp_path: Path) -> None:
    plain = tmp_path / "household.xml"
    plain.write_text(XML)
    books = [SQLITE_FILE, XML_FILE, plain, FOLDER / "household-piecash.gnucash"]
    read = [_normalised(gnucash.read(book)) for book in books]
    assert all(history == read[0] for history in read[1:])
    assert read[0].currency == "EUR"
    assert all(sources.source_of(book, book.name) is gnucash for book in books)


async def test_importing_the_book_again_in_either_format_adds_nothing_and_undo_takes_it_out(
    ledger: httpx.AsyncClient, household: Callable[[], Any], books: Any, snapshot: Snapshot,
) -> None:
    home = household()
    first = (await _imported(ledger, home.headers))["migration"]
    before = await snapshot()
    again = (await _imported(ledger, home.headers, XML_FILE.read_bytes()))["migration"]
    assert again["counts"]["already_there"] == 31
    assert again["counts"]["transactions_new"] + again["counts"]["transfers_new"] == 0
    after = await snapshot()
    for table in ("accounts", "categories", "transactions", "transaction_splits", "event_store", "outbox"):
        assert after[table] == before[table], table

    undoing = await ledger.post(f"/histories/{first['id']}/undo", headers=home.headers)
    assert undoing.status_code == 202, undoing.text
    undone = await finished(ledger, f"/histories/{first['id']}", home.headers, running=("undoing",))
    assert undone["status"] == "undone"
    assert await books.transactions(home.headers) == []
    assert await books.balances(home.headers) == {
        "Checking Account": 250000, "Savings Account": 1000000, "Cash in Wallet": 8000, "Credit Card": -12050,
        "Store Card": -4500}  # the opening balances: the ledger never deletes an account
    back = (await _imported(ledger, home.headers))["migration"]
    assert back["counts"]["restored"] == 31
    assert await books.balances(home.headers) == _expected_balances()


def _sqlite_of_another_app(tmp: Path) -> bytes:
    path = tmp / "other.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        db.execute("INSERT INTO notes (body) VALUES ('hello')")
    data = path.read_bytes()
    path.unlink()
    return data


def _entities() -> bytes:
    laughs = "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    return (f'<?xml version="1.0"?><!DOCTYPE gnc-v2 [<!ENTITY l0 "ha">{laughs}]>'
            f"<gnc-v2><gnc:book>&l9;</gnc:book></gnc-v2>").encode()


def _external() -> bytes:
    return gzip.compress(b'<?xml version="1.0"?><!DOCTYPE gnc-v2 [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                         b"<gnc-v2>&x;</gnc-v2>")


def _bomb() -> bytes:
    """Some 20 KiB that inflate to 20 MiB of XML."""
    return gzip.compress(b"<gnc-v2>" + b" " * (20 * 1024 * 1024) + b"</gnc-v2>")


def _fraction() -> bytes:
    """A split of a thousandth of a euro."""
    return XML.replace("<split:quantity>95000/100</split:quantity>",
                       "<split:quantity>950001/1000</split:quantity>", 1).encode()


@pytest.mark.parametrize(("name", "make", "problem", "where"), [
    ("another-sqlite", _sqlite_of_another_app, "has no table accounts, books, commodities, slots, splits, "
     "transactions: it is not a GnuCash book", "SQLite"),
    ("cut-sqlite", lambda _: SQLITE_FILE.read_bytes()[:50_000], "cannot be read, it is damaged", "SQLite"),
    ("entities", lambda _: _entities(), "declares a DTD, entities or external references", "XML"),
    ("external-entity", lambda _: _external(), "declares a DTD, entities or external references", "XML"),
    ("bomb", lambda _: _bomb(), "a compression bomb", "gzip"),
    ("cut-gzip", lambda _: XML_FILE.read_bytes()[:3000],
     "cannot be inflated, the file is damaged or truncated", "gzip"),
    ("cut-xml", lambda _: XML[:20_000].encode(), "is not well-formed XML", None),
    ("no-such-encoding", lambda _: re.sub(r'encoding="[^"]*"', 'encoding="SO-8859-1"', XML, count=1).encode(),
     "declares an encoding this reader cannot use", "XML declaration"),
    ("thousandths", lambda _: _fraction(), "amount 950001/1000 has more decimals than the currency's 2",
     None),
])
async def test_a_hostile_or_broken_book_is_refused_by_name_and_nothing_is_written(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot, tmp_path: Path,
    name: str, make: Callable[[Path], bytes], problem: str, where: str | None,
) -> None:
    home = household()
    before = await snapshot()
    response = await _import(ledger, home.headers, make(tmp_path), name=f"{name}.gnucash")
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["detail"].startswith("the file cannot be imported: "), body
    assert problem in body["detail"], body
    if where is not None:
        assert body["where"] == where
    elif name == "cut-xml":
        assert re.fullmatch(r"XML line \d+", body["where"]), body
    else:
        assert re.fullmatch(r"transaction [0-9a-f]{32} of 2025-01-02 \('Landlord Ltd'\), split [0-9a-f]{32}",
                            body["where"]), body
    assert await snapshot() == before
    assert (await ledger.get("/histories", headers=home.headers)).json()["items"] == []


async def test_a_book_in_euros_is_not_imported_in_another_currency(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot,
) -> None:
    home = household()
    before = await snapshot()
    response = await _import(ledger, home.headers, currency="USD")
    assert response.status_code == 422, response.text
    assert "keeps its amounts in EUR; import it with currency EUR" in response.json()["detail"]
    assert response.json()["where"] == "currency"
    assert await snapshot() == before


def test_amounts_follow_the_currency_s_minor_unit() -> None:
    """GnuCash keeps exact fractions: in a currency of 3 digits they are tenfold; in one of none the
    card's 120.50 cannot be, and its split is named."""
    dinars = gnucash.read(SQLITE_FILE, minor_digits=3)
    assert {a.name: a.opening_balance_minor for a in dinars.accounts}["Credit Card"] == -120_500
    decimals = r"amount -?12050/100 has more decimals than the currency's 0"
    with pytest.raises(HistoryError, match=decimals) as raised:
        gnucash.read(SQLITE_FILE, minor_digits=0)
    assert raised.value.where is not None
    assert re.fullmatch(r"transaction [0-9a-f]{32} of 2025-01-01 \('Opening Balance'\), split [0-9a-f]{32}",
                        raised.value.where)


def test_templates_of_scheduled_transactions_are_not_read_and_old_posting_times_give_their_day(
        tmp_path: Path) -> None:
    """A scheduled transaction's template (its own accounts and a transaction on them) is no history; a
    book from before the date-posted slot keeps local midnight (here 23:00 UTC of the day before)."""
    template = (
        "<gnc:template-transactions>"
        '<gnc:account version="2.0.0"><act:name>Template Root</act:name>'
        '<act:id type="guid">00000000000000000000000000000001</act:id><act:type>ROOT</act:type></gnc:account>'
        '<gnc:transaction version="2.0.0"><trn:id type="guid">00000000000000000000000000000002</trn:id>'
        "<trn:date-posted><ts:date>2025-02-01 10:59:00 +0000</ts:date></trn:date-posted>"
        "<trn:description>Rent, every month</trn:description><trn:splits><trn:split>"
        '<split:id type="guid">00000000000000000000000000000003</split:id>'
        "<split:reconciled-state>n</split:reconciled-state><split:quantity>0/1</split:quantity>"
        '<split:account type="guid">00000000000000000000000000000001</split:account>'
        "</trn:split></trn:splits></gnc:transaction></gnc:template-transactions></gnc:book>")
    old = re.sub(r"<slot>\s*<slot:key>date-posted</slot:key>.*?</slot>\s*", "", XML, flags=re.S)
    old = old.replace("<ts:date>2025-01-02 10:59:00 +0000</ts:date>",
                      "<ts:date>2025-01-01 23:00:00 +0000</ts:date>")
    path = tmp_path / "old.gnucash"
    path.write_bytes(gzip.compress(old.replace("</gnc:book>", template).encode()))
    assert "date-posted</slot:key>" not in old
    assert _normalised(gnucash.read(path)) == _normalised(gnucash.read(SQLITE_FILE))


def test_a_book_is_told_by_its_content() -> None:
    head = XML_FILE.read_bytes()[:sources.HEAD_BYTES]
    assert gnucash.looks_like(head, "anything.bin")
    assert gnucash.looks_like(XML.encode()[:4096], "book.xml")
    assert gnucash.looks_like(SQLITE_FILE.read_bytes()[:100], "book.sqlite")
    assert not gnucash.looks_like(gzip.compress(b"date,amount\n"), "export.csv.gz")
    assert not gnucash.looks_like(b"date,amount\n2025-01-01,5\n", "bank.csv")


async def test_another_household_sees_nothing_of_it(
    ledger: httpx.AsyncClient, household: Callable[[], Any], books: Any,
) -> None:
    home, other = household(), household()
    migration = (await _imported(ledger, home.headers))["migration"]
    assert await books.accounts(other.headers) == {}
    assert await books.transactions(other.headers) == []
    assert (await ledger.get("/histories", headers=other.headers)).json()["items"] == []
    assert (await ledger.get(f"/histories/{migration['id']}", headers=other.headers)).status_code == 404
    assert (await ledger.post(f"/histories/{migration['id']}/undo", headers=other.headers)).status_code == 404
    theirs = (await _imported(ledger, other.headers))["migration"]
    assert theirs["counts"]["accounts_new"] == 5
    mine = {a["id"] for a in (await books.accounts(home.headers)).values()}
    assert not mine & {a["id"] for a in (await books.accounts(other.headers)).values()}
