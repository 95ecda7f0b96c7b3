"""Statement import through the HTTP API on a real database: upload → preview → confirm → undo,
duplicates, saved mappings, tenant isolation, and bad uploads that change nothing."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text, union_all

from tally_ledger import batches, import_api, projections, tables, totals
from tallykit.errors import InvalidInput
from tallykit.events import Envelope

from .ledger_helpers import (
    import_file,
    list_transactions,
    open_account,
    read_balance,
    upload_file,
    wait_for_batch,
)

Snapshot = Callable[[], Awaitable[dict[str, list[dict[str, Any]]]]]


async def test_a_camt_statement_goes_from_upload_to_transactions_and_back(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot
) -> None:
    home = household()
    account = await open_account(ledger, home.headers, opening_balance_minor=100_00)
    uploaded = await upload_file(ledger, home.headers, account["id"], "sparkasse_camt053_2025-01.xml")
    assert uploaded.status_code == 201, uploaded.text
    preview = uploaded.json()
    assert preview["batch"]["status"] == "uploaded"
    assert preview["batch"]["format"] == "camt053"
    assert (preview["rows_total"], preview["duplicates"], preview["problem"]) == (30, 0, None)
    assert preview["rows"][0] == {"where": "Stmt[1]/Ntry[1]", "booked_on": "2025-01-05",
                                  "amount_minor": -6875, "payee": "Telekom Deutschland GmbH",
                                  "description": "Kundenkonto 55001234 Rechnung 01/2025",
                                  "bank_id": "2025010500000SPK", "duplicate": False}
    assert await list_transactions(ledger, home.headers, account["id"]) == []  # nothing before confirming

    batch_id = preview["batch"]["id"]
    confirmed = await ledger.post(f"/imports/{batch_id}/confirm", json={}, headers=home.headers)
    assert confirmed.status_code == 202
    done = await wait_for_batch(ledger, home.headers, batch_id)
    assert {k: done[k] for k in ("status", "rows_total", "rows_done", "rows_new", "rows_duplicate")} == {
        "status": "imported", "rows_total": 30, "rows_done": 30, "rows_new": 30, "rows_duplicate": 0}
    assert (await ledger.get(f"/imports/{batch_id}", headers=home.headers)).json() == done
    assert await read_balance(ledger, home.headers, account["id"]) == 100_00 + 690_057
    listed = await list_transactions(ledger, home.headers, account["id"])
    assert len(listed) == 30
    telekom = next(t for t in listed if t["booked_on"] == "2025-01-05" and t["amount_minor"] == 6875)
    assert (telekom["kind"], telekom["payee"], telekom["note"]) == (
        "expense", "Telekom Deutschland GmbH", "Kundenkonto 55001234 Rechnung 01/2025")

    state = await snapshot()
    imported = [Envelope.model_validate(r["envelope"]) for r in state["event_store"]
                if r["envelope"]["correlation_id"] == batch_id]
    assert len(imported) == 30
    assert {e.type for e in imported} == {"ledger.TransactionRecorded"}
    assert {e.actor for e in imported} == {str(home.owner_id)}
    assert [r["envelope"] for r in state["outbox"]] == [r["envelope"] for r in state["event_store"]]

    started = await ledger.post(f"/imports/{batch_id}/undo", json={}, headers=home.headers)
    assert (started.status_code, started.json()["status"]) == (202, "undoing")
    undone = await wait_for_batch(ledger, home.headers, batch_id)
    assert (undone["status"], undone["rows_done"]) == ("undone", 0)
    assert await read_balance(ledger, home.headers, account["id"]) == 100_00
    assert await list_transactions(ledger, home.headers, account["id"]) == []
    again = await ledger.post(f"/imports/{batch_id}/undo", json={}, headers=home.headers)
    assert again.status_code == 409


async def test_importing_the_same_file_twice_adds_nothing_for_every_format(
    ledger: httpx.AsyncClient, household: Callable[[], Any]
) -> None:
    home = household()
    for name, currency in [("wellsfargo_checking_2025-01_ofx1.qfx", "USD"),
                           ("quicken_checking_2025-01_us.qif", "USD"),
                           ("dkb_girokonto_2025-01_windows1252.csv", "EUR")]:
        account = await open_account(ledger, home.headers, currency)
        first = await import_file(ledger, home.headers, account["id"], name)
        balance = await read_balance(ledger, home.headers, account["id"])
        second = await import_file(ledger, home.headers, account["id"], name)
        assert first["rows_new"] == first["rows_total"] > 20, name
        assert (second["rows_new"], second["rows_duplicate"]) == (0, first["rows_total"]), name
        assert await read_balance(ledger, home.headers, account["id"]) == balance
        preview = (await upload_file(ledger, home.headers, account["id"], name)).json()
        assert preview["duplicates"] == preview["rows_total"]
        assert all(r["duplicate"] for r in preview["rows"])


async def test_undo_removes_exactly_its_batch(ledger: httpx.AsyncClient,
                                              household: Callable[[], Any]) -> None:
    home = household()
    account = await open_account(ledger, home.headers, "USD")
    by_hand = await ledger.post("/transactions", json={"account_id": account["id"], "kind": "expense",
                                                       "amount_minor": 1234, "booked_on": "2025-01-10"},
                                headers=home.headers)
    assert by_hand.status_code == 201
    first = await import_file(ledger, home.headers, account["id"], "quicken_checking_2025-01_us.qif")
    after_first = await read_balance(ledger, home.headers, account["id"])
    second = await import_file(ledger, home.headers, account["id"], "wellsfargo_checking_2025-01_ofx1.qfx")
    assert second["rows_new"] == 27
    undone = await ledger.post(f"/imports/{second['id']}/undo", headers=home.headers)
    assert undone.status_code == 202, undone.text
    assert (await wait_for_batch(ledger, home.headers, second["id"]))["status"] == "undone"
    assert await read_balance(ledger, home.headers, account["id"]) == after_first == -1234 - 1_120_125
    left = await list_transactions(ledger, home.headers, account["id"])
    assert len(left) == 1 + first["rows_new"]
    assert by_hand.json()["id"] in {t["id"] for t in left}
    # undone rows are no longer duplicates: importing the file again records them again
    again = await import_file(ledger, home.headers, account["id"], "wellsfargo_checking_2025-01_ofx1.qfx")
    assert again["rows_new"] == 27


async def test_csv_mapping_preview_confirm_and_saved_per_bank(
    ledger: httpx.AsyncClient, household: Callable[[], Any]
) -> None:
    home = household()
    account = await open_account(ledger, home.headers)
    preview = (await upload_file(ledger, home.headers, account["id"], "ambiguous_dates.csv")).json()
    assert preview["date_formats"] == ["%d/%m/%Y", "%m/%d/%Y"]
    assert preview["headers"] == ["Date", "Payee", "Amount"]
    batch_id = preview["batch"]["id"]
    mapping = {**preview["mapping"], "date_format": "%m/%d/%Y"}
    corrected = (await ledger.post(f"/imports/{batch_id}/preview", json={"mapping": mapping},
                                   headers=home.headers)).json()
    assert corrected["rows"][3]["booked_on"] == "2025-11-03"
    confirmed = await ledger.post(f"/imports/{batch_id}/confirm",
                                  json={"mapping": mapping, "save_mapping_as": "Corner Bank"},
                                  headers=home.headers)
    assert confirmed.status_code == 202
    assert (await wait_for_batch(ledger, home.headers, batch_id))["rows_new"] == 8
    dates = {t["booked_on"] for t in await list_transactions(ledger, home.headers, account["id"])}
    assert "2025-11-03" in dates
    assert "2025-03-11" not in dates
    saved = (await ledger.get("/imports/mappings", headers=home.headers)).json()
    assert saved == {"items": [{"name": "Corner Bank", "mapping": mapping}]}
    # the next upload from the same bank uses the saved mapping
    other = await open_account(ledger, home.headers)
    reused = (await upload_file(ledger, home.headers, other["id"], "ambiguous_dates.csv",
                            mapping_name="Corner Bank")).json()
    assert reused["mapping"] == mapping
    assert reused["rows"][3]["booked_on"] == "2025-11-03"
    assert (await ledger.delete("/imports/mappings/Corner Bank", headers=home.headers)).status_code == 204
    assert (await ledger.delete("/imports/mappings/Corner Bank", headers=home.headers)).status_code == 404


async def test_a_csv_row_that_cannot_be_read_is_named_and_confirming_adds_nothing(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot
) -> None:
    home = household()
    account = await open_account(ledger, home.headers, "USD")
    preview = (await upload_file(ledger, home.headers, account["id"], "broken_date.csv")).json()
    assert preview["problem"] == "line 13, column 2: '02/30/2025' is not a date like %m/%d/%Y"
    before = await snapshot()
    confirmed = await ledger.post(f"/imports/{preview['batch']['id']}/confirm", json={}, headers=home.headers)
    assert confirmed.status_code == 422
    assert confirmed.headers["content-type"] == "application/problem+json"
    assert "line 13, column 2" in confirmed.json()["detail"]
    assert await snapshot() == before


@pytest.mark.parametrize(("name", "status", "detail"), [
    ("broken_amount.ofx", 422, "line 86, STMTTRN 6, TRNAMT"),
    ("broken_header.ofx", 422, "OFX header"),
    ("broken_missing_caret.qif", 422, "line 189"),
    ("broken_malformed_camt053.xml", 422, "line 70, column 12"),
    ("broken_xxe_camt053.xml", 422, "DTDForbidden"),
    ("broken_not_a_statement.csv", 422, "no column holds dates"),
    ("statement.pdf", 415, "is not a statement"),
    ("sparkasse_camt053_2025-01.xml", 422, "the statement is in EUR, the account keeps USD"),
])
async def test_bad_uploads_get_a_problem_and_write_nothing(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot, name: str, status: int,
    detail: str
) -> None:
    home = household()
    account = await open_account(ledger, home.headers, "USD")
    content = b"%PDF-1.7 ..." if name.endswith(".pdf") else None
    before = await snapshot()
    response = await upload_file(ledger, home.headers, account["id"], name, content)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]
    assert await snapshot() == before
    assert (await ledger.get("/imports", headers=home.headers)).json() == {"items": []}


async def test_malformed_requests_are_refused(ledger: httpx.AsyncClient, household: Callable[[], Any],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    home = household()
    account = await open_account(ledger, home.headers)
    name = "sparkasse_camt053_2025-01.xml"
    assert (await upload_file(ledger, home.headers, "not-a-uuid", name)).status_code == 422
    assert (await upload_file(ledger, home.headers, account["id"], name, b"   ")).status_code == 422
    no_file = await ledger.post("/imports", files={"account_id": (None, account["id"])}, headers=home.headers)
    assert no_file.status_code == 422
    as_json = await ledger.post("/imports", json={"account_id": account["id"]}, headers=home.headers)
    assert as_json.status_code == 415
    monkeypatch.setattr(import_api, "MAX_UPLOAD_BYTES", 1000)
    too_big = await upload_file(ledger, home.headers, account["id"], name)
    assert too_big.status_code == 413
    assert too_big.json()["title"] == "Content too large"
    monkeypatch.undo()
    viewer = await upload_file(ledger, home.viewer_headers, account["id"], name)
    assert viewer.status_code == 403
    batch_id = (await upload_file(ledger, home.headers, account["id"], name)).json()["batch"]["id"]
    extra = await ledger.post(f"/imports/{batch_id}/confirm", json={"surprise": 1}, headers=home.headers)
    assert extra.status_code == 422
    mapping = await ledger.post(f"/imports/{batch_id}/confirm", json={"save_mapping_as": "x"},
                                headers=home.headers)
    assert mapping.status_code == 422
    assert (await ledger.post(f"/imports/{batch_id}/confirm", json={}, headers=home.viewer_headers)
            ).status_code == 403
    confirm = f"/imports/{batch_id}/confirm"
    assert (await ledger.post(confirm, json={}, headers=home.headers)).status_code == 202
    assert (await ledger.post(confirm, json={}, headers=home.headers)).status_code == 409
    assert (await ledger.post(f"/imports/{batch_id}/undo", headers=home.viewer_headers)).status_code == 403


async def test_another_household_cannot_see_confirm_or_undo_a_batch(
    ledger: httpx.AsyncClient, household: Callable[[], Any]
) -> None:
    home, stranger = household(), household()
    account = await open_account(ledger, home.headers)
    batch_id = (await upload_file(ledger, home.headers, account["id"], "sparkasse_camt053_2025-01.xml")
                ).json()["batch"]["id"]
    assert (await ledger.get(f"/imports/{batch_id}", headers=stranger.headers)).status_code == 404
    assert (await ledger.get("/imports", headers=stranger.headers)).json() == {"items": []}
    for action, body in [("confirm", {}), ("undo", None)]:
        response = await ledger.post(f"/imports/{batch_id}/{action}", json=body, headers=stranger.headers)
        assert response.status_code == 404, action
    into_theirs = await upload_file(ledger, stranger.headers, account["id"], "sparkasse_camt053_2025-01.xml")
    assert into_theirs.status_code == 404
    await ledger.post(f"/imports/{batch_id}/confirm", json={}, headers=home.headers)
    assert (await ledger.post(f"/imports/{batch_id}/undo", headers=stranger.headers)).status_code == 404
    assert (await ledger.get(f"/imports/{batch_id}", headers=home.headers)).json()["status"] == "imported"


async def _read_models(ledger: httpx.AsyncClient) -> dict[str, list[dict[str, Any]]]:
    """Every read model's rows; the search totals as what they add up to (their change log holds a row
    per statement, so one statement of a rebuild and many of imports give other rows of the same sums)."""
    app: Any = ledger.app  # type: ignore[attr-defined]
    summed = (totals.transaction_sums, totals.transaction_sum_changes)
    result = {}
    async with app.state.db.read() as session:
        for table in tables.READ_MODELS:
            if table in summed:
                continue
            query = select(table).order_by(*table.primary_key.columns)
            result[table.name] = [dict(r._mapping) for r in await session.execute(query)]
        both = union_all(*(select(t) for t in summed)).subquery()
        key = [both.c[name] for name in totals.DIMENSIONS]
        folded = await session.execute(
            select(*key, func.sum(both.c.entries), func.sum(both.c.amount_minor)).group_by(*key)
            .having(func.sum(both.c.entries) != 0).order_by(*key))
        result["totals"] = [tuple(row) for row in folded]
    return result


async def test_imported_rows_project_as_a_rebuild_from_the_event_store_does(
    ledger: httpx.AsyncClient, household: Callable[[], Any], give_defaults: Any
) -> None:
    home = household()
    await give_defaults(home)
    account = await open_account(ledger, home.headers, "USD", opening_balance_minor=5_000)
    await ledger.post("/transactions", json={"account_id": account["id"], "kind": "expense",
                                             "amount_minor": 700, "payee": "kroger #512",
                                             "booked_on": "2025-01-03"}, headers=home.headers)
    await import_file(ledger, home.headers, account["id"], "quicken_checking_2025-01_us.qif")
    undone = await import_file(ledger, home.headers, account["id"], "wellsfargo_checking_2025-01_ofx1.qfx")
    assert (await ledger.post(f"/imports/{undone['id']}/undo", headers=home.headers)).status_code == 202
    await import_file(ledger, home.headers, account["id"], "bankofamerica_visa_2025-02_ofx2.ofx")
    projected = await _read_models(ledger)
    assert len(projected["transactions"]) == 1 + 26 + 27 + 24
    assert await projections.rebuild(ledger.app.state.db) > 0  # type: ignore[attr-defined]
    assert await _read_models(ledger) == projected


async def test_one_import_into_an_account_at_a_time(ledger: httpx.AsyncClient,
                                                    household: Callable[[], Any]) -> None:
    home = household()
    account = await open_account(ledger, home.headers, "USD")
    first = (await upload_file(ledger, home.headers, account["id"], "quicken_checking_2025-01_us.qif")).json()
    ofx = "wellsfargo_checking_2025-01_ofx1.qfx"
    second = (await upload_file(ledger, home.headers, account["id"], ofx)).json()
    app: Any = ledger.app  # type: ignore[attr-defined]
    async with app.state.db.transaction() as session:  # as if the first one were still being written
        await session.execute(text("UPDATE import_batches SET status = 'importing' WHERE id = :id"),
                              {"id": first["batch"]["id"]})
    busy = await ledger.post(f"/imports/{second['batch']['id']}/confirm", json={}, headers=home.headers)
    assert busy.status_code == 409
    assert "still running" in busy.json()["detail"]
    other = await open_account(ledger, home.headers, "USD")
    elsewhere = (await upload_file(ledger, home.headers, other["id"], ofx)).json()
    done = await ledger.post(f"/imports/{elsewhere['batch']['id']}/confirm", json={}, headers=home.headers)
    assert done.status_code == 202


async def test_an_import_interrupted_by_a_crash_is_taken_up_again(ledger: httpx.AsyncClient,
                                                                  household: Callable[[], Any]) -> None:
    home = household()
    account = await open_account(ledger, home.headers, "USD")
    name = "wellsfargo_checking_2025-01_ofx1.qfx"
    batch_id = (await upload_file(ledger, home.headers, account["id"], name)).json()["batch"]["id"]
    app: Any = ledger.app  # type: ignore[attr-defined]
    async with app.state.db.transaction() as session:  # the service stopped while it was importing
        await session.execute(text("UPDATE import_batches SET status = 'importing', "
                                   "updated_at = now() - interval '10 minutes' WHERE id = :id"),
                              {"id": batch_id})
    other = (await upload_file(ledger, home.headers, account["id"], "quicken_checking_2025-01_us.qif")).json()
    assert (await ledger.post(f"/imports/{other['batch']['id']}/confirm", json={},
                              headers=home.headers)).status_code == 202
    interrupted = await wait_for_batch(ledger, home.headers, batch_id)
    assert interrupted["status"] == "failed"
    assert interrupted["error"] == "interrupted; confirm it again to go on"
    again = await ledger.post(f"/imports/{batch_id}/confirm", json={}, headers=home.headers)
    assert again.status_code == 202
    resumed = await wait_for_batch(ledger, home.headers, batch_id)
    assert (resumed["status"], resumed["rows_new"]) == ("imported", 27)
    assert len(await list_transactions(ledger, home.headers, account["id"])) == 27 + 26


async def test_uploads_left_unconfirmed_for_a_week_expire(ledger: httpx.AsyncClient,
                                                          household: Callable[[], Any]) -> None:
    home = household()
    account = await open_account(ledger, home.headers, "USD")
    name = "quicken_checking_2025-01_us.qif"
    old = (await upload_file(ledger, home.headers, account["id"], name)).json()["batch"]["id"]
    app: Any = ledger.app  # type: ignore[attr-defined]
    async with app.state.db.transaction() as session:
        await session.execute(text("UPDATE import_batches SET created_at = now() - interval '8 days' "
                                   "WHERE id = :id"), {"id": old})
    await upload_file(ledger, home.headers, account["id"], name)
    assert (await ledger.get(f"/imports/{old}", headers=home.headers)).json()["status"] == "expired"
    late = await ledger.post(f"/imports/{old}/confirm", json={}, headers=home.headers)
    assert late.status_code == 409
    assert "no longer kept" in late.json()["detail"]


@pytest.mark.parametrize("failing", ["_prepare", "_write"])
async def test_a_chunk_that_fails_stops_the_import_after_the_chunks_before_it(
        ledger: httpx.AsyncClient, household: Callable[[], Any], monkeypatch: pytest.MonkeyPatch,
        failing: str) -> None:
    """Chunks are worked out one ahead of the database and two are written at once: when one fails (worked
    out or written), the chunks before it stay recorded, the ones after it are not, and confirming again
    records the rest, once."""
    home = household()
    account = await open_account(ledger, home.headers, "USD")
    monkeypatch.setattr(batches, "CHUNK_ROWS", 10)
    step, calls = getattr(batches, failing), []

    def fail_the_second(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        if len(calls) == 2:
            raise InvalidInput("line 14: the bank's file broke here")
        return step(*args, **kwargs)

    async def fail_the_second_write(*args: Any, **kwargs: Any) -> None:
        await asyncio.sleep(0.05)  # the third chunk is under way meanwhile, waiting for this one
        await fail_the_second(*args, **kwargs)

    monkeypatch.setattr(batches, failing, fail_the_second_write if failing == "_write" else fail_the_second)
    failed = await import_file(ledger, home.headers, account["id"], "quicken_checking_2025-01_us.qif")
    assert (failed["status"], failed["rows_new"], failed["error"]) == (
        "failed", 10, "line 14: the bank's file broke here")
    assert len(await list_transactions(ledger, home.headers, account["id"])) == 10

    again = await ledger.post(f"/imports/{failed['id']}/confirm", json={}, headers=home.headers)
    assert again.status_code == 202
    resumed = await wait_for_batch(ledger, home.headers, failed["id"])
    assert resumed["status"] == "imported"
    assert (resumed["rows_new"], resumed["rows_duplicate"]) == (16, 10)
    assert len(await list_transactions(ledger, home.headers, account["id"])) == 26
    assert len(calls) == (3 if failing == "_write" else 2) + 2  # the failed run's calls, then the rerun's


async def test_a_confirm_takes_the_rows_its_preview_read_and_reads_again_otherwise(
        ledger: httpx.AsyncClient, household: Callable[[], Any], monkeypatch: pytest.MonkeyPatch) -> None:
    home = household()
    account = await open_account(ledger, home.headers)
    read, reads = batches.read_rows, []

    def counted(*args: Any) -> Any:
        reads.append(args[-1])  # the mapping it read with
        return read(*args)

    monkeypatch.setattr(batches, "read_rows", counted)
    preview = (await upload_file(ledger, home.headers, account["id"], "ambiguous_dates.csv")).json()
    batch_id, detected = preview["batch"]["id"], preview["mapping"]
    corrected = {**detected, "date_format": "%m/%d/%Y"}
    assert (await ledger.post(f"/imports/{batch_id}/preview", json={"mapping": corrected},
                              headers=home.headers)).status_code == 200
    assert len(reads) == 2  # the upload's preview and the corrected one
    confirmed = await ledger.post(f"/imports/{batch_id}/confirm", json={"mapping": corrected},
                                  headers=home.headers)
    assert confirmed.status_code == 202
    assert len(reads) == 2  # the corrected preview's rows, not read again
    assert (await wait_for_batch(ledger, home.headers, batch_id))["rows_new"] == 8
    dates = {t["booked_on"] for t in await list_transactions(ledger, home.headers, account["id"])}
    assert "2025-11-03" in dates  # read with the corrected mapping

    other = await open_account(ledger, home.headers)
    second = (await upload_file(ledger, home.headers, other["id"], "ambiguous_dates.csv")).json()
    assert (await ledger.post(f"/imports/{second['batch']['id']}/confirm", json={"mapping": corrected},
                              headers=home.headers)).status_code == 202
    assert len(reads) == 4  # previewed with another mapping than it was confirmed with: read again
    assert (await wait_for_batch(ledger, home.headers, second["batch"]["id"]))["rows_new"] == 8


async def test_a_qif_file_s_categories_and_splits_are_recorded(
    ledger: httpx.AsyncClient, household: Callable[[], Any],
    give_defaults: Callable[[Any], Awaitable[dict[str, dict[str, Any]]]],
) -> None:
    home = household()
    defaults = await give_defaults(home)  # Food: Groceries, Income: Salary, ...
    account = await open_account(ledger, home.headers, "EUR")

    preview = (await upload_file(ledger, home.headers, account["id"], "qif_splits.qif")).json()
    by_payee = {r["payee"]: r for r in preview["rows"]}
    assert (by_payee["ACME Corp"]["suggested_category_id"], by_payee["ACME Corp"]["source"]) == (
        defaults["Salary"]["id"], "file")

    batch = await import_file(ledger, home.headers, account["id"], "qif_splits.qif")
    assert (batch["status"], batch["rows_new"]) == ("imported", 3)
    categories = {c["id"]: c for c in (await ledger.get("/categories", headers=home.headers)).json()["items"]}
    supplies = [c for c in categories.values() if c["name"] == "Supplies"]
    assert [(c["group"], c["kind"]) for c in supplies] == [("Household", "expense")]
    items = (await ledger.get("/transactions", params={"account_id": account["id"]},
                              headers=home.headers)).json()["items"]
    found = {t["payee"]: t for t in items}
    # The paycheck's parts go both ways (pay in, taxes out): it is recorded whole on its own L category.
    assert (found["ACME Corp"]["category_id"], found["ACME Corp"]["splits"]) == (defaults["Salary"]["id"], [])
    target = found["Target"]
    assert target["category_id"] is None
    parts = [(categories[s["category_id"]]["name"], s["amount_minor"], s["note"]) for s in target["splits"]]
    assert parts == [("Groceries", 5_215, ""), ("Supplies", 3_425, "Cleaning")]
    assert found["Transfer to savings"]["category_id"] is None  # L[Savings]: a transfer, no category

    again = await import_file(ledger, home.headers, account["id"], "qif_splits.qif")
    assert (again["rows_new"], again["rows_duplicate"]) == (0, 3)
    after = (await ledger.get("/categories", headers=home.headers)).json()["items"]
    assert len(after) == len(categories)  # nothing created twice
