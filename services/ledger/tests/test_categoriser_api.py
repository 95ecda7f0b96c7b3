"""The learned categoriser through the ledger's HTTP API on a real database: a household with categorised
history imports a statement and sees its rows suggested, an empty-body confirm records the confident
ones (marked on their events), per-row choices win, a person's corrections are learnt at the next
training; households never see each other's; bad input gets a clear answer."""

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest_asyncio

from tally_ledger import categorising
from tally_ledger.main import MIGRATIONS, create_app
from tally_ledger.settings import LedgerSettings

from .ledger_helpers import open_account, stored_envelopes, wait_for_batch


@pytest_asyncio.fixture
async def ledger(service_client: Callable[..., Awaitable[httpx.AsyncClient]]) -> httpx.AsyncClient:
    # Training in a worker thread (no process pool to start); a household retrains after 3 changes.
    return await service_client(create_app, LedgerSettings, MIGRATIONS, categoriser_processes=0,
                                categoriser_retrain_after=3)


async def _april(ledger: httpx.AsyncClient, home: Any, account_id: str) -> list[dict[str, Any]]:
    listed = (await ledger.get("/transactions", params={"account_id": account_id, "limit": 500},
                               headers=home.headers)).json()["items"]
    return [t for t in listed if t["booked_on"] >= "2025-04-01"]


def _trainer(ledger: httpx.AsyncClient) -> categorising.Trainer:
    app: Any = ledger.app  # type: ignore[attr-defined]
    return categorising.Trainer(app.state.db, app.state.settings)


HISTORY = [  # payee, note, amount in cents (negative: out), category
    ("REWE SAGT DANKE {n} BERLIN", "Kartenzahlung girocard", -2_300, "Groceries"),
    ("SHELL {n} HAMBURG", "Kartenzahlung girocard", -6_100, "Fuel"),
    ("Telekom Deutschland GmbH", "Kundennr 4711 Rechnung", -4_500, "Internet & phone"),
    ("SUMUP *Trattoria Roma {n}", "", -3_400, "Eating out"),
    ("Backhaus Weber", "EC 1234", -650, "Groceries"),  # corrected to Eating out below
    ("ACME GmbH", "LOHN/GEHALT", 300_000, "Salary"),
]
STATEMENT = (
    "Date,Payee,Description,Amount\n"
    "2025-{month}-02,REWE SAGT DANKE 9876 BERLIN,Kartenzahlung girocard 02.04.,-31.20\n"
    "2025-{month}-03,SHELL 4321 HAMBURG,Kartenzahlung girocard,-58.90\n"
    "2025-{month}-04,PAYPAL *TRATTORIAROMA,,-41.00\n"
    "2025-{month}-05,Telekom Deutschland GmbH,Kundennr 4711 Rechnung 04/2025,-45.00\n"
    "2025-{month}-06,Backhaus Weber,EC 5678,-7.10\n"
    "2025-{month}-27,ACME GmbH,LOHN/GEHALT 04/2025,3000.00\n"
    "2025-{month}-28,Zzyzx Qwvb,,-12.00\n"
)


async def _household_with_history(ledger: httpx.AsyncClient, home: Any,
                                  categories: dict[str, dict[str, Any]]) -> tuple[str, list[str]]:
    account = await open_account(ledger, home.headers, name="Giro")
    bakery = []
    for n in range(7):
        for payee, note, amount, category in HISTORY:
            recorded = await ledger.post("/transactions", headers=home.headers, json={
                "account_id": account["id"], "kind": "income" if amount > 0 else "expense",
                "amount_minor": abs(amount) + n * 13, "payee": payee.format(n=1000 + n), "note": note,
                "category_id": categories[category]["id"], "booked_on": f"2025-03-{n + 1:02d}"})
            assert recorded.status_code == 201, recorded.text
            if payee.startswith("Backhaus"):
                bakery.append(recorded.json()["id"])
    return account["id"], bakery


async def _upload(ledger: httpx.AsyncClient, home: Any, account_id: str,
                  month: str = "04") -> dict[str, Any]:
    statement = STATEMENT.format(month=month).encode()
    uploaded = await ledger.post("/imports", files={"file": (f"{month}.csv", statement)},
                                 data={"account_id": account_id}, headers=home.headers)
    assert uploaded.status_code == 201, uploaded.text
    return dict(uploaded.json())


