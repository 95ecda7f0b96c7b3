"""The consumer loop: inbox for exactly-once effect, offsets committed after the transaction,
a dead-letter topic for events that cannot be handled.

Each partition's messages are handled in order, so a tenant's events (keyed by tenant id) are never
applied out of order. A handler runs in the same transaction as the inbox row recording its event id:
a redelivered event finds its id and changes nothing. The messages of one partition that arrive
together are applied in one transaction (one commit instead of one per event: the consumers keep up
with a burst); if anything in it fails, it rolls back whole and the same messages are handled again
one at a time, each in a transaction of its own. There, failures that may pass (database or network
down, serialisation conflicts) are retried without moving on; anything else is sent to `<group>.dlq`
with the error, and the consumer goes on.

Work that only needs the state after a burst (budget alerts, say) is handed to `after_events`: it runs
once per key when the transaction's events have all been applied, instead of once per event.

A batch is applied as a set where it can: its envelopes are parsed once, their ids go into the inbox in
one statement (an id already there, or met earlier in the batch, is a duplicate and is skipped, as one
at a time), and a run of consecutive events whose types share a batch handler (`batch_handlers`) is
handed to it whole, as (envelope, payload) pairs in order, to be applied with a few set-based
statements; every other event goes to its handler alone, in order. A batch handler must leave exactly
what the one-at-a-time handlers would (the tests compare the read models), and a type with a batch
handler keeps its one-at-a-time handler for `handle` and for the fall-back.

Every record's position (its outbox id, in a header) is recorded per source and household in the same
transaction, also for the events no handler here wants, so a request waiting to read its own writes
(tallykit.positions) learns when this service has caught up.

A member with nothing to do watches the group's progress (`StallWatch`): when a partition of its topics
has records the group has not committed and no commit moved there for `kafka_stalled_after_s`, nobody is
reading it — a member that died without leaving still holds it, or the broker restarted and forgot the
group while its members kept their old assignment — and this member leaves and joins again, which
makes the group assign every partition anew. A poll that does not return in that time (the client waits
for the group's assignment without a bound, and after a broker restart it can wait for ever) or a client
that will not stop is given up the same way: the next one starts afresh from the bootstrap servers.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable, Collection, Hashable, Mapping, Sequence
from typing import Any

from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    TopicPartition,
)
from aiokafka.errors import CommitFailedError, KafkaError
from pydantic import ValidationError
from sqlalchemy import func, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from tallykit import kafka, positions
from tallykit.db import Database
from tallykit.events import Envelope, EventPayload, EventRegistry, InvalidEventPayload, UnknownEventType
from tallykit.logging import bound_context, get_logger
from tallykit.meters import CONSUMER_EVENTS
from tallykit.settings import ServiceSettings
from tallykit.tables import inbox

log = get_logger(__name__)

Handler = Callable[[AsyncSession, Envelope, Any], Awaitable[None]]
# A run of consecutive events of the types it is registered for, in order, applied together.
BatchHandler = Callable[[AsyncSession, list[tuple[Envelope, Any]]], Awaitable[None]]
AfterEvents = Callable[[AsyncSession, list[Any]], Awaitable[None]]
_AFTER_EVENTS = "tallykit.after_events"
# Built once (a burst runs it per event). clock_timestamp(), not the transaction's now(): events applied
# together still show the order they were applied in.
_INBOX_INSERT = (
    pg_insert(inbox)
    .values(handled_at=func.clock_timestamp())
    .on_conflict_do_nothing()
    .returning(inbox.c.event_id)
)
# One statement for a batch's inbox rows: those whose id was not there yet come back.
_INBOX_INSERT_MANY = text(
    "INSERT INTO inbox (event_id, type, tenant_id, handled_at)"
    " SELECT event_id, type, tenant_id, clock_timestamp()"
    " FROM unnest(CAST(:ids AS uuid[]), CAST(:types AS varchar[]), CAST(:tenants AS uuid[]))"
    " AS batch (event_id, type, tenant_id)"
    " ON CONFLICT DO NOTHING RETURNING event_id"
)
_RETRYABLE_SQLSTATES = {"40001", "40P01", "57P01", "57P03"}


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError | InterfaceError | OSError | TimeoutError | KafkaError):
        return True
    if isinstance(exc, DBAPIError):
        code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        return exc.connection_invalidated or code in _RETRYABLE_SQLSTATES
    return False


def after_events(session: AsyncSession, work: AfterEvents, key: Hashable, item: Any) -> None:
    """Have `work` run once per `key` in this consumer transaction, after all its events were applied,
    with every `item` handed in under that key, in order. It runs in the same transaction: if it fails,
    so do the events, as if a handler had."""
    pending: dict[Hashable, tuple[AfterEvents, list[Any]]] = session.info.setdefault(_AFTER_EVENTS, {})
    pending.setdefault(key, (work, []))[1].append(item)


async def _run_after_events(session: AsyncSession) -> None:
    pending: dict[Hashable, tuple[AfterEvents, list[Any]]] = session.info.pop(_AFTER_EVENTS, {})
    for work, items in pending.values():
        await work(session, items)


class DeadLetter(Exception):
    """An event this consumer can never handle."""


class EventConsumer:
    def __init__(
        self,
        *,
        db: Database,
        settings: ServiceSettings,
        registry: EventRegistry,
        topics: Sequence[str],
        handlers: Mapping[str, Handler],
        batch_handlers: Mapping[str, BatchHandler] | None = None,
        group_id: str | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.registry = registry
        self.topics = [settings.topic(t) for t in topics]
        # A topic's records are positions of the service that publishes it ("ledger.events" → ledger).
        self.sources = {settings.topic(t): t.removesuffix(".events") for t in topics}
        self.handlers = dict(handlers)
        self.batch_handlers = dict(batch_handlers or {})
        unknown = set(self.batch_handlers) - set(self.handlers)
        if unknown:
            raise ValueError(f"batch handlers need a one-at-a-time handler too: {sorted(unknown)}")
        self.group_id = settings.topic(group_id or settings.service_name)
        self.dead_letter_topic = f"{self.group_id}.dlq"
        self.handled = 0
        self.assigned: set[TopicPartition] = set()
        self.ticked = time.monotonic()  # when the consume loop last came round

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self._consume_watched(stop)
            except Exception:
                log.exception("consumer_failed_restarting", group=self.group_id)
                await asyncio.sleep(1.0)

    async def _consume_watched(self, stop: asyncio.Event) -> None:
        """`_consume`, given up when its loop has not come round for twice `kafka_stalled_after_s`: every
        wait in it is bounded, so that is a wait inside a client that never ends — logged with what it
        was awaiting, and the next client starts afresh."""
        limit = 2 * self.settings.kafka_stalled_after_s
        self.ticked = time.monotonic()
        consume = asyncio.create_task(self._consume(stop))
        try:
            while True:
                done, _ = await asyncio.wait({consume}, timeout=limit / 6)
                if done:
                    return consume.result()
                if time.monotonic() - self.ticked > limit:
                    log.error("consumer_loop_stuck_restarting", group=self.group_id, after_s=limit,
                              awaiting=awaiting(consume))
                    consume.cancel()
                    await asyncio.wait({consume}, timeout=limit / 6)
                    return None
        finally:
            consume.cancel()  # stopping (a no-op when it is done)

    async def _consume(self, stop: asyncio.Event) -> None:
        await kafka.ensure_topics(self.settings, [*self.topics, self.dead_letter_topic])
        client = kafka.consumer(self.settings, self.group_id)
        client.subscribe(self.topics, listener=_AssignmentLog(self))
        producer = kafka.producer(self.settings)
        bound_s = self.settings.kafka_stalled_after_s
        try:
            await asyncio.wait_for(client.start(), timeout=bound_s)
            await asyncio.wait_for(producer.start(), timeout=bound_s)
            log.info("consumer_started", group=self.group_id, topics=self.topics)
            watch = StallWatch(bound_s)
            while not stop.is_set():
                self.ticked = time.monotonic()
                batch = await poll(client, bound_s)
                if batch is None:
                    log.warning("consumer_group_join_stuck_rejoining", group=self.group_id, after_s=bound_s)
                    return
                if await watch.stalled(client, self.topics, mine=self.assigned):
                    log.warning("consumer_group_stalled_rejoining", group=self.group_id,
                                partitions=watch.describe())
                    return
                if batch:
                    watch.busy()
                for tp, records in batch.items():
                    self.ticked = time.monotonic()
                    if not await self.handle_together(records):
                        for record in records:
                            if not await self.handle_record(record, producer, stop):
                                return  # stopping mid-retry: leave the offset where it is
                    self.ticked = time.monotonic()
                    await _commit(client, tp, records[-1].offset + 1, self.settings)
        finally:
            await _close(client, producer, bound_s)

    async def handle_record(
        self, record: ConsumerRecord[Any, Any], producer: AIOKafkaProducer, stop: asyncio.Event
    ) -> bool:
        """Handle one record; False only when asked to stop while a transient failure persisted."""
        delay = 0.2
        while True:
            self.ticked = time.monotonic()  # waiting out a database that is down is coming round
            try:
                await self.handle(record.value, position=self.position_of(record))
                return True
            except DeadLetter as exc:
                await self._dead_letter(producer, record, str(exc))
                return True
            except Exception as exc:
                if not is_transient(exc):
                    log.exception("event_handler_failed")
                    await self._dead_letter(producer, record, f"{type(exc).__name__}: {exc}")
                    return True
                log.warning("event_handler_transient_failure", error=str(exc), retry_in_s=delay)
                if stop.is_set():
                    return False
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    async def handle_together(self, records: Sequence[ConsumerRecord[Any, Any]]) -> bool:
        """Apply a partition's records in one transaction; False (nothing applied) if any failed."""
        if len(records) < 2:
            return False
        try:
            async with self.db.transaction() as session:
                if self.settings.consumer_batches:
                    outcomes = await self._apply_batch_in(session, [record.value for record in records])
                else:
                    outcomes = [await self._apply_in(session, record.value) for record in records]
                await _run_after_events(session)
                await positions.record_applied(session, map(self.position_of, records))
        except Exception as exc:
            log.info("batch_rolled_back_one_at_a_time", records=len(records), error=type(exc).__name__)
            return False
        self._count(outcomes)
        return True

    async def handle(self, raw: bytes | None, *, position: positions.Applied | None = None) -> bool:
        """Apply one message. Returns False when it was a duplicate or of no interest here."""
        async with self.db.transaction() as session:
            outcome = await self._apply_in(session, raw)
            await _run_after_events(session)
            await positions.record_applied(session, [position])
        self._count([outcome])
        return outcome == "handled"

    def position_of(self, record: ConsumerRecord[Any, Any]) -> positions.Applied | None:
        return positions.of_record(self.sources.get(record.topic, record.topic), record.key, record.headers)

    def _count(self, outcomes: Sequence[str]) -> None:
        for outcome in outcomes:
            CONSUMER_EVENTS.labels(self.group_id, outcome).inc()
        self.handled += outcomes.count("handled")

    def _parse(self, raw: bytes | None) -> tuple[Envelope, EventPayload | None]:
        """The envelope, and its payload when a handler here wants it (None: of no interest)."""
        if raw is None:
            raise DeadLetter("empty message")
        try:
            envelope = Envelope.from_json(raw)
        except ValidationError as exc:
            raise DeadLetter(f"not an event envelope: {exc}") from exc
        if envelope.type not in self.handlers:
            return envelope, None
        try:
            return envelope, self.registry.payload(envelope)
        except (UnknownEventType, InvalidEventPayload) as exc:
            raise DeadLetter(str(exc)) from exc

    async def _apply_in(self, session: AsyncSession, raw: bytes | None) -> str:
        envelope, payload = self._parse(raw)
        if payload is None:
            return "ignored"
        with bound_context(
            event_id=str(envelope.id), tenant_id=str(envelope.tenant_id), event_type=envelope.type
        ):
            first_time = await session.execute(
                _INBOX_INSERT,
                {"event_id": envelope.id, "type": envelope.type, "tenant_id": envelope.tenant_id},
            )
            if first_time.first() is None:
                log.debug("event_duplicate_ignored")
                return "duplicate"
            await self.handlers[envelope.type](session, envelope, payload)
            return "handled"

    async def _apply_batch_in(self, session: AsyncSession, raws: Sequence[bytes | None]) -> list[str]:
        """Apply messages in order, as `_apply_in` would one after the other: the inbox in one
        statement, runs of events sharing a batch handler handed to it together."""
        parsed = [self._parse(raw) for raw in raws]
        wanted: dict[Any, Envelope] = {}  # event id → envelope, first occurrence in the batch
        for envelope, payload in parsed:
            if payload is not None:
                wanted.setdefault(envelope.id, envelope)
        new: set[Any] = set()
        if wanted:
            inserted = await session.execute(_INBOX_INSERT_MANY, {
                "ids": list(wanted),
                "types": [e.type for e in wanted.values()],
                "tenants": [e.tenant_id for e in wanted.values()],
            })
            new = {row[0] for row in inserted}
        outcomes: list[str] = []
        run: list[tuple[Envelope, Any]] = []
        run_handler: BatchHandler | None = None
        for envelope, payload in parsed:
            if payload is None:
                outcomes.append("ignored")
                continue
            if envelope.id not in new:
                outcomes.append("duplicate")
                continue
            new.discard(envelope.id)  # a second copy in this batch is a duplicate
            outcomes.append("handled")
            batch_handler = self.batch_handlers.get(envelope.type)
            if run and batch_handler is not run_handler:
                await self._apply_run(session, run_handler, run)
                run = []
            if batch_handler is not None:
                run.append((envelope, payload))
                run_handler = batch_handler
                continue
            run_handler = None
            with bound_context(
                event_id=str(envelope.id), tenant_id=str(envelope.tenant_id), event_type=envelope.type
            ):
                await self.handlers[envelope.type](session, envelope, payload)
        if run:
            await self._apply_run(session, run_handler, run)
        return outcomes

    async def _apply_run(
        self, session: AsyncSession, handler: BatchHandler | None, run: list[tuple[Envelope, Any]]
    ) -> None:
        if handler is None or len(run) == 1:
            envelope, payload = run[0]
            with bound_context(
                event_id=str(envelope.id), tenant_id=str(envelope.tenant_id), event_type=envelope.type
            ):
                await self.handlers[envelope.type](session, envelope, payload)
            return
        with bound_context(event_type=run[0][0].type, events=len(run)):
            await handler(session, run)

    async def _dead_letter(
        self, producer: AIOKafkaProducer, record: ConsumerRecord[Any, Any], error: str
    ) -> None:
        log.error(
            "event_dead_lettered",
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            error=error[:500],
        )
        headers = [
            ("error", error[:2000].encode()),
            ("source", f"{record.topic}/{record.partition}/{record.offset}".encode()),
        ]
        await producer.send_and_wait(
            self.dead_letter_topic, value=record.value or b"", key=record.key, headers=headers
        )
        # As far as this service goes, it is done with that event: a request waiting for it waits no more.
        async with self.db.transaction() as session:
            await positions.record_applied(session, [self.position_of(record)])
        CONSUMER_EVENTS.labels(self.group_id, "dead_lettered").inc()


