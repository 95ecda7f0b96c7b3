"""The outbox relay and the consumer against a real PostgreSQL and a real Kafka-protocol broker."""

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError
from prometheus_client import REGISTRY
from sqlalchemy import column, func, insert, table, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from tallykit import kafka, outbox
from tallykit.consumer import EventConsumer, after_events
from tallykit.contracts import registry
from tallykit.contracts.ledger import CategoryCreated, CategoryRenamed
from tallykit.db import Database
from tallykit.events import Envelope
from tallykit.outbox import OutboxRelay
from tallykit.settings import ServiceSettings
from tallykit.tables import outbox as outbox_table
from tallystack.broker import free_port, start_tansu

TOPIC = "ledger.events"


def _category(tenant: UUID, name: str) -> Envelope:
    return registry.envelope(
        CategoryCreated(name=name, group="Food", kind="expense"),
        tenant_id=tenant,
        stream_id=uuid4(),
        stream_version=1,
        actor="system",
    )


async def _record(session: AsyncSession, envelope: Envelope, payload: CategoryCreated) -> None:
    applied = table("applied", column("value"))
    if payload.name == "poison":
        raise ValueError("this handler cannot take poison")
    await session.execute(insert(applied).values(value=payload.name))


async def _applied(db: Database) -> list[str]:
    async with db.read() as s:
        return [v for (v,) in await s.execute(text("SELECT value FROM applied ORDER BY id"))]


def _consumer(db: Database, settings: ServiceSettings) -> EventConsumer:
    return EventConsumer(
        db=db,
        settings=settings,
        registry=registry,
        topics=[TOPIC],
        handlers={"ledger.CategoryCreated": _record},
    )


def _taken(consumer: EventConsumer, outcome: str) -> float:
    """Records the consumer's group took with this outcome (handled, duplicate, …), as its metric counts."""
    value = REGISTRY.get_sample_value(
        "tally_consumer_events_total", {"group": consumer.group_id, "outcome": outcome}
    )
    return value or 0.0


# Deadlines only bound a failure: a busy two-core machine is slow to join a group or create a topic.
async def _run_until(consumer: EventConsumer, condition: Callable[[], Any], timeout: float = 60.0) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(consumer.run(stop))
    try:
        async with asyncio.timeout(timeout):
            while not await condition():
                await asyncio.sleep(0.1)
    finally:
        stop.set()
        await task


async def test_relay_crash_before_marking_republishes_and_inbox_ignores_duplicate(
    kit_db: tuple[str, Database], kit_settings: ServiceSettings
) -> None:
    _, db = kit_db
    tenant = uuid4()
    async with db.transaction() as s:
        await outbox.enqueue(
            s, kit_settings.topic(TOPIC), [_category(tenant, "Groceries"), _category(tenant, "Rent")]
        )

    relay = OutboxRelay(db, kit_settings, [TOPIC])
    await kafka.ensure_topics(kit_settings, relay.topics)
    producer = kafka.producer(kit_settings)
    await producer.start()
    try:
        # The relay publishes, then "crashes" before marking: its transaction never commits.
        async with db.transaction() as s:
            rows = await outbox.fetch_unpublished(s, 100)
            await outbox.publish(
                producer, rows, single_record_batches=kit_settings.kafka_single_record_batches
            )
        async with db.read() as s:
            assert await outbox.backlog(s) == 2
        # Restarted, it publishes the same rows again and marks them.
        assert await relay.publish_batch(producer) == 2
    finally:
        await producer.stop()

    consumer = _consumer(db, kit_settings)

    async def all_four_taken() -> bool:
        return _taken(consumer, "handled") + _taken(consumer, "duplicate") >= 4

    await _run_until(consumer, all_four_taken)
    assert (_taken(consumer, "handled"), _taken(consumer, "duplicate")) == (2, 2)
    assert await _applied(db) == ["Groceries", "Rent"]  # four deliveries, two effects
    async with db.read() as s:
        assert await outbox.backlog(s) == 0


async def test_redelivered_event_changes_nothing(
    kit_db: tuple[str, Database], kit_settings: ServiceSettings
) -> None:
    _, db = kit_db
    consumer = _consumer(db, kit_settings)
    envelope = _category(uuid4(), "Fuel")
    assert await consumer.handle(envelope.to_json()) is True
    assert await consumer.handle(envelope.to_json()) is False
    assert await _applied(db) == ["Fuel"]


def _records(*envelopes: Envelope | None) -> list[ConsumerRecord[Any, Any]]:
    return [
        ConsumerRecord(TOPIC, 0, n, 0, 0, None, e.to_json() if e else None, None, 0, 0, [])
        for n, e in enumerate(envelopes)
    ]


