"""Builds a service's FastAPI app: problem errors, request ids, health, and the background workers
(outbox relay, consumers) that start with the app and stop with it, gracefully."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response

from tallykit import metrics
from tallykit.consumer import EventConsumer
from tallykit.db import Database
from tallykit.errors import install_problem_handlers
from tallykit.health import health_router
from tallykit.logging import bound_context, configure_logging, get_logger
from tallykit.outbox import OutboxRelay
from tallykit.settings import ServiceSettings
from tallykit.tokens import TokenVerifier

log = get_logger(__name__)

Worker = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
REQUEST_ID_HEADER = "X-Request-ID"
_SHUTDOWN_GRACE_S = 10.0
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def request_id_middleware(app: FastAPI) -> None:
    @app.middleware("http")
    async def _request_id(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if 0 < len(incoming) <= 100 and incoming.isprintable() else str(uuid.uuid4())
        started = time.perf_counter()
        with bound_context(request_id=request_id):
            response = await call_next(request)
            if request.method not in _READS and response.status_code < 400:
                wake_relay(request)  # a write that succeeded may have put events on the outbox
            log.info(
                "request",
                method=request.method,
                path=request.url.path,
                status=response.status_code,
                ms=round((time.perf_counter() - started) * 1000, 1),
            )
        response.headers[REQUEST_ID_HEADER] = request_id
        return response


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    routers: Sequence[APIRouter],
    db: Database | None = None,
    publishes: Sequence[str] = (),
    consumers: Callable[[Database], Sequence[EventConsumer]] = lambda db: (),
    workers: Callable[[Database], Sequence[Worker]] = lambda db: (),
    verifier: TokenVerifier | None = None,
    run_background: bool = True,
    startup: Callable[[Database], Awaitable[None]] | None = None,
) -> FastAPI:
    """`publishes` are the logical topics the relay publishes; the background parts run unless
    `run_background` is off (API tests drive handlers without a broker). `startup` runs once before
    the app takes requests."""
    configure_logging(settings)
    database = db or Database.from_settings(settings)
    event_consumers = list(consumers(database))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if startup is not None:
            await startup(database)
        stop = asyncio.Event()
        tasks: list[asyncio.Task[None]] = []
        if run_background:
            runners: list[Worker] = [c.run for c in event_consumers] + list(workers(database))
            if publishes:
                relay = OutboxRelay(database, settings, publishes)
                app.state.relay = relay
                runners.append(relay.run)
            tasks = [asyncio.create_task(r(stop)) for r in runners]
        log.info("service_started", background_tasks=len(tasks))
        try:
            yield
        finally:
            stop.set()
            if tasks:
                _, pending = await asyncio.wait(tasks, timeout=_SHUTDOWN_GRACE_S)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)
            await database.dispose()
            log.info("service_stopped")

    app = FastAPI(title=title, lifespan=lifespan)
    app.state.db = database
    app.state.settings = settings
    app.state.verifier = verifier or TokenVerifier(settings)
    app.state.relay = None
    app.state.consumers = event_consumers
    install_problem_handlers(app)
    request_id_middleware(app)
    metrics.instrument(app, settings, publishes=bool(publishes))
    app.include_router(health_router())
    for router in routers:
        app.include_router(router)
    return app


def db_of(request: Request) -> Database:
    """The service's database, as `create_service_app` keeps it for the request handlers."""
    db: Database = request.app.state.db
    return db


def wake_relay(request: Request) -> None:
    """Tell the relay there is something to publish now, instead of waiting for its next poll. Every
    successful write request does this on its way out (`request_id_middleware`); call it yourself only
    from work that outlives the request (a background import) or from a request that writes events and
    still fails (a reused refresh token revokes its family, then answers 401)."""
    # The gateway shares the request middleware and has no relay (nor app.state.relay) at all.
    relay: OutboxRelay | None = getattr(request.app.state, "relay", None)
    if relay is not None:
        relay.wakeup.set()
