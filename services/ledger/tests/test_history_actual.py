"""A whole household history from Actual Budget through the HTTP API on a real database: the export made
by Actual's own code (tests/histories, see its README) comes out with the balances and the totals per
category and month that Actual computed; transfers stay transfers; importing twice adds nothing; undo
takes it out and a new import brings it back; broken or hostile files are refused by name with nothing
written; another household sees nothing."""

import io
import json
import sqlite3
import zipfile
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tally_ledger import history_api, repository
from tally_ledger.history import actual, write
from tally_ledger.history.model import (
    History,
    HistoryAccount,
    HistoryCategory,
    HistoryError,
    HistoryPart,
    HistoryTransaction,
    HistoryTransfer,
)
from tally_ledger.repository import Context
from tallykit.contracts.ledger import AccountKind, CategoryKind, ClearedState
from tallystack.books import Books
from tallystack.polling import finished

from .ledger_helpers import open_account

HISTORIES = Path(__file__).parent / "histories"
EXPORT_FILE = HISTORIES / "actual_household.zip"
EXPORT = EXPORT_FILE.read_bytes()
FIGURES: dict[str, Any] = json.loads((HISTORIES / "actual_household.json").read_text())
SUMMARY = "Actual Budget export: 3 accounts, 15 categories, 54 transactions (3 transfers), 2025-01..2025-04"
Snapshot = Callable[[], Awaitable[dict[str, list[dict[str, Any]]]]]


async def _import(ledger: httpx.AsyncClient, headers: dict[str, str], data: bytes = EXPORT,
                  name: str = "My-Finances.zip", **fields: str) -> httpx.Response:
    return await ledger.post("/histories", files={"file": (name, data)}, data=fields, headers=headers)


async def _imported(ledger: httpx.AsyncClient, headers: dict[str, str], **fields: str) -> dict[str, Any]:
    response = await _import(ledger, headers, **fields)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _finished(ledger: httpx.AsyncClient, headers: dict[str, str], migration_id: str) -> dict[str, Any]:
    """The migration once its undo (which runs after the answer) has finished."""
    return await finished(ledger, f"/histories/{migration_id}", headers, running=("undoing",))