class StallWatch:
    """Whether the group stopped reading some partition of its topics while this member is idle: the
    partition has records past the group's committed offset, and that offset has not moved in
    `after_s` (looked at every `after_s / 3` while idle; being busy starts the wait over) — or this
    member has not been able to look for `after_s` (its client lost the group's coordinator)."""

    def __init__(self, after_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.after_s, self.clock = after_s, clock
        self.since = clock()  # idle since
        self.looked_at = self.since
        self.seen: dict[TopicPartition, tuple[int, float]] = {}  # committed offset, since when unmoved
        self.stuck: list[TopicPartition] = []
        self.failing_since: float | None = None  # since when looking has failed

    def busy(self) -> None:
        self.since = self.clock()
        self.failing_since = None

    async def stalled(self, client: AIOKafkaConsumer, topics: Sequence[str], *,
                      mine: Collection[TopicPartition] | None = None) -> bool:
        now = self.clock()
        if now - self.looked_at < self.after_s / 3:
            return False
        self.looked_at = now
        partitions = [TopicPartition(topic, p) for topic in topics
                      for p in sorted(client.partitions_for_topic(topic) or ())]

        async def look() -> tuple[dict[TopicPartition, int], dict[TopicPartition, int | None]]:
            ends = await client.end_offsets(partitions)
            offsets = await asyncio.gather(*(client.committed(tp) for tp in partitions))
            return ends, dict(zip(partitions, offsets, strict=True))

        try:
            # Bounded: asking for committed offsets waits for the group's coordinator, for ever if need be.
            ends, committed = await asyncio.wait_for(look(), timeout=self.after_s / 3)
        except (KafkaError, TimeoutError):
            # The broker is away (the client reconnects) — or this client cannot reach the group's
            # coordinator any more, which joining again with a new client mends: after `after_s`.
            self.failing_since = self.failing_since or now
            self.stuck = []
            return now - max(self.failing_since, self.since) >= self.after_s
        self.failing_since = None
        return self.judge(now, ends, committed, mine=mine)

    def judge(self, now: float, ends: Mapping[TopicPartition, int],
              committed: Mapping[TopicPartition, int | None], *,
              mine: Collection[TopicPartition] | None = None) -> bool:
        """Record what was looked at; True when a partition behind has been unmoved for `after_s` — and,
        for one of this member's own partitions (`mine`; None: all), this member idle as long: another
        member's partition stalls while this one is busy too (it may be held by a member that is gone)."""
        stuck = []
        for tp, end in ends.items():
            offset = committed.get(tp) or 0
            if offset >= end:
                self.seen.pop(tp, None)
                continue
            before = self.seen.get(tp)
            unmoved_since = before[1] if before and before[0] == offset else now
            self.seen[tp] = (offset, unmoved_since)
            idle_since = self.since if mine is None or tp in mine else unmoved_since
            if now - max(unmoved_since, idle_since) >= self.after_s:
                stuck.append(tp)
        self.stuck = stuck
        return bool(stuck)

    def describe(self) -> list[str]:
        return sorted(f"{tp.topic}/{tp.partition}" for tp in self.stuck)


class _AssignmentLog(ConsumerRebalanceListener):  # type: ignore[misc]
    """Keeps and logs which partitions this member holds, so an operator sees how work is spread."""

    def __init__(self, consumer: EventConsumer) -> None:
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self.consumer.assigned -= set(revoked)

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.consumer.assigned = set(assigned)
        log.info(
            "partitions_assigned",
            group=self.consumer.group_id,
            partitions=sorted(f"{tp.topic}/{tp.partition}" for tp in assigned),
        )


async def poll(client: AIOKafkaConsumer, bound_s: float) -> dict[TopicPartition, list[Any]] | None:
    """The records fetched for this member, waiting at most 0.3 s for some — or None when the poll did not
    return in `bound_s`: the client waits for the group's new assignment without a bound of its own, and
    after a broker restart it can wait for ever (its coordinator lookup or join was never answered)."""
    try:
        batch: dict[TopicPartition, list[Any]] = await asyncio.wait_for(
            client.getmany(timeout_ms=300), timeout=bound_s
        )
    except TimeoutError:
        return None
    return batch


def awaiting(task: asyncio.Task[Any]) -> list[str]:
    """Where a task is suspended: each coroutine it awaits in turn, innermost last."""
    chain: list[str] = []
    step: Any = task.get_coro()
    while step is not None and len(chain) < 40:
        if isinstance(step, asyncio.Task):
            step = step.get_coro()
        frame = getattr(step, "cr_frame", None) or getattr(step, "gi_frame", None)
        if frame is None:
            chain.append(type(step).__name__)
            break
        chain.append(f"{frame.f_code.co_filename.rsplit('/', 1)[-1]}:{frame.f_lineno} {frame.f_code.co_name}")
        step = getattr(step, "cr_await", None) or getattr(step, "gi_yieldfrom", None)
    return chain


async def _close(client: AIOKafkaConsumer, producer: AIOKafkaProducer, bound_s: float) -> None:
    # Stopping the client waits for its group coordination to finish, which is what may be stuck: bounded,
    # the client is given up (its tasks cancelled) and the next one starts afresh from the bootstrap servers.
    for part in (client, producer):
        try:
            await asyncio.wait_for(part.stop(), timeout=bound_s / 3)
        except Exception as exc:  # a client that will not stop is dropped either way
            log.warning("kafka_client_stop_failed", client=type(part).__name__, error=repr(exc))


class BrokerForgot(Exception):
    """The partition's log ends before the offset to commit: the broker restarted (empty) since the
    records were fetched."""


async def _commit(
    client: AIOKafkaConsumer, tp: TopicPartition, offset: int, settings: ServiceSettings
) -> None:
    # Committed into a restarted local broker, an offset of its forgotten log would make this group
    # skip that many records of the new one, once the relays have published enough again to reach it.
    # Not committed, the consumer starts over on the new log, and its inbox drops what it applied.
    ends = await asyncio.wait_for(client.end_offsets([tp]), timeout=3 * settings.kafka_wedged_after_s)
    if ends.get(tp, 0) < offset:
        raise BrokerForgot(f"{tp.topic}/{tp.partition} ends before {offset}")
    try:
        # The client retries a commit the broker refuses as if the partition did not exist, for ever: the
        # local broker does that to a partition it wedged after a restart (tallykit.outbox). Reported,
        # the local stack restarts it; the consumer starts over from its last committed offset.
        await asyncio.wait_for(client.commit({tp: offset}), timeout=3 * settings.kafka_wedged_after_s)
    except TimeoutError:
        kafka.report_wedged(settings, tp)
        raise
    except CommitFailedError:
        # The partition moved to another member during a rebalance; it re-reads from the last
        # committed offset and the inbox turns the repeats into no-ops.
        log.warning("offset_commit_failed_rebalance", partition=tp.partition)