async def test_records_that_arrive_together_apply_in_one_transaction_or_not_at_all(
    kit_db: tuple[str, Database], kit_settings: ServiceSettings
) -> None:
    _, db = kit_db
    consumer = _consumer(db, kit_settings)
    tenant = uuid4()
    rent, fuel, poison = (_category(tenant, n) for n in ("Rent", "Fuel", "poison"))
    # A repeat inside the batch is a duplicate there too.
    assert await consumer.handle_together(_records(rent, rent, fuel)) is True
    assert (await _applied(db), consumer.handled) == (["Rent", "Fuel"], 2)
    # One bad record rolls the whole batch back (the loop then goes one at a time): nothing applied.
    books = _category(tenant, "Books")
    assert await consumer.handle_together(_records(books, poison)) is False
    assert await consumer.handle_together(_records(books, None)) is False
    assert (await _applied(db), consumer.handled) == (["Rent", "Fuel"], 2)


async def test_work_after_events_runs_once_per_key_after_the_events_and_fails_with_them(
    kit_db: tuple[str, Database], kit_settings: ServiceSettings
) -> None:
    _, db = kit_db
    runs: list[tuple[str, list[str]]] = []

    async def summary(session: AsyncSession, names: list[str]) -> None:
        # It sees what every event of the transaction applied, and writes in the same transaction.
        runs.append((str(len(await _applied_in(session))), names))
        if "poison summary" in names:
            raise ValueError("the summary fails")
        await session.execute(insert(table("applied", column("value"))).values(value="+".join(names)))

    async def record_then_summarise(
        session: AsyncSession, envelope: Envelope, payload: CategoryCreated
    ) -> None:
        await _record(session, envelope, payload)
        after_events(session, summary, envelope.tenant_id, payload.name)

    consumer = EventConsumer(db=db, settings=kit_settings, registry=registry, topics=[TOPIC],
                             handlers={"ledger.CategoryCreated": record_then_summarise})
    first, second = uuid4(), uuid4()
    before = len(await _applied(db))
    assert await consumer.handle_together(_records(
        _category(first, "Rent"), _category(second, "Tea"), _category(first, "Fuel"))) is True
    assert [names for _, names in runs] == [["Rent", "Fuel"], ["Tea"]]  # once per key, items in order
    assert runs[0][0] == str(before + 3)  # after all three events
    assert (await _applied(db))[before:] == ["Rent", "Tea", "Fuel", "Rent+Fuel", "Tea"]
    runs.clear()
    assert await consumer.handle(_category(first, "Books").to_json()) is True  # one at a time too
    assert [names for _, names in runs] == [["Books"]]
    # Work that fails takes its events with it: the batch rolls back whole.
    assert await consumer.handle_together(_records(
        _category(first, "Milk"), _category(first, "poison summary"))) is False
    assert (await _applied(db))[before:] == ["Rent", "Tea", "Fuel", "Rent+Fuel", "Tea", "Books", "Books"]


async def test_runs_of_a_batch_handlers_types_go_to_it_together_the_rest_one_at_a_time_in_order(
    kit_db: tuple[str, Database], kit_settings: ServiceSettings
) -> None:
    """A batch handler gets each run of consecutive events of its types (duplicates already dropped by
    the one inbox statement, also a repeat inside the batch); other events go one at a time between,
    in order."""
    _, db = kit_db
    runs: list[list[str]] = []

    async def together(session: AsyncSession, events: list[tuple[Envelope, Any]]) -> None:
        runs.append([p.name for _, p in events])
        if any(p.name == "poison" for _, p in events):
            raise ValueError("the batch handler cannot take poison")
        for envelope, payload in events:
            await _record(session, envelope, payload)

    async def one(session: AsyncSession, envelope: Envelope, payload: Any) -> None:
        await _record(session, envelope, payload)

    consumer = EventConsumer(
        db=db, settings=kit_settings, registry=registry, topics=[TOPIC],
        handlers={"ledger.CategoryCreated": _record, "ledger.CategoryRenamed": one},
        batch_handlers={"ledger.CategoryCreated": together},
    )
    tenant = uuid4()
    rent, fuel, tea = (_category(tenant, n) for n in ("Rent", "Fuel", "Tea"))
    renamed = registry.envelope(CategoryRenamed(name="Fuel!", group="Food"), tenant_id=tenant,
                                stream_id=fuel.stream_id, stream_version=2, actor="system")
    assert await consumer.handle(rent.to_json()) is True  # already in the inbox
    before = len(await _applied(db))
    assert await consumer.handle_together(_records(rent, fuel, tea, fuel, renamed, _category(tenant, "Milk")))
    assert runs == [["Fuel", "Tea"]]  # a run of one (Milk) goes to the one-at-a-time handler
    assert (await _applied(db))[before:] == ["Fuel", "Tea", "Fuel!", "Milk"]
    runs.clear()
    # A failing batch handler takes the whole batch with it (the loop then goes one at a time).
    jam, poison = _category(tenant, "Jam"), _category(tenant, "poison")
    assert await consumer.handle_together(_records(jam, poison)) is False
    assert runs == [["Jam", "poison"]]
    assert (await _applied(db))[before:] == ["Fuel", "Tea", "Fuel!", "Milk"]


