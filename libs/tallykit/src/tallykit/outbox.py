"""The transactional outbox and the relay that publishes it to Kafka, keyed by tenant.

`enqueue` writes envelopes in the caller's transaction, so an event exists exactly when the change
that raised it committed (`enqueue_stored` names an envelope the event store holds instead of copying
it). The relay, one active per database (a session advisory lock elects it), publishes unpublished
rows in id order and marks them. A crash between publishing and marking publishes those rows again;
consumers' inboxes make that harmless.

The local broker keeps messages in memory only, so a restart forgets everything, including records
that consumers had not read yet. The relay notices, and then publishes again what some consumer group
had not applied (tallykit.settling; the inboxes drop what consumers already saw): when it takes the
lead or checks (every `relay_check_interval_s`) and finds its topics empty, or a log shorter than when
its mark settled, or ending at or below an offset it was handed; and, while publishing, when the broker
hands out an offset at or below one it acknowledged before on the same partition (offsets only grow
while a log lives). The last matters because the producer reconnects to a restarted broker on its own
and raises nothing: a relay that trusted errors alone would carry on publishing into the new log.

The local broker can also wedge a partition: it refuses every write there (`UnknownError`, its
`AlreadyExists` inside) while readers miss its last records. A relay refused that way on one partition
for `kafka_wedged_after_s` reports it (`kafka.report_wedged`); the local stack then restarts the broker,
and the relay notices the forgetting as above.
"""

import asyncio
import contextlib
import json
from collections import defaultdict, deque
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.errors import UnknownError
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.structs import RecordMetadata
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from tallykit import kafka, positions
from tallykit.contracts import registry
from tallykit.db import Database, copy_records
from tallykit.events import Envelope
from tallykit.logging import get_logger
from tallykit.meters import EVENTS_PUBLISHED
from tallykit.settings import ServiceSettings
from tallykit.settling import Settling
from tallykit.tables import event_store, outbox

log = get_logger(__name__)

_RELAY_LOCK = 7_240_102
_TENANT_LOCK_SPACE = 7_240_103
_COPY_FROM_ROWS = 100  # below this an INSERT is as quick and needs no COPY set-up


async def enqueue(session: AsyncSession, topic: str, envelopes: Sequence[Envelope]) -> None:
    """Add envelopes to the outbox in the caller's transaction.

    Rows of one tenant get ids in commit order (a per-tenant transaction lock), so the relay, reading
    in id order, publishes each tenant's events in the order they happened.
    """
    if not envelopes:
        return
    await _lock_tenants(session, envelopes)
    await _insert(session, [
        {"event_id": e.id, "topic": topic, "key": str(e.tenant_id), "envelope": e.model_dump(mode="json")}
        for e in envelopes
    ])


async def enqueue_stored(session: AsyncSession, topic: str, envelopes: Sequence[Envelope]) -> None:
    """`enqueue` for envelopes appended to the event store in this same transaction: the row names the
    stored event and the relay reads the envelope from the store, so an event-sourced service keeps
    each envelope once, not twice (half of what a statement import wrote). Many rows go by COPY.

    No tenant locks: the appends took the event store's append lock (`eventstore.lock_appends`), held
    to the commit, so every transaction that appends gets its outbox ids in commit order already (a
    round trip fewer per write). A database whose outbox rows are all written this way (the ledger's)
    keeps each tenant's ids in commit order; one mixing in `enqueue` would need its tenant locks here."""
    if not envelopes:
        return
    rows = [(e.id, topic, str(e.tenant_id)) for e in envelopes]
    if len(rows) < _COPY_FROM_ROWS:
        await _insert(session, [{"event_id": i, "topic": t, "key": k} for i, t, k in rows])
        return
    await copy_records(session, outbox, ["event_id", "topic", "key"], rows)
    # Under the append lock, a household's newest row is one this transaction just wrote.
    newest = await session.execute(
        select(outbox.c.key, func.max(outbox.c.id))
        .where(outbox.c.key.in_({k for _, _, k in rows}))
        .group_by(outbox.c.key)
    )
    positions.enqueued(session, newest.all())


