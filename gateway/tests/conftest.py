"""A real upstream (a small FastAPI app on uvicorn, in a thread) and gateways pointed at it."""

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from tally_gateway.main import create_app
from tally_gateway.settings import GatewaySettings
from tallykit.tokens import TokenVerifier
from tallystack.broker import free_port
from tallystack.tokens import TokenMinter

SERVICES = ("auth", "ledger", "budget", "analytics", "notifier")


@contextmanager
def serve_in_thread(app: Any) -> Iterator[str]:
    """Runs `app` on a real uvicorn server on a free port; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def serve_app() -> Callable[[Any], Any]:
    return serve_in_thread


@dataclass
class Upstream:
    url: str
    hits: list[dict[str, Any]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def hits_with_query(self, query: str) -> list[dict[str, Any]]:
        return [hit for hit in self.hits if hit["query"] == query]


def echo_app(upstream: Upstream) -> FastAPI:
    app = FastAPI()

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ready"}

    @app.get("/slow")
    @app.get("/forecasts/slow")
    @app.get("/transactions/bulk/slow")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(1.0)
        return {"status": "late"}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def events() -> AsyncIterator[bytes]:
            yield b"data: first\n\n"
            for _ in range(500):  # until the test releases it (at most 5 s)
                if upstream.release.is_set():
                    break
                await asyncio.sleep(0.01)
            yield b"data: second\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    @app.api_route("/{path:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
    async def echo(request: Request, path: str) -> Response:
        hit = {
            "method": request.method,
            "path": request.url.path,
            "raw_path": request.scope["raw_path"].decode(),
            "query": request.scope["query_string"].decode(),
            "body": (await request.body()).decode(),
            "headers": {k.lower(): v for k, v in request.headers.items()},
        }
        upstream.hits.append(hit)
        status = int(request.query_params.get("status", "200"))
        response = JSONResponse(hit, status_code=status,
                                headers={"X-Upstream": "echo", "Proxy-Authenticate": "Basic", "ETag": '"v7"'})
        if "set_cookie" in request.query_params:
            response.set_cookie("tally_refresh", request.query_params["set_cookie"], httponly=True)
        return response

    return app


@pytest.fixture(scope="session")
def upstream() -> Iterator[Upstream]:
    state = Upstream(url="")
    with serve_in_thread(echo_app(state)) as url:
        state.url = url
        yield state


@pytest.fixture
def gateway_settings(upstream: Upstream) -> Callable[..., GatewaySettings]:
    def build(**overrides: Any) -> GatewaySettings:
        urls = {f"{name}_url": upstream.url for name in SERVICES}
        return GatewaySettings(**{"environment": "test", **urls, **overrides})

    return build


@pytest_asyncio.fixture
async def make_gateway(
    gateway_settings: Callable[..., GatewaySettings], token_minter: TokenMinter
) -> AsyncIterator[Callable[..., Awaitable[httpx.AsyncClient]]]:
    """`client = await make_gateway(**settings_overrides)`: the gateway in-process, verifying tokens
    from `token_minter`, routing to the real upstream."""
    opened: list[tuple[Any, httpx.AsyncClient]] = []

    async def make(**overrides: Any) -> httpx.AsyncClient:
        settings = gateway_settings(**overrides)
        app = create_app(settings, verifier=TokenVerifier(settings, jwks=token_minter.jwks))
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")
        opened.append((lifespan, client))
        return client

    yield make
    for lifespan, client in reversed(opened):
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


@pytest_asyncio.fixture
async def gateway(make_gateway: Callable[..., Awaitable[httpx.AsyncClient]]) -> httpx.AsyncClient:
    return await make_gateway()
