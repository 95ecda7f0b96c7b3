"""A client of the gateway that reads its own writes, as the web client does: every request carries the
last `Tally-Position` token it got (merged, tallykit.positions), and a service that answers "not caught
up yet" is asked again when it says (Retry-After)."""

import time
from typing import Any

import httpx

from tallykit import positions
from tallykit.positions import Position

# Bounds only how long a failure takes to show: a stack that just started may take seconds to catch up.
CATCH_UP_S = 60.0


class PositionedClient:
    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.position: Position | None = None

    def note(self, response: httpx.Response) -> httpx.Response:
        """Keep what the answer says was written or seen."""
        if answered := response.headers.get(positions.HEADER):
            self.position = Position.parse(answered).merge(self.position)
        return response

    def request(self, method: str, url: str, *, headers: dict[str, str] | None = None,
                **kwargs: Any) -> httpx.Response:
        deadline = time.monotonic() + CATCH_UP_S
        while True:
            sent = {**(headers or {}), **({positions.HEADER: str(self.position)} if self.position else {})}
            response = self.note(self.http.request(method, url, headers=sent, **kwargs))
            if not (not_caught_up(response) and time.monotonic() < deadline):
                return response
            time.sleep(float(response.headers.get("Retry-After", "1")))  # as the service asked


def not_caught_up(response: httpx.Response) -> bool:
    if response.status_code != 503 or "problem+json" not in response.headers.get("content-type", ""):
        return False
    return str(response.json().get("type", "")).endswith("/not-caught-up")
