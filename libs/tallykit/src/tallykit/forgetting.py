"""Households deleted with their owner's account (`auth.UserDeleted`): a consuming service erases what
it holds about them and remembers that it did, so their events that arrive later — from another topic,
which nothing orders against auth's — change nothing instead of bringing rows back."""

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

from sqlalchemy import Column, DateTime, MetaData, Table, func, select
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from tallykit.consumer import BatchHandler, Handler
from tallykit.events import Envelope

ERASING_EVENT = "auth.UserDeleted"


def forgotten_households_table(metadata: MetaData) -> Table:
    return Table(
        "forgotten_households",
        metadata,
        Column("tenant_id", PgUUID(as_uuid=True), primary_key=True),
        Column("forgotten_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


_KNOWN = "tallykit.forgetting"  # in session.info: tenant id → forgotten, as found in this transaction


async def remember(session: AsyncSession, table: Table, tenant_ids: Iterable[UUID]) -> None:
    known = session.info.setdefault(_KNOWN, {})
    for tenant_id in tenant_ids:
        await session.execute(insert(table).values(tenant_id=tenant_id).on_conflict_do_nothing())
        known[tenant_id] = True


async def _forgotten(session: AsyncSession, table: Table, tenant_id: UUID) -> bool:
    """Asked once per household in a transaction (a burst applies thousands of its events in one)."""
    known: dict[UUID, bool] = session.info.setdefault(_KNOWN, {})
    if tenant_id not in known:
        gone = select(table.c.tenant_id).where(table.c.tenant_id == tenant_id)
        known[tenant_id] = (await session.execute(gone)).first() is not None
    return known[tenant_id]


def unless_forgotten(table: Table, handlers: Mapping[str, Handler]) -> dict[str, Handler]:
    """The handlers, each dropping the events of a forgotten household (the erasing event excepted)."""

    def guarded(handler: Handler) -> Handler:
        async def handle(session: AsyncSession, envelope: Envelope, payload: Any) -> None:
            if not await _forgotten(session, table, envelope.tenant_id):
                await handler(session, envelope, payload)

        return handle

    return {name: handler if name == ERASING_EVENT else guarded(handler)
            for name, handler in handlers.items()}


def batches_unless_forgotten(table: Table, handlers: Mapping[str, BatchHandler]) -> dict[str, BatchHandler]:
    """The batch handlers, each handed only the events of households that were not forgotten. One
    guarded handler per handler, so types that shared one (a run of mixed types) still do."""
    guarded: dict[int, BatchHandler] = {}

    def guard(handler: BatchHandler) -> BatchHandler:
        async def handle(session: AsyncSession, events: list[tuple[Envelope, Any]]) -> None:
            kept = [(e, p) for e, p in events if not await _forgotten(session, table, e.tenant_id)]
            if kept:
                await handler(session, kept)

        return handle

    out: dict[str, BatchHandler] = {}
    for name, handler in handlers.items():
        if name == ERASING_EVENT:
            out[name] = handler
        else:
            out[name] = guarded.setdefault(id(handler), guard(handler))
    return out
