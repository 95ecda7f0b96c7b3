"""Categorising the uncategorised in bulk, and learning from a correction, through the ledger's HTTP API on a
real database: proposals with confidences, the chosen categories applied as one change (marked on each
event), its undo reverting exactly that change and leaving what a person changed since; another
household's ids are 404 and bad input a clear 4xx, changing nothing; and a correction made after an
import is learnt by the trainer (run as the service runs it) so the next import follows it."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest_asyncio

from tally_ledger import categorising
from tally_ledger.main import MIGRATIONS, create_app
from tally_ledger.settings import LedgerSettings
from tallystack.polling import finished, until

from .ledger_helpers import open_account, post_ok, stored_envelopes

HISTORY = [  # payee, note, amount in cents (negative: out), category
    ("REWE SAGT DANKE {n} BERLIN", "Kartenzahlung girocard", -2_300, "Groceries"),
    ("SHELL {n} HAMBURG", "Kartenzahlung girocard", -6_100, "Fuel"),
    ("Telekom Deutschland GmbH", "Kundennr 4711 Rechnung", -4_500, "Internet & phone"),
    ("SUMUP *Trattoria Roma {n}", "", -3_400, "Eating out"),
    ("Stadtwerke Freiburg", "Abschlag Strom", -8_000, "Utilities"),
    ("ACME GmbH", "LOHN/GEHALT", 300_000, "Salary"),
]
Categories = dict[str, dict[str, Any]]


@pytest_asyncio.fixture
async def ledger(service_client: Callable[..., Awaitable[httpx.AsyncClient]]) -> httpx.AsyncClient:
    # Training in a worker thread (no process pool to start); any categorised change is due at once.
    return await service_client(create_app, LedgerSettings, MIGRATIONS, categoriser_processes=0,
                                categoriser_retrain_after=1, categoriser_interval_s=0.05)


def _app(ledger: httpx.AsyncClient) -> Any:
    return ledger.app  # type: ignore[attr-defined]


async def _with_history(ledger: httpx.AsyncClient, home: Any, categories: Categories) -> str:
    """A household's account with five weeks of categorised history (30 transactions), trained on."""
    account = await open_account(ledger, home.headers, name="Giro")
    for n in range(5):
        for payee, note, amount, category in HISTORY:
            await post_ok(ledger, home.headers, "/transactions", {
                "account_id": account["id"], "kind": "income" if amount > 0 else "expense",
                "amount_minor": abs(amount) + n * 13, "payee": payee.format(n=1000 + n), "note": note,
                "category_id": categories[category]["id"], "booked_on": f"2025-03-{n + 1:02d}"})
    assert await categorising.Trainer(_app(ledger).state.db, _app(ledger).state.settings).run_once() == 1
    return str(account["id"])


async def _open(ledger: httpx.AsyncClient, home: Any, account_id: str, payee: str, amount: int,
                day: str) -> dict[str, Any]:
    return await post_ok(ledger, home.headers, "/transactions", {
        "account_id": account_id, "kind": "income" if amount > 0 else "expense", "amount_minor": abs(amount),
        "payee": payee, "booked_on": day})


async def _category_of(ledger: httpx.AsyncClient, home: Any, transaction_id: str) -> str | None:
    found = (await ledger.get(f"/transactions/{transaction_id}", headers=home.headers)).json()
    return found["category_name"]  # type: ignore[no-any-return]