async def test_a_statement_arrives_categorised_and_corrections_are_learnt(
    ledger: httpx.AsyncClient, household: Callable[[], Any],
    give_defaults: Callable[[Any], Awaitable[dict[str, dict[str, Any]]]],
) -> None:
    home, other = household(), household()
    categories = await give_defaults(home)
    names = {c["id"]: name for name, c in categories.items()}
    account_id, bakery = await _household_with_history(ledger, home, categories)
    trainer = _trainer(ledger)

    before = (await ledger.get("/categoriser", headers=home.headers)).json()
    assert (before["method"], before["version"], before["accept_above_pct"]) == (None, 0, 90)
    assert await trainer.run_once() == 1  # 42 categorised transactions counted: trained now
    trained = (await ledger.get("/categoriser", headers=home.headers)).json()
    assert (trained["method"], trained["version"], trained["examples"], trained["categories"],
            trained["changes_since_training"]) == ("model", 1, 42, 5, 0)
    assert await trainer.run_once() == 0  # nothing new

    # The preview shows each row's suggestion; a payee never seen gets none or a low one.
    preview = await _upload(ledger, home, account_id)
    rows = {r["payee"]: r for r in preview["rows"]}
    assert preview["accept_above_pct"] == 90
    expected = {"REWE SAGT DANKE 9876 BERLIN": "Groceries", "SHELL 4321 HAMBURG": "Fuel",
                "PAYPAL *TRATTORIAROMA": "Eating out", "Telekom Deutschland GmbH": "Internet & phone",
                "Backhaus Weber": "Groceries", "ACME GmbH": "Salary"}
    for payee, category in expected.items():
        assert names[rows[payee]["suggested_category_id"]] == category, rows[payee]
        assert rows[payee]["source"] == "model"
    assert rows["Telekom Deutschland GmbH"]["confidence"] >= 0.9
    assert rows["Zzyzx Qwvb"].get("confidence", 0) < 0.9

    # An empty-body confirm records the suggestions at or above the threshold, marked as such.
    batch_id = preview["batch"]["id"]
    confirmed = await ledger.post(f"/imports/{batch_id}/confirm", json={}, headers=home.headers)
    assert confirmed.status_code == 202
    assert (await wait_for_batch(ledger, home.headers, batch_id))["status"] == "imported"
    got = {t["payee"]: t["category_name"] for t in await _april(ledger, home, account_id)}
    sure = {p for p, r in rows.items() if r.get("confidence", 0) >= 0.9}
    assert {"Telekom Deutschland GmbH", "REWE SAGT DANKE 9876 BERLIN", "ACME GmbH"} <= sure
    assert {p: got[p] for p in sure} == {p: expected[p] for p in sure}
    assert got["Zzyzx Qwvb"] is None
    app: Any = ledger.app  # type: ignore[attr-defined]
    envelopes = await stored_envelopes(ledger, home.tenant_id, "ledger.TransactionRecorded")
    marks = {e["data"]["payee"]: e["data"]["categorised_by"] for e in envelopes
             if e["correlation_id"] == batch_id}
    assert marks == {p: "suggestion" if p in sure else None for p in rows}

    # A person corrects the bakery (Eating out, not Groceries); once retrained, the next import follows.
    for transaction_id in bakery[:3]:
        amended = await ledger.patch(f"/transactions/{transaction_id}", headers=home.headers, json={
            "category_id": categories["Eating out"]["id"], "expected_version": 1})
        assert amended.status_code == 200, amended.text
    await categorising.count_changes(app.state.db)
    assert (await ledger.get("/categoriser", headers=home.headers)).json()["changes_since_training"] >= 3
    for transaction_id in bakery[3:]:
        amended = await ledger.patch(f"/transactions/{transaction_id}", headers=home.headers, json={
            "category_id": categories["Eating out"]["id"], "expected_version": 1})
        assert amended.status_code == 200, amended.text
    assert await trainer.run_once() == 1
    again = await _upload(ledger, home, account_id, "05")
    [bread] = [r for r in again["rows"] if r["payee"] == "Backhaus Weber"]
    assert names[bread["suggested_category_id"]] == "Eating out"

    # Per-row choices win over rules and suggestions; null leaves a row uncategorised.
    await give_defaults(other)
    [shell] = [r for r in again["rows"] if r["payee"].startswith("SHELL")]
    choices = {shell["where"]: categories["Transport"]["id"], bread["where"]: None}
    confirmed = await ledger.post(f"/imports/{again['batch']['id']}/confirm", headers=home.headers,
                                  json={"categories": choices, "accept_suggestions": True})
    assert confirmed.status_code == 202, confirmed.text
    assert (await wait_for_batch(ledger, home.headers, again["batch"]["id"]))["status"] == "imported"
    envelopes = await stored_envelopes(ledger, home.tenant_id, "ledger.TransactionRecorded")
    second = {e["data"]["payee"]: (names.get(e["data"]["category_id"]), e["data"]["categorised_by"])
              for e in envelopes if e["correlation_id"] == again["batch"]["id"]}
    assert second["SHELL 4321 HAMBURG"] == ("Transport", "person")
    assert second["Backhaus Weber"] == (None, None)
    assert second["Telekom Deutschland GmbH"] == ("Internet & phone", "suggestion")


@pytest_asyncio.fixture
async def trained_home(ledger: httpx.AsyncClient, household: Callable[[], Any],
                       give_defaults: Callable[[Any], Awaitable[dict[str, dict[str, Any]]]],
                       ) -> tuple[Any, str]:
    home = household()
    categories = await give_defaults(home)
    account_id, _ = await _household_with_history(ledger, home, categories)
    assert await _trainer(ledger).run_once() == 1
    return home, account_id