async def _insert(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    written = await session.execute(insert(outbox).returning(outbox.c.key, outbox.c.id), rows)
    positions.enqueued(session, written.all())  # answered by the request once this transaction commits


async def _lock_tenants(session: AsyncSession, envelopes: Sequence[Envelope]) -> None:
    for tenant in sorted({e.tenant_id for e in envelopes}):
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:space, hashtext(:tenant))"),
            {"space": _TENANT_LOCK_SPACE, "tenant": str(tenant)},
        )


@dataclass(frozen=True)
class OutboxRow:
    id: int
    topic: str
    key: str
    envelope: dict[str, Any]


class PartitionRefused(Exception):
    """The broker answered a write to `partition` with `error`."""

    def __init__(self, partition: TopicPartition, error: BaseException) -> None:
        super().__init__(f"{partition.topic}/{partition.partition}: {error!r}")
        self.partition = partition
        self.error = error


class OutboxRelay:
    """Publishes `topics` (logical names); `consumers`: each topic's consumer groups (logical names),
    by default the consumers the event contracts declare for its producer."""

    def __init__(
        self,
        db: Database,
        settings: ServiceSettings,
        topics: Sequence[str],
        consumers: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.topics = [settings.topic(t) for t in topics]
        self.wakeup = asyncio.Event()
        # The highest offset the broker acknowledged per partition: a lower one later means it forgot.
        self.acknowledged: dict[TopicPartition, int] = {}
        # Since when (event-loop time) the broker has refused every write to a partition.
        self.refused_since: dict[TopicPartition, float] = {}
        self.forgot_at_last_check = False
        readers = consumers if consumers is not None else {t: registry.consumers_of(t) for t in topics}
        self.settling = Settling(
            db, settings, {settings.topic(t): [settings.topic(g) for g in readers.get(t, ())] for t in topics}
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until `stop` is set, re-electing and reconnecting after any failure."""
        while not stop.is_set():
            try:
                await self._lead(stop)
            except Exception:
                log.exception("relay_failed_retrying")
                await _sleep_or_stop(stop, 1.0)

    async def _lead(self, stop: asyncio.Event) -> None:
        async with self.db.engine.connect() as lock_conn:
            leader = (
                await lock_conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": _RELAY_LOCK})
            ).scalar()
            if not leader:
                await lock_conn.rollback()
                await _sleep_or_stop(stop, 2.0)
                return
            await lock_conn.commit()  # keep the session lock, end the transaction that took it
            try:
                producer = kafka.producer(self.settings)
                await producer.start()
                try:
                    await kafka.ensure_topics(self.settings, self.topics)
                    await self.settling.load()
                    await self.check_broker()
                    log.info("relay_leading", topics=self.topics)
                    clock = asyncio.get_running_loop().time
                    checked = clock()
                    while not stop.is_set():
                        published = await self.publish_batch(producer)
                        # Also under a steady load: the broker may forget then too, and marks must move.
                        if clock() - checked > self.settings.relay_check_interval_s:
                            await self.check_broker()
                            checked = clock()
                        if not published:
                            await self._idle(stop)
                finally:
                    await producer.stop()
            finally:
                await lock_conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _RELAY_LOCK})
                await lock_conn.commit()

    async def _idle(self, stop: asyncio.Event) -> None:
        self.wakeup.clear()
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self.wakeup.wait())]
        await asyncio.wait(
            waiters, timeout=self.settings.relay_poll_interval_s, return_when=asyncio.FIRST_COMPLETED
        )
        for w in waiters:
            w.cancel()

    async def check_broker(self) -> None:
        """Replay if the broker forgot; else move the settled marks on."""
        if not await self.replay_if_broker_forgot():
            await self.settling.advance(self.acknowledged)

    async def replay_if_broker_forgot(self) -> bool:
        ends = await kafka.end_offsets(self.settings, self.topics)
        lost = [tp for tp, offset in self.acknowledged.items() if ends.get(tp, 0) <= offset]
        forgot = not any(ends.values()) or bool(lost) or self.settling.log_shorter_than_settled(ends)
        if forgot and self.forgot_at_last_check and self.acknowledged:
            # What it acknowledged since the last replay is gone too: the broker does not keep what it
            # takes, a wedge of its own that only a restart of it ends.
            kafka.report_wedged(self.settings, (lost or list(self.acknowledged))[0])
        self.forgot_at_last_check = forgot
        if forgot:
            await self.replay()
        return forgot

    async def replay(self) -> int:
        """Mark unpublished what some consumer group may not have applied, so the relay sends it again."""
        replayed = await self.settling.replay()
        self.acknowledged.clear()
        if replayed:
            log.warning("broker_forgot_events_replaying", rows=replayed)
        return replayed

    async def publish_batch(self, producer: AIOKafkaProducer) -> int:
        async with self.db.transaction() as session:
            rows = await fetch_unpublished(session, self.settings.relay_batch_size)
            if not rows:
                return 0
            try:
                sent = await publish(
                    producer, rows,
                    single_record_batches=self.settings.kafka_single_record_batches,
                    records_per_request=self.settings.kafka_records_per_request,
                    record_set_bytes=self.settings.kafka_record_set_bytes,
                )
            except PartitionRefused as refused:
                self._refused(refused)
                raise
            await mark_published(session, [r.id for r in rows])
        EVENTS_PUBLISHED.labels(self.settings.service_name).inc(len(rows))
        log.debug("outbox_published", rows=len(rows))
        if self._note_offsets(sent):
            await self.replay()
        return len(rows)

    def _refused(self, refused: PartitionRefused) -> None:
        """Unknown server errors are how the local broker answers a write to a wedged partition; other
        refusals (the broker away, a timeout) pass by themselves."""
        if not isinstance(refused.error, UnknownError):
            return
        now = asyncio.get_running_loop().time()
        since = self.refused_since.setdefault(refused.partition, now)
        if now - since >= self.settings.kafka_wedged_after_s:
            kafka.report_wedged(self.settings, refused.partition)
            self.refused_since[refused.partition] = now  # again only if it goes on as long

    def _note_offsets(self, sent: Sequence[RecordMetadata]) -> bool:
        """Remember the highest offset per partition; True when the broker handed out an old one."""
        forgot = False
        for record in sent:
            tp = TopicPartition(record.topic, record.partition)
            self.refused_since.pop(tp, None)
            if record.offset <= self.acknowledged.get(tp, -1):
                forgot = True
            self.acknowledged[tp] = record.offset
        return forgot


async def fetch_unpublished(session: AsyncSession, limit: int) -> list[OutboxRow]:
    stored = select(event_store.c.envelope).where(event_store.c.event_id == outbox.c.event_id)
    result = await session.execute(
        select(outbox.c.id, outbox.c.topic, outbox.c.key,
               func.coalesce(outbox.c.envelope, stored.scalar_subquery()))  # see enqueue_stored
        .where(outbox.c.published_at.is_(None))
        .order_by(outbox.c.id)
        .limit(limit)
    )
    return [OutboxRow(*row) for row in result]


async def publish(
    producer: AIOKafkaProducer,
    rows: Sequence[OutboxRow],
    *,
    single_record_batches: bool = False,
    records_per_request: int = 500,
    record_set_bytes: int = 512 * 1024,
) -> list[RecordMetadata]:
    """Send rows in order and wait until the broker has every one of them; its receipts (the order of
    rows within each partition kept).

    With `single_record_batches` (the local broker, Tansu): it gives each record of a batch its right
    offset, but reports the partition's end (ListOffsets) as one past the *first* record of the last
    batch written there, so after a batch of n records the end shows n - 1 records too few until the
    next write. Consumers read those records all the same and would then take their own commit for one
    into a log the broker forgot (`tallykit.consumer._commit`); the relay and its settled marks would
    too. So each partition's records of one produce request go as a record set of two batches, all but
    the last record and then the last one alone, which the broker appends together: once it answers,
    the end is right. At most `records_per_request` records and about `record_set_bytes` of one
    partition go in a request; the partitions go side by side, one request each round.
    """
    if not single_record_batches:
        futures = [
            await producer.send(r.topic, value=_value(r), key=r.key.encode(), headers=_headers(r))
            for r in rows
        ]
        return list(await asyncio.gather(*futures))
    queues: dict[tuple[str, int], deque[OutboxRow]] = defaultdict(deque)
    partitioner = DefaultPartitioner()
    for row in rows:
        partitions = sorted(await producer.partitions_for(row.topic))
        queues[(row.topic, partitioner(row.key.encode(), partitions, partitions))].append(row)
    receipts: list[RecordMetadata] = []
    while queues:
        wave = [
            (topic, partition, _RecordSet.take(queue, records_per_request, record_set_bytes))
            for (topic, partition), queue in queues.items()
        ]
        futures = [
            await producer.send_batch(record_set, topic, partition=partition)
            for topic, partition, record_set in wave
        ]
        for (topic, partition, record_set), result in zip(
            wave, await asyncio.gather(*futures, return_exceptions=True), strict=True
        ):
            if isinstance(result, BaseException):
                raise PartitionRefused(TopicPartition(topic, partition), result) from result
            receipts.extend(result._replace(offset=result.offset + i) for i in range(record_set.count))
        queues = {k: q for k, q in queues.items() if q}
    return receipts


class _RecordSet:
    """One partition's records for one produce request, as the local broker counts them right: a batch
    of all but the last record, then a batch of the last one, in one record set (`publish`). Handed to
    `AIOKafkaProducer.send_batch` in place of its `BatchBuilder`: the producer asks it for its bytes,
    size and count; its future answers the offset of the first record."""

    def __init__(self, head: Any, tail: Any, count: int) -> None:  # DefaultRecordBatchBuilder
        self._buffer = bytes(head.build()) if head is not None else b""
        self._buffer += bytes(tail.build())
        self.count = count

    @classmethod
    def take(cls, queue: deque[OutboxRow], most: int, most_bytes: int) -> "_RecordSet":
        """Take up to `most` rows (about `most_bytes`, at least one) off the front of a partition's queue."""
        head = _batch_builder(most_bytes)
        count = 0
        while True:
            row = queue.popleft()
            last = count + 1 == most or not queue
            if last or head.append(count, None, row.key.encode(), _value(row), _headers(row)) is None:
                # The last record goes alone: the broker's end is one past the first of the last batch.
                tail = _batch_builder(most_bytes)
                tail.append(0, None, row.key.encode(), _value(row), _headers(row))
                return cls(head if count else None, tail, count + 1)
            count += 1

    # What the producer asks of a batch (aiokafka.producer.message_accumulator.BatchBuilder).
    def _build(self) -> bytes:
        return self._buffer

    def size(self) -> int:
        return len(self._buffer)

    def record_count(self) -> int:
        return self.count

    def closed(self) -> bool:
        return True

    def close(self) -> None:
        pass

    def append(self, **_: Any) -> None:
        return None  # full: the producer's send() never adds to it

    def _set_producer_state(self, *_: Any) -> None:
        raise RuntimeError("record sets are for the local broker, which refuses the idempotent producer")


def _batch_builder(most_bytes: int) -> Any:
    # magic 2, no compression, not transactional, no producer id or epoch, sequence 0 (as aiokafka's)
    return DefaultRecordBatchBuilder(2, 0, 0, -1, -1, 0, most_bytes)


def _value(row: OutboxRow) -> bytes:
    return json.dumps(row.envelope).encode()


def _headers(row: OutboxRow) -> list[tuple[str, bytes]]:
    """The row's id: its position for read-your-writes (tallykit.positions)."""
    return [(positions.RECORD_HEADER, str(row.id).encode())]


async def mark_published(session: AsyncSession, ids: Sequence[int]) -> None:
    """Later than every row published before, even were the clock to step back: what a relay sends
    again after the broker forgot is what was published after a time (tallykit.settling)."""
    after_latest = select(func.max(outbox.c.published_at) + text("interval '1 microsecond'"))
    published_at = func.greatest(func.now(), after_latest.scalar_subquery())
    await session.execute(update(outbox).where(outbox.c.id.in_(ids)).values(published_at=published_at))


async def republish(db: Database) -> int:
    """Have the relay publish the whole outbox again, in order (`python -m tally_<service> republish`):
    for a consumer that must read every event anew (its database lost, a read model rebuilt from
    events) while the broker holds only recent records. Inboxes drop what consumers already have."""
    async with db.transaction() as session:
        result = await session.execute(
            update(outbox).where(outbox.c.published_at.is_not(None)).values(published_at=None)
        )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def backlog(session: AsyncSession) -> int:
    query = select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
    return int((await session.execute(query)).scalar_one())


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
