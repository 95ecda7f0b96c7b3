"""A statement finds its account: the bank account a file names (CAMT IBAN, OFX bank and account id, QIF
account name, MT940 :25:) is remembered on the Tally account it went into; an upload that names no
account goes there, or opens one with the statement's name and currency; a file of several accounts is
imported each into its own account in one batch (or one account at a time). And a row with only a memo
keeps it as the note, not as the payee."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from .ledger_helpers import open_account, wait_for_batch

STATEMENTS = Path(__file__).parent / "statements"
SPARKASSE = "sparkasse_camt053_2025-01.xml"
MULTI = "ofx_multi_account.ofx"


async def _upload(ledger: httpx.AsyncClient, headers: dict[str, str], name: str,
                  **fields: str) -> httpx.Response:
    data = (STATEMENTS / name).read_bytes()
    return await ledger.post("/imports", files={"file": (name, data)}, data=fields, headers=headers)


async def _confirm(ledger: httpx.AsyncClient, headers: dict[str, str], batch_id: str) -> dict[str, Any]:
    confirmed = await ledger.post(f"/imports/{batch_id}/confirm", json={}, headers=headers)
    assert confirmed.status_code == 202, confirmed.text
    return await wait_for_batch(ledger, headers, batch_id)


async def _accounts(ledger: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    return list((await ledger.get("/accounts", headers=headers)).json()["items"])


async def _balance(ledger: httpx.AsyncClient, headers: dict[str, str], account_id: str) -> int:
    return int((await ledger.get(f"/accounts/{account_id}/balance", headers=headers)).json()["balance_minor"])


async def test_a_statement_opens_its_account_once_and_finds_it_the_next_time(
    ledger: httpx.AsyncClient, household: Callable[[], Any]
) -> None:
    home = household()
    unknown = await _upload(ledger, home.headers, SPARKASSE)
    assert unknown.status_code == 422, unknown.text
    problem = unknown.json()
    assert "account_id=new" in problem["detail"]
    [named] = problem["accounts"]
    assert named["key"].startswith("iban:DE")
    assert (named["currency"], named["rows"], named["account_id"]) == ("EUR", 30, None)
    assert await _accounts(ledger, home.headers) == []  # nothing written

    opened = await _upload(ledger, home.headers, SPARKASSE, account_id="new")
    assert opened.status_code == 201, opened.text
    [account] = await _accounts(ledger, home.headers)
    assert account["currency"] == "EUR"
    assert opened.json()["batch"]["account_id"] == account["id"]
    assert opened.json()["accounts"][0]["account_id"] is None  # linked once confirmed
    assert (await _confirm(ledger, home.headers, opened.json()["batch"]["id"]))["rows_new"] == 30

    again = await _upload(ledger, home.headers, SPARKASSE)
    assert again.status_code == 201, again.text
    assert again.json()["batch"]["account_id"] == account["id"]
    assert again.json()["accounts"][0]["account_id"] == account["id"]
    assert again.json()["duplicates"] == 30
    assert len(await _accounts(ledger, home.headers)) == 1

    # Another household has no link to that bank account.
    other = household()
    assert (await _upload(ledger, other.headers, SPARKASSE)).status_code == 422


async def test_a_file_of_several_accounts_is_imported_each_into_its_own_account_in_one_batch(
    ledger: httpx.AsyncClient, household: Callable[[], Any]
) -> None:
    home = household()
    listed = await _upload(ledger, home.headers, MULTI)
    assert listed.status_code == 422, listed.text
    assert "say where each goes (accounts)" in listed.json()["detail"]
    named = listed.json()["accounts"]
    assert [(a["currency"], a["kind"], a["rows"]) for a in named] == [
        ("CAD", "checking", 2), ("USD", "savings", 2), ("CAD", "credit_card", 1)]
    checking, savings, _card = (a["key"] for a in named)
    dollars = await open_account(ledger, home.headers, "USD", name="Dollars", kind="savings")

    # Checked before anything is opened: an unknown key, an account in another currency.
    for accounts, status in [({"ofx:nope/1": "new"}, 422), ({checking: dollars["id"]}, 422), ("[1]", 422)]:
        raw = accounts if isinstance(accounts, str) else json.dumps(accounts)
        refused = await _upload(ledger, home.headers, MULTI, accounts=raw)
        assert refused.status_code == status, refused.text
    assert [a["name"] for a in await _accounts(ledger, home.headers)] == ["Dollars"]

    # Checking into a new account, savings into the person's dollar account, the card left out.
    uploaded = await _upload(ledger, home.headers, MULTI, accounts=json.dumps({checking: "new",
                                                                               savings: dollars["id"]}))
    assert uploaded.status_code == 201, uploaded.text
    preview = uploaded.json()
    targets = preview["batch"]["accounts"]
    assert set(targets) == {checking, savings}
    assert targets[savings] == dollars["id"]
    assert preview["rows_total"] == 4
    assert {r["account_id"] for r in preview["rows"]} == set(targets.values())
    batch = await _confirm(ledger, home.headers, preview["batch"]["id"])
    assert (batch["status"], batch["rows_new"]) == ("imported", 4), batch
    chequing = (await ledger.get("/transactions", params={"account_id": targets[checking]},
                                 headers=home.headers)).json()["items"]
    assert sorted(t["amount_minor"] for t in chequing) == [112_40, 2480_00]
    assert (await _balance(ledger, home.headers, dollars["id"])) == 1000_00 + 3_18

    # The next statement finds both by itself; the card (not linked) is opened with `new`, the others go
    # where they went, and what is there already is left out.
    again = await _upload(ledger, home.headers, MULTI, account_id="new")
    assert again.status_code == 201, again.text
    assert again.json()["batch"]["accounts"][savings] == dollars["id"]
    assert again.json()["duplicates"] == 4
    done = await _confirm(ledger, home.headers, again.json()["batch"]["id"])
    assert (done["rows_new"], done["rows_duplicate"]) == (1, 4)
    assert len(await _accounts(ledger, home.headers)) == 3

    # One undo takes out the whole first batch, in both accounts.
    undone = await ledger.post(f"/imports/{preview['batch']['id']}/undo", headers=home.headers)
    assert undone.status_code == 202
    assert (await wait_for_batch(ledger, home.headers, preview["batch"]["id"]))["status"] == "undone"
    assert await _balance(ledger, home.headers, dollars["id"]) == 0

    # One account at a time still works: `source` picks one.
    one = await _upload(ledger, home.headers, MULTI, account_id=dollars["id"], source=savings)
    assert (one.status_code, one.json()["batch"]["source_key"]) == (201, savings)


async def test_a_row_with_only_a_memo_keeps_it_as_the_note(
    ledger: httpx.AsyncClient, household: Callable[[], Any]
) -> None:
    home = household()
    uploaded = await _upload(ledger, home.headers, MULTI, account_id="new", source="ofx:000300001/4098765")
    assert uploaded.status_code == 201, uploaded.text
    await _confirm(ledger, home.headers, uploaded.json()["batch"]["id"])
    [account] = await _accounts(ledger, home.headers)
    items = (await ledger.get("/transactions", params={"account_id": account["id"]},
                              headers=home.headers)).json()["items"]
    named = {t["payee"]: t["note"] for t in items}
    assert named["Transfer from chequing"] == ""
    memo_only = [t for t in items if t["payee"] == ""]
    assert all(t["note"] for t in memo_only)


async def test_an_mt940_file_uploads_under_its_own_extension_and_opens_its_account(
    ledger: httpx.AsyncClient, household: Callable[[], Any]
) -> None:
    home = household()
    uploaded = await _upload(ledger, home.headers, "mt940_ing_nl_2025-04.mt940", account_id="new")
    assert uploaded.status_code == 201, uploaded.text
    preview = uploaded.json()
    assert preview["batch"]["format"] == "mt940"
    [named] = preview["accounts"]
    assert named["key"].startswith("iban:NL")
    batch = await _confirm(ledger, home.headers, preview["batch"]["id"])
    assert (batch["status"], batch["rows_new"]) == ("imported", named["rows"])
