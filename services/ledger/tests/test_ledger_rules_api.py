"""Rules through HTTP on a real database: applied on entry and on import, previewed without change,
applied to existing transactions as edits (history, undo), reordered, kept per household."""

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy import text

from .ledger_helpers import Json, import_file, list_transactions, open_account


async def call(
    ledger: httpx.AsyncClient, headers: dict[str, str], method: str, path: str, status: int = 200, **kw: Any
) -> Any:
    response = await ledger.request(method, path, headers=headers, **kw)
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def counts(ledger: httpx.AsyncClient) -> tuple[int, int]:
    app: Any = ledger.app  # type: ignore[attr-defined]
    async with app.state.db.read() as session:
        events = (await session.execute(text("SELECT count(*) FROM event_store"))).scalar_one()
        rules = (await session.execute(text("SELECT count(*) FROM rules"))).scalar_one()
    return int(events), int(rules)


async def test_rules_on_entry_on_import_preview_and_apply(
    ledger: httpx.AsyncClient,
    household: Callable[[], Any],
    give_defaults: Callable[[Any], Awaitable[dict[str, Json]]],
) -> None:
    home = household()
    categories = await give_defaults(home)
    groceries, shopping = categories["Groceries"]["id"], categories["Shopping"]["id"]
    account = await open_account(ledger, home.headers, name="Giro")
    # Before any rule: two plain entries.
    old = await call(
        ledger,
        home.headers,
        "POST",
        "/transactions",
        201,
        json={
            "account_id": account["id"],
            "kind": "expense",
            "amount_minor": 1_999,
            "booked_on": "2025-01-02",
            "payee": "REWE Markt 123",
        },
    )
    chosen = await call(
        ledger,
        home.headers,
        "POST",
        "/transactions",
        201,
        json={
            "account_id": account["id"],
            "kind": "expense",
            "amount_minor": 500,
            "booked_on": "2025-01-03",
            "payee": "rewe to go",
            "category_id": categories["Eating out"]["id"],
        },
    )

    clean = await call(
        ledger,
        home.headers,
        "POST",
        "/rules",
        201,
        json={
            "name": "Supermarkets",
            "conditions": [{"field": "payee", "op": "regex", "value": r"^(rewe|lidl)\b"}],
            "actions": {"category_id": groceries, "tags": ["food"]},
        },
    )
    tag_big = await call(
        ledger,
        home.headers,
        "POST",
        "/rules",
        201,
        json={
            "name": "Big",
            "match": "any",
            "conditions": [
                {"field": "amount", "min_minor": 100_000},
                {"field": "payee", "op": "contains", "value": "amzn"},
            ],
            "actions": {"payee": "Amazon", "category_id": shopping},
        },
    )
    assert (clean["position"], tag_big["position"]) == (1, 2)

    # On entry: the rules fill in the category and tags.
    new = await call(
        ledger,
        home.headers,
        "POST",
        "/transactions",
        201,
        json={
            "account_id": account["id"],
            "kind": "expense",
            "amount_minor": 2_345,
            "booked_on": "2025-01-04",
            "payee": "Lidl Köln",
        },
    )
    assert (new["category_id"], new["tags"]) == (groceries, ["food"])
    amazon = await call(
        ledger,
        home.headers,
        "POST",
        "/transactions",
        201,
        json={
            "account_id": account["id"],
            "kind": "expense",
            "amount_minor": 1_000,
            "booked_on": "2025-01-04",
            "payee": "AMZN Mktp DE",
        },
    )
    assert (amazon["payee"], amazon["category_id"]) == ("Amazon", shopping)

    # Preview: what "Supermarkets" would change on existing transactions, nothing changed.
    before = await counts(ledger)
    spec = {k: clean[k] for k in ("name", "match", "conditions", "actions")}
    preview = await call(ledger, home.headers, "POST", "/rules/preview", json=spec)
    assert (preview["matched"], preview["changed"]) == (3, 2)
    changed = {item["transaction_id"]: item["changes"] for item in preview["items"]}
    assert changed[old["id"]] == {"category_id": [None, groceries], "tags": [[], ["food"]]}
    assert changed[chosen["id"]]["category_id"] == [categories["Eating out"]["id"], groceries]
    assert await counts(ledger) == before

    # Apply: one amendment each, in the history, undoable.
    applied = await call(ledger, home.headers, "POST", f"/rules/{clean['id']}/apply")
    assert applied == {"changed": 2}
    assert (await call(ledger, home.headers, "POST", f"/rules/{clean['id']}/apply")) == {"changed": 0}
    history = await call(ledger, home.headers, "GET", f"/transactions/{old['id']}/history")
    assert [h["change"] for h in history["items"]] == ["recorded", "amended"]
    undone = await call(
        ledger, home.headers, "POST", f"/transactions/{old['id']}/undo", json={"expected_version": 2}
    )
    assert undone["transaction"]["category_id"] is None

    # On import: the statement's supermarket rows come categorised.
    batch = await import_file(ledger, home.headers, account["id"], "sparkasse_camt053_2025-01.xml")
    assert batch["status"] == "imported", batch
    listed = await list_transactions(ledger, home.headers, account["id"])
    imported = [t for t in listed if t["booked_on"] >= "2025-01-05"]
    supermarkets = [t for t in imported if t["payee"].lower().startswith(("rewe", "lidl"))]
    assert supermarkets
    assert all(t["category_id"] == groceries and t["tags"] == ["food"] for t in supermarkets)
    assert all(t["category_id"] is None for t in imported if t not in supermarkets)

    # Reorder, update with version, delete.
    reordered = await call(
        ledger, home.headers, "PUT", "/rules/order", json={"ids": [tag_big["id"], clean["id"]]}
    )
    assert [r["name"] for r in reordered["items"]] == ["Big", "Supermarkets"]
    await call(ledger, home.headers, "PUT", "/rules/order", 422, json={"ids": [clean["id"]]})
    updated = await call(
        ledger,
        home.headers,
        "PUT",
        f"/rules/{clean['id']}",
        json={**spec, "enabled": False, "expected_version": 1},
    )
    assert updated["version"] == 2
    await call(
        ledger, home.headers, "PUT", f"/rules/{clean['id']}", 409, json={**spec, "expected_version": 1}
    )
    await call(ledger, home.headers, "DELETE", f"/rules/{clean['id']}", 204)
    assert [r["name"] for r in (await call(ledger, home.headers, "GET", "/rules"))["items"]] == ["Big"]


