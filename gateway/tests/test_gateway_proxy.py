"""The proxy against a real upstream server: what is forwarded, what comes back, and the failures."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

import httpx
import pytest
from fastapi import FastAPI

from tally_gateway.main import create_app
from tally_gateway.settings import GatewaySettings
from tallykit.tokens import TokenVerifier
from tallystack.broker import free_port
from tallystack.tokens import TokenMinter

PROBLEM = "application/problem+json"

if TYPE_CHECKING:
    from conftest import Upstream


@pytest.fixture
def auth(token_minter: TokenMinter) -> dict[str, str]:
    return token_minter.headers(uuid.uuid4(), uuid.uuid4())


async def test_forwards_method_path_query_body_and_allowed_headers(
    gateway: httpx.AsyncClient, upstream: Upstream, auth: dict[str, str]
) -> None:
    body = json.dumps({"name": "Cash", "note": "ünïcode"}).encode()
    probe = uuid.uuid4().hex
    response = await gateway.patch(
        f"/api/ledger/accounts/a%20b?probe={probe}&status=201&q=two%20words",
        content=body,
        headers={**auth, "Content-Type": "application/json", "Accept": "application/json", "If-Match": '"3"',
                 "X-Request-ID": "req-123", "Cookie": "session=secret", "X-Custom": "nope",
                 "TE": "trailers", "Proxy-Authorization": "Basic eA=="},
    )

    assert response.status_code == 201
    (hit,) = upstream.hits_with_query(f"probe={probe}&status=201&q=two%20words")
    assert hit["method"] == "PATCH"
    assert hit["raw_path"] == "/accounts/a%20b"
    assert hit["path"] == "/accounts/a b"
    assert hit["body"] == body.decode()
    assert hit["headers"]["content-type"] == "application/json"
    assert hit["headers"]["accept"] == "application/json"
    assert hit["headers"]["if-match"] == '"3"'
    assert hit["headers"]["authorization"] == auth["Authorization"]
    assert hit["headers"]["x-request-id"] == "req-123"
    for header in ("cookie", "x-custom", "te", "proxy-authorization"):
        assert header not in hit["headers"]
    # What the upstream answered comes back, minus hop-by-hop headers, plus the request id.
    assert response.json() == hit
    assert response.headers["x-upstream"] == "echo"
    assert response.headers["etag"] == '"v7"'
    assert response.headers["content-type"] == "application/json"
    assert "proxy-authenticate" not in response.headers
    assert response.headers["x-request-id"] == "req-123"


async def test_generates_a_request_id_and_sends_the_same_one_upstream(
    gateway: httpx.AsyncClient, upstream: Upstream, auth: dict[str, str]
) -> None:
    probe = uuid.uuid4().hex
    response = await gateway.get(f"/api/budget/budgets?probe={probe}", headers=auth)

    assert response.status_code == 200
    request_id = response.headers["x-request-id"]
    assert uuid.UUID(request_id)
    (hit,) = upstream.hits_with_query(f"probe={probe}")
    assert hit["path"] == "/budgets"
    assert hit["headers"]["x-request-id"] == request_id


async def test_upstream_error_statuses_pass_through(
    gateway: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    response = await gateway.get("/api/ledger/accounts/x?status=409", headers=auth)
    assert response.status_code == 409
    assert response.json()["path"] == "/accounts/x"


@pytest.mark.parametrize("path", ["/api/nope/accounts", "/api", "/api/", "/api/ledger/%2e%2e/readyz",
                                  "/api/ledger/accounts/../../x"])
async def test_unknown_service_or_path_outside_the_api_is_a_404_problem(
    gateway: httpx.AsyncClient, upstream: Upstream, auth: dict[str, str], path: str
) -> None:
    before = len(upstream.hits)
    response = await gateway.get(path, headers=auth)

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == 404
    assert len(upstream.hits) == before


async def test_upstream_down_is_a_502_problem(
    make_gateway: Callable[..., Awaitable[httpx.AsyncClient]], auth: dict[str, str]
) -> None:
    gateway = await make_gateway(ledger_url=f"http://127.0.0.1:{free_port()}")

    response = await gateway.get("/api/ledger/accounts", headers=auth)

    assert response.status_code == 502
    assert response.headers["content-type"] == PROBLEM
    assert "ledger" in response.json()["detail"]


async def test_upstream_too_slow_is_a_504_problem(
    make_gateway: Callable[..., Awaitable[httpx.AsyncClient]], auth: dict[str, str]
) -> None:
    gateway = await make_gateway(upstream_timeout_s=0.2)

    response = await gateway.get("/api/analytics/slow", headers=auth)

    assert response.status_code == 504
    assert response.headers["content-type"] == PROBLEM


async def test_forecasts_and_bulk_changes_have_longer_than_other_requests(
    make_gateway: Callable[..., Awaitable[httpx.AsyncClient]], auth: dict[str, str]
) -> None:
    gateway = await make_gateway(upstream_timeout_s=0.2, slow_timeout_s=5.0)

    assert (await gateway.get("/api/analytics/slow", headers=auth)).status_code == 504
    for slow in ("/api/analytics/forecasts/slow", "/api/ledger/transactions/bulk/slow"):
        response = await gateway.get(slow, headers=auth)
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "late"}
    assert (await gateway.get("/api/ledger/slow", headers=auth)).status_code == 504


async def test_body_over_the_limit_is_a_413_problem_and_never_forwarded(
    make_gateway: Callable[..., Awaitable[httpx.AsyncClient]], upstream: Upstream, auth: dict[str, str]
) -> None:
    gateway = await make_gateway(max_body_bytes=1024)
    probe = uuid.uuid4().hex
    url = f"/api/ledger/transactions?probe={probe}"

    declared = await gateway.post(url, content=b"x" * 1025, headers=auth)

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(3):
            yield b"y" * 512

    streamed = await gateway.post(url, content=chunks(), headers=auth)
    at_limit = await gateway.post(url, content=b"z" * 1024, headers=auth)

    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.headers["content-type"] == PROBLEM
    assert at_limit.status_code == 200
    assert [len(hit["body"]) for hit in upstream.hits_with_query(f"probe={probe}")] == [1024]


async def test_responses_stream_through_as_they_arrive(
    gateway_settings: Callable[..., GatewaySettings],
    token_minter: TokenMinter,
    upstream: Upstream,
    auth: dict[str, str],
    serve_app: Callable[[FastAPI], AbstractContextManager[str]],
) -> None:
    """The first event reaches the client while the upstream is still holding the response open."""
    settings = gateway_settings()
    app = create_app(settings, verifier=TokenVerifier(settings, jwks=token_minter.jwks))
    upstream.release.clear()
    with serve_app(app) as url:
        async with httpx.AsyncClient(base_url=url) as client, client.stream(
            "GET", "/api/notifier/stream", headers={**auth, "Accept": "text/event-stream"}
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            chunks = response.aiter_raw()
            first = await anext(chunks)
            assert first == b"data: first\n\n"
            upstream.release.set()
            rest = b"".join([chunk async for chunk in chunks])
    assert rest == b"data: second\n\n"


async def test_statement_uploads_get_the_larger_upload_limit(
    make_gateway: Callable[..., Awaitable[httpx.AsyncClient]], upstream: Upstream, auth: dict[str, str]
) -> None:
    gateway = await make_gateway(max_body_bytes=1024, upload_max_body_bytes=4096)
    probe = uuid.uuid4().hex

    upload = await gateway.post(f"/api/ledger/imports?probe={probe}", content=b"u" * 3000, headers=auth)
    too_big = await gateway.post(f"/api/ledger/imports?probe={probe}", content=b"u" * 4097, headers=auth)
    receipt = await gateway.post(f"/api/ledger/attachments?probe={probe}", content=b"r" * 3000, headers=auth)
    history = await gateway.post(f"/api/ledger/histories?probe={probe}", content=b"h" * 3000, headers=auth)
    elsewhere = await gateway.post(f"/api/budget/imports?probe={probe}", content=b"u" * 3000, headers=auth)

    assert upload.status_code == 200
    assert receipt.status_code == 200
    assert history.status_code == 200  # another app's export
    assert too_big.status_code == 413
    assert elsewhere.status_code == 413
    assert [len(hit["body"]) for hit in upstream.hits_with_query(f"probe={probe}")] == [3000, 3000, 3000]