async def test_the_uncategorised_are_proposed_applied_as_one_change_and_that_change_undone(
    ledger: httpx.AsyncClient, household: Callable[[], Any],
    give_defaults: Callable[[Any], Awaitable[Categories]],
) -> None:
    home = household()
    categories = await give_defaults(home)
    account_id = await _with_history(ledger, home, categories)
    savings = await open_account(ledger, home.headers, name="Savings", kind="savings")
    rewe = await _open(ledger, home, account_id, "REWE SAGT DANKE 7781 BERLIN", -2_790, "2025-04-02")
    shell = await _open(ledger, home, account_id, "SHELL 4321 HAMBURG", -5_890, "2025-04-03")
    phone = await _open(ledger, home, account_id, "Telekom Deutschland GmbH", -4_500, "2025-04-04")
    await _open(ledger, home, account_id, "Zzyzx Qwvb", -1_200, "2025-04-05")
    older = await _open(ledger, home, account_id, "REWE SAGT DANKE 1 BERLIN", -990, "2025-02-01")
    elsewhere = await _open(ledger, home, str(savings["id"]), "SHELL 99 HAMBURG", -4_000, "2025-04-06")
    # Neither a transfer nor a split transaction has one category to propose.
    await post_ok(ledger, home.headers, "/transfers", {
        "from_account_id": account_id, "to_account_id": savings["id"], "amount_minor": 10_000,
        "booked_on": "2025-04-07"})
    await post_ok(ledger, home.headers, "/transactions", {
        "account_id": account_id, "kind": "expense", "amount_minor": 3_000, "payee": "REWE", "splits": [
            {"category_id": categories["Groceries"]["id"], "amount_minor": 2_000},
            {"category_id": categories["Gifts"]["id"], "amount_minor": 1_000}]})

    listed = await ledger.get("/categorisations/proposals", headers=home.headers,
                              params={"account_id": account_id, "from_date": "2025-04-01"})
    assert listed.status_code == 200, listed.text
    proposals = listed.json()
    assert (proposals["uncategorised"], proposals["accept_above_pct"]) == (4, 90)
    by_id = {p["transaction_id"]: p for p in proposals["items"]}
    assert set(by_id) == {rewe["id"], shell["id"], phone["id"]} | {
        p["transaction_id"] for p in proposals["items"] if p["payee"] == "Zzyzx Qwvb"}
    for transaction, expected in ((rewe, "Groceries"), (shell, "Fuel"), (phone, "Internet & phone")):
        [best, *others] = by_id[transaction["id"]]["suggestions"]
        assert (best["category_name"], best["source"]) == (expected, "model"), best
        assert 0 < best["confidence"] <= 1
        assert all(o["confidence"] <= best["confidence"] for o in others)
    assert [p["booked_on"] for p in proposals["items"]] == sorted(
        (p["booked_on"] for p in proposals["items"]), reverse=True)
    everywhere = (await ledger.get("/categorisations/proposals", headers=home.headers)).json()
    assert everywhere["uncategorised"] == 6
    assert {p["transaction_id"] for p in everywhere["items"]} >= {older["id"], elsewhere["id"]}
    shells = (await ledger.get("/categorisations/proposals", params={"payee": "shell"},
                               headers=home.headers)).json()
    assert {p["transaction_id"] for p in shells["items"]} == {shell["id"], elsewhere["id"]}

    # The person takes two proposals and corrects one: one change, each event saying who chose.
    before = len(await stored_envelopes(ledger, home.tenant_id))
    applied = await ledger.post("/categorisations", headers=home.headers, json={"items": [
        {"transaction_id": rewe["id"], "category_id": categories["Groceries"]["id"],
         "expected_version": by_id[rewe["id"]]["version"]},
        {"transaction_id": phone["id"], "category_id": categories["Internet & phone"]["id"]},
        {"transaction_id": shell["id"], "category_id": categories["Transport"]["id"]}]})
    assert applied.status_code == 201, applied.text
    change = applied.json()
    assert (change["changed"], change["categorised_by"]) == (3, {"suggestion": 2, "person": 1, "rule": 0})
    events = (await stored_envelopes(ledger, home.tenant_id))[before:]
    assert {e["correlation_id"] for e in events} == {change["id"]}
    assert {e["stream_id"]: (e["type"], e["data"]["categorised_by"]) for e in events} == {
        rewe["id"]: ("ledger.TransactionAmended", "suggestion"),
        phone["id"]: ("ledger.TransactionAmended", "suggestion"),
        shell["id"]: ("ledger.TransactionAmended", "person")}
    assert [await _category_of(ledger, home, t["id"]) for t in (rewe, phone, shell)] == [
        "Groceries", "Internet & phone", "Transport"]
    left = (await ledger.get("/categorisations/proposals", params={"account_id": account_id,
                                                                   "from_date": "2025-04-01"},
                             headers=home.headers)).json()
    assert left["uncategorised"] == 1

    # Applying over them again is refused: they have a category now.
    again = await ledger.post("/categorisations", headers=home.headers, json={"items": [
        {"transaction_id": rewe["id"], "category_id": categories["Eating out"]["id"]}]})
    assert again.status_code == 409, again.text

    # A person changes one of them by hand; the undo reverts the others and leaves that one as it is.
    edited = await ledger.patch(f"/transactions/{phone['id']}", headers=home.headers, json={
        "category_id": categories["Utilities"]["id"], "expected_version": 2})
    assert edited.status_code == 200, edited.text
    undone = await ledger.post(f"/transactions/bulk/{change['id']}/undo", headers=home.headers)
    assert undone.status_code == 200, undone.text
    assert (undone.json()["undone"], undone.json()["kept"]) == (2, [phone["id"]])
    assert [await _category_of(ledger, home, t["id"]) for t in (rewe, phone, shell)] == [
        None, "Utilities", None]
    history = (await ledger.get(f"/transactions/{rewe['id']}/history", headers=home.headers)).json()["items"]
    assert [(h["change"], h["undoes"]) for h in history] == [("recorded", None), ("amended", None),
                                                             ("amended", 2)]
    twice = await ledger.post(f"/transactions/bulk/{change['id']}/undo", headers=home.headers)
    assert twice.status_code == 409, twice.text


