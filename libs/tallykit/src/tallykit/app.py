"""Builds a service's FastAPI app: problem errors, request ids, health, and the background workers
(outbox relay, consumers) that start with the app and stop with it, gracefully."""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar, overload

from fastapi import APIRouter, FastAPI, Request
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tallykit import commits, metrics, positions
from tallykit.consumer import EventConsumer
from tallykit.db import Database
from tallykit.errors import install_problem_handlers
from tallykit.health import health_router
from tallykit.logging import bound_context, configure_logging, get_logger
from tallykit.outbox import OutboxRelay
from tallykit.positions import CatchUp, PositionMiddleware
from tallykit.settings import ServiceSettings
from tallykit.tokens import TokenVerifier

log = get_logger(__name__)
S = TypeVar("S", bound=ServiceSettings)

Worker = Callable[[asyncio.Event], Coroutine[Any, Any, None]]
REQUEST_ID_HEADER = "X-Request-ID"
_SHUTDOWN_GRACE_S = 10.0


def request_id_middleware(app: FastAPI) -> None:
    app.add_middleware(RequestIdMiddleware)


class RequestIdMiddleware:
    """Gives every request an id (the caller's X-Request-ID when it sent a sane one) bound to each log
    line and returned in the answer, and logs the request once answered. (The outbox relay wakes when a
    transaction that wrote outbox rows commits: `tallykit.commits`.) Plain ASGI: Starlette's
    `BaseHTTPMiddleware` runs the app in a task of its own per request, which costs every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        request_id = incoming if 0 < len(incoming) <= 100 and incoming.isprintable() else str(uuid.uuid4())
        started = time.perf_counter()
        status = 500  # unless the app starts an answer

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        with bound_context(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                log.info("request", method=scope["method"], path=scope["path"], status=status,
                         ms=round((time.perf_counter() - started) * 1000, 1))


def _waker(relay: OutboxRelay) -> Callable[[], None]:
    """Wake the relay for outbox rows a request committed. Rows a consumer committed wait for the relay's
    poll (`relay_poll_interval_s`), as before commits woke relays. (Narrowed while chasing chaos runs that
    left a consumer group unsettled after broker restarts; those failures went on without the consumers'
    wakes, so they were not the cause: issue #19.)"""
    def wake() -> None:
        if positions.in_request():
            relay.wakeup.set()
    return wake


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
                database.on_commit(commits.OUTBOX, _waker(relay))
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
    app.state.catch_up = CatchUp(
        database,
        consumes=frozenset(s for c in event_consumers for s in c.sources.values()),
        publishes=bool(publishes),
        timeout_s=settings.read_your_writes_timeout_s,
    )
    install_problem_handlers(app)
    app.add_middleware(PositionMiddleware, service=settings.service_name)
    request_id_middleware(app)
    metrics.instrument(app, settings, publishes=bool(publishes))
    app.include_router(health_router())
    for router in routers:
        app.include_router(router)
    return app


@overload
def settings_of(request: Request) -> ServiceSettings: ...
@overload
def settings_of(request: Request, kind: type[S]) -> S: ...
def settings_of(request: Request, kind: type[ServiceSettings] = ServiceSettings) -> ServiceSettings:
    """The service's settings, as `create_service_app` keeps them for the request handlers; `kind` is the
    service's own settings class when a handler needs more than the kit's."""
    settings = request.app.state.settings
    if not isinstance(settings, kind):
        raise TypeError(f"the app's settings are a {type(settings).__name__}, not a {kind.__name__}")
    return settings


def db_of(request: Request) -> Database:
    """The service's database, as `create_service_app` keeps it for the request handlers."""
    db: Database = request.app.state.db
    return db
