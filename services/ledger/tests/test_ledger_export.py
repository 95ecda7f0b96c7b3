"""Exports: transactions as CSV and XLSX for a filter, and the whole ledger as JSON that restores into an
empty household to the same balances."""

import csv
import io
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from openpyxl import load_workbook

from tally_ledger.exporters import ledger_json, tables

from .ledger_helpers import open_account

STATEMENTS = Path(__file__).parent / "statements"


async def _post(ledger: httpx.AsyncClient, headers: dict[str, str], path: str, **body: Any) -> dict[str, Any]:
    response = await ledger.post(path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


async def _import(ledger: httpx.AsyncClient, headers: dict[str, str], account_id: str, name: str) -> str:
    uploaded = await ledger.post("/imports", files={"file": (name, (STATEMENTS / name).read_bytes())},
                                 data={"account_id": account_id}, headers=headers)
    assert uploaded.status_code == 201, uploaded.text
    batch_id = str(uploaded.json()["batch"]["id"])
    assert (await ledger.post(f"/imports/{batch_id}/confirm", json={}, headers=headers)).status_code == 202
    assert (await ledger.get(f"/imports/{batch_id}", headers=headers)).json()["status"] == "imported"
    return batch_id


async def test_transactions_export_as_csv_and_xlsx_for_a_filter(
    ledger: httpx.AsyncClient, household: Callable[[], Any], give_defaults: Any
) -> None:
    home = household()
    categories = await give_defaults(home)
    main = await open_account(ledger, home.headers, "EUR", name="Girokonto")
    savings = await open_account(ledger, home.headers, "EUR", name="Sparbuch", kind="savings")
    await _import(ledger, home.headers, main["id"], "sparkasse_camt053_2025-01.xml")
    await _post(ledger, home.headers, "/transactions", account_id=main["id"], kind="expense",
                amount_minor=4_250, payee="Markthalle", category_id=categories["Groceries"]["id"],
                booked_on="2025-01-15", tags=["market"])
    await _post(ledger, home.headers, "/transfers", from_account_id=main["id"], to_account_id=savings["id"],
                amount_minor=50_000, booked_on="2025-01-20", payee="Savings")

    params = {"account_id": main["id"], "from": "2025-01-10", "to": "2025-01-20"}
    response = await ledger.get("/exports/transactions.csv", params=params, headers=home.headers)
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="transactions.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Date", "Account", "Type", "Amount", "Currency", "Category", "Payee", "Note", "Tags",
                       "Status", "Transaction ID"]
    body = rows[1:]
    assert body
    assert all("2025-01-10" <= r[0] <= "2025-01-20" for r in body)
    assert [r[0] for r in body] == sorted(r[0] for r in body)
    market = next(r for r in body if r[6] == "Markthalle")
    assert market[1:10] == ["Girokonto", "expense", "-42.50", "EUR", "Groceries", "Markthalle", "", "market",
                            "uncleared"]
    transfer = next(r for r in body if r[2] == "transfer")
    assert transfer[3] == "-500.00"
    imported = [r for r in body if r[9] == "cleared"]
    assert imported
    assert all(r[3].count(".") == 1 and len(r[3].split(".")[1]) == 2 for r in body)

    # The savings account sees the transfer as money in.
    savings_csv = await ledger.get("/exports/transactions.csv", params={"account_id": savings["id"]},
                                   headers=home.headers)
    savings_rows = list(csv.reader(io.StringIO(savings_csv.content.decode("utf-8-sig"))))[1:]
    assert [(r[1], r[2], r[3]) for r in savings_rows] == [("Sparbuch", "transfer", "500.00")]

    xlsx = await ledger.get("/exports/transactions.xlsx", params=params, headers=home.headers)
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content), read_only=True)["Transactions"]
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert [str(c) for c in cells[0]] == rows[0]
    assert len(cells) == len(rows)
    as_text = [[c.date().isoformat() if hasattr(c, "date") else "" if c is None else str(c) for c in r]
               for r in cells[1:]]
    assert [r[0] for r in as_text] == [r[0] for r in body]
    assert [f"{float(r[3]):.2f}" for r in as_text] == [r[3] for r in body]
    assert [r[10] for r in as_text] == [r[10] for r in body]

    stranger = household()
    other = await ledger.get("/exports/transactions.csv", params={"account_id": main["id"]},
                             headers=stranger.headers)
    assert other.status_code == 404
    backwards = await ledger.get("/exports/transactions.csv",
                                 params={"from": "2025-02-01", "to": "2025-01-01"}, headers=home.headers)
    assert backwards.status_code == 422
    empty = await ledger.get("/exports/transactions.csv", headers=stranger.headers)
    assert empty.content.decode("utf-8-sig").strip().count("\n") == 0


