"""The ledger's core through HTTP on a real database: transfers, as-of balances, net worth, splits,
edits with history and undo, categories and payees merged, tags, search pages and totals."""

from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any
from uuid import UUID

import httpx
import pytest

from tally_ledger import commands, repository
from tallykit.contracts.ledger import TransactionKind
from tallykit.errors import InvalidInput
from tallykit.events import Envelope

from .ledger_helpers import open_account

Snapshot = Callable[[], Awaitable[dict[str, list[dict[str, Any]]]]]
Json = dict[str, Any]


class Book:
    """A household's view of the ledger, asserting each write succeeded."""

    def __init__(self, ledger: httpx.AsyncClient, headers: dict[str, str]) -> None:
        self.ledger, self.headers = ledger, headers

    async def call(self, method: str, path: str, status: int = 200, **kw: Any) -> Json:
        response = await self.ledger.request(method, path, headers=self.headers, **kw)
        assert response.status_code == status, response.text
        return dict(response.json()) if response.content else {}

    async def account(self, name: str = "Checking", currency: str = "EUR", opening: int = 0) -> Json:
        return await open_account(self.ledger, self.headers, currency, name=name,
                                  opening_balance_minor=opening)

    async def spend(self, account: Json, amount: int, booked_on: str = "2026-01-10", **body: Any) -> Json:
        return await self.call("POST", "/transactions", 201, json={
            "account_id": account["id"], "kind": body.pop("kind", "expense"), "amount_minor": amount,
            "booked_on": booked_on, **body})

    async def search(self, **params: Any) -> Json:
        return await self.call("GET", "/transactions", params=params)

    async def totals(self, **params: Any) -> list[Json]:
        return list((await self.call("GET", "/transactions/totals", params=params))["items"])


@pytest.fixture
def book(ledger: httpx.AsyncClient, household: Callable[[], Any]) -> Callable[[], Book]:
    return lambda: Book(ledger, household().headers)


async def test_transfers_move_money_both_ways_and_balances_hold_as_of_any_day(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot
) -> None:
    home = household()
    me = Book(ledger, home.headers)
    checking, savings = await me.account(opening=100_000), await me.account("Savings", opening=5_000)
    await me.spend(checking, 2_000, "2026-01-05")
    transfer = await me.call("POST", "/transfers", 201, json={
        "from_account_id": checking["id"], "to_account_id": savings["id"], "amount_minor": 30_000,
        "booked_on": "2026-01-15", "note": "save"})
    assert (transfer["kind"], transfer["account_id"], transfer["counter_account_id"]) == (
        "transfer", checking["id"], savings["id"])
    await me.spend(savings, 1_000, "2026-02-01", kind="income")

    async def balance(account: Json, day: str) -> int:
        body = await me.call("GET", f"/accounts/{account['id']}/balance", params={"as_of": day})
        return int(body["balance_minor"])

    assert [await balance(checking, d) for d in ("2026-01-04", "2026-01-05", "2026-01-15")] == [
        100_000, 98_000, 68_000]
    assert [await balance(savings, d) for d in ("2026-01-14", "2026-01-15", "2026-02-01")] == [
        5_000, 35_000, 36_000]
    now = {a["id"]: a["balance_minor"] for a in (await me.call("GET", "/accounts"))["items"]}
    assert now == {checking["id"]: 68_000, savings["id"]: 36_000}
    assert await balance(savings, "2099-01-01") == now[savings["id"]]

    # A transfer is never income or spending, and the event says which accounts it joined.
    assert await me.totals() == [{"currency": "EUR", "count": 3, "income_minor": 1_000,
                                  "expense_minor": 2_000, "transfer_minor": 30_000}]
    stored = [Envelope.model_validate(r["envelope"]) for r in (await snapshot())["event_store"]]
    assert stored[-2].type == "ledger.TransferRecorded"
    assert stored[-2].data["to_account_id"] == savings["id"]

    # Both legs show in either account's list, in order, also across keyset pages.
    for account in (checking, savings):
        listed = await me.search(account_id=account["id"])
        assert transfer["id"] in [t["id"] for t in listed["items"]]
    first = await me.search(account_id=savings["id"], limit=1)
    second = await me.search(account_id=savings["id"], limit=1, cursor=first["next_cursor"])
    assert [first["items"][0]["kind"], second["items"][0]["id"], second["next_cursor"]] == [
        "income", transfer["id"], None]
    assert await me.totals(account_id=savings["id"]) == [
        {"currency": "EUR", "count": 2, "income_minor": 1_000, "expense_minor": 0, "transfer_minor": 30_000}]

    # Net worth per currency, at any day; without a base currency (no TenantCreated here) or a rate,
    # nothing is converted.
    await me.account("Cash", "JPY", opening=7_000)
    worth = await me.call("GET", "/net-worth", params={"as_of": "2026-01-31"})
    assert worth == {"as_of": "2026-01-31", "totals": [
        {"currency": "EUR", "amount_minor": 105_000 - 2_000},
        {"currency": "JPY", "amount_minor": 7_000}], "converted": None}