async def _applied_in(session: AsyncSession) -> list[str]:
    return [v for (v,) in await session.execute(text("SELECT value FROM applied ORDER BY id"))]


async def test_unhandleable_events_go_to_dead_letter_topic_and_consumer_goes_on(
    kit_db: tuple[str, Database], kit_settings: ServiceSettings
) -> None:
    _, db = kit_db
    tenant = uuid4()
    producer = kafka.producer(kit_settings)
    topic = kit_settings.topic(TOPIC)
    await kafka.ensure_topics(kit_settings, [topic])
    await producer.start()
    try:
        key = str(tenant).encode()
        await producer.send_and_wait(topic, b"{not json", key=key)
        bad_payload = _category(tenant, "x").model_copy(update={"data": {"name": 5}})
        await producer.send_and_wait(topic, bad_payload.to_json(), key=key)
        await producer.send_and_wait(topic, _category(tenant, "poison").to_json(), key=key)
        await producer.send_and_wait(topic, _category(tenant, "Books").to_json(), key=key)
    finally:
        await producer.stop()

    consumer = _consumer(db, kit_settings)

    async def books_applied() -> bool:
        return "Books" in await _applied(db)

    await _run_until(consumer, books_applied)
    assert await _applied(db) == ["Books"]

    dlq = AIOKafkaConsumer(
        consumer.dead_letter_topic,
        bootstrap_servers=kit_settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=f"{consumer.dead_letter_topic}.reader",
    )
    await dlq.start()
    try:
        records = []
        async with asyncio.timeout(60):
            while len(records) < 3:
                batch = await dlq.getmany(timeout_ms=500)
                records += [r for rs in batch.values() for r in rs]
    finally:
        await dlq.stop()
    errors = [dict(r.headers)["error"].decode() for r in records]
    assert "not an event envelope" in errors[0]
    assert "ledger.CategoryCreated" in errors[1]
    assert "cannot take poison" in errors[2]


async def test_relay_republishes_everything_when_the_broker_forgot(
    kit_db: tuple[str, Database], kit_settings: ServiceSettings
) -> None:
    _, db = kit_db
    async with db.transaction() as s:
        await outbox.enqueue(s, kit_settings.topic(TOPIC), [_category(uuid4(), "Kids")])
        # As if published to a broker that has since restarted with empty memory.
        await s.execute(update(outbox_table).values(published_at=func.now()))
    relay = OutboxRelay(db, kit_settings, [TOPIC])
    await kafka.ensure_topics(kit_settings, relay.topics)
    assert await relay.replay_if_broker_forgot()
    async with db.read() as s:
        assert await outbox.backlog(s) == 1
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        async with asyncio.timeout(60):
            while True:
                async with db.read() as s:
                    if await outbox.backlog(s) == 0:
                        break
                await asyncio.sleep(0.1)
    finally:
        stop.set()
        await task
    # Now the topic holds the event, so a second check replays nothing.
    assert not await relay.replay_if_broker_forgot()


async def _end_offsets_total(settings: ServiceSettings, topic: str) -> int:
    return sum((await kafka.end_offsets(settings, [topic])).values())


async def test_a_leading_relay_replays_when_the_broker_restarts_under_it(
    kit_db: tuple[str, Database], kit_settings: ServiceSettings, tmp_path: Path
) -> None:
    """The producer reconnects to a restarted broker by itself and raises nothing; the relay must
    still see that the new log lacks what it published before (offsets went back) and send it again."""
    _, db = kit_db
    port = free_port()
    settings = kit_settings.model_copy(update={"kafka_bootstrap_servers": f"127.0.0.1:{port}"})
    broker = start_tansu(port, tmp_path / "tansu.log")
    relay = OutboxRelay(db, settings, [TOPIC])
    tenant = uuid4()
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))

    async def enqueue(names: list[str]) -> None:
        async with db.transaction() as s:
            await outbox.enqueue(s, settings.topic(TOPIC), [_category(tenant, n) for n in names])
        relay.wakeup.set()

    async def until_the_log_holds(count: int) -> None:
        async with asyncio.timeout(60):
            while True:
                async with db.read() as s:
                    backlog = await outbox.backlog(s)
                with contextlib.suppress(KafkaError):
                    if backlog == 0 and await _end_offsets_total(settings, relay.topics[0]) >= count:
                        return
                await asyncio.sleep(0.2)

    try:
        await enqueue([f"before {i}" for i in range(5)])
        await until_the_log_holds(5)
        broker.kill()
        broker.wait(timeout=10)
        broker = start_tansu(port, tmp_path / "tansu.log")
        await kafka.ensure_topics(settings, relay.topics)  # as another service's start would
        await enqueue([f"after {i}" for i in range(3)])
        await until_the_log_holds(8)  # without the replay the new log holds only the 3 new rows
    finally:
        stop.set()
        await task
        broker.terminate()
        broker.wait(timeout=10)


