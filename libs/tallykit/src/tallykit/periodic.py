"""Background work that runs every so often in each replica of a service (a scheduler, a dispatcher, a
trainer): one loop for all of them."""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from tallykit.logging import get_logger

log = get_logger(__name__)


async def every(interval_s: float, work: Callable[[], Awaitable[object]], stop: asyncio.Event, *,
                failed: str) -> None:
    """Run `work` now, then `interval_s` after each run ends, until `stop` is set. A run that fails is
    logged as `failed` (the database away, most likely) and the next comes as usual; `stop` ends the wait
    at once, not a run under way."""
    while not stop.is_set():
        try:
            await work()
        except Exception:
            log.exception(failed)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
