"""Waiting for what the system does asynchronously (events reaching a read model, a mail arriving)."""

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(probe: Callable[[], T | None], what: str | Callable[[], str], timeout: float = 45.0) -> T:
    """Call `probe` until it returns something truthy, and return that; fail naming `what` after
    `timeout` seconds (`what` may be a function, to describe the last state seen)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := probe():
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")