async def test_an_actual_export_comes_out_with_the_figures_actual_computed(
    ledger: httpx.AsyncClient, household: Callable[[], Any],
    give_defaults: Callable[[Any], Awaitable[dict[str, dict[str, Any]]]],
) -> None:
    home = household()
    defaults = await give_defaults(home)  # the household's default categories, in EUR
    body = await _imported(ledger, home.headers)
    found, migration = body["found"], body["migration"]
    assert found["summary"] == SUMMARY
    assert (found["groups"], found["categories"], found["payees"], found["transfers"]) == (6, 15, 20, 3)
    assert found["skipped"] == {}
    assert migration["status"] == "imported"
    assert migration["currency"] == "EUR"
    assert migration["summary"] == SUMMARY
    assert migration["filename"] == "My-Finances.zip"
    # Groceries, Rent, Utilities, Fuel, Entertainment, Travel, Salary and Interest are the household's own.
    assert migration["counts"] == {"accounts_new": 3, "categories_new": 7, "categories_reused": 8,
                                   "transactions_new": 51, "transfers_new": 3, "restored": 0,
                                   "already_there": 0, "budgets_new": 5}

    accounts = await Books(ledger).accounts(home.headers)
    assert {name: a["balance_minor"] for name, a in accounts.items()} == FIGURES["balance_minor"]
    assert {name: a["archived"] for name, a in accounts.items()} == {
        name: bool(a["closed"]) for name, a in FIGURES["accounts"].items()}
    assert {name: a["kind"] for name, a in accounts.items()} == {
        "Checking": "checking", "Savings": "savings", "Old Credit Card": "credit_card"}
    for name, a in accounts.items():  # and as of the last day of the history, through the balance route
        balance = (await ledger.get(f"/accounts/{a['id']}/balance", params={"as_of": "2025-04-30"},
                                    headers=home.headers)).json()
        assert balance["balance_minor"] == FIGURES["balance_minor"][name]

    # The opening balances are the accounts' own, not a category's: Actual's "Starting Balances" apart.
    expected = {name: months for name, months in FIGURES["category_month_minor"].items()
                if name != "Starting Balances"}
    assert await Books(ledger).category_months(home.headers) == expected
    listed = (await ledger.get("/categories", headers=home.headers)).json()["items"]
    categories = {c["name"]: c for c in listed}
    assert categories["Groceries"]["id"] == defaults["Groceries"]["id"]
    assert categories["Public transport"]["group"] == "Transport"
    assert categories["Salary"]["kind"] == "income"
    assert categories["Books"]["kind"] == "expense"
    assert "Starting Balances" not in categories
    assert "Snacks" not in categories

    transactions = await Books(ledger).transactions(home.headers)
    assert len(transactions) == 54
    transfers = [t for t in transactions if t["kind"] == "transfer"]
    ids = {a["id"]: name for name, a in accounts.items()}
    assert sorted((ids[t["account_id"]], ids[t["counter_account_id"]], t["amount_minor"], t["booked_on"])
                  for t in transfers) == [
        ("Checking", "Old Credit Card", 42599, "2025-02-28"),
        ("Checking", "Savings", 50000, "2025-01-29"),
        ("Checking", "Savings", 75000, "2025-03-29"),
    ]
    assert {t["note"] for t in transfers} == {"monthly saving", "pay off the card"}
    totals = (await ledger.get("/transactions/totals", headers=home.headers)).json()["items"]
    assert [(t["currency"], t["transfer_minor"]) for t in totals] == [("EUR", 167599)]

    splits = sorted((t for t in transactions if t["splits"]), key=lambda t: t["booked_on"])
    assert [(t["payee"], t["amount_minor"], [(s["amount_minor"], s["note"]) for s in t["splits"]])
            for t in splits] == [
        ("MegaStore", 12480, [(9480, ""), (3000, "cookbook")]),
        ("Pharma Plus", 8210, [(2710, "vitamins"), (3500, ""), (2000, "")]),
    ]
    refund = next(t for t in transactions if t["note"] == "refund: damaged copy")
    assert (refund["kind"], refund["amount_minor"], refund["category_name"]) == ("income", 1500, "Books")
    flight = next(t for t in transactions if t["payee"] == "SkyHigh Air")
    assert (flight["note"], flight["status"], flight["account_id"]) == (
        "Flight to Lisbon", "cleared", accounts["Old Credit Card"]["id"])
    statuses = defaultdict(int)
    for t in transactions:
        statuses[t["status"]] += 1
    assert statuses["reconciled"] == 1
    assert statuses["uncleared"] > 0
    assert statuses["cleared"] > 0
    [reconciled] = [t for t in transactions if t["status"] == "reconciled"]
    assert (reconciled["payee"], reconciled["booked_on"]) == ("Landlord Ltd", "2025-01-02")
    assert not any(t["payee"] == "Typo Inc" for t in transactions)  # deleted in Actual
    present = next(t for t in transactions if t["payee"] == "Grandma")
    assert (present["kind"], present["category_id"]) == ("expense", None)

    # Every event of the migration carries its id; the household has no other events but its defaults.
    app: Any = ledger.app  # type: ignore[attr-defined]
    async with app.state.db.read() as session:
        rows = (await session.execute(text(
            "SELECT type, envelope->>'correlation_id' FROM event_store WHERE tenant_id = :t"),
            {"t": home.tenant_id})).all()
    ours = [kind for kind, correlation in rows if correlation == migration["id"]]
    # accounts, categories, transactions, the card archived, the budgets of 5 categories
    assert len(ours) == 3 + 7 + 54 + 1 + 5
    assert all(kind == "ledger.CategoryCreated" for kind, c in rows if c != migration["id"])

    listed = (await ledger.get("/histories", headers=home.headers)).json()["items"]
    assert [m["id"] for m in listed] == [migration["id"]]


