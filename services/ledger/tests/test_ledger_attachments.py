"""Attachments on transactions: type checked by content, size-limited, streamed back with their type and
a safe Content-Disposition, hidden while the transaction is deleted, per household, erased with it."""

from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from tally_ledger.attachments import LocalStorage, safe_filename, sniff
from tally_ledger.consumers import auth_events_consumer
from tallykit.contracts import registry
from tallykit.contracts.auth import UserDeleted

from .ledger_helpers import open_account

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"


def test_types_come_from_the_content_and_names_are_made_safe() -> None:
    assert [sniff(b) for b in (PNG, JPEG, WEBP, PDF)] == [
        "image/png",
        "image/jpeg",
        "image/webp",
        "application/pdf",
    ]
    assert sniff(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
    assert sniff(b"MZ\x90\x00") is None
    assert safe_filename('../../etc/pass"wd.exe', "application/pdf") == "pass_wd.pdf"
    assert safe_filename("C:\\Users\\me\\Kassenbon Müller.jpeg", "image/jpeg") == "Kassenbon Müller.jpg"
    assert safe_filename("", "image/png") == "attachment.png"


@pytest.fixture
def storage(ledger: httpx.AsyncClient, tmp_path: Path) -> LocalStorage:
    app: Any = ledger.app  # type: ignore[attr-defined]
    app.state.attachment_storage = LocalStorage(tmp_path)
    return app.state.attachment_storage  # type: ignore[no-any-return]


async def call(
    ledger: httpx.AsyncClient, headers: dict[str, str], method: str, path: str, status: int = 200, **kw: Any
) -> Any:
    response = await ledger.request(method, path, headers=headers, **kw)
    assert response.status_code == status, response.text
    return (
        response.json()
        if response.content and response.headers.get("content-type", "").endswith("json")
        else response
    )


async def expense(ledger: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    account = await open_account(ledger, headers, name="Giro")
    return dict(
        await call(
            ledger,
            headers,
            "POST",
            "/transactions",
            201,
            json={
                "account_id": account["id"],
                "kind": "expense",
                "amount_minor": 1_250,
                "booked_on": "2026-01-02",
            },
        )
    )


async def test_attach_download_hide_with_the_transaction_and_delete(
    ledger: httpx.AsyncClient, household: Callable[[], Any], storage: LocalStorage, tmp_path: Path
) -> None:
    home = household()
    spent = await expense(ledger, home.headers)
    added = await call(
        ledger,
        home.headers,
        "POST",
        "/attachments",
        201,
        data={"transaction_id": spent["id"]},
        files={"file": ("Kassenbon Müller.png", PNG, "application/octet-stream")},
    )
    assert (added["content_type"], added["filename"], added["size"]) == (
        "image/png",
        "Kassenbon Müller.png",
        len(PNG),
    )
    pdf = await call(
        ledger,
        home.headers,
        "POST",
        "/attachments",
        201,
        data={"transaction_id": spent["id"]},
        files={"file": ("invoice.jpg", PDF, "image/jpeg")},
    )  # the content says PDF
    assert (pdf["content_type"], pdf["filename"]) == ("application/pdf", "invoice.pdf")
    listed = await call(ledger, home.headers, "GET", f"/transactions/{spent['id']}/attachments")
    assert [a["id"] for a in listed["items"]] == [added["id"], pdf["id"]]

    response = await ledger.get(f"/attachments/{added['id']}", headers=home.headers)
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"Kassenbon M_ller.png\"; filename*=UTF-8''Kassenbon%20M%C3%BCller.png"
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    inline = await ledger.get(f"/attachments/{pdf['id']}", params={"inline": "true"}, headers=home.headers)
    assert inline.headers["content-disposition"].startswith("inline;")
    assert sorted(p.name for p in (tmp_path / str(home.tenant_id)).iterdir()) == sorted(
        [added["id"], pdf["id"]]
    )

    # Refused: not an accepted type, empty, too large, a viewer; nothing stored.
    for name, content in (("x.svg", b"<svg/>"), ("x.png", b""), ("x.exe", b"MZ\x90\x00")):
        await call(
            ledger,
            home.headers,
            "POST",
            "/attachments",
            422,
            data={"transaction_id": spent["id"]},
            files={"file": (name, content)},
        )
    app: Any = ledger.app  # type: ignore[attr-defined]
    limit = app.state.settings.attachment_max_bytes
    await call(
        ledger,
        home.headers,
        "POST",
        "/attachments",
        422,
        data={"transaction_id": spent["id"]},
        files={"file": ("big.pdf", PDF + b"0" * limit)},
    )
    viewer = await ledger.post(
        "/attachments",
        data={"transaction_id": spent["id"]},
        files={"file": ("x.png", PNG)},
        headers=home.viewer_headers,
    )
    assert viewer.status_code == 403
    assert len(list((tmp_path / str(home.tenant_id)).iterdir())) == 2

    # A deleted transaction hides its attachments; undoing the deletion brings them back.
    await call(ledger, home.headers, "DELETE", f"/transactions/{spent['id']}", params={"expected_version": 1})
    await call(ledger, home.headers, "GET", f"/attachments/{added['id']}", 404)
    await call(
        ledger, home.headers, "POST", f"/transactions/{spent['id']}/undo", json={"expected_version": 2}
    )
    assert (await ledger.get(f"/attachments/{added['id']}", headers=home.headers)).content == PNG

    await call(ledger, home.headers, "DELETE", f"/attachments/{added['id']}", 204)
    await call(ledger, home.headers, "GET", f"/attachments/{added['id']}", 404)
    assert [p.name for p in (tmp_path / str(home.tenant_id)).iterdir()] == [pdf["id"]]


async def test_attachments_are_per_household_and_erased_with_it(
    ledger: httpx.AsyncClient,
    household: Callable[[], Any],
    storage: LocalStorage,
    tmp_path: Path,
) -> None:
    mine, theirs = household(), household()
    spent = await expense(ledger, mine.headers)
    added = await call(
        ledger,
        mine.headers,
        "POST",
        "/attachments",
        201,
        data={"transaction_id": spent["id"]},
        files={"file": ("r.jpg", JPEG)},
    )
    await call(ledger, theirs.headers, "GET", f"/attachments/{added['id']}", 404)
    await call(ledger, theirs.headers, "DELETE", f"/attachments/{added['id']}", 404)
    await call(ledger, theirs.headers, "GET", f"/transactions/{spent['id']}/attachments", 404)
    await call(
        ledger,
        theirs.headers,
        "POST",
        "/attachments",
        404,
        data={"transaction_id": spent["id"]},
        files={"file": ("r.jpg", JPEG)},
    )
    assert (await ledger.get(f"/attachments/{added['id']}", headers=mine.headers)).content == JPEG

    # The consumer erases with the storage of the settings; point it at the test's directory.
    app: Any = ledger.app  # type: ignore[attr-defined]
    settings = app.state.settings.model_copy(update={"attachments_dir": tmp_path})
    consumer = auth_events_consumer(app.state.db, settings)
    envelope = registry.envelope(
        UserDeleted(user_id=mine.owner_id, deleted_household_ids=(mine.tenant_id,)),
        tenant_id=mine.tenant_id,
        stream_id=uuid4(),
        stream_version=1,
        actor=str(mine.owner_id),
    )
    assert await consumer.handle(envelope.to_json()) is True
    assert not (tmp_path / str(mine.tenant_id) / added["id"]).exists()
    await call(ledger, mine.headers, "GET", f"/attachments/{added['id']}", 404)
