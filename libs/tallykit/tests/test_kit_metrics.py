"""GET /metrics on a kit-built app: request latency by route template, and the relay's and consumer's
counters, backlog and lag moving as they really work (real PostgreSQL, real broker)."""

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import column, insert, table, text
from sqlalchemy.ext.asyncio import AsyncSession

from tallykit import kafka, metrics, outbox
from tallykit.app import create_service_app
from tallykit.consumer import EventConsumer
from tallykit.contracts import registry
from tallykit.contracts.ledger import CategoryCreated
from tallykit.db import Database
from tallykit.events import Envelope
from tallykit.settings import ServiceSettings
from tallykit.tokens import TokenVerifier

TOPIC = "ledger.events"
MIGRATIONS = Path(__file__).parent / "kit_migrations"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _category(tenant: UUID, name: str) -> Envelope:
    return registry.envelope(
        CategoryCreated(name=name, group="Food", kind="expense"),
        tenant_id=tenant,
        stream_id=uuid4(),
        stream_version=1,
        actor="system",
    )


async def _record(session: AsyncSession, envelope: Envelope, payload: CategoryCreated) -> None:
    if payload.name == "poison":
        raise ValueError("this handler cannot take poison")
    await session.execute(insert(table("applied", column("value"))).values(value=payload.name))


def _router() -> APIRouter:
    router = APIRouter()

    @router.get("/things/{thing_id}")
    async def thing(thing_id: int) -> dict[str, int]:
        return {"id": thing_id}

    return router


class KitSettings(ServiceSettings):
    service_name: str = "kit"


def _create_app(settings: KitSettings, *, verifier: TokenVerifier, run_background: bool) -> FastAPI:
    return create_service_app(
        settings,
        title="metered",
        routers=[_router()],
        publishes=[TOPIC],
        consumers=lambda db: [
            EventConsumer(
                db=db,
                settings=settings,
                registry=registry,
                topics=[TOPIC],
                handlers={"ledger.CategoryCreated": _record},
            )
        ],
        verifier=verifier,
        run_background=run_background,
    )


@pytest.fixture
def app_client(
    kit_db: tuple[str, Database], service_client: Callable[..., Awaitable[httpx.AsyncClient]]
) -> Callable[[bool], Awaitable[httpx.AsyncClient]]:
    """An app built by the kit on the test's kit database (the plugin's service_client, pointed at it)."""

    async def make(run_background: bool) -> httpx.AsyncClient:
        return await service_client(
            _create_app, KitSettings, MIGRATIONS, run_background=run_background, database_url=kit_db[0]
        )

    return make


async def _scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_time_requests_by_route_template(
    app_client: Callable[[bool], Awaitable[httpx.AsyncClient]], kit_settings: ServiceSettings
) -> None:
    client = await app_client(False)
    before = await _scrape(client)
    for thing in (1, 2, 3):
        assert (await client.get(f"/things/{thing}")).status_code == 200
    assert (await client.get("/things/not-a-number")).status_code == 422
    assert (await client.get("/nowhere")).status_code == 404
    for made_up in ("BREW", "WHEN"):  # a client's own method names do not become label values
        await client.request(made_up, "/nowhere")
    after = await _scrape(client)

    count = "tally_http_request_duration_seconds_count"
    ok = {"service": "kit", "method": "GET", "route": "/things/{thing_id}", "status": "200"}
    assert _value(after, count, **ok) - _value(before, count, **ok) == 3
    assert (
        _value(after, count, **(ok | {"status": "422"})) - _value(before, count, **(ok | {"status": "422"}))
        == 1
    )
    unmatched = ok | {"route": "<unmatched>", "status": "404"}
    assert _value(after, count, **unmatched) - _value(before, count, **unmatched) == 1
    methods = {dict(labels)["method"] for name, labels in after if name == count}
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    assert not any(
        dict(labels).get("route") in ("/metrics", "/healthz") for name, labels in after if name == count
    )
    names = {name for name, _ in after}
    assert {
        "tally_http_request_duration_seconds_bucket",
        "tally_outbox_backlog",
        "process_cpu_seconds_total",
    } <= names
    # The outbox is empty and the consumer's topic has no messages yet: backlog 0, no lag.
    assert _value(after, "tally_outbox_backlog", service="kit") == 0


async def test_relay_and_consumer_move_their_counters_backlog_and_lag(
    app_client: Callable[[bool], Awaitable[httpx.AsyncClient]],
    kit_db: tuple[str, Database],
    kit_settings: ServiceSettings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(metrics, "_LAG_MAX_AGE_S", 0.0)  # measure lag at every scrape
    _, db = kit_db
    group = kit_settings.topic("kit")
    topic = kit_settings.topic(TOPIC)
    tenant = uuid4()
    await kafka.ensure_topics(kit_settings, [topic, f"{group}.dlq"])
    envelopes = [_category(tenant, "Groceries"), _category(tenant, "poison"), _category(tenant, "Rent")]
    async with db.transaction() as s:
        await outbox.enqueue(s, topic, envelopes)

    idle = await app_client(False)  # same database, no workers: sees the backlog as it is
    before = await _scrape(idle)
    assert _value(before, "tally_outbox_backlog", service="kit") == 3

    working = await app_client(True)

    def lags_of(scraped: Samples) -> dict[str, float]:
        return {
            dict(labels)["partition"]: v
            for (name, labels), v in scraped.items()
            if name == "tally_consumer_lag" and dict(labels)["group"] == group
        }

    # Until all three are taken and their offsets committed (the consumer commits after applying).
    async with asyncio.timeout(60):  # only bounds a failure: joining a group is slow on a busy machine
        while True:
            async with db.read() as s:
                applied = [v for (v,) in await s.execute(text("SELECT value FROM applied ORDER BY id"))]
            scraped = await _scrape(working)
            done = _value(scraped, "tally_consumer_events_total", group=group, outcome="dead_lettered")
            lags = lags_of(scraped)
            if applied == ["Groceries", "Rent"] and done >= 1 and lags and not any(lags.values()):
                break
            await asyncio.sleep(0.2)

    # A redelivery of an event it already applied is counted as a duplicate.
    consumer: EventConsumer = working.app.state.consumers[0]  # type: ignore[attr-defined]
    assert await consumer.handle(envelopes[0].to_json()) is False

    after = await _scrape(working)

    def moved(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert moved("tally_events_published_total", service="kit") == 3
    assert _value(after, "tally_outbox_backlog", service="kit") == 0
    assert moved("tally_consumer_events_total", group=group, outcome="handled") == 2
    assert moved("tally_consumer_events_total", group=group, outcome="dead_lettered") == 1
    assert moved("tally_consumer_events_total", group=group, outcome="duplicate") == 1
    lags = lags_of(after)
    assert lags, "the consumer's partitions are reported"
    assert set(lags.values()) == {0.0}, "everything consumed has been committed"
