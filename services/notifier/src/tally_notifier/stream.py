"""Live delivery of the in-app feed over server-sent events.

Whichever replica stored a notification, the transaction that stored it also ran
`pg_notify('tally_notifier_feed', '<tenant>:<user>')`; PostgreSQL delivers that on commit to every
replica listening. Each replica keeps one listening connection (`FeedListener`, a background worker) and
wakes the streams of that person, which read the feed rows after their cursor (`seq`). The cursor is the
SSE event id, so a reconnecting browser sends `Last-Event-ID` and misses nothing. Without the listener
(or if its connection drops) streams still look every `poll_s`, so nothing waits for ever."""

import asyncio
import contextlib
import json
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.engine import RowMapping

from tally_notifier import store
from tally_notifier.fanout import STREAM_CHANNEL
from tallykit.db import Database
from tallykit.logging import get_logger
from tallykit.tokens import Principal

log = get_logger(__name__)


class FeedListener:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.waiters: dict[str, set[asyncio.Event]] = defaultdict(set)
        self.listening = False

    def wake(self, key: str) -> None:
        for event in list(self.waiters.get(key, ())):
            event.set()

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                async with self.db.engine.connect() as conn:
                    raw = await conn.get_raw_connection()
                    driver: Any = raw.driver_connection

                    def on_notify(_conn: Any, _pid: int, _channel: str, payload: str) -> None:
                        self.wake(payload)

                    await driver.add_listener(STREAM_CHANNEL, on_notify)
                    self.listening = True
                    log.info("feed_listener_started")
                    try:
                        while not stop.is_set():
                            with contextlib.suppress(TimeoutError):
                                await asyncio.wait_for(stop.wait(), timeout=30)
                            await driver.execute("SELECT 1")  # notice a dead connection
                    finally:
                        self.listening = False
                        with contextlib.suppress(Exception):
                            await driver.remove_listener(STREAM_CHANNEL, on_notify)
            except Exception:
                self.listening = False
                log.exception("feed_listener_failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=2)


def _event(name: str, data: dict[str, Any], event_id: int | None = None) -> bytes:
    lines = [f"event: {name}"]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append("data: " + json.dumps(data, separators=(",", ":")))
    return ("\n".join(lines) + "\n\n").encode()


def notification_json(row: RowMapping) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "type": row["type"],
        "title": row["title"],
        "body": row["body"],
        "link": row["link"],
        "created_at": row["created_at"].isoformat(),
        "read": row["read"],
    }


async def feed_stream(
    db: Database,
    listener: FeedListener | None,
    principal: Principal,
    last_event_id: int | None,
    *,
    keepalive_s: float,
    max_s: float,
    is_disconnected: Any,
) -> AsyncIterator[bytes]:
    key = f"{principal.tenant_id}:{principal.user_id}"
    wake = asyncio.Event()
    if listener is not None:
        listener.waiters[key].add(wake)
    loop = asyncio.get_running_loop()
    ends = loop.time() + max_s
    try:
        async with db.read() as session:
            cursor = (
                last_event_id
                if last_event_id is not None
                else await store.last_seq(session, principal.tenant_id, principal.user_id)
            )
            unread = await store.unread_count(session, principal.tenant_id, principal.user_id)
        # The browser reconnects after 3 s when the stream ends (it does so on purpose at max_s, so that
        # a stream never outlives the access token it was opened with by long).
        yield b"retry: 3000\n\n"
        yield _event("unread", {"unread": unread}, cursor)
        if last_event_id is not None:
            wake.set()  # a resumed stream first sends what it missed
        while loop.time() < ends and not await is_disconnected():
            poll = keepalive_s if listener is not None and listener.listening else min(keepalive_s, 1.0)
            try:
                await asyncio.wait_for(wake.wait(), timeout=poll)
            except TimeoutError:
                yield b": keep-alive\n\n"
                if listener is not None and listener.listening:
                    continue
            wake.clear()
            async with db.read() as session:
                rows = await store.feed_after(session, principal.tenant_id, principal.user_id, cursor)
                now_unread = await store.unread_count(session, principal.tenant_id, principal.user_id)
            for row in rows:
                cursor = int(row["seq"])
                yield _event("notification", notification_json(row), cursor)
            if rows or now_unread != unread:
                unread = now_unread
                yield _event("unread", {"unread": unread}, cursor)
    finally:
        if listener is not None:
            listener.waiters[key].discard(wake)
            if not listener.waiters[key]:
                listener.waiters.pop(key, None)