async def test_rules_are_checked_and_kept_per_household(
    ledger: httpx.AsyncClient,
    household: Callable[[], Any],
    give_defaults: Callable[[Any], Awaitable[dict[str, Json]]],
) -> None:
    mine, theirs = household(), household()
    categories = await give_defaults(mine)
    account = await open_account(ledger, mine.headers, name="Giro")
    body = {
        "name": "Coffee",
        "conditions": [{"field": "account", "account_id": account["id"]}],
        "actions": {"category_id": categories["Eating out"]["id"]},
    }
    assert (await ledger.post("/rules", json=body, headers=mine.viewer_headers)).status_code == 403
    rule = await call(ledger, mine.headers, "POST", "/rules", 201, json=body)
    before = await counts(ledger)
    # Their token: my rule does not exist; my account and category are not theirs.
    await call(ledger, theirs.headers, "GET", f"/rules/{rule['id']}", 404)
    await call(ledger, theirs.headers, "POST", f"/rules/{rule['id']}/apply", 404)
    await call(ledger, theirs.headers, "DELETE", f"/rules/{rule['id']}", 404)
    await call(ledger, theirs.headers, "POST", "/rules", 404, json=body)
    await call(ledger, theirs.headers, "POST", "/rules/preview", 404, json=body)
    assert (await call(ledger, theirs.headers, "GET", "/rules"))["items"] == []
    # Bad rules: 422, nothing saved.
    for bad in (
        {"conditions": [{"field": "payee", "op": "regex", "value": "(a|aa)+$"}]},
        {"conditions": [{"field": "payee", "op": "regex", "value": "[unclosed"}]},
        {"actions": {}},
    ):
        await call(ledger, mine.headers, "POST", "/rules", 422, json={**body, **bad})
    assert await counts(ledger) == before