async def test_importing_the_same_history_again_adds_nothing(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot,
) -> None:
    home = household()
    first = await _imported(ledger, home.headers, currency="EUR")
    before = await snapshot()
    again = await _imported(ledger, home.headers, currency="EUR")
    after = await snapshot()
    assert again["found"]["summary"] == SUMMARY
    assert again["migration"]["id"] != first["migration"]["id"]
    assert again["migration"]["counts"] == {"accounts_new": 0, "categories_new": 0, "categories_reused": 0,
                                            "transactions_new": 0, "transfers_new": 0, "restored": 0,
                                            "already_there": 54, "budgets_new": 0}
    for table in ("accounts", "categories", "transactions", "transaction_splits", "event_store", "outbox"):
        assert after[table] == before[table], table
    accounts = await Books(ledger).accounts(home.headers)
    assert {name: a["balance_minor"] for name, a in accounts.items()} == FIGURES["balance_minor"]


async def test_a_dry_run_says_what_the_file_holds_and_writes_nothing(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot,
) -> None:
    home = household()
    before = await snapshot()
    response = await _import(ledger, home.headers, currency="EUR", dry_run="true")
    assert response.status_code == 201, response.text
    assert response.json()["migration"] is None
    found = response.json()["found"]["accounts"]
    assert [{k: v for k, v in a.items() if k != "source_id"} for a in found] == [
        {"name": "Checking", "kind": "checking", "opening_balance_minor": 250000, "closed": False},
        {"name": "Savings", "kind": "savings", "opening_balance_minor": 1000000, "closed": False},
        {"name": "Old Credit Card", "kind": "credit_card", "opening_balance_minor": -12050, "closed": True},
    ]
    assert await snapshot() == before


async def test_undo_takes_the_migration_out_and_a_new_import_brings_it_back(
    ledger: httpx.AsyncClient, household: Callable[[], Any],
) -> None:
    home = household()
    migration = (await _imported(ledger, home.headers, currency="EUR"))["migration"]
    undoing = await ledger.post(f"/histories/{migration['id']}/undo", headers=home.headers)
    assert undoing.status_code == 202, undoing.text
    assert undoing.json()["status"] == "undoing"
    undone = await _finished(ledger, home.headers, migration["id"])
    assert undone["status"] == "undone"
    assert undone["undone_at"] is not None
    assert undone["counts"]["undone"] == 54
    assert await Books(ledger).transactions(home.headers) == []
    accounts = await Books(ledger).accounts(home.headers)
    assert all(a["archived"] for a in accounts.values())
    # Only the opening balances are left: the ledger cannot delete an account.
    assert {name: a["balance_minor"] for name, a in accounts.items()} == {
        "Checking": 250000, "Savings": 1000000, "Old Credit Card": -12050}
    twice = await ledger.post(f"/histories/{migration['id']}/undo", headers=home.headers)
    assert twice.status_code == 409, twice.text

    again = (await _imported(ledger, home.headers, currency="EUR"))["migration"]
    assert again["counts"]["restored"] == 54
    assert again["counts"]["transactions_new"] == 0
    accounts = await Books(ledger).accounts(home.headers)
    assert {name: a["balance_minor"] for name, a in accounts.items()} == FIGURES["balance_minor"]
    assert {name: a["archived"] for name, a in accounts.items()} == {
        "Checking": False, "Savings": False, "Old Credit Card": True}
    expected = {name: months for name, months in FIGURES["category_month_minor"].items()
                if name != "Starting Balances"}
    assert await Books(ledger).category_months(home.headers) == expected