async def test_archived_accounts_keep_their_money_but_take_no_entries(book: Callable[[], Book]) -> None:
    me = book()
    old, main = await me.account("Old", opening=500), await me.account()
    archived = await me.call("POST", f"/accounts/{old['id']}/archive", json={"expected_version": 1})
    assert (archived["archived"], archived["version"]) == (True, 2)
    await me.call("POST", f"/accounts/{old['id']}/archive", 409, json={"expected_version": 1})
    assert [a["id"] for a in (await me.call("GET", "/accounts"))["items"]] == [main["id"]]
    everything = await me.call("GET", "/accounts", params={"include_archived": "true"})
    assert {a["id"] for a in everything["items"]} == {main["id"], old["id"]}
    refused = await me.call("POST", "/transactions", 422, json={
        "account_id": old["id"], "kind": "expense", "amount_minor": 1})
    assert "archived" in refused["detail"]
    await me.call("POST", "/transfers", 422, json={
        "from_account_id": main["id"], "to_account_id": old["id"], "amount_minor": 1})
    assert (await me.call("GET", "/net-worth"))["totals"] == [{"currency": "EUR", "amount_minor": 500}]
    reopened = await me.call("POST", f"/accounts/{old['id']}/reopen", json={"expected_version": 2})
    assert reopened["archived"] is False
    await me.spend(old, 1)


async def test_edit_delete_and_undo_are_events_with_a_full_history(
    ledger: httpx.AsyncClient, household: Callable[[], Any], give_defaults: Any, snapshot: Snapshot
) -> None:
    home = household()
    me = Book(ledger, home.headers)
    categories = await give_defaults(home)
    account = await me.account(opening=10_000)
    tx = await me.spend(account, 1_000, payee="Shop", category_id=categories["Groceries"]["id"])
    edited = await me.call("PATCH", f"/transactions/{tx['id']}", json={
        "expected_version": 1, "amount_minor": 1_500, "note": "receipt", "tags": ["Food", "trip"],
        "status": "cleared"})
    assert (edited["amount_minor"], edited["note"], edited["tags"], edited["status"], edited["version"]) == (
        1_500, "receipt", ["food", "trip"], "cleared", 2)
    assert (await me.call("GET", f"/accounts/{account['id']}"))["balance_minor"] == 8_500

    # Someone else saved first: 409, nothing changes.
    before = await snapshot()
    await me.call("PATCH", f"/transactions/{tx['id']}", 409, json={"expected_version": 1, "note": "old"})
    await me.call("DELETE", f"/transactions/{tx['id']}", 409, params={"expected_version": 1})
    assert await snapshot() == before

    deleted = await me.call("DELETE", f"/transactions/{tx['id']}", params={"expected_version": 2})
    assert deleted == {"id": tx["id"], "version": 3, "deleted": True, "transaction": None}
    await me.call("GET", f"/transactions/{tx['id']}", 404)
    assert (await me.call("GET", f"/accounts/{account['id']}"))["balance_minor"] == 10_000
    assert (await me.search())["items"] == []

    back = await me.call("POST", f"/transactions/{tx['id']}/undo", json={"expected_version": 3})
    assert back["transaction"] == {**edited, "version": 4}
    undone = await me.call("POST", f"/transactions/{tx['id']}/undo", json={"expected_version": 4})
    assert (undone["transaction"]["amount_minor"], undone["transaction"]["note"]) == (1_000, "")
    assert (await me.call("GET", f"/accounts/{account['id']}"))["balance_minor"] == 9_000

    history = (await me.call("GET", f"/transactions/{tx['id']}/history"))["items"]
    assert [(h["version"], h["change"], h["undoes"]) for h in history] == [
        (1, "recorded", None), (2, "amended", None), (3, "deleted", None), (4, "restored", 3),
        (5, "amended", 2)]
    assert {h["actor"] for h in history} == {str(home.owner_id)}
    assert history[1]["changes"] == {"amount_minor": [1_000, 1_500], "note": ["", "receipt"],
                                     "status": ["uncleared", "cleared"], "tags": [[], ["food", "trip"]]}
    assert history[2]["state"] is None
    assert history[0]["state"]["payee"] == "Shop"

    stored = [Envelope.model_validate(r["envelope"]) for r in (await snapshot())["event_store"]]
    amended = stored[-1]
    assert amended.type == "ledger.TransactionAmended"
    assert (amended.data["before"]["amount_minor"], amended.data["after"]["amount_minor"]) == (1_500, 1_000)


