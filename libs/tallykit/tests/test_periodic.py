"""`every`: work now, then after its interval, or as soon as it is woken; stop ends the wait at once."""

import asyncio

from tallykit.periodic import every


async def test_work_runs_again_when_woken_not_only_after_its_interval() -> None:
    runs: list[int] = []
    ran = asyncio.Event()
    stop, wakeup = asyncio.Event(), asyncio.Event()

    async def work() -> None:
        runs.append(len(runs))
        ran.set()

    loop = asyncio.create_task(every(3600, work, stop, failed="work_failed", wakeup=wakeup))
    async with asyncio.timeout(10):  # the interval is an hour: only the wakeups can make these runs
        for expected in (1, 2, 3):
            await ran.wait()
            ran.clear()
            assert len(runs) == expected
            wakeup.set()
        stop.set()
        await loop


async def test_a_failed_run_is_logged_and_the_next_comes_as_usual() -> None:
    stop = asyncio.Event()
    calls = 0

    async def work() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database away")
        stop.set()

    async with asyncio.timeout(10):
        await every(0.01, work, stop, failed="work_failed")
    assert calls == 2