async def test_what_was_changed_by_hand_stays_as_it_is_when_the_history_comes_again(
    ledger: httpx.AsyncClient, household: Callable[[], Any],
) -> None:
    """A transaction deleted by hand is not brought back, neither by importing again nor after an undo;
    one edited by hand keeps the edit."""
    home = household()
    await _imported(ledger, home.headers, currency="EUR")
    transactions = await Books(ledger).transactions(home.headers)
    present = next(t for t in transactions if t["payee"] == "Grandma")
    deleted = await ledger.delete(f"/transactions/{present['id']}", params={"expected_version": 1},
                                  headers=home.headers)
    assert deleted.status_code == 200, deleted.text
    film = next(t for t in transactions if t["payee"] == "StreamFlix")
    edited = await ledger.patch(f"/transactions/{film['id']}", json={"note": "cancelled since",
                                                                     "expected_version": 1},
                                headers=home.headers)
    assert edited.status_code == 200, edited.text

    again = (await _imported(ledger, home.headers, currency="EUR"))["migration"]
    assert (again["counts"]["already_there"], again["counts"]["restored"]) == (54, 0)
    after = {t["id"]: t for t in await Books(ledger).transactions(home.headers)}
    assert present["id"] not in after
    assert after[film["id"]]["note"] == "cancelled since"

    assert (await ledger.post(f"/histories/{again['id']}/undo", headers=home.headers)).status_code == 202
    assert (await _finished(ledger, home.headers, again["id"]))["counts"]["undone"] == 0  # it wrote none
    [first] = [m for m in (await ledger.get("/histories", headers=home.headers)).json()["items"]
               if m["id"] != again["id"]]
    assert (await ledger.post(f"/histories/{first['id']}/undo", headers=home.headers)).status_code == 202
    assert (await _finished(ledger, home.headers, first["id"]))["status"] == "undone"
    assert await Books(ledger).transactions(home.headers) == []
    third = (await _imported(ledger, home.headers, currency="EUR"))["migration"]
    assert third["counts"]["restored"] == 53  # all but the one deleted by hand
    assert present["id"] not in {t["id"] for t in await Books(ledger).transactions(home.headers)}


# --- broken and hostile files -------------------------------------------------------------------------

def _zip(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _members() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(EXPORT)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _sqlite(tmp_path: Path) -> bytes:
    path = tmp_path / "other.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE notes (id TEXT PRIMARY KEY, note TEXT)")
        db.execute("INSERT INTO notes VALUES ('a', 'not a budget')")
    return path.read_bytes()


