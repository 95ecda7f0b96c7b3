"""Reconciling an account with the bank's statement through the ledger's HTTP API on a real database:
to zero by ticking off, with an adjustment for a difference that cannot be found, a reconciled
transaction locked against edits without confirmation, and another household's account a 404 that
changes nothing."""

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from .ledger_helpers import Json, open_account, post_ok, stored_envelopes


async def _account_with_month(ledger: httpx.AsyncClient, home: Any) -> tuple[str, list[Json]]:
    """Giro opened with 100.00: salary 2,000.00 in, rent 800.00 and groceries 45.50 out in March, a
    transfer of 300.00 to savings, and a coffee on 2 April (after the statement)."""
    giro = await open_account(ledger, home.headers, name="Giro", opening_balance_minor=10_000)
    savings = await open_account(ledger, home.headers, name="Savings", kind="savings")
    made = [await post_ok(ledger, home.headers, "/transactions", {
        "account_id": giro["id"], "kind": kind, "amount_minor": amount, "payee": payee, "booked_on": day})
        for kind, amount, payee, day in [("income", 200_000, "ACME", "2025-03-01"),
                                         ("expense", 80_000, "Landlord", "2025-03-02"),
                                         ("expense", 4_550, "REWE", "2025-03-20"),
                                         ("expense", 350, "Café", "2025-04-02")]]
    made.append(await post_ok(ledger, home.headers, "/transfers", {
        "from_account_id": giro["id"], "to_account_id": savings["id"], "amount_minor": 30_000,
        "booked_on": "2025-03-25"}))
    return giro["id"], made


async def _look(ledger: httpx.AsyncClient, home: Any, account_id: str, balance: int) -> Json:
    answer = await ledger.get(f"/accounts/{account_id}/reconciliation", headers=home.headers,
                              params={"statement_date": "2025-03-31", "statement_balance_minor": balance})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def _tick(ledger: httpx.AsyncClient, home: Any, transaction: Json) -> None:
    answer = await ledger.patch(f"/transactions/{transaction['transaction']['id']}", headers=home.headers,
                                json={"status": "cleared",
                                      "expected_version": transaction["transaction"]["version"]})
    assert answer.status_code == 200, answer.text


async def _correlations(ledger: httpx.AsyncClient, home: Any) -> list[str | None]:
    return [envelope["correlation_id"] for envelope in await stored_envelopes(ledger, home.tenant_id)]


async def test_reconcile_to_zero_then_the_reconciled_are_locked(
    ledger: httpx.AsyncClient, household: Callable[[], Any]
) -> None:
    home = household()
    giro, made = await _account_with_month(ledger, home)
    statement = 10_000 + 200_000 - 80_000 - 4_550 - 30_000
    look = await _look(ledger, home, giro, statement)
    assert (look["cleared_balance_minor"], look["difference_minor"]) == (10_000, statement - 10_000)
    assert [(i["transaction"]["payee"], i["amount_minor"]) for i in look["items"]] == [
        ("ACME", 200_000), ("Landlord", -80_000), ("REWE", -4_550), ("", -30_000)]  # not April's coffee

    refused = await ledger.post(f"/accounts/{giro}/reconciliation", headers=home.headers,
                                json={"statement_date": "2025-03-31", "statement_balance_minor": statement})
    assert refused.status_code == 409
    assert refused.json()["difference_minor"] == statement - 10_000
    before = await _correlations(ledger, home)

    for item in look["items"]:
        await _tick(ledger, home, item)
    look = await _look(ledger, home, giro, statement)
    assert (look["cleared_balance_minor"], look["difference_minor"]) == (statement, 0)
    done = await post_ok(ledger, home.headers, f"/accounts/{giro}/reconciliation",
                       {"statement_date": "2025-03-31", "statement_balance_minor": statement})
    assert (done["reconciled"], done["adjustment"]) == (4, None)
    assert (await _correlations(ledger, home))[len(before) + 4:] == [done["id"]] * 4  # one change
    assert (await _look(ledger, home, giro, statement))["items"] == []

    rent = (await ledger.get(f"/transactions/{made[1]['id']}", headers=home.headers)).json()
    assert rent["status"] == "reconciled"
    edit = {"amount_minor": 85_000, "expected_version": rent["version"]}
    locked = await ledger.patch(f"/transactions/{rent['id']}", json=edit, headers=home.headers)
    assert locked.status_code == 409
    assert "reconciled" in locked.json()["detail"]
    assert locked.json()["reconciled"] is True
    deleted = await ledger.delete(f"/transactions/{rent['id']}", headers=home.headers,
                                  params={"expected_version": rent["version"]})
    assert deleted.status_code == 409
    note = await ledger.patch(f"/transactions/{rent['id']}", headers=home.headers,
                              json={"note": "March", "expected_version": rent["version"]})
    assert note.status_code == 200  # what the bank does not know about stays free to edit
    confirmed = await ledger.patch(f"/transactions/{rent['id']}", headers=home.headers,
                                   json=edit | {"expected_version": note.json()["version"],
                                                "confirm_reconciled": True})
    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["amount_minor"], confirmed.json()["status"]) == (85_000, "reconciled")
    history = (await ledger.get(f"/transactions/{rent['id']}/history", headers=home.headers)).json()
    assert history["items"][-1]["changes"]["amount_minor"] == [80_000, 85_000]


