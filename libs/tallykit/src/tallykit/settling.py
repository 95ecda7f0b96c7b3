"""What a relay sends again when the broker forgets: what some consumer group had not applied yet.

The local broker (Tansu, memory only) forgets every record when it restarts. Re-publishing the whole
outbox then cost every event a household ever recorded (33,000 events: 25 s of full CPU after each
`make up`). Instead the relay keeps, per topic, a *settled mark*: a publishing time before which every
row it published has been applied by every consumer group that reads the topic. When the broker
forgets, only the rows published after the mark go out again (publishing times only grow:
`outbox.mark_published`).

How the mark moves. Every few seconds the leading relay takes a checkpoint: the newest publishing time
of its rows and each partition's log end (past every offset the broker handed it). A consumer commits a
record's offset only after the transaction that applied it (or sent it to its dead-letter topic)
committed, so once every group's committed offset has reached the checkpoint's end on every partition,
everything published up to the checkpoint has been applied by every group, and the mark moves there,
in the relay's own database (`relay_marks`). Services still share no database: the consumers' progress
is read where Kafka keeps it. A committed offset past the log's end is one an earlier broker was given
(a consumer committing a batch it read before the restart) and settles nothing.

Which groups. The groups of a topic are the consumers the event contracts declare for its producer
(tallykit.contracts). A group missing from a topic's mark — a service added since it was stored — gets
the whole outbox again at the next forgetting, so a new consumer still reads everything.

The bound. A forgetting re-publishes the rows published after the mark: those some group had not
applied, and those published since the last checkpoint that every group reached (checkpoints are
`relay_check_interval_s` apart, 5 s). The history up to the mark is never read.
"""

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from aiokafka import TopicPartition
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from tallykit import kafka
from tallykit.db import Database
from tallykit.settings import ServiceSettings
from tallykit.tables import outbox, relay_marks


@dataclass(frozen=True)
class Mark:
    settled_through: datetime
    groups: frozenset[str]
    ends: dict[TopicPartition, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Checkpoint:
    published_until: datetime
    ends: dict[TopicPartition, int]


class Settling:
    """One relay's marks. `groups`: each topic it publishes → the consumer groups that read it."""

    def __init__(
        self, db: Database, settings: ServiceSettings, groups: Mapping[str, Collection[str]]
    ) -> None:
        self.db = db
        self.settings = settings
        self.groups = {topic: frozenset(readers) for topic, readers in groups.items()}
        self.marks: dict[str, Mark] = {}
        self.pending: Checkpoint | None = None

    async def load(self) -> None:
        async with self.db.read() as session:
            rows = await session.execute(select(relay_marks).where(relay_marks.c.topic.in_(self.groups)))
            self.marks = {
                row.topic: Mark(
                    row.settled_through,
                    frozenset(row.groups),
                    {TopicPartition(row.topic, int(p)): end for p, end in row.ends.items()},
                )
                for row in rows
            }
        self.pending = None

    def log_shorter_than_settled(self, ends: Mapping[TopicPartition, int]) -> bool:
        """The durable form of the relay's own check: a log that ends before it did when it settled."""
        return any(ends.get(tp, 0) < end for mark in self.marks.values() for tp, end in mark.ends.items())

    async def replay(self) -> int:
        """Mark unpublished every row some group may not have applied; the relay sends them in order."""
        replayed = 0
        async with self.db.transaction() as session:
            for topic, readers in self.groups.items():
                rows = update(outbox).where(outbox.c.topic == topic, outbox.c.published_at.is_not(None))
                mark = self.marks.get(topic)
                if mark is not None and readers <= mark.groups:
                    rows = rows.where(outbox.c.published_at > mark.settled_through)
                result = await session.execute(rows.values(published_at=None))
                replayed += int(result.rowcount)  # type: ignore[attr-defined]
            # The ends were the forgotten log's; the next settling stores the new one's.
            await session.execute(
                update(relay_marks).where(relay_marks.c.topic.in_(self.groups)).values(ends={})
            )
        self.marks = {t: Mark(m.settled_through, m.groups) for t, m in self.marks.items()}
        self.pending = None
        return replayed

    async def advance(self, acknowledged: Mapping[TopicPartition, int]) -> None:
        """Store the pending checkpoint as the mark once every group has reached it; then take the next.
        `acknowledged`: the highest offset the broker handed the relay per partition."""
        if self.pending is not None:
            if not await self._reached(self.pending):
                return
            await self._store(self.pending)
        self.pending = await self._checkpoint(acknowledged)

    async def _checkpoint(self, acknowledged: Mapping[TopicPartition, int]) -> Checkpoint | None:
        async with self.db.read() as session:
            newest = (
                await session.execute(
                    select(func.max(outbox.c.published_at)).where(outbox.c.topic.in_(self.groups))
                )
            ).scalar()
        if newest is None:
            return None
        # Read after `newest`: every row published by then was acknowledged before its mark committed.
        ends = dict(await kafka.end_offsets(self.settings, self.groups))
        for tp, offset in acknowledged.items():
            ends[tp] = max(ends.get(tp, 0), offset + 1)  # a record the log does not show yet counts
        return Checkpoint(newest, ends)

    async def _reached(self, checkpoint: Checkpoint) -> bool:
        committed: dict[tuple[str, TopicPartition], int | None] = {}
        for topic, readers in self.groups.items():
            partitions = [tp for tp, end in checkpoint.ends.items() if tp.topic == topic and end > 0]
            for group in readers:
                offsets = await kafka.committed_offsets(self.settings, group, partitions)
                committed |= {(group, tp): offset for tp, offset in offsets.items()}
        ends = await kafka.end_offsets(self.settings, self.groups)  # after the commits: they only grow
        return all(
            offset is not None and checkpoint.ends[tp] <= offset <= ends.get(tp, 0)
            for (_, tp), offset in committed.items()
        )

    async def _store(self, checkpoint: Checkpoint) -> None:
        async with self.db.transaction() as session:
            for topic, readers in self.groups.items():
                ends = {str(tp.partition): end for tp, end in checkpoint.ends.items() if tp.topic == topic}
                row = {
                    "topic": topic,
                    "settled_through": checkpoint.published_until,
                    "groups": sorted(readers),
                    "ends": ends,
                }
                await session.execute(
                    pg_insert(relay_marks).values(row).on_conflict_do_update(
                        index_elements=[relay_marks.c.topic],
                        set_={k: v for k, v in row.items() if k != "topic"},
                    )
                )
        self.marks = {
            topic: Mark(
                checkpoint.published_until,
                readers,
                {tp: end for tp, end in checkpoint.ends.items() if tp.topic == topic},
            )
            for topic, readers in self.groups.items()
        }
