"""Scaling out, against the real broker and PostgreSQL: two relays on one database and two consumers in
one group, as two replicas of a service run them. Work is shared, nothing takes effect twice, and every
household's events are applied in the order they happened."""

import asyncio
from collections import defaultdict
from uuid import UUID, uuid4

from aiokafka import AIOKafkaProducer
from sqlalchemy import column, insert, table, text
from sqlalchemy.ext.asyncio import AsyncSession

from tallykit import kafka, outbox
from tallykit.consumer import EventConsumer
from tallykit.contracts import registry
from tallykit.contracts.ledger import CategoryCreated
from tallykit.db import Database
from tallykit.events import Envelope
from tallykit.metrics import consumer_lag
from tallykit.outbox import OutboxRelay
from tallykit.settings import ServiceSettings

TOPIC = "ledger.events"
HOUSEHOLDS = 24


class CountingRelay(OutboxRelay):
    published = 0

    async def publish_batch(self, producer: AIOKafkaProducer) -> int:
        n = await super().publish_batch(producer)
        self.published += n
        return n


async def _record(session: AsyncSession, envelope: Envelope, payload: CategoryCreated) -> None:
    await session.execute(insert(table("applied", column("value"))).values(value=payload.name))


def _event(household: UUID, seq: int) -> Envelope:
    return registry.envelope(
        CategoryCreated(name=f"{household}:{seq:04d}", group="g", kind="expense"),
        tenant_id=household,
        stream_id=uuid4(),
        stream_version=1,
        actor="system",
    )


async def test_two_replicas_share_the_work_apply_each_event_once_and_keep_household_order(
    kit_db: tuple[str, Database], kit_settings: ServiceSettings
) -> None:
    _, db = kit_db
    topic = kit_settings.topic(TOPIC)
    await kafka.ensure_topics(kit_settings, [topic])
    households = [uuid4() for _ in range(HOUSEHOLDS)]
    next_seq: dict[UUID, int] = defaultdict(int)

    def replica_consumer() -> EventConsumer:
        return EventConsumer(
            db=db,
            settings=kit_settings,
            registry=registry,
            topics=[TOPIC],
            handlers={"ledger.CategoryCreated": _record},
        )

    consumers = [replica_consumer(), replica_consumer()]
    relays = [CountingRelay(db, kit_settings, [TOPIC]), CountingRelay(db, kit_settings, [TOPIC])]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(worker.run(stop)) for worker in (*consumers, *relays)]

    async def write_wave() -> None:
        """Each household records a few events, interleaved, in separate transactions."""
        for _ in range(3):
            for household in households:
                async with db.transaction() as s:
                    await outbox.enqueue(s, topic, [_event(household, next_seq[household])])
                next_seq[household] += 1

    try:
        async with asyncio.timeout(120):  # only bounds a failure: joining a group is slow on a busy machine
            # Keep writing until both replicas hold partitions and have applied something.
            await write_wave()
            while min(c.handled for c in consumers) == 0 or sum(next_seq.values()) < 4 * 3 * HOUSEHOLDS:
                await asyncio.sleep(0.3)
                await write_wave()
            total = sum(next_seq.values())
            while True:
                async with db.read() as s:
                    applied = (await s.execute(text("SELECT count(*) FROM applied"))).scalar_one()
                if applied >= total and sum(c.handled for c in consumers) >= total:
                    break
                await asyncio.sleep(0.2)
            # Nothing left in flight: the outbox is published and the group committed to every partition's
            # end, so every record was taken (a repeat the inbox dropped, or a second effect: counted now).
            group = {consumers[0].group_id: consumers[0].topics}
            while True:
                async with db.read() as s:
                    backlog = await outbox.backlog(s)
                lag = await consumer_lag(kit_settings, group)
                if backlog == 0 and lag and not any(lag.values()):
                    break
                await asyncio.sleep(0.2)
    finally:
        stop.set()
        await asyncio.gather(*tasks)

    async with db.read() as s:
        rows = [v for (v,) in await s.execute(text("SELECT value FROM applied ORDER BY id"))]
        inbox_rows = (await s.execute(text("SELECT count(*) FROM inbox"))).scalar_one()
    assert len(rows) == total == len(set(rows)) == inbox_rows, "every event took effect exactly once"
    assert sum(c.handled for c in consumers) == total
    assert all(c.handled > 0 for c in consumers), [c.handled for c in consumers]
    per_household: dict[str, list[int]] = defaultdict(list)
    for value in rows:
        household, seq = value.rsplit(":", 1)
        per_household[household].append(int(seq))
    for seqs in per_household.values():
        assert seqs == list(range(len(seqs))), "a household's events are applied in order"
    assert sorted(r.published for r in relays) == [0, total], "one relay leads, the other stands by"
