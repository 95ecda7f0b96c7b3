"""What a relay sends again when the broker forgets (tallykit.settling), against a real PostgreSQL and a
Tansu of the test's own (it is restarted): only what some consumer group had not applied, all of it
for a group the mark does not know, and a partition that keeps refusing writes is reported wedged."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import KafkaError, UnknownError
from sqlalchemy import column, func, insert, select, table, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from tallykit import kafka, outbox
from tallykit.consumer import EventConsumer
from tallykit.contracts import registry
from tallykit.contracts.ledger import CategoryCreated
from tallykit.db import Database
from tallykit.events import Envelope
from tallykit.outbox import OutboxRelay
from tallykit.settings import ServiceSettings
from tallykit.tables import outbox as outbox_table
from tallykit.tables import relay_marks
from tallystack.broker import free_port, start_tansu

MIGRATIONS = Path(__file__).parent / "kit_migrations"
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
    await session.execute(insert(table("applied", column("value"))).values(value=payload.name))


async def _applied(db: Database) -> list[str]:
    async with db.read() as s:
        return [v for (v,) in await s.execute(text("SELECT value FROM applied ORDER BY id"))]


async def _until(condition: Callable[[], Any], what: str, within_s: float = 90.0) -> None:
    """Deadlines only bound a failure: a busy two-core machine is slow to join a group."""
    try:
        async with asyncio.timeout(within_s):
            while True:
                with contextlib.suppress(KafkaError):
                    if await condition():
                        return
                await asyncio.sleep(0.2)
    except TimeoutError:
        raise AssertionError(f"timed out waiting for {what}") from None


class Running:
    """Background workers of a test, stopped together."""

    def __init__(self) -> None:
        self.stops: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    def start(self, worker: Callable[[asyncio.Event], Any]) -> tuple[asyncio.Event, asyncio.Task[None]]:
        stop = asyncio.Event()
        entry = (stop, asyncio.create_task(worker(stop)))
        self.stops.append(entry)
        return entry

    async def stop(self, entry: tuple[asyncio.Event, asyncio.Task[None]]) -> None:
        entry[0].set()
        await entry[1]
        self.stops.remove(entry)

    async def stop_all(self) -> None:
        for entry in list(self.stops):
            await self.stop(entry)


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    workers = Running()
    yield workers
    await workers.stop_all()


async def test_a_broker_restart_republishes_only_what_some_group_had_not_applied(
    kit_db: tuple[str, Database],
    kit_settings: ServiceSettings,
    make_database: Callable[[Path], Any],
    running: Running,
    tmp_path: Path,
) -> None:
    """Two groups read everything; one is stopped behind. After the broker forgot, the relay sends again
    what that one had not applied and not the history both had: the one behind gets every event it
    missed, exactly once, and the other applies nothing twice."""
    _, db = kit_db
    slow_db = Database(await make_database(MIGRATIONS))  # each group keeps its own inbox
    port = free_port()
    settings = kit_settings.model_copy(
        update={"kafka_bootstrap_servers": f"127.0.0.1:{port}", "relay_check_interval_s": 0.5}
    )
    broker = start_tansu(port, tmp_path / "tansu.log")
    relay = OutboxRelay(db, settings, [TOPIC], consumers={TOPIC: ["fast", "slow"]})
    tenant = uuid4()

    def consumer(group: str, group_db: Database) -> EventConsumer:
        return EventConsumer(db=group_db, settings=settings, registry=registry, topics=[TOPIC],
                             handlers={"ledger.CategoryCreated": _record}, group_id=group)

    async def enqueue(names: list[str]) -> None:
        async with db.transaction() as s:
            await outbox.enqueue(s, settings.topic(TOPIC), [_category(tenant, n) for n in names])
        relay.wakeup.set()

    async def settled_through() -> datetime | None:
        async with db.read() as s:
            return (await s.execute(select(relay_marks.c.settled_through))).scalar()

    async def newest_published() -> datetime | None:
        async with db.read() as s:
            return (await s.execute(select(func.max(outbox_table.c.published_at)))).scalar()

    async def log_holds() -> int:
        return sum((await kafka.end_offsets(settings, relay.topics)).values())

    replays: list[int] = []
    replay = relay.replay

    async def counted_replay() -> int:
        replays.append(await replay())
        return replays[-1]

    relay.replay = counted_replay  # type: ignore[method-assign]
    history = [f"old {i}" for i in range(20)]
    later = [f"later {i}" for i in range(5)]
    try:
        running.start(relay.run)
        running.start(consumer("fast", db).run)
        slow = running.start(consumer("slow", slow_db).run)
        for i in range(5, len(history) + 1, 5):  # several batches, so the mark lands between them
            await enqueue(history[i - 5:i])
            await _until(lambda n=i: _has(db, history[:n]), "the fast group to apply the history")
        await _until(lambda: _has(slow_db, history), "the slow group to apply the history")

        async def history_settled() -> bool:
            mark = await settled_through()
            return mark is not None and mark == await newest_published()

        await _until(history_settled, "the mark to settle the history")
        await running.stop(slow)  # the slow group stops behind what follows
        await enqueue(later)
        await _until(lambda: _has(db, history + later), "the fast group to apply the later events")

        broker.kill()
        broker.wait(timeout=10)
        broker = start_tansu(port, tmp_path / "tansu.log")

        async def replayed() -> bool:
            async with db.read() as s:
                return await outbox.backlog(s) == 0 and await log_holds() >= len(later)

        await _until(replayed, "the relay to publish again what the slow group lacks")
        # Not the history both groups had applied (a write the new broker refused may repeat one).
        assert replays
        assert all(n <= len(later) for n in replays), replays
        assert await log_holds() < len(history)
        running.start(consumer("slow", slow_db).run)
        await _until(lambda: _has(slow_db, history + later), "the slow group to get what it missed")
        assert await _applied(slow_db) == history + later  # in order, each once
        assert await _applied(db) == history + later  # the fast group doubled nothing
    finally:
        await running.stop_all()
        await slow_db.dispose()
        broker.terminate()
        broker.wait(timeout=10)


async def _has(db: Database, names: list[str]) -> bool:
    return set(names) <= set(await _applied(db))


async def test_a_group_the_mark_does_not_know_gets_the_whole_outbox(
    kit_db: tuple[str, Database], kit_settings: ServiceSettings
) -> None:
    """A mark says what the groups it names applied; a group added since (a new service) must read the
    history, so a forgetting sends all of it. `republish` does the same on demand."""
    _, db = kit_db
    topic = kit_settings.topic(TOPIC)
    long_ago = datetime.now(UTC) - timedelta(days=1)
    async with db.transaction() as s:
        await outbox.enqueue(s, topic, [_category(uuid4(), f"c{i}") for i in range(6)])
        await s.execute(update(outbox_table).values(published_at=long_ago))
        await s.execute(update(outbox_table).where(outbox_table.c.id > 4).values(published_at=func.now()))
        await s.execute(insert(relay_marks).values(
            topic=topic, settled_through=long_ago, groups=[kit_settings.topic("fast")], ends={}
        ))
    known = OutboxRelay(db, kit_settings, [TOPIC], consumers={TOPIC: ["fast"]})
    await known.settling.load()
    assert await known.replay() == 2  # only the rows published after the mark
    async with db.transaction() as s:
        await s.execute(update(outbox_table).values(published_at=long_ago))
    joined = OutboxRelay(db, kit_settings, [TOPIC], consumers={TOPIC: ["fast", "newcomer"]})
    await joined.settling.load()
    assert await joined.replay() == 6
    async with db.transaction() as s:
        await s.execute(update(outbox_table).values(published_at=long_ago))
    assert await outbox.republish(db) == 6


class _RefusingProducer:
    """Stands for a broker with a wedged partition 0: every write there fails as Tansu answers it."""

    async def partitions_for(self, topic: str) -> set[int]:
        return {0}

    async def send(self, topic: str, **_: Any) -> asyncio.Future[Any]:
        refused: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        refused.set_exception(UnknownError())
        return refused

    async def send_batch(self, batch: Any, topic: str, **_: Any) -> asyncio.Future[Any]:
        return await self.send(topic)


async def test_a_partition_that_keeps_refusing_writes_is_reported_wedged(
    kit_db: tuple[str, Database], kit_settings: ServiceSettings, tmp_path: Path
) -> None:
    _, db = kit_db
    report = tmp_path / "broker-wedged"
    settings = kit_settings.model_copy(
        update={"kafka_wedged_after_s": 0.0, "kafka_wedge_report_file": report,
                "kafka_single_record_batches": True}
    )
    async with db.transaction() as s:
        await outbox.enqueue(s, settings.topic(TOPIC), [_category(uuid4(), "Rent")])
    relay = OutboxRelay(db, settings, [TOPIC], consumers={TOPIC: []})
    with pytest.raises(outbox.PartitionRefused):
        await relay.publish_batch(_RefusingProducer())  # type: ignore[arg-type]
    assert report.read_text() == f"{settings.topic(TOPIC)}/0\n"
    assert relay.refused_since.keys() == {TopicPartition(settings.topic(TOPIC), 0)}
    async with db.read() as s:
        assert await outbox.backlog(s) == 1  # nothing marked published
