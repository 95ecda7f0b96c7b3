"""`python -m tally_ledger rebuild` recomputes the read models from the event store, to the same rows."""

import asyncio
import logging
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from tally_ledger import projections

from .ledger_helpers import open_account

Snapshot = Callable[[], Awaitable[dict[str, list[dict[str, Any]]]]]
READ_MODELS = ("accounts", "categories", "transactions", "transaction_splits", "payees")


async def _fill(ledger: httpx.AsyncClient, household: Any, give_defaults: Any) -> None:
    categories = await give_defaults(household)
    for name, currency in (("Checking", "EUR"), ("Cash", "JPY")):
        account = await open_account(ledger, household.headers, currency, name=name,
                                     opening_balance_minor=5_000)
        renamed = await ledger.patch(f"/accounts/{account['id']}",
                                     json={"name": f"{name} (shared)", "expected_version": 1},
                                     headers=household.headers)
        assert renamed.status_code == 200
        plan = [("expense", "Groceries"), ("income", "Salary"), ("expense", None)]
        for n, (kind, category) in enumerate(plan):
            body = {"account_id": account["id"], "kind": kind, "amount_minor": 100 * (n + 1),
                    "booked_on": f"2025-01-0{n + 1}", "payee": f"p{n}"}
            if category:
                body["category_id"] = categories[category]["id"]
            response = await ledger.post("/transactions", json=body, headers=household.headers)
            assert response.status_code == 201
    await _every_other_change(ledger, household.headers, categories)


async def _every_other_change(ledger: httpx.AsyncClient, headers: dict[str, str],
                              categories: dict[str, Any]) -> None:
    """One of each other event: archive, reopen, category changes and merge, payee merge, transfer,
    split, edit, delete, undo."""

    async def call(method: str, path: str, **body: Any) -> dict[str, Any]:
        response = await ledger.request(method, path, headers=headers, **body)
        assert response.status_code in (200, 201), response.text
        return dict(response.json())

    savings = await open_account(ledger, headers, name="Savings", kind="savings")
    spare = await open_account(ledger, headers, name="Spare", kind="savings")
    await call("POST", f"/accounts/{spare['id']}/archive", json={"expected_version": 1})
    await call("POST", f"/accounts/{spare['id']}/reopen", json={"expected_version": 2})
    await call("POST", f"/accounts/{spare['id']}/archive", json={"expected_version": 3})
    cafe = await call("POST", "/categories", json={"name": "Cafe", "group": "Food", "kind": "expense"})
    await call("PATCH", f"/categories/{cafe['id']}", json={"group": "Leisure"})
    await call("POST", f"/categories/{categories['Fuel']['id']}/archive")
    eating_out = categories["Eating out"]["id"]
    checking = next(a for a in (await call("GET", "/accounts"))["items"] if a["name"] == "Checking (shared)")
    transfer = await call("POST", "/transfers", json={
        "from_account_id": savings["id"], "to_account_id": checking["id"], "amount_minor": 700,
        "booked_on": "2025-02-01"})
    await call("PATCH", f"/transactions/{transfer['id']}", json={"expected_version": 1, "amount_minor": 800})
    split = await call("POST", "/transactions", json={
        "account_id": savings["id"], "kind": "expense", "amount_minor": 1_000, "payee": "Cafe Central",
        "tags": ["trip"], "splits": [{"category_id": cafe["id"], "amount_minor": 400},
                                     {"category_id": eating_out, "amount_minor": 600}]})
    await call("PATCH", f"/transactions/{split['id']}", json={"expected_version": 1, "status": "cleared",
                                                              "payee": "cafe central"})
    plain = await call("POST", "/transactions", json={
        "account_id": savings["id"], "kind": "expense", "amount_minor": 50, "category_id": cafe["id"],
        "payee": "Central"})
    await call("DELETE", f"/transactions/{plain['id']}", params={"expected_version": 1})
    await call("POST", f"/transactions/{plain['id']}/undo", json={"expected_version": 2})
    await call("POST", f"/categories/{cafe['id']}/merge", json={"into_category_id": eating_out})
    await call("POST", "/payees/merge", json={"name": "Central", "into_name": "Cafe Central"})
    await call("POST", f"/transactions/{split['id']}/undo", json={"expected_version": 2})