async def test_a_difference_that_cannot_be_found_is_booked_as_an_adjustment(
    ledger: httpx.AsyncClient, household: Callable[[], Any]
) -> None:
    home = household()
    giro, _ = await _account_with_month(ledger, home)
    look = await _look(ledger, home, giro, 0)
    for item in look["items"][:2]:  # salary and rent
        await _tick(ledger, home, item)
    statement = 10_000 + 200_000 - 80_000 - 1_234  # a fee nobody recorded
    assert (await _look(ledger, home, giro, statement))["difference_minor"] == -1_234
    done = await post_ok(ledger, home.headers, f"/accounts/{giro}/reconciliation",
                       {"statement_date": "2025-03-31", "statement_balance_minor": statement,
                        "adjust": True, "adjustment_payee": "Bank fee?"})
    adjustment = done["adjustment"]
    assert (adjustment["kind"], adjustment["amount_minor"], adjustment["booked_on"], adjustment["status"],
            adjustment["payee"]) == ("expense", 1_234, "2025-03-31", "reconciled", "Bank fee?")
    assert done["reconciled"] == 3
    assert set((await _correlations(ledger, home))[-3:]) == {done["id"]}
    after = await _look(ledger, home, giro, statement)
    assert (after["difference_minor"], len(after["items"])) == (0, 2)  # groceries and the transfer: open
    balance = (await ledger.get(f"/accounts/{giro}/balance", headers=home.headers,
                                params={"as_of": "2025-03-31"})).json()["balance_minor"]
    assert balance == 10_000 + 200_000 - 80_000 - 4_550 - 30_000 - 1_234


async def test_another_households_account_is_not_found_and_nothing_changes(
    ledger: httpx.AsyncClient, household: Callable[[], Any],
    snapshot: Callable[[], Awaitable[dict[str, list[Json]]]],
) -> None:
    home, stranger = household(), household()
    giro, _ = await _account_with_month(ledger, home)
    before = await snapshot()
    params = {"statement_date": "2025-03-31", "statement_balance_minor": 0}
    assert (await ledger.get(f"/accounts/{giro}/reconciliation", params=params,
                             headers=stranger.headers)).status_code == 404
    answer = await ledger.post(f"/accounts/{giro}/reconciliation", headers=stranger.headers,
                               json=params | {"adjust": True})
    assert answer.status_code == 404
    viewer = await ledger.post(f"/accounts/{giro}/reconciliation", headers=home.viewer_headers, json=params)
    assert viewer.status_code == 403
    for bad in ({"statement_date": "31.03.2025", "statement_balance_minor": 0},
                {"statement_date": "2025-03-31", "statement_balance_minor": 1.5},
                {"statement_date": "2025-03-31", "statement_balance_minor": 0, "extra": 1}):
        assert (await ledger.post(f"/accounts/{giro}/reconciliation", json=bad,
                                  headers=home.headers)).status_code == 422
    assert await snapshot() == before