async def test_suggestions_for_an_entry_stay_in_their_household_and_bad_input_gets_a_clear_answer(
    ledger: httpx.AsyncClient, household: Callable[[], Any], trained_home: tuple[Any, str],
    give_defaults: Callable[[Any], Awaitable[dict[str, dict[str, Any]]]],
) -> None:
    home, account_id = trained_home
    params = {"payee": "SHELL 77 HAMBURG", "amount_minor": -5_900, "account_id": account_id}
    found = await ledger.get("/categories/suggest", params=params, headers=home.headers)
    assert found.status_code == 200, found.text
    [best, *_] = found.json()["items"]
    assert (best["category_name"], best["source"]) == ("Fuel", "model")
    assert len(found.json()["items"]) <= 3

    # Another household: its own account, no history → nothing suggested from the first one's data;
    # the first one's account is not found.
    stranger = household()
    await give_defaults(stranger)
    own = await open_account(ledger, stranger.headers, name="Giro")
    theirs = await ledger.get("/categories/suggest", headers=stranger.headers,
                              params={**params, "account_id": own["id"]})
    assert (theirs.status_code, theirs.json()["items"]) == (200, [])
    not_theirs = await ledger.get("/categories/suggest", params=params, headers=stranger.headers)
    assert not_theirs.status_code == 404
    preview = await _upload(ledger, stranger, own["id"])
    assert not any("suggested_category_id" in r for r in preview["rows"])

    # Bad input: a clear 4xx or a sane answer, never a 500.
    odd = [{"payee": ""}, {"payee": "\x00REWE\x00"}, {"payee": "💸"}, {"amount_minor": 0},
           {"note": "x" * 1000}, {"booked_on": "2025-02-29"}]
    for change in odd:
        answer = await ledger.get("/categories/suggest", params={**params, **change}, headers=home.headers)
        assert answer.status_code in (200, 400, 422), (change, answer.text)
        if change.get("booked_on"):
            assert answer.status_code in (400, 422)
        if answer.status_code == 200:
            assert all(0 <= s["confidence"] <= 1 for s in answer.json()["items"])
    for change in ({"note": "x" * 10_000}, {"payee": "p" * 201}, {"amount_minor": "ten"},
                   {"amount_minor": 10**16}, {"account_id": "nope"}):
        answer = await ledger.get("/categories/suggest", params={**params, **change}, headers=home.headers)
        assert answer.status_code in (400, 422), (change, answer.text)
    missing = await ledger.get("/categories/suggest", params={"payee": "x"}, headers=home.headers)
    assert missing.status_code in (400, 422)

    # The threshold is the household's setting; viewers may read it, only members who write change it.
    assert (await ledger.patch("/categoriser", json={"accept_above_pct": 75},
                               headers=home.headers)).json()["accept_above_pct"] == 75
    assert (await ledger.patch("/categoriser", json={"accept_above_pct": 75},
                               headers=home.viewer_headers)).status_code == 403
    for bad in ({"accept_above_pct": 20}, {"accept_above_pct": 101}, {"other": 1}, {}):
        assert (await ledger.patch("/categoriser", json=bad, headers=home.headers)).status_code in (400, 422)
    assert (await ledger.get("/categoriser", headers=stranger.headers)).json()["accept_above_pct"] == 90

    # Choices on confirm are checked before anything is recorded.
    preview = await _upload(ledger, home, account_id)
    batch_id, where = preview["batch"]["id"], preview["rows"][0]["where"]
    categories = {c["name"]: c["id"] for c in (await ledger.get("/categories", headers=home.headers)).json()[
        "items"]}
    for choices in ({"row 999": None}, {where: categories["Salary"]}, {where: str(own["id"])}):
        answer = await ledger.post(f"/imports/{batch_id}/confirm", json={"categories": choices},
                                   headers=home.headers)
        assert answer.status_code in (400, 422), (choices, answer.text)
    assert (await ledger.get(f"/imports/{batch_id}", headers=home.headers)).json()["status"] == "uploaded"


async def test_a_quiet_household_has_its_last_few_corrections_learnt(
    ledger: httpx.AsyncClient, trained_home: tuple[Any, str],
) -> None:
    home, account_id = trained_home
    first = (await ledger.get("/transactions", params={"account_id": account_id, "limit": 1},
                              headers=home.headers)).json()["items"][0]
    uncategorised = await ledger.patch(f"/transactions/{first['id']}", headers=home.headers,
                                       json={"category_id": None, "expected_version": first["version"]})
    assert uncategorised.status_code == 200, uncategorised.text
    trainer = _trainer(ledger)
    # One change of the three that make a busy household due: not yet...
    assert await trainer.run_once() == 0
    assert (await ledger.get("/categoriser", headers=home.headers)).json()["changes_since_training"] == 1
    # ...but once the household has been quiet for `categoriser_quiet_s`, it is.
    quiet = categorising.Trainer(trainer.db, trainer.settings.model_copy(update={"categoriser_quiet_s": 0}))
    assert await quiet.run_once() == 1
    learnt = (await ledger.get("/categoriser", headers=home.headers)).json()
    assert (learnt["version"], learnt["changes_since_training"]) == (2, 0)