def _bomb() -> bytes:
    """A zip whose db.sqlite inflates 64 MiB of zeros from some 60 KiB."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", b'{"id": "x", "budgetName": "Bomb"}')
        with archive.open("db.sqlite", "w") as member:
            member.write(b"SQLite format 3\x00")
            for _ in range(64):
                member.write(bytes(1024 * 1024))
    return out.getvalue()


def _linked() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in _members().items():
            archive.writestr(name, data)
        link = zipfile.ZipInfo("db-link")
        link.create_system = 3
        link.external_attr = (0o120777 << 16)
        archive.writestr(link, "/etc/passwd")
    return out.getvalue()


@pytest.mark.parametrize(("name", "make", "problem", "where"), [
    ("traversal", lambda _: _zip({**_members(), "../../etc/cron.d/evil": b"* * * * * root true"}),
     "a path that leaves the archive", "zip member '../../etc/cron.d/evil'"),
    ("bomb", lambda _: _bomb(), "compression bomb", "zip member 'db.sqlite'"),
    ("link", lambda _: _linked(), "a symbolic link", "zip member 'db-link'"),
    ("not-actual-sqlite", lambda tmp: _zip({"db.sqlite": _sqlite(tmp), "metadata.json": b"{}"}),
     "has no table accounts, categories, category_groups, payees, transactions: it is not an Actual Budget "
     "database", "db.sqlite"),
    ("truncated", lambda _: EXPORT[: len(EXPORT) // 2], "not a zip, or it is truncated", "zip"),
    ("no-database", lambda _: _zip({"notes.txt": b"hello"}), "has no db.sqlite and no metadata.json", "zip"),
    ("too-many-files", lambda _: _zip({f"f{n}.txt": b"x" for n in range(20)}), "holds 20 files", "zip"),
    ("bad-metadata", lambda _: _zip({**_members(), "metadata.json": b"{not json"}), "is not JSON",
     "metadata.json"),
    ("not-sqlite", lambda _: _zip({"db.sqlite": b"hello", "metadata.json": b"{}"}),
     "is not a SQLite database", "db.sqlite"),
    ("cut-sqlite", lambda _: _zip({**_members(), "db.sqlite": _members()["db.sqlite"][:40_000]}),
     "cannot be read, it is damaged", "db.sqlite"),
])
async def test_a_broken_or_hostile_file_is_refused_by_name_and_nothing_is_written(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot, tmp_path: Path,
    name: str, make: Callable[[Path], bytes], problem: str, where: str,
) -> None:
    home = household()
    before = await snapshot()
    response = await _import(ledger, home.headers, make(tmp_path), currency="EUR")
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["detail"].startswith("the file cannot be imported: "), body
    assert problem in body["detail"], body
    assert body["where"] == where
    assert await snapshot() == before
    assert (await ledger.get("/histories", headers=home.headers)).json()["items"] == []


async def test_a_file_of_no_known_app_and_bad_requests_are_refused(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot,
) -> None:
    home = household()
    before = await snapshot()
    csv = await _import(ledger, home.headers, b"date,amount\n2025-01-01,5\n", "bank.csv", currency="EUR")
    assert csv.status_code == 422
    assert "Actual Budget export" in csv.json()["detail"]
    no_currency = await _import(ledger, home.headers)  # a household without settings: no base currency
    assert no_currency.status_code == 422
    assert "currency" in no_currency.json()["detail"]
    unknown = await _import(ledger, home.headers, currency="XYZ")
    assert unknown.status_code == 422
    viewer = await _import(ledger, home.viewer_headers, currency="EUR")
    assert viewer.status_code == 403
    assert await snapshot() == before


def test_the_reader_counts_what_it_inflates_against_the_cap(monkeypatch: pytest.MonkeyPatch,
                                                             tmp_path: Path) -> None:
    monkeypatch.setattr(actual, "MAX_UNCOMPRESSED", 100_000)
    with pytest.raises(HistoryError, match="more than the 0 MiB allowed") as raised:
        actual.read(EXPORT_FILE)
    assert raised.value.where == "zip"
    # A member that says it is small but inflates to more is stopped where it said it ends (and then its
    # checksum does not match).
    members = _members()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for member, data in members.items():
            out.writestr(member, data)
    raw = bytearray(archive.getvalue())
    monkeypatch.setattr(actual, "MAX_UNCOMPRESSED", 500 * 1024 * 1024)
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as probe:
        info = probe.getinfo("db.sqlite")
    # Lie in the central directory: db.sqlite declares 1000 bytes.
    central = raw.rfind(b"PK\x01\x02", 0, len(raw))
    while central != -1:
        name_length = int.from_bytes(raw[central + 28:central + 30], "little")
        if raw[central + 46:central + 46 + name_length] == b"db.sqlite":
            raw[central + 24:central + 28] = (1000).to_bytes(4, "little")
            break
        central = raw.rfind(b"PK\x01\x02", 0, central)
    assert info.file_size > 1000
    (tmp_path / "lied.zip").write_bytes(bytes(raw))
    with pytest.raises(HistoryError, match="damaged or truncated \\(Bad CRC-32") as lied:
        actual.read(tmp_path / "lied.zip")
    assert lied.value.where == "zip member 'db.sqlite'"


def test_amounts_follow_the_currency_s_minor_unit() -> None:
    """Actual keeps hundredths whatever the currency: in dinars (3 digits) they are tenfold; in yen (no
    minor unit) the card's 120.50 cannot be, and the row is named."""
    dinars = actual.read(EXPORT_FILE, minor_digits=3)
    assert {a.name: a.opening_balance_minor for a in dinars.accounts} == {
        "Checking": 2_500_000, "Savings": 10_000_000, "Old Credit Card": -120_500}
    decimals = r"amount -120\.5 has more decimals than the currency's 0"
    with pytest.raises(HistoryError, match=decimals) as raised:
        actual.read(EXPORT_FILE, minor_digits=0)
    assert raised.value.where is not None
    assert raised.value.where.startswith("db.sqlite, transactions row ")


async def test_another_household_sees_nothing_of_it(
    ledger: httpx.AsyncClient, household: Callable[[], Any],
) -> None:
    home, other = household(), household()
    migration = (await _imported(ledger, home.headers, currency="EUR"))["migration"]
    assert (await ledger.get("/accounts", params={"include_archived": True},
                             headers=other.headers)).json()["items"] == []
    assert await Books(ledger).transactions(other.headers) == []
    assert (await ledger.get("/histories", headers=other.headers)).json()["items"] == []
    assert (await ledger.get(f"/histories/{migration['id']}", headers=other.headers)).status_code == 404
    assert (await ledger.post(f"/histories/{migration['id']}/undo", headers=other.headers)).status_code == 404
    mine_now = (await ledger.get(f"/histories/{migration['id']}", headers=home.headers)).json()
    assert mine_now["status"] == "imported"
    # The same export into the other household is its own: new ids, nothing shared.
    theirs = (await _imported(ledger, other.headers, currency="EUR"))["migration"]
    assert theirs["counts"]["transactions_new"] == 51
    assert theirs["counts"]["accounts_new"] == 3
    mine = {a["id"] for a in (await Books(ledger).accounts(home.headers)).values()}
    assert not mine & {a["id"] for a in (await Books(ledger).accounts(other.headers)).values()}


