"""Prometheus metrics every service exposes at `GET /metrics` (prometheus-client's text format).

- `tally_http_request_duration_seconds` (histogram; service, method, route, status): time to the
  response headers, labelled by route template.
- `tally_outbox_backlog` (gauge; service): outbox rows not yet published, read at scrape time.
- `tally_events_published_total` (counter; service): outbox rows the relay published.
- `tally_consumer_events_total` (counter; group, outcome): records handled, duplicate (inbox hit),
  ignored (no handler here) or dead_lettered.
- `tally_consumer_lag` (gauge; group, topic, partition): log end offset minus the group's committed
  offset, asked of the broker at scrape time.
- `tally_notifications_sent_total` (counter; channel): notifications delivered (the notifier counts).

Backlog and lag are measured when Prometheus scrapes, not by the workers: a stuck relay or consumer
still shows its growing backlog or lag. Every replica reports the same database- and group-wide
figures, so dashboards take `max` over replicas.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tallykit import outbox
from tallykit.consumer import EventConsumer
from tallykit.db import Database
from tallykit.logging import get_logger
from tallykit.meters import CONSUMER_LAG, OUTBOX_BACKLOG, REQUEST_DURATION
from tallykit.settings import ServiceSettings

log = get_logger(__name__)


UNMATCHED_ROUTE = "<unmatched>"
# Label values must stay few: a client choosing its own method names must not create new series.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_NOT_TIMED = frozenset({"/metrics", "/healthz", "/readyz"})
_SCRAPE_TIMEOUT_S = 3.0
_LAG_MAX_AGE_S = 5.0


class RequestMetricsMiddleware:
    """Times every request except health and metrics, labelled by the matched route's template
    (`/accounts/{account_id}`, not the path), so label values stay few."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in _NOT_TIMED:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                route = getattr(scope.get("route"), "path", UNMATCHED_ROUTE)
                method = scope["method"] if scope["method"] in _METHODS else "other"
                REQUEST_DURATION.labels(self.service, method, route, str(message["status"])).observe(
                    time.perf_counter() - started
                )
            await send(message)

        await self.app(scope, receive, timed_send)


class _LagSampler:
    """Asks the broker for the consumer groups' lag, at most every few seconds."""

    def __init__(self) -> None:
        self.sampled_at = float("-inf")

    async def refresh(self, settings: ServiceSettings, consumers: Iterable[EventConsumer]) -> None:
        groups = {c.group_id: c.topics for c in consumers}
        if not groups or time.monotonic() - self.sampled_at < _LAG_MAX_AGE_S:
            return
        for (group, topic, partition), lag in (await consumer_lag(settings, groups)).items():
            CONSUMER_LAG.labels(group, topic, str(partition)).set(lag)
        self.sampled_at = time.monotonic()


async def consumer_lag(
    settings: ServiceSettings, groups: dict[str, list[str]]
) -> dict[tuple[str, str, int], int]:
    """(group, topic, partition) → messages the group has not committed yet. A client that names the
    group but subscribes to nothing reads its committed offsets without joining it."""
    lag: dict[tuple[str, str, int], int] = {}
    for group, topics in groups.items():
        client = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id=f"{settings.service_name}-metrics",
            group_id=group,
            enable_auto_commit=False,
        )
        await client.start()
        try:
            await client.topics()  # loads the cluster's metadata, so partitions are known
            partitions = [TopicPartition(t, p) for t in topics for p in client.partitions_for_topic(t) or ()]
            if not partitions:
                continue
            starts = await client.beginning_offsets(partitions)
            ends = await client.end_offsets(partitions)
            for tp in partitions:
                position = max(await client.committed(tp) or 0, starts[tp])
                lag[(group, tp.topic, tp.partition)] = max(0, ends[tp] - position)
        finally:
            await client.stop()
    return lag


async def _refresh_outbox_backlog(service: str, db: Database) -> None:
    async with db.read() as session:
        OUTBOX_BACKLOG.labels(service).set(await outbox.backlog(session))


async def _measure(what: str, action: Callable[[], Awaitable[None]]) -> None:
    """Scrape-time measurements are best effort: a dead broker must not fail the whole scrape."""
    try:
        await asyncio.wait_for(action(), timeout=_SCRAPE_TIMEOUT_S)
    except Exception as exc:
        log.warning("metric_not_measured", metric=what, error=f"{type(exc).__name__}: {exc}")


def instrument(app: FastAPI, settings: ServiceSettings, *, publishes: bool = False) -> None:
    """Time the app's requests and serve `GET /metrics`. With `publishes`, the app's database has an
    outbox whose backlog is reported; the consumers in `app.state.consumers` have their lag reported."""
    app.add_middleware(RequestMetricsMiddleware, service=settings.service_name)
    lag = _LagSampler()
    router = APIRouter(tags=["health"])

    @router.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        state = request.app.state
        if publishes:
            await _measure("outbox_backlog", lambda: _refresh_outbox_backlog(settings.service_name, state.db))
        consumers: list[EventConsumer] = getattr(state, "consumers", [])
        if consumers:
            await _measure("consumer_lag", lambda: lag.refresh(settings, consumers))
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    app.include_router(router)
