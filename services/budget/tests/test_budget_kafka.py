"""On a real broker: ledger events on Kafka → budget consumer → outbox relay → budget.events."""

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import httpx
from aiokafka import AIOKafkaConsumer
from prometheus_client import REGISTRY

from tally_budget.main import MIGRATIONS, create_app
from tally_budget.settings import BudgetSettings
from tallykit import kafka, outbox
from tallykit.contracts import registry
from tallykit.contracts.ledger import CategoryCreated, CategoryKind, TransactionKind, TransactionRecorded
from tallykit.events import SYSTEM


async def test_alerts_reach_the_budget_topic(
    service_client: Callable[..., Awaitable[httpx.AsyncClient]], token_minter: Any
) -> None:
    client = await service_client(create_app, BudgetSettings, MIGRATIONS, run_background=True)
    settings: BudgetSettings = client.app.state.settings  # type: ignore[attr-defined]
    tenant, category = uuid4(), uuid4()
    headers = token_minter.headers(uuid4(), tenant)
    ledger_topic, budget_topic = settings.topic("ledger.events"), settings.topic("budget.events")
    await kafka.ensure_topics(settings, [ledger_topic, budget_topic])

    producer = kafka.producer(settings)
    await producer.start()
    try:
        created = registry.envelope(
            CategoryCreated(name="Groceries", group="Food", kind=CategoryKind.expense),
            tenant_id=tenant,
            stream_id=category,
            stream_version=1,
            actor=SYSTEM,
        )
        await producer.send_and_wait(ledger_topic, created.to_json(), key=str(tenant).encode())
        body = {"category_id": str(category), "amount_minor": 10_000, "currency": "EUR"}
        async with asyncio.timeout(60):  # the category is known once the consumer has handled it
            while (response := await client.post("/budgets", json=body, headers=headers)).status_code == 404:
                await asyncio.sleep(0.1)
        assert response.status_code == 201
        budget_id = response.json()["id"]

        spent = registry.envelope(
            TransactionRecorded(
                account_id=uuid4(),
                kind=TransactionKind.expense,
                amount_minor=10_000,
                currency="EUR",
                category_id=category,
                booked_on=datetime.now(UTC).date(),
            ),
            tenant_id=tenant,
            stream_id=uuid4(),
            stream_version=1,
            actor=SYSTEM,
        )
        for _ in range(2):  # delivered twice, as at-least-once delivery may
            await producer.send_and_wait(ledger_topic, spent.to_json(), key=str(tenant).encode())
    finally:
        await producer.stop()

    # Nothing left in flight: the consumer took the second copy (after the first: one partition, in order)
    # and the relay published the outbox, so the topic holds every alert there will be, a duplicate too.
    group = client.app.state.consumers[0].group_id  # type: ignore[attr-defined]
    duplicates = {"group": group, "outcome": "duplicate"}
    async with asyncio.timeout(60):
        while not REGISTRY.get_sample_value("tally_consumer_events_total", duplicates):
            await asyncio.sleep(0.1)
        while True:
            async with client.app.state.db.read() as session:  # type: ignore[attr-defined]
                if await outbox.backlog(session) == 0:
                    break
            await asyncio.sleep(0.1)
    ends = await kafka.end_offsets(settings, [budget_topic])
    reader = AIOKafkaConsumer(
        budget_topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=f"{budget_topic}.reader",
    )
    await reader.start()
    received: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(60):  # read to the end of every partition
            while len(received) < sum(ends.values()):
                batch = await reader.getmany(timeout_ms=500)
                received += [json.loads(r.value) for rs in batch.values() for r in rs if r.value]
    finally:
        await reader.stop()

    assert [(e["type"], e["stream_version"]) for e in received] == [
        ("budget.BudgetSet", 1),
        ("budget.BudgetThresholdReached", 2),
        ("budget.BudgetExceeded", 3),
    ]
    assert {e["stream_id"] for e in received} == {budget_id}
    assert received[2]["causation_id"] == str(spent.id)
    [item] = (await client.get("/budgets", headers=headers)).json()["items"]
    assert (item["spent_minor"], item["alerts"]) == (10_000, [80, 100])
