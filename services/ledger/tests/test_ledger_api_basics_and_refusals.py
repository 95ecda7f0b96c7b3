"""The ledger's HTTP API on a real database: accounts, categories, transactions, conflicts, bad input."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import event as sa_event

from tallykit.events import Envelope

from .ledger_helpers import open_account

Snapshot = Callable[[], Awaitable[dict[str, list[dict[str, Any]]]]]


async def test_open_read_and_list_accounts(ledger: httpx.AsyncClient, household: Callable[[], Any]) -> None:
    home = household()
    opened = await open_account(ledger, home.headers, name="  Savings ", kind="savings",
                                opening_balance_minor=150_000)
    assert opened == {"id": opened["id"], "name": "Savings", "kind": "savings", "currency": "EUR",
                      "balance_minor": 150_000, "version": 1, "archived": False}
    assert (await ledger.get(f"/accounts/{opened['id']}", headers=home.headers)).json() == opened
    cash = await open_account(ledger, home.headers, name="Cash", kind="cash", currency="JPY")
    listed = (await ledger.get("/accounts", headers=home.headers)).json()
    assert listed == {"items": [cash, opened]}


async def test_every_write_is_an_event_in_the_store_and_the_outbox(
    ledger: httpx.AsyncClient, household: Callable[[], Any], give_defaults: Any, snapshot: Snapshot
) -> None:
    home = household()
    categories = await give_defaults(home)
    account = await open_account(ledger, home.headers, name="Checking")
    await ledger.patch(f"/accounts/{account['id']}", json={"name": "Main", "expected_version": 1},
                       headers=home.headers)
    body = {"account_id": account["id"], "kind": "expense", "amount_minor": 999,
            "category_id": categories["Rent"]["id"]}
    tx = (await ledger.post("/transactions", json=body, headers=home.headers)).json()
    state = await snapshot()
    stored = [Envelope.model_validate(r["envelope"]) for r in state["event_store"]]
    assert [e.type for e in stored[-3:]] == ["ledger.AccountOpened", "ledger.AccountRenamed",
                                             "ledger.TransactionRecorded"]
    assert [(str(e.stream_id), e.stream_version) for e in stored[-3:]] == [
        (account["id"], 1), (account["id"], 2), (tx["id"], 1)]
    assert all(e.tenant_id == home.tenant_id for e in stored)
    assert stored[-1].actor == str(home.owner_id)
    assert stored[-1].data["category_id"] == categories["Rent"]["id"]
    published = [r["envelope"] for r in state["outbox"]]
    assert published == [r["envelope"] for r in state["event_store"]]
    assert {r["topic"] for r in state["outbox"]} == {f"{ledger.app.state.settings.topic_prefix}ledger.events"}  # type: ignore[attr-defined]
    assert {r["key"] for r in state["outbox"]} == {str(home.tenant_id)}


async def test_transactions_move_the_balance_and_list_newest_first(
    ledger: httpx.AsyncClient, household: Callable[[], Any], give_defaults: Any
) -> None:
    home = household()
    categories = await give_defaults(home)
    account = await open_account(ledger, home.headers, name="Checking", opening_balance_minor=10_000)
    other = await open_account(ledger, home.headers, name="Other")

    async def record(**body: Any) -> dict[str, Any]:
        response = await ledger.post("/transactions", json=body, headers=home.headers)
        assert response.status_code == 201, response.text
        return dict(response.json())

    groceries = await record(account_id=account["id"], kind="expense", amount_minor=2_550, payee="Market",
                             category_id=categories["Groceries"]["id"], booked_on="2025-03-02", note="weekly")
    salary = await record(account_id=account["id"], kind="income", amount_minor=300_000, currency="EUR",
                          category_id=categories["Salary"]["id"], booked_on="2025-03-01")
    day_before = datetime.now(UTC).date().isoformat()  # the services' day, read around the call
    today = await record(account_id=account["id"], kind="expense", amount_minor=1)
    days = {day_before, datetime.now(UTC).date().isoformat()}
    await record(account_id=other["id"], kind="expense", amount_minor=7)

    assert groceries == {"id": groceries["id"], "account_id": account["id"], "kind": "expense",
                         "amount_minor": 2_550, "currency": "EUR",
                         "category_id": categories["Groceries"]["id"], "category_name": "Groceries",
                         "payee": "Market", "booked_on": "2025-03-02",
                         "note": "weekly", "recorded_at": groceries["recorded_at"],
                         "counter_account_id": None, "splits": [], "tags": [], "status": "uncleared",
                         "version": 1, "counter_amount_minor": None}
    assert today["booked_on"] in days
    assert (today["category_id"], today["category_name"], today["payee"]) == (None, None, "")

    balance = (await ledger.get(f"/accounts/{account['id']}", headers=home.headers)).json()["balance_minor"]
    assert balance == 10_000 - 2_550 + 300_000 - 1
    listed = (await ledger.get("/transactions", params={"account_id": account["id"]},
                               headers=home.headers)).json()["items"]
    assert [t["id"] for t in listed] == [today["id"], groceries["id"], salary["id"]]
    assert len((await ledger.get("/transactions", headers=home.headers)).json()["items"]) == 4
    limited = (await ledger.get("/transactions", params={"limit": 2}, headers=home.headers)).json()["items"]
    assert len(limited) == 2


async def test_rename_with_the_current_version_then_a_stale_one(
    ledger: httpx.AsyncClient, household: Callable[[], Any]
) -> None:
    home = household()
    account = await open_account(ledger, home.headers, name="Checking")
    renamed = await ledger.patch(f"/accounts/{account['id']}", json={"name": "Joint", "expected_version": 1},
                                 headers=home.headers)
    assert renamed.status_code == 200
    assert renamed.json() == {**account, "name": "Joint", "version": 2}

    stale = await ledger.patch(f"/accounts/{account['id']}", json={"name": "Mine", "expected_version": 1},
                               headers=home.headers)
    assert stale.status_code == 409
    assert stale.headers["content-type"] == "application/problem+json"
    assert stale.json()["expected_version"] == 1
    assert (await ledger.get(f"/accounts/{account['id']}", headers=home.headers)).json()["name"] == "Joint"


async def test_two_concurrent_renames_at_one_version_one_wins(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot
) -> None:
    home = household()
    account = await open_account(ledger, home.headers, name="Checking")
    responses = await asyncio.gather(*[
        ledger.patch(f"/accounts/{account['id']}", json={"name": name, "expected_version": 1},
                     headers=home.headers)
        for name in ("Alice's", "Bob's")
    ])
    assert sorted(r.status_code for r in responses) == [200, 409]
    winner = next(r.json() for r in responses if r.status_code == 200)
    assert winner["version"] == 2
    state = await snapshot()
    assert [r["stream_version"] for r in state["event_store"]] == [1, 2]
    assert len(state["outbox"]) == 2
    assert state["accounts"][0]["name"] == winner["name"]


async def test_viewers_read_but_cannot_write(ledger: httpx.AsyncClient, household: Callable[[], Any]) -> None:
    home = household()
    account = await open_account(ledger, home.headers, name="Checking")
    assert (await ledger.get("/accounts", headers=home.viewer_headers)).json()["items"] == [account]
    refused = [
        await ledger.post("/accounts", json={"name": "X", "kind": "cash", "currency": "EUR"},
                          headers=home.viewer_headers),
        await ledger.patch(f"/accounts/{account['id']}", json={"name": "X", "expected_version": 1},
                           headers=home.viewer_headers),
        await ledger.post("/transactions", json={"account_id": account["id"], "kind": "income",
                                                 "amount_minor": 5}, headers=home.viewer_headers),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403]
    assert (await ledger.get(f"/accounts/{account['id']}", headers=home.headers)).json() == account


async def test_no_token_no_ledger(ledger: httpx.AsyncClient) -> None:
    assert (await ledger.get("/accounts")).status_code == 401
    assert (await ledger.get("/accounts", headers={"Authorization": "Bearer nonsense"})).status_code == 401


async def test_another_household_sees_nothing_and_cannot_touch_anything(
    ledger: httpx.AsyncClient, household: Callable[[], Any], give_defaults: Any, snapshot: Snapshot
) -> None:
    home, stranger = household(), household()
    categories = await give_defaults(home)
    account = await open_account(ledger, home.headers, name="Checking")
    tx = (await ledger.post("/transactions", json={"account_id": account["id"], "kind": "expense",
                                                   "amount_minor": 100}, headers=home.headers)).json()
    before = await snapshot()

    for path in ("/accounts", "/categories", "/transactions"):
        assert (await ledger.get(path, headers=stranger.headers)).json()["items"] == []
    attempts = [
        await ledger.get(f"/accounts/{account['id']}", headers=stranger.headers),
        await ledger.get("/transactions", params={"account_id": account["id"]}, headers=stranger.headers),
        await ledger.patch(f"/accounts/{account['id']}", json={"name": "Mine", "expected_version": 1},
                           headers=stranger.headers),
        await ledger.post("/transactions", json={"account_id": account["id"], "kind": "expense",
                                                 "amount_minor": 100}, headers=stranger.headers),
    ]
    assert [r.status_code for r in attempts] == [404, 404, 404, 404]
    assert "Checking" not in "".join(r.text for r in attempts)

    # The stranger's own account, with the first household's category: refused, nothing written.
    own = await open_account(ledger, stranger.headers, name="Checking")
    mid = await snapshot()
    foreign_category = await ledger.post("/transactions", json={
        "account_id": own["id"], "kind": "expense", "amount_minor": 100,
        "category_id": categories["Groceries"]["id"]}, headers=stranger.headers)
    assert foreign_category.status_code == 404
    assert await snapshot() == mid
    assert len(mid["event_store"]) == len(before["event_store"]) + 1  # only the stranger's own account
    assert (await ledger.get("/transactions", headers=home.headers)).json()["items"] == [tx]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ('{"account_id": ', 400),
        ({"kind": "expense", "amount_minor": 12.5}, 422),
        ({"kind": "expense", "amount_minor": 12.0}, 422),
        ({"kind": "expense", "amount_minor": "12"}, 422),
        ({"kind": "expense", "amount_minor": -100}, 422),
        ({"kind": "expense", "amount_minor": 0}, 422),
        ({"kind": "expense", "amount_minor": 10**16}, 422),
        ({"kind": "transfer", "amount_minor": 100}, 422),
        ({"kind": "expense", "amount_minor": 100, "currency": "ZZZ"}, 422),
        ({"kind": "expense", "amount_minor": 100, "currency": "USD"}, 422),  # not the account's currency
        ({"kind": "expense", "amount_minor": 100, "surprise": True}, 422),
        ({"kind": "expense", "amount_minor": 100, "booked_on": "2025-02-30"}, 422),
        ({"kind": "expense", "amount_minor": 100, "payee": "x" * 201}, 422),
        ({"kind": "income", "amount_minor": 100, "category": "Groceries"}, 422),
        ({"kind": "expense", "amount_minor": 100, "category_id": str(uuid4())}, 404),
    ],
)
async def test_bad_transactions_are_refused_and_change_nothing(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot, body: Any, status: int
) -> None:
    home = household()
    account = await open_account(ledger, home.headers, name="Checking")
    before = await snapshot()
    if isinstance(body, str):
        response = await ledger.post("/transactions", content=body,
                                     headers={**home.headers, "content-type": "application/json"})
    else:
        response = await ledger.post("/transactions", json={"account_id": account["id"], **body},
                                     headers=home.headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status
    assert await snapshot() == before


async def test_a_category_of_the_wrong_kind_is_refused(
    ledger: httpx.AsyncClient, household: Callable[[], Any], give_defaults: Any, snapshot: Snapshot
) -> None:
    home = household()
    categories = await give_defaults(home)
    account = await open_account(ledger, home.headers, name="Checking")
    before = await snapshot()
    body = {"account_id": account["id"], "kind": "expense", "amount_minor": 100,
            "category_id": categories["Salary"]["id"]}
    response = await ledger.post("/transactions", json=body, headers=home.headers)
    assert response.status_code == 422
    assert "for income" in response.json()["detail"]
    assert await snapshot() == before


@pytest.mark.parametrize(
    "body",
    [
        {"name": "A", "kind": "checking", "currency": "XYZ"},
        {"name": "A", "kind": "checking", "currency": "eur"},
        {"name": "A", "kind": "checking", "currency": "EUR", "opening_balance_minor": 10.5},
        {"name": "", "kind": "checking", "currency": "EUR"},
        {"name": "   ", "kind": "checking", "currency": "EUR"},
        {"name": "A" * 101, "kind": "checking", "currency": "EUR"},
        {"name": "A", "kind": "piggy-bank", "currency": "EUR"},
        {"name": "A", "kind": "checking"},
        {"name": "A", "kind": "checking", "currency": "EUR", "balance_minor": 5},
    ],
)
async def test_bad_accounts_are_refused_and_change_nothing(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot, body: dict[str, Any]
) -> None:
    home = household()
    before = await snapshot()
    response = await ledger.post("/accounts", json=body, headers=home.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert await snapshot() == before


async def test_bad_renames_are_refused_and_change_nothing(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot
) -> None:
    home = household()
    account = await open_account(ledger, home.headers, name="Checking")
    before = await snapshot()
    bad = [
        await ledger.patch(f"/accounts/{account['id']}", json={"name": "X"}, headers=home.headers),
        await ledger.patch(f"/accounts/{account['id']}", json={"name": "X", "expected_version": "1"},
                           headers=home.headers),
        await ledger.patch(f"/accounts/{account['id']}", json={"name": "", "expected_version": 1},
                           headers=home.headers),
        await ledger.patch(f"/accounts/{account['id']}", content=b"{nope",
                           headers={**home.headers, "content-type": "application/json"}),
        await ledger.patch("/accounts/not-a-uuid", json={"name": "X", "expected_version": 1},
                           headers=home.headers),
        await ledger.patch(f"/accounts/{uuid4()}", json={"name": "X", "expected_version": 1},
                           headers=home.headers),
    ]
    assert [r.status_code for r in bad] == [422, 422, 422, 400, 422, 404]
    assert await snapshot() == before
    assert (await ledger.get("/transactions", params={"limit": 0}, headers=home.headers)).status_code == 422


async def test_a_create_sent_again_with_its_id_records_once(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot
) -> None:
    """The offline queue (and any client whose answer got lost) sends a create again with the id it chose."""
    home, other = household(), household()
    account = await open_account(ledger, home.headers, name="Checking")
    savings = await open_account(ledger, home.headers, name="Savings", kind="savings")
    chosen = str(uuid4())
    body = {"id": chosen, "account_id": account["id"], "kind": "expense", "amount_minor": 1_250,
            "payee": "Baker"}
    first = await ledger.post("/transactions", json=body, headers=home.headers)
    assert first.status_code == 201, first.text
    assert first.json()["id"] == chosen
    again = await ledger.post("/transactions", json=body, headers=home.headers)
    assert (again.status_code, again.json()) == (200, first.json())
    # Amended since: the repeat still names the transaction as it was recorded, and changes nothing.
    await ledger.patch(f"/transactions/{chosen}", json={"expected_version": 1, "amount_minor": 1_300},
                       headers=home.headers)
    repeated = await ledger.post("/transactions", json=body, headers=home.headers)
    assert (repeated.status_code, repeated.json()["amount_minor"]) == (200, 1_300)
    # The same id for something else, or from another household: refused, nothing recorded.
    before = await snapshot()
    other_account = await open_account(ledger, other.headers, name="Checking")
    for headers, changed in ((home.headers, {"amount_minor": 99}), (other.headers,
                                                                    {"account_id": other_account["id"]})):
        refused = await ledger.post("/transactions", json=body | changed, headers=headers)
        assert refused.status_code == 409, refused.text
    transfer = {"id": chosen, "from_account_id": account["id"], "to_account_id": savings["id"],
                "amount_minor": 1}
    assert (await ledger.post("/transfers", json=transfer, headers=home.headers)).status_code == 409
    after = await snapshot()
    assert len(after["event_store"]) == len(before["event_store"]) + 1  # only the other household's account
    listed = (await ledger.get("/transactions", headers=home.headers)).json()["items"]
    assert [t["id"] for t in listed] == [chosen]
    # A transfer's repeat works the same way.
    moved = {"id": str(uuid4()), "from_account_id": account["id"], "to_account_id": savings["id"],
             "amount_minor": 500}
    assert (await ledger.post("/transfers", json=moved, headers=home.headers)).status_code == 201
    assert (await ledger.post("/transfers", json=moved, headers=home.headers)).status_code == 200
    accounts = (await ledger.get("/accounts", headers=home.headers)).json()["items"]
    balances = {a["id"]: a["balance_minor"] for a in accounts}
    assert balances == {account["id"]: -1_300 - 500, savings["id"]: 500}


async def test_text_with_a_nul_character_is_refused_and_changes_nothing(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot
) -> None:
    """PostgreSQL cannot store U+0000; found by the API fuzzer as a 500 on `?payee=…%00…`."""
    home = household()
    account = await open_account(ledger, home.headers, name="Checking")
    before = await snapshot()
    searched = await ledger.get("/transactions", params={"payee": "Bak\x00er"}, headers=home.headers)
    assert searched.status_code == 422, searched.text
    assert "NUL" in searched.json()["detail"]
    for path, body in (("/accounts", {"name": "Ca\x00sh", "kind": "cash", "currency": "EUR"}),
                       ("/transactions", {"account_id": account["id"], "kind": "expense", "amount_minor": 5,
                                          "payee": "Bak\x00er"})):
        refused = await ledger.post(path, json=body, headers=home.headers)
        assert refused.status_code == 422, refused.text
    assert await snapshot() == before


async def test_an_entry_is_one_query_and_one_statement_and_answers_what_the_read_model_holds(
    ledger: httpx.AsyncClient, household: Callable[[], Any], give_defaults: Any
) -> None:
    """Recording reads what it decides on in one query and writes events, read models and outbox in one
    statement (issue #19); its answer is built from what it recorded, so it must equal the read model's
    row, whatever the entry holds."""
    home = household()
    categories = await give_defaults(home)
    account = await open_account(ledger, home.headers, name="Checking")
    savings = await open_account(ledger, home.headers, name="Savings", kind="savings")
    food, rent = categories["Groceries"]["id"], categories["Rent"]["id"]
    entries = [
        ("/transactions", {"account_id": account["id"], "kind": "expense", "amount_minor": 1_250,
                           "category_id": food, "payee": "REWE", "note": "weekly", "tags": ["trip", "food"],
                           "status": "cleared", "booked_on": "2026-11-30"}),
        ("/transactions", {"account_id": account["id"], "kind": "expense", "amount_minor": 3_000,
                           "splits": [{"category_id": food, "amount_minor": 1_000, "note": "a"},
                                      {"category_id": rent, "amount_minor": 2_000, "note": ""}]}),
        ("/transactions", {"account_id": account["id"], "kind": "income", "amount_minor": 250_000}),
        ("/transfers", {"from_account_id": account["id"], "to_account_id": savings["id"],
                        "amount_minor": 5_000, "payee": "To savings", "tags": ["saving"]}),
    ]
    statements: list[str] = []
    engine = ledger.app.state.db.engine.sync_engine  # type: ignore[attr-defined]

    def seen(*args: Any) -> None:
        statements.append(str(args[2]).split(None, 1)[0].upper())

    for path, body in entries:
        sa_event.listen(engine, "before_cursor_execute", seen)
        try:
            answer = await ledger.post(path, json=body, headers=home.headers)
        finally:
            sa_event.remove(engine, "before_cursor_execute", seen)
        assert answer.status_code == 201, answer.text
        assert statements == ["SELECT", "WITH"]  # what it reads, then what it writes
        statements.clear()
        read = await ledger.get(f"/transactions/{answer.json()['id']}", headers=home.headers)
        assert answer.json() == read.json()
    balances = {a["name"]: a["balance_minor"] for a in
                (await ledger.get("/accounts", headers=home.headers)).json()["items"]}
    assert balances == {"Checking": 250_000 - 1_250 - 3_000 - 5_000, "Savings": 5_000}
    payees = {p["name"]: p["usage_count"] for p in
              (await ledger.get("/payees", headers=home.headers)).json()["items"]}
    assert payees == {"REWE": 1, "To savings": 1}
