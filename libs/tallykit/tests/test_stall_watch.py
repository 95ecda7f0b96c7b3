"""A consumer's watch over its group's progress: a partition with records nobody commits, while this
member has nothing to do, makes it join the group again (tallykit.consumer.StallWatch)."""

from aiokafka import TopicPartition

from tallykit.consumer import StallWatch

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
    watch.busy()  # this member had records to handle: it looks again from scratch
    clock.now += 25
    assert not watch.judge(clock.now, {B: 5}, {B: 3})
    clock.now += 29
    assert not watch.judge(clock.now, {B: 5}, {B: 3})
    clock.now += 1
    assert watch.judge(clock.now, {B: 5}, {B: 3})


def test_partitions_read_to_their_end_are_never_stalled() -> None:
    clock = Clock()
    watch = StallWatch(30, clock)
    for _ in range(5):
        assert not watch.judge(clock.now, {A: 9, B: 0}, {A: 9, B: None})
        clock.now += 60
