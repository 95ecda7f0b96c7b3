"""Editing many transactions at once through the ledger's HTTP API on a real database: each edit (by ids or
by the transaction list's search) is one change with one correlation id that the history names and one undo
reverts, leaving what was changed since; another household's ids are 404 and whatever a rule of the ledger
refuses refuses the whole change, changing nothing."""

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from .ledger_helpers import open_account, post_ok

Categories = dict[str, dict[str, Any]]


async def _spend(ledger: httpx.AsyncClient, home: Any, account_id: str, payee: str, amount: int, day: str,
                 **extra: Any) -> str:
    made = await post_ok(ledger, home.headers, "/transactions", {
        "account_id": account_id, "kind": "expense", "amount_minor": amount, "payee": payee, "booked_on": day,
        **extra})
    return str(made["id"])


async def _get(ledger: httpx.AsyncClient, home: Any, transaction_id: str) -> dict[str, Any]:
    answer = await ledger.get(f"/transactions/{transaction_id}", headers=home.headers)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def _balances(ledger: httpx.AsyncClient, home: Any) -> dict[str, int]:
    accounts = (await ledger.get("/accounts", headers=home.headers)).json()["items"]
    return {a["name"]: a["balance_minor"] for a in accounts}


async def _payees(ledger: httpx.AsyncClient, home: Any) -> dict[str, int]:
    payees = (await ledger.get("/payees", headers=home.headers)).json()["items"]
    return {p["name"]: p["usage_count"] for p in payees if p["usage_count"]}


async def test_a_bulk_edit_is_one_change_the_history_names_and_one_undo_reverts(
    ledger: httpx.AsyncClient, household: Callable[[], Any],
    give_defaults: Callable[[Any], Awaitable[Categories]],
) -> None:
    home = household()
    categories = await give_defaults(home)
    giro = (await open_account(ledger, home.headers, name="Giro"))["id"]
    cash = (await open_account(ledger, home.headers, name="Cash"))["id"]
    a = await _spend(ledger, home, giro, "Corner shop", 1_200, "2026-03-01", tags=["food"])
    b = await _spend(ledger, home, giro, "Corner shop", 800, "2026-03-02", tags=["food", "trip"])
    c = await _spend(ledger, home, giro, "Bakery", 300, "2026-03-03")
    untouched = await _spend(ledger, home, giro, "Cinema", 1_500, "2026-03-04")
    split = await _spend(ledger, home, giro, "Corner shop", 1_000, "2026-03-05", splits=[
        {"category_id": categories["Groceries"]["id"], "amount_minor": 600},
        {"category_id": categories["Gifts"]["id"], "amount_minor": 400}])

    edited = await post_ok(ledger, home.headers, "/transactions/bulk", {
        "ids": [a, b, c, split], "category_id": categories["Groceries"]["id"], "add_tags": ["Weekly"],
        "remove_tags": ["trip"], "payee": "Market", "status": "cleared", "account_id": cash})
    assert (edited["matched"], edited["changed"]) == (4, 4)
    assert (await _balances(ledger, home)) == {"Giro": -1_500, "Cash": -3_300}
    assert (await _payees(ledger, home)) == {"Market": 4, "Cinema": 1}
    assert (await _get(ledger, home, split))["splits"] == []
    for transaction_id, tags in ((a, ["food", "weekly"]), (b, ["food", "weekly"]), (c, ["weekly"])):
        now = await _get(ledger, home, transaction_id)
        assert (now["category_name"], now["payee"], now["status"], now["account_id"], now["tags"]) == (
            "Groceries", "Market", "cleared", cash, tags)
    history = (await ledger.get(f"/transactions/{b}/history", headers=home.headers)).json()["items"]
    assert history[-1]["change_id"] == edited["id"]
    assert history[-1]["changes"]["tags"] == [["food", "trip"], ["food", "weekly"]]
    assert (await _get(ledger, home, untouched))["payee"] == "Cinema"

    # Changed since by hand: the undo leaves it as the person made it, and says so.
    c_now = await _get(ledger, home, c)
    await ledger.patch(f"/transactions/{c}", headers=home.headers,
                       json={"expected_version": c_now["version"], "note": "by hand"})
    undone = await ledger.post(f"/transactions/bulk/{edited['id']}/undo", headers=home.headers)
    assert undone.status_code == 200, undone.text
    assert (undone.json()["undone"], undone.json()["kept"]) == (3, [c])
    assert (await _balances(ledger, home)) == {"Giro": -4_500, "Cash": -300}
    assert (await _payees(ledger, home)) == {"Market": 1, "Corner shop": 3, "Cinema": 1}
    assert [p["amount_minor"] for p in (await _get(ledger, home, split))["splits"]] == [600, 400]
    for transaction_id, tags in ((a, ["food"]), (b, ["food", "trip"])):
        back = await _get(ledger, home, transaction_id)
        assert (back["category_name"], back["payee"], back["status"], back["account_id"], back["tags"]) == (
            None, "Corner shop", "uncleared", giro, tags)
    assert (await _get(ledger, home, c))["payee"] == "Market"
    again = await ledger.post(f"/transactions/bulk/{edited['id']}/undo", headers=home.headers)
    assert again.status_code == 409, again.text