async def test_splits_sum_to_the_total_and_are_found_by_each_category(
    ledger: httpx.AsyncClient, household: Callable[[], Any], give_defaults: Any, snapshot: Snapshot
) -> None:
    home = household()
    me = Book(ledger, home.headers)
    categories = await give_defaults(home)
    account = await me.account()
    parts = [{"category_id": categories["Groceries"]["id"], "amount_minor": 700, "note": "food"},
             {"category_id": categories["Shopping"]["id"], "amount_minor": 300, "note": ""}]
    before = await snapshot()
    wrong = await me.call("POST", "/transactions", 422, json={
        "account_id": account["id"], "kind": "expense", "amount_minor": 1_001, "splits": parts})
    assert "sum to 1000" in wrong["detail"]
    assert await snapshot() == before
    split = await me.spend(account, 1_000, splits=parts)
    assert (split["category_id"], split["splits"]) == (None, parts)
    for name in ("Groceries", "Shopping"):
        found = await me.search(category_id=categories[name]["id"])
        assert [t["id"] for t in found["items"]] == [split["id"]]
    assert (await me.search(category_id=categories["Rent"]["id"]))["items"] == []


async def test_categories_are_created_renamed_archived_and_merged_with_their_history(
    ledger: httpx.AsyncClient, household: Callable[[], Any], give_defaults: Any
) -> None:
    home = household()
    me = Book(ledger, home.headers)
    categories = await give_defaults(home)
    account = await me.account()
    cafe = await me.call("POST", "/categories", 201,
                         json={"name": "Cafe", "group": "Food", "kind": "expense"})
    renamed = await me.call("PATCH", f"/categories/{cafe['id']}", json={"name": "Coffee", "group": "Leisure"})
    assert (renamed["name"], renamed["group"]) == ("Coffee", "Leisure")
    eating_out = categories["Eating out"]["id"]
    coffee = await me.spend(account, 350, category_id=cafe["id"])
    split = await me.spend(account, 1_000, splits=[{"category_id": cafe["id"], "amount_minor": 400},
                                                   {"category_id": eating_out, "amount_minor": 600}])
    await me.call("POST", f"/categories/{cafe['id']}/merge", 422,
                  json={"into_category_id": categories["Salary"]["id"]})

    target = await me.call("POST", f"/categories/{cafe['id']}/merge", json={"into_category_id": eating_out})
    assert target["id"] == eating_out
    moved = await me.call("GET", f"/transactions/{coffee['id']}")
    assert (moved["category_id"], moved["category_name"]) == (eating_out, "Eating out")
    parts = (await me.call("GET", f"/transactions/{split['id']}"))["splits"]
    assert [p["category_id"] for p in parts] == [eating_out, eating_out]
    listed = {c["id"] for c in (await me.call("GET", "/categories"))["items"]}
    assert cafe["id"] not in listed
    assert eating_out in listed
    merged = [c for c in (await me.call("GET", "/categories", params={"include_archived": True}))["items"]
              if c["id"] == cafe["id"]]
    assert merged[0]["archived"]
    assert merged[0]["merged_into"] == eating_out
    await me.spend(account, 1)  # entries without a category still work
    refused = await me.call("POST", "/transactions", 422, json={
        "account_id": account["id"], "kind": "expense", "amount_minor": 1, "category_id": cafe["id"]})
    assert "archived" in refused["detail"]

    # An edit after the merge starts from the target (so consumers take out what they moved).
    edited = await me.call("PATCH", f"/transactions/{coffee['id']}",
                           json={"expected_version": 1, "note": "x"})
    history = (await me.call("GET", f"/transactions/{coffee['id']}/history"))["items"]
    assert edited["category_id"] == eating_out
    assert "category_id" not in history[-1]["changes"]

    rent = categories["Rent"]["id"]
    archived = await me.call("POST", f"/categories/{rent}/archive")
    assert archived["archived"] is True
    await me.call("POST", f"/categories/{rent}/archive", 422)