async def test_other_households_ids_are_not_found_and_bad_input_is_refused_changing_nothing(
    ledger: httpx.AsyncClient, household: Callable[[], Any],
    give_defaults: Callable[[Any], Awaitable[Categories]],
) -> None:
    home, stranger = household(), household()
    categories, theirs = await give_defaults(home), await give_defaults(stranger)
    account = await open_account(ledger, home.headers, name="Giro")
    their_account = await open_account(ledger, stranger.headers, name="Giro")
    mine = await _open(ledger, home, account["id"], "REWE 1", -1_000, "2025-04-01")
    other = await _open(ledger, home, account["id"], "SHELL 2", -2_000, "2025-04-02")
    their = await _open(ledger, stranger, their_account["id"], "Aurelia-Secret-Payee", -3_000, "2025-04-03")
    applied = await post_ok(ledger, home.headers, "/categorisations", {"items": [
        {"transaction_id": other["id"], "category_id": categories["Fuel"]["id"]}]})
    groceries = categories["Groceries"]["id"]
    before = {h.tenant_id: len(await stored_envelopes(ledger, h.tenant_id)) for h in (home, stranger)}

    # Another household's transaction, category, account or change: not found, and nothing changes.
    refused = [
        {"items": [{"transaction_id": mine["id"], "category_id": groceries},
                   {"transaction_id": their["id"], "category_id": groceries}]},
        {"items": [{"transaction_id": mine["id"], "category_id": theirs["Groceries"]["id"]}]},
    ]
    for body in refused:
        answer = await ledger.post("/categorisations", json=body, headers=home.headers)
        assert answer.status_code == 404, answer.text
    for path, who in ((f"/transactions/bulk/{applied['id']}/undo", stranger),
                      (f"/transactions/bulk/{their['id']}/undo", home)):
        assert (await ledger.post(path, headers=who.headers)).status_code == 404
    assert (await ledger.get("/categorisations/proposals", params={"account_id": their_account["id"]},
                             headers=home.headers)).status_code == 404
    seen = (await ledger.get("/categorisations/proposals", headers=stranger.headers)).json()
    assert [p["payee"] for p in seen["items"]] == ["Aurelia-Secret-Payee"]

    # Bad input: a clear 4xx naming what is wrong.
    income = categories["Salary"]["id"]
    for body in (
        {"items": []}, {"items": [{"transaction_id": mine["id"]}]}, {},
        {"items": [{"transaction_id": mine["id"], "category_id": groceries}] * 2},
        {"items": [{"transaction_id": mine["id"], "category_id": income}]},  # an income category
        {"items": [{"transaction_id": mine["id"], "category_id": groceries, "note": "x"}]},
        {"items": [{"transaction_id": mine["id"], "category_id": groceries, "expected_version": 0}]},
        {"items": [{"transaction_id": "not-an-id", "category_id": groceries}]},
    ):
        answer = await ledger.post("/categorisations", json=body, headers=home.headers)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["detail"] or answer.json().get("errors")
    stale = await ledger.post("/categorisations", headers=home.headers, json={"items": [
        {"transaction_id": mine["id"], "category_id": groceries, "expected_version": 2}]})
    assert stale.status_code == 409, stale.text
    for params in ({"payee": "x" * 10_000}, {"payee": "RE\x00WE"}, {"payee": ""}, {"payee": "   "},
                   {"from_date": "2025-05-01", "to_date": "2025-04-01"}, {"limit": 0}, {"limit": 501},
                   {"from_date": "2025-02-30"}):
        answer = await ledger.get("/categorisations/proposals", params=params, headers=home.headers)
        assert answer.status_code == 422, (params, answer.text)
    typed = {"account_id": account["id"], "amount_minor": -1_000}
    for params in ({"payee": ""}, {"payee": "  "}, {"payee": "RE\x00WE"}, {"payee": "REWE", "note": "\x00"},
                   {"payee": "REWE", "note": "x" * 10_000}, {"payee": "x" * 10_000}):
        answer = await ledger.get("/categories/suggest", params={**typed, **params}, headers=home.headers)
        assert answer.status_code == 422, (params, answer.text)
    assert (await ledger.post("/categorisations", headers=home.viewer_headers, json={"items": [
        {"transaction_id": mine["id"], "category_id": groceries}]})).status_code == 403
    assert (await ledger.post(f"/transactions/bulk/{applied['id']}/undo",
                              headers=home.viewer_headers)).status_code == 403

    assert {h.tenant_id: len(await stored_envelopes(ledger, h.tenant_id)) for h in (home, stranger)} == before
    assert await _category_of(ledger, home, mine["id"]) is None


