"""On a real broker: ledger events on Kafka reach the report through the running consumer, once each."""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any
from uuid import uuid4

import httpx
from prometheus_client import REGISTRY

from tally_analytics.main import MIGRATIONS, create_app
from tally_analytics.settings import AnalyticsSettings
from tallykit import kafka
from tallykit.contracts import registry
from tallykit.contracts.ledger import CategoryCreated, CategoryKind, TransactionKind, TransactionRecorded
from tallykit.events import SYSTEM


async def test_ledger_events_on_the_broker_reach_the_report(
    service_client: Callable[..., Awaitable[httpx.AsyncClient]], token_minter: Any
) -> None:
    client = await service_client(create_app, AnalyticsSettings, MIGRATIONS, run_background=True)
    settings: AnalyticsSettings = client.app.state.settings  # type: ignore[attr-defined]
    tenant, category = uuid4(), uuid4()
    topic = settings.topic("ledger.events")
    await kafka.ensure_topics(settings, [topic])
    created = registry.envelope(
        CategoryCreated(name="Travel", group="Leisure", kind=CategoryKind.expense),
        tenant_id=tenant,
        stream_id=category,
        stream_version=1,
        actor=SYSTEM,
    )
    spent = registry.envelope(
        TransactionRecorded(
            account_id=uuid4(),
            kind=TransactionKind.expense,
            amount_minor=12_345,
            currency="JPY",
            category_id=category,
            booked_on=date(2025, 8, 9),
        ),
        tenant_id=tenant,
        stream_id=uuid4(),
        stream_version=1,
        actor=SYSTEM,
    )
    producer = kafka.producer(settings)
    await producer.start()
    try:
        for envelope in (created, spent, spent):  # the second copy is a redelivery
            await producer.send_and_wait(topic, envelope.to_json(), key=str(tenant).encode())
    finally:
        await producer.stop()

    headers = token_minter.headers(uuid4(), tenant)
    group = client.app.state.consumers[0].group_id  # type: ignore[attr-defined]
    labels = {"group": group, "outcome": "duplicate"}
    async with asyncio.timeout(60):  # until the redelivery was taken (after the first copy, in order)
        while not REGISTRY.get_sample_value("tally_consumer_events_total", labels):
            await asyncio.sleep(0.1)
    report = (await client.get("/reports/monthly?month=2025-08", headers=headers)).json()
    assert report["totals"] == [
        {"currency": "JPY", "income_minor": 0, "expense_minor": 12_345, "net_minor": -12_345}
    ]
    assert [c["category_name"] for c in report["by_category"]] == ["Travel"]
