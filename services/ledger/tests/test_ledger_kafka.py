"""With the relay and consumers running against the real broker: a household created on auth.events
gets its categories, and the ledger's events reach ledger.events, keyed by tenant."""

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer

from tally_ledger.main import MIGRATIONS, create_app
from tally_ledger.settings import LedgerSettings
from tallykit import kafka, outbox
from tallykit.events import Envelope

from .ledger_helpers import open_account


async def test_events_flow_through_the_broker(
    service_client: Callable[..., Awaitable[httpx.AsyncClient]], household: Callable[[], Any],
    tenant_created: Callable[[Any], Envelope],
) -> None:
    ledger = await service_client(create_app, LedgerSettings, MIGRATIONS, run_background=True)
    settings: LedgerSettings = ledger.app.state.settings  # type: ignore[attr-defined]
    home = household()

    auth_topic = settings.topic("auth.events")
    await kafka.ensure_topics(settings, [auth_topic])
    producer = kafka.producer(settings)
    await producer.start()
    try:
        key = str(home.tenant_id).encode()
        await producer.send_and_wait(auth_topic, tenant_created(home).to_json(), key=key)
    finally:
        await producer.stop()

    async with asyncio.timeout(60):
        while True:
            items = (await ledger.get("/categories", headers=home.headers)).json()["items"]
            if groceries := next((c for c in items if c["name"] == "Groceries"), None):
                break
            await asyncio.sleep(0.1)

    account = await open_account(ledger, home.headers, name="Checking")
    tx = (await ledger.post("/transactions", json={"account_id": account["id"], "kind": "expense",
                                                   "amount_minor": 4_200, "category_id": groceries["id"]},
                            headers=home.headers)).json()

    reader = AIOKafkaConsumer(settings.topic("ledger.events"),
                              bootstrap_servers=settings.kafka_bootstrap_servers,
                              group_id=f"reader-{uuid.uuid4().hex}", auto_offset_reset="earliest")
    await reader.start()
    seen: list[tuple[bytes, Envelope]] = []
    try:
        async with asyncio.timeout(60):
            while not any(e.stream_id == uuid.UUID(tx["id"]) for _, e in seen):
                batch = await reader.getmany(timeout_ms=500)
                records = [r for rs in batch.values() for r in rs]
                seen += [(r.key, Envelope.model_validate(json.loads(r.value))) for r in records]
    finally:
        await reader.stop()

    recorded = next(e for _, e in seen if e.stream_id == uuid.UUID(tx["id"]))
    assert recorded.type == "ledger.TransactionRecorded"
    assert recorded.data["amount_minor"] == 4_200
    assert recorded.data["category_id"] == groceries["id"]
    assert {k for k, _ in seen} == {str(home.tenant_id).encode()}
    assert {e.type for _, e in seen} >= {"ledger.CategoryCreated", "ledger.AccountOpened"}
    async with ledger.app.state.db.read() as session:  # type: ignore[attr-defined]
        assert await outbox.backlog(session) == 0