def _service(ledger: httpx.AsyncClient) -> tuple[Any, Any]:
    app: Any = ledger.app  # type: ignore[attr-defined]
    return app.state.db, app.state.settings


async def test_a_migration_stopped_half_way_goes_on_where_it_stopped_when_run_again(
    ledger: httpx.AsyncClient, household: Callable[[], Any], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """In chunks of 10 (2000 in earnest), the third chunk fails: the first two stay, the migration says it
    failed, and running the history again writes the rest and nothing twice. While it writes, the
    household's categoriser training and series detection wait (the migration holds their leases); they
    are let go when it ends, failed or not."""
    db, settings = _service(ledger)
    home = household()
    ctx = Context(tenant_id=home.tenant_id, actor=str(home.owner_id))
    history = actual.read(EXPORT_FILE)
    monkeypatch.setattr(write, "CHUNK", 10)
    real, calls = repository.save_recorded, 0
    leases = text("SELECT (SELECT training_since FROM categorisers WHERE tenant_id = :t), "
                  "(SELECT detecting_since FROM series_households WHERE tenant_id = :t)")

    async def failing(session: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        held = (await session.execute(leases, {"t": home.tenant_id})).one()
        assert None not in held  # held while the migration writes
        if calls == 3:
            raise RuntimeError("the database went away")
        await real(session, *args, **kwargs)

    monkeypatch.setattr(repository, "save_recorded", failing)
    with pytest.raises(RuntimeError, match="the database went away"):
        await write.migrate(db, settings, ctx, history, filename="budget.zip", currency="EUR")
    [failed] = (await ledger.get("/histories", headers=home.headers)).json()["items"]
    assert (failed["status"], failed["error"]) == ("failed", "the database went away")
    assert failed["counts"]["transactions_new"] + failed["counts"]["transfers_new"] == 20
    assert len(await Books(ledger).transactions(home.headers)) == 20
    async with db.read() as session:
        assert tuple((await session.execute(leases, {"t": home.tenant_id})).one()) == (None, None)

    monkeypatch.setattr(repository, "save_recorded", real)
    done = await write.migrate(db, settings, ctx, history, filename="budget.zip", currency="EUR")
    async with db.read() as session:
        assert tuple((await session.execute(leases, {"t": home.tenant_id})).one()) == (None, None)
    assert done.status == "imported"
    assert (done.counts["accounts_new"], done.counts["already_there"]) == (0, 20)
    assert done.counts["transactions_new"] + done.counts["transfers_new"] == 34
    accounts = await Books(ledger).accounts(home.headers)
    assert {name: a["balance_minor"] for name, a in accounts.items()} == FIGURES["balance_minor"]
    assert accounts["Old Credit Card"]["archived"]
    assert len(await Books(ledger).transactions(home.headers)) == 54


async def test_a_split_the_ledger_cannot_keep_whole_becomes_one_transaction_per_part(
    ledger: httpx.AsyncClient, household: Callable[[], Any],
) -> None:
    """A split with a refund among its parts, or a part on no category, is one transaction per part; a
    split of one part is a plain transaction: each part's money stays on its category."""
    db, settings = _service(ledger)
    home = household()
    day = date(2025, 5, 3)
    history = History(
        source="test", name="Splits", app="test",
        accounts=[HistoryAccount("a", "Wallet", AccountKind.cash, 10_000, closed=False),
                  HistoryAccount("b", "Bank", AccountKind.checking, 0, closed=False)],
        categories=[HistoryCategory("g", "Food", "Daily", CategoryKind.expense),
                    HistoryCategory("s", "Pay", "Income", CategoryKind.income)],
        transactions=[
            HistoryTransaction("t1", "a", day, -1000, "Market", "returned a melon", parts=(
                HistoryPart("t1a", -1500, "g"), HistoryPart("t1b", 500, "g", "melon back"))),
            HistoryTransaction("t2", "a", day, -500, "Kiosk", parts=(
                HistoryPart("t2a", -300, "g"), HistoryPart("t2b", -200, None))),
            HistoryTransaction("t3", "a", day, -700, "Bakery", parts=(HistoryPart("t3a", -700, "g"),)),
            HistoryTransaction("t4", "b", day, 2500, "Employer", category_id="s",
                               status=ClearedState.reconciled),
        ],
        transfers=[HistoryTransfer("x1", "b", "a", day, 1200, note="cash")],
    )
    ctx = Context(tenant_id=home.tenant_id, actor=str(home.owner_id))
    done = await write.migrate(db, settings, ctx, history, filename="splits", currency="EUR")
    assert (done.counts["transactions_new"], done.counts["transfers_new"]) == (6, 1)
    items = await Books(ledger).transactions(home.headers)
    found = sorted((t["payee"], t["kind"], t["amount_minor"], t["category_name"], t["note"]) for t in items)
    assert found == [
        ("", "transfer", 1200, None, "cash"),
        ("Bakery", "expense", 700, "Food", ""),
        ("Employer", "income", 2500, "Pay", ""),
        ("Kiosk", "expense", 200, None, "(part 2 of 2 of a split)"),
        ("Kiosk", "expense", 300, "Food", "(part 1 of 2 of a split)"),
        ("Market", "expense", 1500, "Food", "returned a melon (part 1 of 2 of a split)"),
        ("Market", "income", 500, "Food", "returned a melon · melon back (part 2 of 2 of a split)"),
    ]
    assert await Books(ledger).category_months(home.headers) == {"Food": {"2025-05": -2000},
                                                            "Pay": {"2025-05": 2500}}
    accounts = await Books(ledger).accounts(home.headers)
    assert (accounts["Wallet"]["balance_minor"], accounts["Bank"]["balance_minor"]) == (10_000 - 2200 + 1200,
                                                                                      2500 - 1200)
    # Undo takes the reconciled income out too (it is marked cleared first), and the refund.
    undone = await write.undo(db, settings, ctx, done.id)
    assert undone.status == "undone"
    assert await Books(ledger).transactions(home.headers) == []


async def test_a_source_account_can_go_into_an_account_the_household_has(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot,
) -> None:
    """The person maps Actual's Checking onto the checking account they keep in Tally already: its
    transactions go there, its opening balance as one entry, and the balance comes out as Actual's (plus
    what was there); the other accounts are opened. Undo leaves the chosen account open."""
    home = household()
    main = await open_account(ledger, home.headers, name="Main", opening_balance_minor=10_000)
    found = (await _imported(ledger, home.headers, currency="EUR", dry_run="true"))["found"]
    sources = {a["name"]: a["source_id"] for a in found["accounts"]}
    into_main = json.dumps({sources["Checking"]: main["id"]})

    bad = [({"nope": main["id"]}, "the file has no account 'nope'"),
           ({sources["Checking"]: "00000000-0000-0000-0000-000000000001"}, "does not exist"),
           ('{"x": ', "accounts must be a JSON object")]
    before = await snapshot()
    for mapping, detail in bad:
        raw = mapping if isinstance(mapping, str) else json.dumps(mapping)
        response = await _import(ledger, home.headers, currency="EUR", accounts=raw)
        assert response.status_code == 422, response.text
        assert detail in response.json()["detail"]
    yen = await _import(ledger, home.headers, currency="JPY", accounts=into_main)
    assert yen.status_code == 422
    assert await snapshot() == before

    body = await _imported(ledger, home.headers, currency="EUR",
                           accounts=into_main)
    assert body["migration"]["counts"]["accounts_new"] == 2
    accounts = await Books(ledger).accounts(home.headers)
    assert set(accounts) == {"Main", "Savings", "Old Credit Card"}
    assert accounts["Main"]["balance_minor"] == 10_000 + FIGURES["balance_minor"]["Checking"]
    assert accounts["Savings"]["balance_minor"] == FIGURES["balance_minor"]["Savings"]
    again = await _imported(ledger, home.headers, currency="EUR", accounts=into_main)
    assert again["migration"]["counts"]["transactions_new"] == 0

    undo = await ledger.post(f"/histories/{body['migration']['id']}/undo", headers=home.headers)
    assert undo.status_code == 202
    assert (await _finished(ledger, home.headers, body["migration"]["id"]))["status"] == "undone"
    after = await Books(ledger).accounts(home.headers)
    assert after["Main"]["archived"] is False
    assert after["Main"]["balance_minor"] == 10_000


async def test_a_large_history_is_written_after_the_answer(
    ledger: httpx.AsyncClient, household: Callable[[], Any], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Checked before the answer, written after it (202): the migration shows its progress and ends
    imported with the same figures as one written before the answer."""
    monkeypatch.setattr(history_api, "WRITTEN_BEFORE_ANSWER", 10)
    home = household()
    response = await _import(ledger, home.headers, currency="EUR")
    assert response.status_code == 202, response.text
    begun = response.json()["migration"]
    assert begun["status"] == "importing"
    done = await finished(ledger, f"/histories/{begun['id']}", home.headers, running=("importing",))
    assert done["status"] == "imported"
    assert done["counts"]["transactions_new"] == 51
    balances = await Books(ledger).balances(home.headers)
    assert balances == FIGURES["balance_minor"]
    bad = await _import(ledger, home.headers, data=EXPORT[: len(EXPORT) // 2], currency="EUR")
    assert bad.status_code == 422  # still refused before the answer


def _edited(tmp_path: Path, *statements: str) -> Path:
    """The fixture's export with its db.sqlite changed by these statements."""
    members = _members()
    database = tmp_path / "db.sqlite"
    database.write_bytes(members["db.sqlite"])
    with sqlite3.connect(database) as db:
        for statement in statements:
            db.execute(statement)
    db.close()
    members["db.sqlite"] = database.read_bytes()
    export = tmp_path / "edited.zip"
    export.write_bytes(_zip(members))
    return export


def test_the_reader_streams_the_entries_in_booking_order_from_the_file(tmp_path: Path) -> None:
    """The entries stay in the file and are read again in booking order whenever wanted, as the first pass
    counted them: a split whose transaction was deleted leaves its parts out (counted); a transfer whose
    sides are on different days is one transfer on the day the money left; a transfer whose other side
    was deleted is a transaction. Once closed, the file is gone."""
    export = _edited(
        tmp_path,
        "UPDATE transactions SET tombstone = 1 WHERE id = '55d698a2-e714-4992-9d1f-e6472e314da0'",
        "UPDATE transactions SET date = 20250131 WHERE id = '10f29684-49da-4e2c-b371-604df6716b52'",
        "UPDATE transactions SET tombstone = 1 WHERE id = 'd4c0a5da-87a4-4055-9656-5e73839f521b'")
    history = actual.read(export)
    assert history.transactions == []  # streamed, not held
    assert history.transfers == []
    entries = list(history.entries())
    assert entries == list(history.entries())  # read again, the same
    assert [e.booked_on for e in entries] == sorted(e.booked_on for e in entries)
    transfers = [e for e in entries if isinstance(e, HistoryTransfer)]
    assert (history.transaction_count, history.transfer_count) == (len(entries), len(transfers)) == (53, 2)
    assert history.skipped == {"split part whose transaction was deleted": 3}
    [moved] = [t for t in transfers if t.source_id == "7b91499a-f4fc-4b12-b18d-164949c417b3"]
    assert (moved.booked_on, moved.amount_minor) == (date(2025, 1, 29), 50_000)
    [alone] = [e for e in entries if e.source_id == "a7b9dea9-8047-4ded-9897-5fd44cb0f164"]
    assert isinstance(alone, HistoryTransaction)
    assert (alone.booked_on, alone.amount_minor, alone.category_id) == (date(2025, 3, 29), -75_000, None)
    assert "55d698a2-e714-4992-9d1f-e6472e314da0" not in {e.source_id for e in entries}
    assert history.summary().endswith("53 transactions (2 transfers), 2025-01..2025-04")
    history.close()
    with pytest.raises(HistoryError, match="cannot be opened"):
        next(history.entries())