STATEMENT = (
    "Date,Payee,Description,Amount\n"
    "2025-{month}-02,REWE SAGT DANKE 9876 BERLIN,Kartenzahlung girocard,-31.20\n"
    "2025-{month}-03,SHELL 4321 HAMBURG,Kartenzahlung girocard,-58.90\n"
    "2025-{month}-05,Telekom Deutschland GmbH,Kundennr 4711 Rechnung,-45.00\n"
    "2025-{month}-06,Zzyzx Qwvb,Kartenzahlung girocard,-12.00\n"
)


@contextlib.asynccontextmanager
async def _training(ledger: httpx.AsyncClient) -> AsyncIterator[None]:
    """The trainer as the service runs it: a worker counting changes and training whoever is due."""
    stop = asyncio.Event()
    worker = asyncio.create_task(categorising.Trainer(_app(ledger).state.db, _app(ledger).state.settings)
                                 .run(stop))
    try:
        yield
    finally:
        stop.set()
        await worker


async def _categoriser_where(ledger: httpx.AsyncClient, home: Any,
                             condition: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    async def state() -> dict[str, Any] | None:
        found = dict((await ledger.get("/categoriser", headers=home.headers)).json())
        return found if condition(found) else None

    return await until(state, "the household's categoriser")


async def _import(ledger: httpx.AsyncClient, home: Any, account_id: str, month: str) -> dict[str, Any]:
    uploaded = await ledger.post("/imports", files={"file": (f"{month}.csv", STATEMENT.format(month=month))},
                                 data={"account_id": account_id}, headers=home.headers)
    assert uploaded.status_code == 201, uploaded.text
    return dict(uploaded.json())


async def test_a_correction_after_an_import_is_learnt_and_the_next_import_follows_it(
    ledger: httpx.AsyncClient, household: Callable[[], Any],
    give_defaults: Callable[[Any], Awaitable[Categories]],
) -> None:
    home = household()
    categories = await give_defaults(home)
    account_id = await _with_history(ledger, home, categories)
    async with _training(ledger):
        preview = await _import(ledger, home, account_id, "04")
        batch_id = preview["batch"]["id"]
        assert (await ledger.post(f"/imports/{batch_id}/confirm", json={}, headers=home.headers)
                ).status_code == 202
        assert (await finished(ledger, f"/imports/{batch_id}", home.headers))["status"] == "imported"
        april = {t["payee"]: t for t in (await ledger.get("/transactions", headers=home.headers, params={
            "from_date": "2025-04-01"})).json()["items"]}
        assert april["Telekom Deutschland GmbH"]["category_name"] == "Internet & phone"
        assert april["REWE SAGT DANKE 9876 BERLIN"]["category_name"] == "Groceries"
        stranger = april["Zzyzx Qwvb"]
        assert stranger["category_name"] != "Entertainment"
        # The import's categorised rows are learnt first: 30 examples, and those it recorded with one.
        learnt = 30 + sum(1 for t in april.values() if t["category_name"])
        settled = await _categoriser_where(ledger, home, lambda c: c["examples"] == learnt
                                           and c["changes_since_training"] == 0)

        # The person corrects the new merchant; the worker notices and trains again.
        corrected = await ledger.patch(f"/transactions/{stranger['id']}", headers=home.headers, json={
            "category_id": categories["Entertainment"]["id"], "expected_version": stranger["version"]})
        assert corrected.status_code == 200, corrected.text
        await _categoriser_where(ledger, home, lambda c: c["version"] > settled["version"])

    may = await _import(ledger, home, account_id, "05")
    [row] = [r for r in may["rows"] if r["payee"] == "Zzyzx Qwvb"]
    assert row["suggested_category_id"] == categories["Entertainment"]["id"], row
    assert row["source"] == "model"