async def test_payees_are_counted_merged_and_followed(book: Callable[[], Book]) -> None:
    me = book()
    account = await me.account()
    for payee in ("Corner Shop", "corner shop", "Cornershop", "Market", ""):
        await me.spend(account, 100, payee=payee)
    payees = (await me.call("GET", "/payees"))["items"]
    assert payees == [{"name": "Corner Shop", "usage_count": 2}, {"name": "Cornershop", "usage_count": 1},
                      {"name": "Market", "usage_count": 1}]
    await me.call("POST", "/payees/merge", 404, json={"name": "Nobody", "into_name": "Market"})
    await me.call("POST", "/payees/merge", 422, json={"name": "Market", "into_name": "MARKET"})
    merged = await me.call("POST", "/payees/merge", json={"name": "cornershop", "into_name": "corner shop"})
    assert merged == {"name": "Corner Shop", "usage_count": 3}
    later = await me.spend(account, 100, payee="CornerShop")
    assert later["payee"] == "Corner Shop"
    assert (await me.call("GET", "/payees"))["items"] == [{"name": "Corner Shop", "usage_count": 4},
                                                          {"name": "Market", "usage_count": 1}]
    assert len((await me.search(payee="corner shop"))["items"]) == 4


async def test_search_filters_pages_by_keyset_and_totals_the_whole_set(
    ledger: httpx.AsyncClient, household: Callable[[], Any], give_defaults: Any
) -> None:
    home = household()
    me = Book(ledger, home.headers)
    categories = await give_defaults(home)
    checking, cash = await me.account(), await me.account("Cash", "JPY")
    groceries = categories["Groceries"]["id"]
    made = []
    for day in range(1, 13):
        made.append(await me.spend(checking, 1_000 * day, f"2026-01-{day:02d}", category_id=groceries,
                                   payee="Market" if day % 2 else "Bakery", note=f"week {day}",
                                   tags=["trip"] if day > 8 else []))
    await me.spend(checking, 50_000, "2026-01-20", kind="income", payee="Employer")
    yen = await me.spend(cash, 2_500, "2026-01-03", payee="Market")

    # The query language: words match payee, note or category; amounts are in each currency's units.
    found = await me.search(q="groceries amount>5 after:2026-01-03 tag:trip")
    assert [t["booked_on"] for t in found["items"]] == [
        "2026-01-12", "2026-01-11", "2026-01-10", "2026-01-09"]
    assert await me.totals(q="groceries amount>5 after:2026-01-03 tag:trip") == [
        {"currency": "EUR", "count": 4, "income_minor": 0, "expense_minor": 42_000, "transfer_minor": 0}]
    assert await me.totals(q="market") == [
        {"currency": "EUR", "count": 6, "income_minor": 0, "expense_minor": 36_000, "transfer_minor": 0},
        {"currency": "JPY", "count": 1, "income_minor": 0, "expense_minor": 2_500, "transfer_minor": 0}]
    assert [t["id"] for t in (await me.search(q="amount>=2500 market"))["items"]] == [yen["id"]]
    assert len((await me.search(q="MARKET"))["items"]) == 7
    assert len((await me.search(q='"week 1"'))["items"]) == 4  # week 1, 10, 11, 12
    assert (await me.search(q="type:income"))["items"][0]["payee"] == "Employer"
    assert len((await me.search(q="account:cash"))["items"]) == 1
    assert len((await me.search(q="on:2026-01-05"))["items"]) == 1
    structured = await me.search(from_date="2026-01-02", to_date="2026-01-04", min_amount_minor=2_500,
                                 kind="expense", tag=[], account_id=checking["id"])
    assert [t["booked_on"] for t in structured["items"]] == ["2026-01-04", "2026-01-03"]

    # Keyset pages: newest first, no overlap, no gap.
    pages, cursor = [], None
    while True:
        page = await me.search(limit=5, **({"cursor": cursor} if cursor else {}))
        pages.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    ids = [t["id"] for p in pages for t in p["items"]]
    assert [len(p["items"]) for p in pages] == [5, 5, 4]
    assert len(set(ids)) == 14
    assert ids[0] != yen["id"]
    assert ids.index(made[11]["id"]) == 1
    dates = [t["booked_on"] for p in pages for t in p["items"]]
    assert dates == sorted(dates, reverse=True)

    assert (await me.call("GET", "/tags"))["items"] == [{"name": "trip", "usage_count": 4}]


