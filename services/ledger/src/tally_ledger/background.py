"""Work a request starts and that goes on after its answer (an import, an undo): how it ends is recorded
by the work itself (its batch or migration row); here it is only logged, and the relay woken for the
events it wrote."""

from collections.abc import Awaitable
from typing import Any

from fastapi import Request

from tallykit.app import wake_relay
from tallykit.errors import Problem
from tallykit.logging import get_logger

log = get_logger(__name__)


async def after_answer(request: Request, job: Awaitable[Any], what: str) -> None:
    """Run `job` (give it to BackgroundTasks) and log how it ended as `<what>_stopped`/`<what>_failed`."""
    try:
        await job
    except Problem as exc:
        log.warning(f"{what}_stopped", detail=exc.detail)
    except Exception:
        log.exception(f"{what}_failed")
    finally:
        wake_relay(request)
