"""An append-only event store on PostgreSQL.

The unique key (stream_id, stream_version) *is* the optimistic-concurrency check: two writers that
both expect version N race to insert N+1 and exactly one succeeds. Appends also take one
transaction-scoped advisory lock, so global positions are assigned in commit order and a reader
following `position` never sees a later position commit before an earlier one.
"""

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tallykit.errors import Conflict
from tallykit.events import Envelope
from tallykit.tables import event_store

# Arbitrary but fixed: the advisory-lock key that serialises appends within one database.
_APPEND_LOCK = 7_240_101


class ConcurrencyConflict(Conflict):
    title = "Edit conflict"
    type_slug = "edit-conflict"


async def lock_appends(session: AsyncSession) -> None:
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK})


async def append(session: AsyncSession, expected_version: int, events: Sequence[Envelope]) -> None:
    """Append events to one stream that the caller saw at `expected_version` (0 for a new stream)."""
    if not events:
        return
    stream_id = events[0].stream_id
    for offset, envelope in enumerate(events, start=1):
        if envelope.stream_id != stream_id or envelope.stream_version != expected_version + offset:
            raise ValueError("events must continue one stream from the expected version")
    await lock_appends(session)
    try:
        async with session.begin_nested():
            await session.execute(
                insert(event_store),
                [
                    {
                        "event_id": e.id,
                        "tenant_id": e.tenant_id,
                        "stream_id": e.stream_id,
                        "stream_version": e.stream_version,
                        "type": e.type,
                        "envelope": e.model_dump(mode="json"),
                    }
                    for e in events
                ],
            )
    except IntegrityError as exc:
        if "event_store_stream_version" in str(exc.orig):
            raise ConcurrencyConflict(
                f"stream {stream_id} changed since version {expected_version}; reload and retry",
                expected_version=expected_version,
            ) from exc
        raise


async def load_stream(session: AsyncSession, tenant_id: UUID, stream_id: UUID) -> list[Envelope]:
    """A tenant's stream in version order; another tenant's stream reads as empty."""
    rows = await session.execute(
        select(event_store.c.envelope)
        .where(event_store.c.tenant_id == tenant_id, event_store.c.stream_id == stream_id)
        .order_by(event_store.c.stream_version)
    )
    return [Envelope.model_validate(r) for (r,) in rows]


async def read_all(
    session: AsyncSession, after_position: int = 0, limit: int = 1000
) -> list[tuple[int, Envelope]]:
    """Every stored event after a position, in commit order."""
    rows = await session.execute(
        select(event_store.c.position, event_store.c.envelope)
        .where(event_store.c.position > after_position)
        .order_by(event_store.c.position)
        .limit(limit)
    )
    return [(pos, Envelope.model_validate(env)) for pos, env in rows]


async def count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(event_store))).scalar_one())
