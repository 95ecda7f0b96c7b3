"""An append-only event store on PostgreSQL.

The unique key (stream_id, stream_version) *is* the optimistic-concurrency check: two writers that
both expect version N race to insert N+1 and exactly one succeeds. Appends also take one
transaction-scoped advisory lock, so global positions are assigned in commit order and a reader
following `position` never sees a later position commit before an earlier one.
"""

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any
from uuid import UUID

from sqlalchemy import CTE, Insert, String, Text, bindparam, cast, delete, func, insert, select, text, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.dml import UpdateBase

from tallykit import positions
from tallykit.db import driver_connection, unnest_rows, unnested
from tallykit.errors import Conflict
from tallykit.events import Envelope
from tallykit.tables import event_store, outbox

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
    # A version taken meanwhile inserts nothing (no savepoint, no error: two round trips fewer per
    # write); what the statement did insert is taken out again, so a conflict writes nothing.
    written = await session.execute(
        pg_insert(event_store)
        .on_conflict_do_nothing(constraint="event_store_stream_version")
        .returning(event_store.c.event_id),
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
    inserted = list(written.scalars())
    if len(inserted) < len(events):
        if inserted:
            await session.execute(delete(event_store).where(event_store.c.event_id.in_(inserted)))
        raise ConcurrencyConflict(
            f"stream {stream_id} changed since version {expected_version}; reload and retry",
            expected_version=expected_version,
        )


Projecting = Callable[[CTE], Sequence[UpdateBase]]
_APPENDED = [(c, event_store.c[c].type) for c in
             ("event_id", "tenant_id", "stream_id", "stream_version", "type", "envelope")]


async def append_and_enqueue(session: AsyncSession, events: Sequence[Envelope], topic: str,
                             projecting: Projecting | None = None, params: Mapping[str, Any] | None = None
                             ) -> None:
    """Append a few events of any streams, write what `projecting` makes of them and name them on the
    outbox for `topic` (as `outbox.enqueue_stored`), all in ONE statement: one round trip where the
    append, each read model and the outbox took one each (issue #19: the write path's cost).

    Each event continues its stream from the version before it (the caller loaded it there); a version
    taken meanwhile fails the whole statement with ConcurrencyConflict, nothing written (the transaction
    cannot go on: roll it back). The append lock comes first, so positions and outbox ids are handed out
    in commit order as with `append`.

    `projecting` (a module-level function: the statement is built once per function and cached) gets the
    appended rows as a CTE and returns DML statements whose values are bind parameters, given in `params`
    (`tallykit.db.unnested` rows). Each must wait for the append: filter on `exists(appended)`, which also
    has it take its row locks after the append lock (else two writers could each hold what the other
    waits for). A statement may not touch one row twice (one change per account, per payee).
    """
    if not events:
        return
    values = unnest_rows("new_events", [c for c, _ in _APPENDED], [
        (e.id, e.tenant_id, e.stream_id, e.stream_version, e.type, e.model_dump(mode="json"))
        for e in events])
    try:
        written = await session.execute(_append_statement(projecting),
                                        {**values, "topic": topic, **(params or {})})
    except IntegrityError as exc:
        if "event_store_stream_version" in str(exc.orig):
            raise ConcurrencyConflict("a stream changed since it was read; reload and retry") from exc
        raise
    positions.enqueued(session, written.all())


@cache
def _append_statement(projecting: Projecting | None) -> Insert:
    lock = select(func.pg_advisory_xact_lock(_APPEND_LOCK).label("held")).cte("append_lock")
    new = unnested("new_events", _APPENDED, numbered=True)
    columns = [c for c, _ in _APPENDED]
    appended = (
        insert(event_store)
        .from_select(columns, select(*(new.c[c] for c in columns)).select_from(new.join(lock, true()))
                     .order_by(new.c.n))
        .returning(event_store.c.event_id, event_store.c.tenant_id, event_store.c.position)
        .cte("appended")
    )
    projected = projecting(appended) if projecting is not None else ()
    return (
        insert(outbox)
        .from_select(["event_id", "topic", "key"],
                     select(appended.c.event_id, bindparam("topic", type_=String),
                            cast(appended.c.tenant_id, String))
                     .order_by(appended.c.position))
        .returning(outbox.c.key, outbox.c.id)
        .add_cte(*(p.cte(f"projected_{n}") for n, p in enumerate(projected)))
    )


def encode(envelope: Envelope) -> str:
    """An envelope as the JSON text stored (and published): encoded once, used for every copy."""
    return envelope.model_dump_json()


async def append_many(
    session: AsyncSession, events: Sequence[Envelope], *, encoded: Sequence[str] | None = None
) -> None:
    """Append events of many streams at once, each continuing its stream from the version before its
    first event here (the caller loaded each stream at that version; 0 for a new one).

    The same guarantees as `append`, for a batch: the append lock first (global positions in commit
    order), and the unique key (stream, version) as the concurrency check, so a stream that moved
    meanwhile fails the batch with ConcurrencyConflict, inside a savepoint the caller's transaction
    survives. The rows go in with one COPY (a few hundred thousand rows a second, where a row-by-row
    insert manages a few thousand); `encoded` are the envelopes' JSON texts when the caller has them.
    """
    if not events:
        return
    texts = list(encoded) if encoded is not None else [encode(e) for e in events]
    if len(texts) != len(events):
        raise ValueError("one encoded text per event")
    expected: dict[UUID, int] = {}
    for envelope in events:
        last = expected.get(envelope.stream_id)
        if last is not None and envelope.stream_version != last + 1:
            raise ValueError(f"events of stream {envelope.stream_id} must follow one another")
        expected[envelope.stream_id] = envelope.stream_version
    await lock_appends(session)
    records = [
        (e.id, e.tenant_id, e.stream_id, e.stream_version, e.type, text)
        for e, text in zip(events, texts, strict=True)
    ]
    raw = await driver_connection(session)
    try:
        # A savepoint of the driver's own (the COPY runs on the driver connection, past SQLAlchemy).
        async with raw.transaction():
            await raw.copy_records_to_table(
                event_store.name,
                records=records,
                columns=["event_id", "tenant_id", "stream_id", "stream_version", "type", "envelope"],
            )
    except Exception as exc:
        if "event_store_stream_version" in str(exc):
            raise ConcurrencyConflict(
                "a stream changed since it was read; reload and retry",
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
    # Validated from the stored text in one step: parsing it into a dict first, then validating the
    # dict, took twice as long for the same envelope (a rebuild reads every event).
    rows = await session.execute(
        select(event_store.c.position, cast(event_store.c.envelope, Text))
        .where(event_store.c.position > after_position)
        .order_by(event_store.c.position)
        .limit(limit)
    )
    return [(pos, Envelope.model_validate_json(env)) for pos, env in rows]


async def count(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(event_store))).scalar_one())