async def test_a_burst_for_one_household_lands_as_that_many_offsets(
    kit_db: tuple[str, Database], kit_settings: ServiceSettings
) -> None:
    """Many rows of one tenant published at once: the topic's end offset counts every one, so a
    consumer that has read to the end has read them all (the local broker needs one record a batch)."""
    _, db = kit_db
    tenant = uuid4()
    async with db.transaction() as s:
        await outbox.enqueue(s, kit_settings.topic(TOPIC), [_category(tenant, f"c{i}") for i in range(25)])
    relay = OutboxRelay(db, kit_settings, [TOPIC])
    await kafka.ensure_topics(kit_settings, relay.topics)
    producer = kafka.producer(kit_settings)
    await producer.start()
    try:
        assert await relay.publish_batch(producer) == 25
    finally:
        await producer.stop()
    client = AIOKafkaConsumer(bootstrap_servers=kit_settings.kafka_bootstrap_servers)
    await client.start()
    try:
        await client.topics()
        partitions = [
            TopicPartition(relay.topics[0], p) for p in client.partitions_for_topic(relay.topics[0]) or ()
        ]
        assert sum((await client.end_offsets(partitions)).values()) == 25
    finally:
        await client.stop()


async def test_record_sets_keep_every_partitions_end_right_after_each_request(
    kit_db: tuple[str, Database], kit_settings: ServiceSettings
) -> None:
    """Several records of a partition per produce request (the local broker reports a partition's end
    one past the first record of the last batch written: each request ends with a batch of one).
    Requests capped at 7 records and at 2 KiB of a partition, for many requests per partition: after
    the relay's publish every end counts every record, each partition holds its rows in outbox order
    at offsets 0, 1, 2, ... and the receipts name exactly those offsets."""
    _, db = kit_db
    tenants = [uuid4() for _ in range(5)]
    async with db.transaction() as s:
        await outbox.enqueue(s, kit_settings.topic(TOPIC),
                             [_category(tenants[i % 5], f"c{i}") for i in range(103)])
    settings = kit_settings.model_copy(
        update={"kafka_records_per_request": 7, "kafka_record_set_bytes": 2048}
    )
    relay = OutboxRelay(db, settings, [TOPIC])
    await kafka.ensure_topics(settings, relay.topics)
    producer = kafka.producer(settings)
    await producer.start()
    try:
        async with db.transaction() as s:
            rows = await outbox.fetch_unpublished(s, 500)
            receipts = await outbox.publish(
                producer, rows, single_record_batches=settings.kafka_single_record_batches,
                records_per_request=7, record_set_bytes=2048,
            )
    finally:
        await producer.stop()
    client = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await client.start()
    try:
        await client.topics()
        topic = relay.topics[0]
        partitions = [TopicPartition(topic, p) for p in client.partitions_for_topic(topic) or ()]
        ends = await client.end_offsets(partitions)
        assert sum(ends.values()) == 103
        client.assign(partitions)
        await client.seek_to_beginning(*partitions)
        read: dict[TopicPartition, list[tuple[int, int]]] = {tp: [] for tp in partitions}
        async with asyncio.timeout(60):
            while sum(len(r) for r in read.values()) < 103:
                for tp, records in (await client.getmany(timeout_ms=500)).items():
                    read[tp] += [(r.offset, int(dict(r.headers)["tally-position"])) for r in records]
    finally:
        await client.stop()
    for tp in partitions:
        offsets, ids = [o for o, _ in read[tp]], [i for _, i in read[tp]]
        assert offsets == list(range(ends[tp]))
        assert ids == sorted(ids)
        assert sorted(r.offset for r in receipts if r.partition == tp.partition) == offsets
    assert sorted(i for r in read.values() for _, i in r) == sorted(r.id for r in rows)
