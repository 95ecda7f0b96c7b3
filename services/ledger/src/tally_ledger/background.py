"""Work a request starts and that goes on after its answer (an import, an undo): how it ends is recorded
by the work itself (its batch or migration row); here it is only logged. (Its commits wake the relay
for the events they wrote, as every commit that writes outbox rows does.)"""

from collections.abc import Awaitable
from typing import Any

from tallykit.errors import Problem
from tallykit.logging import get_logger

log = get_logger(__name__)


async def after_answer(job: Awaitable[Any], what: str) -> None:
    """Run `job` (give it to BackgroundTasks) and log how it ended as `<what>_stopped`/`<what>_failed`."""
    try:
        await job
    except Problem as exc:
        log.warning(f"{what}_stopped", detail=exc.detail)
    except Exception:
        log.exception(f"{what}_failed")
