"""A consumer's watch over its group's progress: a partition with records nobody commits, while this
member has nothing to do, makes it join the group again (tallykit.consumer.StallWatch)."""

import asyncio
from typing import Any

from aiokafka import TopicPartition

from tallykit.consumer import EventConsumer, StallWatch, _close, awaiting, poll
from tallykit.events import EventRegistry
from tallykit.settings import ServiceSettings

A, B = TopicPartition("ledger.events", 0), TopicPartition("ledger.events", 1)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_partition_behind_and_unmoved_for_the_whole_wait_is_stalled() -> None:
    clock = Clock()
    watch = StallWatch(30, clock)
    assert not watch.judge(clock.now, {A: 9, B: 4}, {A: 9, B: 2})  # B behind: first seen
    clock.now += 29
    assert not watch.judge(clock.now, {A: 9, B: 4}, {A: 9, B: 2})
    clock.now += 1
    assert watch.judge(clock.now, {A: 9, B: 4}, {A: 9, B: 2})
    assert watch.describe() == ["ledger.events/1"]


def test_progress_or_work_of_its_own_starts_the_wait_over() -> None:
    clock = Clock()
    watch = StallWatch(30, clock)
    watch.judge(clock.now, {B: 4}, {B: None})  # never committed: behind from 0
    clock.now += 20
    assert not watch.judge(clock.now, {B: 5}, {B: 3})  # someone commits there: moved
    clock.now += 20
    assert not watch.judge(clock.now, {B: 5}, {B: 3})  # unmoved for 20 s only
    watch.busy()  # this member had records of its own partition to handle: it waits again from now
    clock.now += 25
    assert not watch.judge(clock.now, {B: 5}, {B: 3})
    clock.now += 5
    assert watch.judge(clock.now, {B: 5}, {B: 3})


def test_partitions_read_to_their_end_are_never_stalled() -> None:
    clock = Clock()
    watch = StallWatch(30, clock)
    for _ in range(5):
        assert not watch.judge(clock.now, {A: 9, B: 0}, {A: 9, B: None})
        clock.now += 60


class Unanswered:
    """A client whose group coordinator never answers: committed offsets never come."""

    def partitions_for_topic(self, topic: str) -> set[int]:
        return {0, 1}

    async def end_offsets(self, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
        return dict.fromkeys(partitions, 4)

    async def committed(self, partition: TopicPartition) -> int:
        await asyncio.Event().wait()  # for ever
        raise AssertionError("unreachable")


async def test_a_member_that_cannot_look_for_the_whole_wait_joins_again() -> None:
    clock = Clock()
    watch = StallWatch(0.3, clock)  # each look waits at most 0.1 s
    client: Any = Unanswered()
    clock.now += 0.1
    assert not await watch.stalled(client, ["ledger.events"])  # first failed look
    clock.now += 0.1
    assert not await watch.stalled(client, ["ledger.events"])
    clock.now += 0.2
    assert await watch.stalled(client, ["ledger.events"])


def test_another_members_partition_that_stalls_counts_while_this_member_is_busy() -> None:
    clock = Clock()
    watch = StallWatch(30, clock)
    mine = {A}
    watch.judge(clock.now, {A: 9, B: 4}, {A: 5, B: 2}, mine=mine)
    clock.now += 20
    watch.busy()  # records of its own partition A keep it busy...
    clock.now += 10
    # ...but B, held by a member that no longer reads it, has not moved for 30 s: join again.
    assert watch.judge(clock.now, {A: 9, B: 4}, {A: 5, B: 2}, mine=mine)
    assert watch.describe() == ["ledger.events/1"]


class StuckClient:
    """A client waiting for a group assignment that never comes, and that will not stop either (what an
    aiokafka consumer did after a broker restart in a chaos run)."""

    def __init__(self) -> None:
        self.stop_cancelled = False

    async def getmany(self, timeout_ms: int = 0) -> dict[TopicPartition, list[Any]]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def stop(self) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.stop_cancelled = True
            raise


def test_a_poll_stuck_waiting_for_an_assignment_is_given_up_and_so_is_the_client() -> None:
    client = StuckClient()

    async def scenario() -> dict[TopicPartition, list[Any]] | None:
        batch = await poll(client, 0.2)
        await _close(client, client, 0.3)
        return batch

    assert asyncio.run(asyncio.wait_for(scenario(), timeout=5)) is None
    assert client.stop_cancelled


class LoopStuckInAClient(EventConsumer):
    """A consumer whose loop waits inside its client for ever the first time, and stops the second."""

    def __init__(self) -> None:
        settings = ServiceSettings(service_name="kit", kafka_stalled_after_s=0.3)
        # No database: _consume, the only part that would use it, is replaced.
        super().__init__(db=None, settings=settings,  # type: ignore[arg-type]
                         registry=EventRegistry(), topics=[], handlers={})
        self.rounds = 0
        self.inside = asyncio.Event()  # set once the first loop waits in the client

    async def _consume(self, stop: asyncio.Event) -> None:
        self.rounds += 1
        if self.rounds == 1:
            await _wait_in_the_client(self.inside)
        stop.set()


async def _wait_in_the_client(inside: asyncio.Event) -> None:
    inside.set()
    await asyncio.Event().wait()


def test_a_loop_that_does_not_come_round_is_given_up_and_a_new_one_starts() -> None:
    async def scenario() -> int:
        stop = asyncio.Event()
        consumer = LoopStuckInAClient()
        await consumer.run(stop)
        return consumer.rounds

    assert asyncio.run(asyncio.wait_for(scenario(), timeout=10)) == 2


def test_what_a_stuck_task_awaits_is_named_innermost_last() -> None:
    async def scenario() -> list[str]:
        consumer = LoopStuckInAClient()
        task = asyncio.create_task(consumer._consume(asyncio.Event()))
        await asyncio.wait_for(consumer.inside.wait(), timeout=5)
        chain = awaiting(task)
        task.cancel()
        return chain

    chain = asyncio.run(scenario())
    assert [step.split()[-1] for step in chain[:2]] == ["_consume", "_wait_in_the_client"]
