"""Background work that runs every so often in each replica of a service (a scheduler, a dispatcher, a
trainer): one loop for all of them."""

import asyncio
from collections.abc import Awaitable, Callable

from tallykit.logging import get_logger

log = get_logger(__name__)


async def every(interval_s: float, work: Callable[[], Awaitable[object]], stop: asyncio.Event, *,
                failed: str, wakeup: asyncio.Event | None = None) -> None:
    """Run `work` now, then `interval_s` after each run ends, until `stop` is set; or sooner, when
    `wakeup` is set (work has come: `Database.on_commit`). A run that fails is logged as `failed` (the
    database away, most likely) and the next comes as usual; `stop` ends the wait at once, not a run
    under way."""
    woken = wakeup or asyncio.Event()
    while not stop.is_set():
        woken.clear()  # before the run: what comes during it is seen by the next one
        try:
            await work()
        except Exception:
            log.exception(failed)
        waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(woken.wait())]
        await asyncio.wait(waits, timeout=interval_s, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