async def test_every_transaction_a_search_matches_across_pages_is_changed_and_a_deletion_undone(
    ledger: httpx.AsyncClient, household: Callable[[], Any],
    give_defaults: Callable[[Any], Awaitable[Categories]],
) -> None:
    home = household()
    categories = await give_defaults(home)
    giro = (await open_account(ledger, home.headers, name="Giro"))["id"]
    coffees = [await _spend(ledger, home, giro, f"Coffee {n}", 350, f"2026-04-{n + 1:02d}") for n in range(7)]
    other = await _spend(ledger, home, giro, "Rent", 90_000, "2026-04-01")
    search = {"q": "coffee after:2026-04-01", "account_id": giro}

    stale = await ledger.post("/transactions/bulk", headers=home.headers, json={
        "search": search, "expected_count": 6, "category_id": categories["Eating out"]["id"]})
    assert stale.status_code == 409, stale.text
    edited = await post_ok(ledger, home.headers, "/transactions/bulk", {
        "search": search, "expected_count": 7, "category_id": categories["Eating out"]["id"]})
    assert (edited["matched"], edited["changed"]) == (7, 7)
    listed = (await ledger.get("/transactions", params={"category_id": categories["Eating out"]["id"],
                                                        "limit": 500}, headers=home.headers)).json()
    assert {t["id"] for t in listed["items"]} == set(coffees)

    deleted = await post_ok(ledger, home.headers, "/transactions/bulk", {"search": search, "delete": True})
    assert deleted["changed"] == 7
    assert [t["id"] for t in (await ledger.get("/transactions", headers=home.headers)).json()["items"]] == [
        other]
    undone = await ledger.post(f"/transactions/bulk/{deleted['id']}/undo", headers=home.headers)
    assert (undone.status_code, undone.json()["undone"]) == (200, 7), undone.text
    back = (await ledger.get("/transactions", params={"q": "coffee"}, headers=home.headers)).json()["items"]
    assert {(t["id"], t["category_name"]) for t in back} == {(i, "Eating out") for i in coffees}


async def test_what_the_ledger_refuses_refuses_the_whole_change_and_changes_nothing(
    ledger: httpx.AsyncClient, household: Callable[[], Any],
    give_defaults: Callable[[Any], Awaitable[Categories]],
    snapshot: Callable[[], Awaitable[dict[str, list[dict[str, Any]]]]],
) -> None:
    home, other = household(), household()
    categories = await give_defaults(home)
    await give_defaults(other)
    giro = (await open_account(ledger, home.headers, name="Giro"))["id"]
    dollars = (await open_account(ledger, home.headers, "USD", name="US"))["id"]
    savings = (await open_account(ledger, home.headers, name="Savings"))["id"]
    mine = await _spend(ledger, home, giro, "Shop", 500, "2026-05-01")
    reconciled = await _spend(ledger, home, giro, "Old", 700, "2026-04-01", status="reconciled")
    transfer = await post_ok(ledger, home.headers, "/transfers", {
        "from_account_id": giro, "to_account_id": savings, "amount_minor": 1_000, "booked_on": "2026-05-02"})
    theirs_account = (await open_account(ledger, other.headers, name="Theirs"))["id"]
    theirs = await _spend(ledger, other, theirs_account, "Shop", 500, "2026-05-01")
    elsewhere = (await open_account(ledger, other.headers, name="Elsewhere"))["id"]
    groceries = categories["Groceries"]["id"]
    before = await snapshot()

    refused = {
        404: [{"ids": [mine, theirs], "category_id": groceries},  # another household's transaction
              {"ids": [mine], "account_id": elsewhere},
              {"ids": [mine, giro], "status": "cleared"}],  # an account's id is no transaction's
        422: [{"ids": [mine], "account_id": dollars},  # another currency
              {"ids": [mine, transfer["id"]], "category_id": groceries},  # a transfer has no category
              {"ids": [mine], "delete": True, "payee": "x"}, {"ids": [mine]},  # nothing to change
              {"ids": [mine, mine], "status": "cleared"}, {"ids": [mine], "status": "reconciled"},
              {"ids": [mine], "search": {"q": ""}, "status": "cleared"},
              {"search": {"q": "nosuch:filter"}, "status": "cleared"},
              {"ids": [mine], "payee": "a\u0000b"}, {"ids": [mine], "add_tags": ["a"], "remove_tags": ["a"]}],
    }
    for status, bodies in refused.items():
        for body in bodies:
            answer = await ledger.post("/transactions/bulk", headers=home.headers, json=body)
            assert answer.status_code == status, (body, answer.text)
    # A reconciled transaction (agreed with a bank statement) is not deleted or moved by a bulk change.
    for body in ({"ids": [mine, reconciled], "delete": True},
                 {"ids": [mine, reconciled], "account_id": savings}):
        answer = await ledger.post("/transactions/bulk", headers=home.headers, json=body)
        assert answer.status_code in (409, 422), answer.text
        assert reconciled in answer.text
    viewer = await ledger.post("/transactions/bulk", headers=home.viewer_headers,
                               json={"ids": [mine], "status": "cleared"})
    assert viewer.status_code == 403
    assert await snapshot() == before
    # Their change id is not this household's: its undo is a 404, and theirs stays.
    theirs_edit = await post_ok(ledger, other.headers, "/transactions/bulk",
                                {"ids": [theirs], "status": "cleared"})
    assert (await ledger.post(f"/transactions/bulk/{theirs_edit['id']}/undo",
                              headers=home.headers)).status_code == 404
    assert (await _get(ledger, other, theirs))["status"] == "cleared"

