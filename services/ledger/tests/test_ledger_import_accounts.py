"""A statement finds its account: the bank account a file names (CAMT IBAN, OFX bank and account id, QIF
account name, MT940 :25:) is remembered on the Tally account it went into; an upload that names no
account goes there, or opens one with the statement's name and currency; a file of several accounts is
imported one account at a time. And a row with only a memo keeps it as the note, not as the payee."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tallystack.polling import finished

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
    return await finished(ledger, f"/imports/{batch_id}", headers)


async def _accounts(ledger: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    return list((await ledger.get("/accounts", headers=headers)).json()["items"])


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


async def test_a_file_of_several_accounts_is_imported_one_account_at_a_time(
    ledger: httpx.AsyncClient, household: Callable[[], Any]
) -> None:
    home = household()
    listed = await _upload(ledger, home.headers, MULTI, account_id="new")
    assert listed.status_code == 422, listed.text
    named = listed.json()["accounts"]
    assert [(a["currency"], a["kind"], a["rows"]) for a in named] == [
        ("CAD", "checking", 2), ("USD", "savings", 2), ("CAD", "credit_card", 1)]

    opened: dict[str, str] = {}
    for found in named:
        uploaded = await _upload(ledger, home.headers, MULTI, account_id="new", source=found["key"])
        assert uploaded.status_code == 201, uploaded.text
        assert uploaded.json()["batch"]["source_key"] == found["key"]
        batch = await _confirm(ledger, home.headers, uploaded.json()["batch"]["id"])
        assert (batch["status"], batch["rows_new"]) == ("imported", found["rows"]), batch
        opened[found["key"]] = uploaded.json()["batch"]["account_id"]
    accounts = {a["id"]: a for a in await _accounts(ledger, home.headers)}
    assert [(accounts[i]["currency"], accounts[i]["kind"]) for i in opened.values()] == [
        ("CAD", "checking"), ("USD", "savings"), ("CAD", "credit_card")]
    chequing = (await ledger.get("/transactions", params={"account_id": opened[named[0]["key"]]},
                                 headers=home.headers)).json()["items"]
    assert sorted(t["amount_minor"] for t in chequing) == [112_40, 2480_00]

    # Uploaded into a chosen account, the file takes the rows of the bank account linked to it.
    savings = await _upload(ledger, home.headers, MULTI, account_id=opened[named[1]["key"]])
    assert savings.status_code == 201, savings.text
    assert savings.json()["batch"]["source_key"] == named[1]["key"]
    assert savings.json()["duplicates"] == 2
    bad = await _upload(ledger, home.headers, MULTI, source="ofx:nope/1")
    assert bad.status_code == 422


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
