"""The worker pool starts with its first task and stops when idle (an idle service holds no worker
processes), and starts again with the next task; a stopping service does not wait for a long task."""

import asyncio
import os
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

from tallykit.workers import WorkerPool
from tallystack.polling import until


def _alive(pid: int) -> bool:
    # A worker that exited but was not reaped yet is a zombie: gone for our purposes.
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


async def test_pool_starts_on_demand_stops_when_idle_and_starts_again() -> None:
    pool = WorkerPool(workers=1, idle_s=0.5)
    try:
        assert not pool.running
        worker = await pool.run(os.getpid)
        assert worker != os.getpid()
        assert _alive(worker)
        assert pool.running
        # Back to back, a second task finds the same worker (each task restarts the idle clock).
        assert await pool.run(os.getpid) == worker

        async def stopped() -> bool:
            return not pool.running and not _alive(worker)

        await until(stopped, "the idle worker process to stop", within_s=60)
        again = await pool.run(os.getpid)
        assert again != worker
        assert _alive(again)
    finally:
        pool.close()


async def test_close_drops_a_task_under_way(tmp_path: Path) -> None:
    pool = WorkerPool(workers=1, idle_s=60)
    worker = await pool.run(os.getpid)
    # The task reads a FIFO: it blocks until a writer comes, and a writer can only open it once the
    # reader did, so opening it tells that the task is under way in the worker (and keeps it blocked).
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    task = asyncio.create_task(pool.run(fifo.read_bytes))
    writers: list[int] = []

    async def in_worker() -> bool:
        try:
            writers.append(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:  # ENXIO: nobody reads it yet
            return False
        return True

    try:
        await until(in_worker, "the task to start reading in the worker")
        pool.close()
        with pytest.raises(BrokenProcessPool):
            await asyncio.wait_for(task, timeout=60)
    finally:
        for fd in writers:
            os.close(fd)

    async def gone() -> bool:
        return not _alive(worker)

    await until(gone, "the busy worker process to be stopped")