@pytest.mark.parametrize(("params", "needle"), [
    ({"q": "colour:red"}, "unknown filter"),
    ({"q": "after:soon"}, "YYYY-MM-DD"),
    ({"cursor": "forged"}, "cursor"),
    ({"limit": 0}, ""),
    ({"kind": "loan"}, ""),
    ({"min_amount_minor": -1}, ""),
    ({"max_amount_minor": 465_851_201_909_104_582_433_177_600}, ""),  # beyond a bigint: found by fuzzing
])
async def test_bad_searches_get_a_clear_422(book: Callable[[], Book], params: Json, needle: str) -> None:
    me = book()
    body = await me.call("GET", "/transactions", 422, params=params)
    assert needle in body["detail"]
    if "cursor" not in params and "limit" not in params:
        assert needle in (await me.call("GET", "/transactions/totals", 422, params=params))["detail"]


async def test_bad_edits_change_nothing(
    ledger: httpx.AsyncClient, household: Callable[[], Any], give_defaults: Any, snapshot: Snapshot
) -> None:
    home = household()
    me = Book(ledger, home.headers)
    categories = await give_defaults(home)
    account, usd = await me.account(), await me.account("US", "USD")
    tx = await me.spend(account, 100)
    before = await snapshot()
    bad = [
        ("PATCH", {"expected_version": 1, "amount_minor": 0}),
        ("PATCH", {"expected_version": 1, "amount_minor": 1.5}),
        ("PATCH", {"amount_minor": 5}),
        ("PATCH", {"expected_version": 1, "colour": "red"}),
        ("PATCH", {"expected_version": 1, "category_id": categories["Salary"]["id"]}),
        ("PATCH", {"expected_version": 1, "currency": "USD"}),
        ("PATCH", {"expected_version": 1, "kind": "transfer", "counter_account_id": usd["id"]}),
        ("PATCH", {"expected_version": 1, "tags": ["two words"]}),
    ]
    path = f"/transactions/{tx['id']}"
    statuses = [(await ledger.request(m, path, json=b, headers=home.headers)).status_code
                for m, b in bad]
    assert statuses == [422] * len(bad)
    await me.call("POST", "/transfers", 422, json={
        "from_account_id": account["id"], "to_account_id": usd["id"], "amount_minor": 5})
    assert await snapshot() == before