async def _run_rebuild(ledger: httpx.AsyncClient) -> None:
    settings = ledger.app.state.settings  # type: ignore[attr-defined]
    env = {**os.environ, "TALLY_LEDGER_DATABASE_URL": settings.database_url.get_secret_value(),
           "TALLY_LEDGER_ENVIRONMENT": "test"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tally_ledger", "rebuild", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, output.decode()
    assert b"read_models_rebuilt" in output


async def test_rebuild_gives_identical_read_models(
    ledger: httpx.AsyncClient, household: Callable[[], Any], give_defaults: Any, snapshot: Snapshot
) -> None:
    for home in (household(), household()):
        await _fill(ledger, home, give_defaults)
    before = await snapshot()
    assert len(before["transactions"]) == 12 + 2 * 3
    assert len(before["transaction_splits"]) == 4
    assert len(before["payees"]) == 2 * 5
    assert {a["balance_minor"] for a in before["accounts"] if a["name"] == "Cash (shared)"} == {
        5_000 - 100 + 200 - 300}

    await _run_rebuild(ledger)
    assert await snapshot() == before


async def test_rebuild_repairs_read_models_that_drifted(
    ledger: httpx.AsyncClient, household: Callable[[], Any], give_defaults: Any, snapshot: Snapshot
) -> None:
    home = household()
    await _fill(ledger, home, give_defaults)
    before = await snapshot()
    app: Any = ledger.app  # type: ignore[attr-defined]
    async with app.state.db.transaction() as session:
        await session.execute(text("UPDATE accounts SET balance_minor = 0, name = 'wrong', version = 9"))
        await session.execute(text("DELETE FROM transactions WHERE payee = 'p1'"))
        await session.execute(text("DELETE FROM categories WHERE name = 'Rent'"))
        await session.execute(text("UPDATE transaction_splits SET amount_minor = 1"))
        await session.execute(text("UPDATE payees SET usage_count = usage_count + 1"))
        await session.execute(text(
            "INSERT INTO categories (id, tenant_id, name, group_name, kind, created_at) "
            "VALUES (gen_random_uuid(), gen_random_uuid(), 'Ghost', 'Ghost', 'expense', now())"))
    drifted = await snapshot()
    for table in READ_MODELS:
        assert drifted[table] != before[table]

    await _run_rebuild(ledger)
    assert await snapshot() == before


async def test_rebuild_in_small_pages_gives_identical_read_models_and_indexes(
    ledger: httpx.AsyncClient, household: Callable[[], Any], give_defaults: Any, snapshot: Snapshot,
    caplog: pytest.LogCaptureFixture
) -> None:
    """Pages of two events cut every run of new transactions (three in a row per account) and of changes
    in two; the indexes dropped for the replay are back as they were; progress is logged."""
    for home in (household(), household()):
        await _fill(ledger, home, give_defaults)
    app: Any = ledger.app  # type: ignore[attr-defined]
    indexes = text("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
                   " ORDER BY indexname")
    async with app.state.db.read() as session:
        before_indexes = (await session.execute(indexes)).all()
        events = int((await session.execute(text("SELECT count(*) FROM event_store"))).scalar_one())
    assert {"transactions_text", "transactions_newest", "payees_tenant"} <= {i for _, i, _ in before_indexes}
    before = await snapshot()
    root = logging.getLogger()
    root.addHandler(caplog.handler)  # the app's logging set-up replaced the root handlers
    try:
        assert await projections.rebuild(app.state.db, page_size=2, progress_every=10) == events
    finally:
        root.removeHandler(caplog.handler)
    assert await snapshot() == before
    async with app.state.db.read() as session:
        assert (await session.execute(indexes)).all() == before_indexes
    progress = [r.msg for r in caplog.records if "read_models_rebuilding" in str(r.msg)]
    assert [p["events"] for p in progress] == list(range(10, events + 1, 10))  # type: ignore[index]
