"""`python -m tally_ledger rebuild` recomputes the read models from the event store, to the same rows."""

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import text

Snapshot = Callable[[], Awaitable[dict[str, list[dict[str, Any]]]]]
READ_MODELS = ("accounts", "categories", "transactions")


async def _fill(ledger: httpx.AsyncClient, household: Any, give_defaults: Any) -> None:
    categories = await give_defaults(household)
    for name, currency in (("Checking", "EUR"), ("Cash", "JPY")):
        new_account = {"name": name, "kind": "checking", "currency": currency, "opening_balance_minor": 5_000}
        account = (await ledger.post("/accounts", json=new_account, headers=household.headers)).json()
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
    assert len(before["transactions"]) == 12
    assert {a["balance_minor"] for a in before["accounts"]} == {5_000 - 100 + 200 - 300}

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
        await session.execute(text(
            "INSERT INTO categories (id, tenant_id, name, group_name, kind, created_at) "
            "VALUES (gen_random_uuid(), gen_random_uuid(), 'Ghost', 'Ghost', 'expense', now())"))
    drifted = await snapshot()
    for table in READ_MODELS:
        assert drifted[table] != before[table]

    await _run_rebuild(ledger)
    assert await snapshot() == before