async def test_another_household_and_viewers_cannot_touch_the_core(
    ledger: httpx.AsyncClient, household: Callable[[], Any], give_defaults: Any, snapshot: Snapshot
) -> None:
    home, stranger = household(), household()
    me, them = Book(ledger, home.headers), Book(ledger, stranger.headers)
    categories = await give_defaults(home)
    account, savings = await me.account(), await me.account("Savings")
    tx = await me.spend(account, 100, payee="Shop", tags=["x"])
    their_account = await them.account()
    before = await snapshot()
    cat = categories["Groceries"]["id"]
    for method, path, kw in [
        ("GET", f"/transactions/{tx['id']}", {}),
        ("GET", f"/transactions/{tx['id']}/history", {}),
        ("PATCH", f"/transactions/{tx['id']}", {"json": {"expected_version": 1, "note": "x"}}),
        ("DELETE", f"/transactions/{tx['id']}", {"params": {"expected_version": 1}}),
        ("POST", f"/transactions/{tx['id']}/undo", {"json": {"expected_version": 1}}),
        ("GET", f"/accounts/{account['id']}/balance", {}),
        ("POST", f"/accounts/{account['id']}/archive", {"json": {"expected_version": 1}}),
        ("PATCH", f"/categories/{cat}", {"json": {"name": "Mine"}}),
        ("POST", f"/categories/{cat}/archive", {}),
        ("POST", "/payees/merge", {"json": {"name": "Shop", "into_name": "Shop 2"}}),
        ("POST", "/transfers", {"json": {"from_account_id": their_account["id"],
                                         "to_account_id": savings["id"], "amount_minor": 1}}),
    ]:
        await them.call(method, path, 404, **kw)
    for path in ("/payees", "/tags"):
        assert (await them.call("GET", path))["items"] == []
    assert (await them.call("GET", "/net-worth"))["totals"] == [{"currency": "EUR", "amount_minor": 0}]
    assert (await them.search(q="shop"))["items"] == []
    assert await them.totals(payee="shop") == []
    assert (await them.search(category_id=cat))["items"] == []

    viewer = Book(ledger, home.viewer_headers)
    assert (await viewer.call("GET", f"/transactions/{tx['id']}"))["id"] == tx["id"]
    for method, path, kw in [
        ("PATCH", f"/transactions/{tx['id']}", {"json": {"expected_version": 1, "note": "x"}}),
        ("DELETE", f"/transactions/{tx['id']}", {"params": {"expected_version": 1}}),
        ("POST", f"/transactions/{tx['id']}/undo", {"json": {"expected_version": 1}}),
        ("POST", "/categories", {"json": {"name": "A", "group": "B", "kind": "expense"}}),
        ("POST", f"/categories/{cat}/merge", {"json": {"into_category_id": cat}}),
        ("POST", "/transfers", {"json": {"from_account_id": account["id"], "to_account_id": savings["id"],
                                         "amount_minor": 1}}),
    ]:
        await viewer.call(method, path, 403, **kw)
    assert await snapshot() == before


async def test_record_many_checks_every_entry_and_writes_all_or_none(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot
) -> None:
    home = household()
    me = Book(ledger, home.headers)
    account, savings = await me.account(opening=1_000), await me.account("Savings")
    app: Any = ledger.app  # type: ignore[attr-defined]
    ctx = repository.Context(tenant_id=home.tenant_id, actor=str(home.owner_id))
    day = date(2026, 3, 1)
    before = await snapshot()
    with pytest.raises(InvalidInput, match="positive"):
        await commands.record_many(app.state.db, app.state.settings, ctx, [
            commands.NewEntry(account_id=UUID(account["id"]), amount_minor=100, booked_on=day),
            commands.NewEntry(account_id=UUID(account["id"]), amount_minor=0, booked_on=day)])
    assert await snapshot() == before

    ids = await commands.record_many(app.state.db, app.state.settings, ctx, [
        commands.NewEntry(account_id=UUID(account["id"]), amount_minor=100, booked_on=day, payee="Shop"),
        commands.NewEntry(account_id=UUID(account["id"]), to_account_id=UUID(savings["id"]), amount_minor=50,
                          booked_on=day),
        commands.NewEntry(account_id=UUID(account["id"]), amount_minor=30, booked_on=day, payee="shop",
                          kind=TransactionKind.income, tags=("x",))])
    after = await snapshot()
    stored = [Envelope.model_validate(r["envelope"]) for r in after["event_store"]][-3:]
    assert [(e.stream_id, e.stream_version) for e in stored] == [(i, 1) for i in ids]
    assert [e.type for e in stored] == ["ledger.TransactionRecorded", "ledger.TransferRecorded",
                                        "ledger.TransactionRecorded"]
    assert [r["envelope"] for r in after["outbox"]][-3:] == [r["envelope"] for r in after["event_store"]][-3:]
    balances = {a["name"]: a["balance_minor"] for a in (await me.call("GET", "/accounts"))["items"]}
    assert balances == {"Checking": 1_000 - 100 - 50 + 30, "Savings": 50}
    assert (await me.call("GET", "/payees"))["items"] == [{"name": "Shop", "usage_count": 2}]