async def _state(ledger: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    """What a person sees of a household, without ids: accounts with balances, categories, transactions."""
    everything = {"include_archived": True}
    accounts = (await ledger.get("/accounts", params=everything, headers=headers)).json()["items"]
    names = {a["id"]: a["name"] for a in accounts}
    categories = (await ledger.get("/categories", params={"include_archived": True}, headers=headers)
                  ).json()["items"]
    category_names = {c["id"]: c["name"] for c in categories}
    transactions = (await ledger.get("/transactions", params={"limit": 500}, headers=headers)).json()["items"]
    payees = (await ledger.get("/payees", headers=headers)).json()["items"]

    def described(t: dict[str, Any]) -> tuple[Any, ...]:
        return (names[t["account_id"]], names.get(t["counter_account_id"], ""), t["kind"],
                t["amount_minor"], t["booked_on"], category_names.get(t["category_id"], ""), t["payee"],
                t["note"], tuple(t.get("tags", ())), t.get("status"),
                tuple((category_names[s["category_id"]], s["amount_minor"]) for s in t.get("splits", ())))

    return {
        "accounts": sorted((a["name"], a["kind"], a["currency"], a["balance_minor"]) for a in accounts),
        "categories": sorted((c["name"], c["group"], c["kind"]) for c in categories),
        "transactions": sorted(described(t) for t in transactions),
        "payees": sorted(p["name"] for p in payees),
    }


async def test_the_whole_ledger_exports_and_restores_into_an_empty_household(
    ledger: httpx.AsyncClient, household: Callable[[], Any], give_defaults: Any,
    snapshot: Callable[[], Awaitable[dict[str, list[dict[str, Any]]]]]
) -> None:
    home = household()
    categories = await give_defaults(home)
    euro = await open_account(ledger, home.headers, "EUR", name="Girokonto", opening_balance_minor=123_456)
    cash = await open_account(ledger, home.headers, "EUR", name="Cash", kind="cash")
    dollars = await open_account(ledger, home.headers, "USD", name="Checking")
    hobby = await _post(ledger, home.headers, "/categories", name="Model trains", group="Leisure",
                        kind="expense")
    await _import(ledger, home.headers, euro["id"], "sparkasse_camt053_2025-01.xml")
    undone = await _import(ledger, home.headers, dollars["id"], "wellsfargo_checking_2025-01_ofx1.qfx")
    await _import(ledger, home.headers, dollars["id"], "quicken_checking_2025-01_us.qif")
    assert (await ledger.post(f"/imports/{undone}/undo", headers=home.headers)).status_code == 202
    split = await _post(ledger, home.headers, "/transactions", account_id=euro["id"], kind="expense",
                        amount_minor=10_000, payee="Kaufhaus", booked_on="2025-01-12", splits=[
                            {"category_id": categories["Groceries"]["id"], "amount_minor": 6_000},
                            {"category_id": hobby["id"], "amount_minor": 4_000}])
    await _post(ledger, home.headers, "/transfers", from_account_id=euro["id"], to_account_id=cash["id"],
                amount_minor=20_000, booked_on="2025-01-13", payee="ATM")
    edited = await _post(ledger, home.headers, "/transactions", account_id=cash["id"], kind="expense",
                         amount_minor=350, payee="kiosk", booked_on="2025-01-14",
                         category_id=categories["Eating out"]["id"], tags=["snack"])
    patched = await ledger.patch(f"/transactions/{edited['id']}",
                                 json={"amount_minor": 450, "expected_version": 1}, headers=home.headers)
    assert patched.status_code == 200, patched.text
    gone = await _post(ledger, home.headers, "/transactions", account_id=cash["id"], kind="expense",
                       amount_minor=999, payee="Mistake", booked_on="2025-01-14")
    assert (await ledger.delete(f"/transactions/{gone['id']}", params={"expected_version": 1},
                                headers=home.headers)).status_code == 200
    await ledger.patch(f"/categories/{categories['Groceries']['id']}", json={"name": "Food shopping"},
                       headers=home.headers)
    merged = await ledger.post(f"/categories/{hobby['id']}/merge",
                               json={"into_category_id": categories["Entertainment"]["id"]},
                               headers=home.headers)
    assert merged.status_code == 200, merged.text
    merge_payee = await ledger.post("/payees/merge", json={"name": "kiosk", "into_name": "Kaufhaus"},
                                    headers=home.headers)
    assert merge_payee.status_code == 200, merge_payee.text
    assert split["id"]
    before = await _state(ledger, home.headers)

    exported = await ledger.get("/exports/ledger.json", headers=home.headers)
    assert exported.status_code == 200
    document = exported.json()
    assert (document["format"], document["version"], document["tenant_id"]) == ("tally-ledger", 1,
                                                                                str(home.tenant_id))
    state = await snapshot()
    assert [e["id"] for e in document["events"]] == [
        r["envelope"]["id"] for r in state["event_store"] if r["tenant_id"] == home.tenant_id]

    fresh = household()
    await give_defaults(fresh)
    restored = await ledger.post("/imports/ledger", files={"file": ("tally-ledger.json", exported.content)},
                                 headers=fresh.headers)
    assert restored.status_code == 201, restored.text
    assert await _state(ledger, fresh.headers) == before
    assert await _state(ledger, home.headers) == before

    # Not twice, not into a household that has data, not into itself; a viewer cannot.
    again = await ledger.post("/imports/ledger", files={"file": ("x.json", exported.content)},
                              headers=fresh.headers)
    assert again.status_code == 409
    itself = await ledger.post("/imports/ledger", files={"file": ("x.json", exported.content)},
                               headers=home.headers)
    assert itself.status_code == 409
    third = household()
    viewer = await ledger.post("/imports/ledger", files={"file": ("x.json", exported.content)},
                               headers=third.viewer_headers)
    assert viewer.status_code == 403
    tampered = json.loads(exported.content)
    recorded = next(e for e in tampered["events"] if e["type"] == "ledger.TransactionRecorded")
    recorded["data"]["amount_minor"] = -5
    other_format = json.dumps({**document, "format": "other"}).encode()
    for bad in (b"not json", other_format, json.dumps(tampered).encode()):
        before_bad = await snapshot()
        response = await ledger.post("/imports/ledger", files={"file": ("x.json", bad)},
                                     headers=third.headers)
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert await snapshot() == before_bad


async def test_exports_are_sent_a_page_at_a_time_and_lose_nothing_between_pages(
    ledger: httpx.AsyncClient, household: Callable[[], Any], monkeypatch: Any
) -> None:
    """Pages of 2 rows (events): every boundary between pieces of the file falls inside the export."""
    monkeypatch.setattr(tables, "PAGE", 2)
    monkeypatch.setattr(ledger_json, "EXPORT_PAGE", 2)
    home = household()
    main = await open_account(ledger, home.headers, "EUR", name="Main")
    for n in range(5):
        await _post(ledger, home.headers, "/transactions", account_id=main["id"], kind="expense",
                    amount_minor=100 + n, booked_on=f"2025-02-0{n + 1}", payee=f"Shop {n}")
    as_csv = await ledger.get("/exports/transactions.csv", headers=home.headers)
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert [(r[0], r[3], r[6]) for r in rows[1:]] == [
        (f"2025-02-0{n + 1}", f"-1.0{n}", f"Shop {n}") for n in range(5)]
    as_xlsx = await ledger.get("/exports/transactions.xlsx", headers=home.headers)
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet is not None
    assert [r[6] for r in sheet.iter_rows(min_row=2, values_only=True)] == [f"Shop {n}" for n in range(5)]
    document = (await ledger.get("/exports/ledger.json", headers=home.headers)).json()
    assert [e["type"] for e in document["events"]] == ["ledger.AccountOpened"] + [
        "ledger.TransactionRecorded"] * 5
