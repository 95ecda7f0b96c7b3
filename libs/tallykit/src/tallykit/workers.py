"""Worker processes for CPU work a service does now and then (analytics' Prophet fits and PDF statements,
the ledger's categoriser training): started by the first task, stopped once no task came for `idle_s`
(`worker_pool_idle_s`), so that an idle service holds none of them: each imports what only it needs
(Prophet, pandas, scikit-style numerics), often more than the service itself."""

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")


class WorkerPool:
    def __init__(self, workers: int, idle_s: float) -> None:
        self._workers = workers
        self._idle_s = idle_s
        self._pool: ProcessPoolExecutor | None = None
        self._tasks = 0
        self._stopping: asyncio.TimerHandle | None = None

    @property
    def running(self) -> bool:
        return self._pool is not None

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a worker process (the pool starts if it is not running)."""
        loop = asyncio.get_running_loop()
        if self._stopping is not None:
            self._stopping.cancel()
            self._stopping = None
        if self._pool is None:
            # spawn: a fork of a running service would copy its event loop, connections and threads.
            self._pool = ProcessPoolExecutor(self._workers, mp_context=multiprocessing.get_context("spawn"))
        pool = self._pool
        self._tasks += 1
        try:
            return await loop.run_in_executor(pool, fn, *args)
        except BrokenProcessPool:
            # A worker died (killed, out of memory): the next task starts a fresh pool.
            if self._pool is pool:
                self._pool = None
                pool.shutdown(wait=False, cancel_futures=True)
            raise
        finally:
            self._tasks -= 1
            if self._tasks == 0 and self._pool is not None:
                self._stopping = loop.call_later(self._idle_s, self._stop_idle)

    def _stop_idle(self) -> None:
        self._stopping = None
        if self._tasks == 0 and self._pool is not None:
            self._pool.shutdown(wait=False)  # idle workers read the sentinel and exit
            self._pool = None

    def close(self) -> None:
        """Stop the worker processes now, the service is stopping: a task under way is dropped (its caller
        gets an error) rather than holding the shutdown for its seconds."""
        if self._stopping is not None:
            self._stopping.cancel()
            self._stopping = None
        if self._pool is None:
            return
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()
        self._pool = None
