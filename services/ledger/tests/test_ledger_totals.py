"""Search totals by account, day, kind, status and tag come from the sums (tally_ledger.totals), and equal
the totals counted transaction by transaction, before and after the changes are compacted, through
recording, transfers, edits of every summed field, deletion, undo and a payee merge; a group whose
transactions are all gone leaves nothing behind."""

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import func, select

from tally_ledger import store, totals

from .ledger_helpers import open_account

Json = dict[str, Any]


async def test_totals_from_the_sums_equal_totals_counted_row_by_row(
    ledger: httpx.AsyncClient, household: Callable[[], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    home = household()
    app: Any = ledger.app  # type: ignore[attr-defined]

    async def call(method: str, path: str, status: int = 200, **kw: Any) -> Json:
        response = await ledger.request(method, path, headers=home.headers, **kw)
        assert response.status_code == status, response.text
        return dict(response.json())

    async def account(name: str, currency: str = "EUR") -> str:
        return str((await open_account(ledger, home.headers, currency, name=name))["id"])

    async def entry(account_id: str, amount: int, day: str, kind: str = "expense", **body: Any) -> Json:
        return await call("POST", "/transactions", 201, json={
            "account_id": account_id, "kind": kind, "amount_minor": amount, "booked_on": day, **body})

    checking, savings = await account("Checking"), await account("Savings")
    dollars = await account("US", "USD")
    rent = await entry(checking, 90_000, "2026-01-01", payee="Landlord", status="cleared")
    trip = await entry(checking, 4_500, "2026-01-03", payee="Hotel", tags=["trip", "work"])
    meal = await entry(checking, 2_500, "2026-01-03", payee="Cafe", tags=["trip"])
    await entry(checking, 250_000, "2026-01-05", kind="income", payee="Employer")
    await entry(dollars, 1_200, "2026-01-04", payee="Store", tags=["trip"])
    await call("POST", "/transfers", 201, json={"from_account_id": checking, "to_account_id": savings,
                                                "amount_minor": 50_000, "booked_on": "2026-01-06"})
    gone = await entry(savings, 700, "2026-01-07", payee="Bank")
    # Every summed field changes once: amount, day, account, tags, status; then a deletion, an undo of
    # another deletion, a payee merge (changes nothing summed) and a group emptied for good.
    await call("PATCH", f"/transactions/{rent['id']}", json={"expected_version": 1, "amount_minor": 95_000})
    await call("PATCH", f"/transactions/{trip['id']}", json={"expected_version": 1, "booked_on": "2026-01-08",
                                                              "tags": ["trip"], "status": "reconciled"})
    await call("PATCH", f"/transactions/{meal['id']}", json={"expected_version": 1, "account_id": savings})
    deleted = await call("DELETE", f"/transactions/{meal['id']}", params={"expected_version": 2})
    await call("POST", f"/transactions/{meal['id']}/undo", json={"expected_version": deleted["version"]})
    await call("DELETE", f"/transactions/{gone['id']}", params={"expected_version": 1})
    await call("POST", "/payees/merge", json={"name": "Cafe", "into_name": "Hotel"})

    searches: list[dict[str, Any]] = [
        {}, {"account_id": checking}, {"account_id": savings}, {"kind": "expense"},
        {"tag": "trip"}, {"tag": ["work", "trip"], "kind": "expense"}, {"status": "reconciled"},
        {"from_date": "2026-01-03", "to_date": "2026-01-06"}, {"q": "tag:trip type:expense after:2026-01-04"},
        {"account_id": savings, "in_currency": "EUR"}, {"q": "before:2026-01-01"},
    ]

    async def answers() -> list[Json]:
        return [await call("GET", "/transactions/totals", params=s) for s in searches]

    answered: list[bool] = []
    sums_answer = store.sums_answer

    def noting(filters: store.Filters) -> bool:
        answered.append(sums_answer(filters))
        return answered[-1]

    monkeypatch.setattr(store, "sums_answer", noting)
    uncompacted = await answers()
    assert len(answered) == len(searches) + 1  # the one in_currency sums twice (as kept, converted)
    assert all(answered)  # every search above is one the sums answer
    assert await totals.compact(app.state.db) > 0
    compacted = await answers()
    monkeypatch.setattr(store, "sums_answer", lambda filters: False)
    row_by_row = await answers()
    assert uncompacted == compacted == row_by_row
    # And they are the right figures, not merely the same ones.
    assert compacted[0]["items"] == [
        {"currency": "EUR", "count": 5, "income_minor": 250_000, "expense_minor": 95_000 + 4_500 + 2_500,
         "transfer_minor": 50_000},
        {"currency": "USD", "count": 1, "income_minor": 0, "expense_minor": 1_200, "transfer_minor": 0}]
    assert compacted[2]["items"] == [{"currency": "EUR", "count": 2, "income_minor": 0,
                                      "expense_minor": 2_500, "transfer_minor": 50_000}]
    assert compacted[5]["items"] == [
        {"currency": "EUR", "count": 2, "income_minor": 0, "expense_minor": 7_000, "transfer_minor": 0},
        {"currency": "USD", "count": 1, "income_minor": 0, "expense_minor": 1_200, "transfer_minor": 0}]
    assert compacted[10]["items"] == []
    # Nothing is kept of the deleted transaction's group, nor of any change once compacted.
    s = totals.transaction_sums.c
    async with app.state.db.read() as session:
        assert (await session.execute(select(func.min(s.entries)).where(s.tenant_id == home.tenant_id))
                ).scalar() >= 1
        changes = totals.transaction_sum_changes.c
        assert not (await session.execute(select(func.count()).where(changes.tenant_id == home.tenant_id))
                    ).scalar()
        assert not (await session.execute(select(func.count()).where(
            s.tenant_id == home.tenant_id, s.account_id == UUID(gone["account_id"]),
            s.booked_on == date.fromisoformat(gone["booked_on"])))).scalar()

