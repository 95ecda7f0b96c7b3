"""The household's ledger as it truly is: every event of its event store, in order, as JSON.

`restore` replays such an export into another, empty household: every stream gets an id of the new
household (default categories and payees, whose ids derive from the household, map to the new
household's own), every id inside the events is mapped the same way, and the events are appended,
projected and published as any write is. The balances come out the same.
"""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID, uuid4, uuid5

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import repository, tables
from tally_ledger.domain import DEFAULT_CATEGORIES, payee_id
from tally_ledger.repository import Context
from tallykit.contracts import registry
from tallykit.contracts.ledger import PayeeMerged
from tallykit.errors import Conflict, InvalidInput
from tallykit.events import Envelope, EventPayload, InvalidEventPayload, UnknownEventType
from tallykit.settings import ServiceSettings
from tallykit.tables import event_store

FORMAT = "tally-ledger"


class LedgerExport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["tally-ledger"]
    version: Literal[1]
    tenant_id: UUID
    exported_at: AwareDatetime
    events: list[Envelope] = Field(max_length=2_000_000)


EXPORT_PAGE = 2_000


async def export(session: AsyncSession, tenant_id: UUID) -> AsyncIterator[bytes]:
    """The `LedgerExport` document as JSON, in pieces of a page of events each: the events are read
    and written out as they go, not held."""
    empty = LedgerExport(format=FORMAT, version=1, tenant_id=tenant_id, exported_at=datetime.now(UTC),
                         events=[])
    yield empty.model_dump_json(exclude={"events"})[:-1].encode() + b',"events":['

    rows = await session.stream(select(event_store.c.envelope).where(event_store.c.tenant_id == tenant_id)
                                .order_by(event_store.c.position).execution_options(yield_per=EXPORT_PAGE))
    separator = b""
    async for page in rows.partitions():
        yield separator + b",".join(Envelope.model_validate(e).model_dump_json().encode() for (e,) in page)
        separator = b","
    yield b"]}"


def _new_ids(document: LedgerExport, target: UUID) -> dict[UUID, UUID]:
    source = document.tenant_id
    ids = {d.id_for(source): d.id_for(target) for d in DEFAULT_CATEGORIES}
    for envelope in document.events:
        if envelope.type == "ledger.PayeeMerged":
            name = str(envelope.data.get("name", ""))
            ids[payee_id(source, name)] = payee_id(target, name)
    for envelope in document.events:
        ids.setdefault(envelope.stream_id, uuid5(target, f"restored:{envelope.stream_id}"))
    return ids


def _remap(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return ids.get(value, value)
    if isinstance(value, list):
        return [_remap(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _remap(v, ids) for k, v in value.items()}
    return value


async def restore(session: AsyncSession, settings: ServiceSettings, ctx: Context,
                  document: LedgerExport) -> int:
    """Replay an export into the (empty) household of `ctx`; returns how many events were written."""
    target = ctx.tenant_id
    if document.tenant_id == target:
        raise Conflict("this export is of this very household; restore it into a new, empty household")
    t, a = tables.transactions.c, tables.accounts.c
    used = (await session.execute(select(func.count()).select_from(tables.accounts)
                                  .where(a.tenant_id == target))).scalar_one() \
        + (await session.execute(select(func.count()).select_from(tables.transactions)
                                 .where(t.tenant_id == target))).scalar_one()
    if used:
        raise Conflict("the household already has accounts or transactions; restore into an empty household")
    ids = _new_ids(document, target)
    text_ids = {str(old): str(new) for old, new in ids.items()}
    existing: dict[UUID, int] = dict((await session.execute(
        select(event_store.c.stream_id, func.max(event_store.c.stream_version))
        .where(event_store.c.tenant_id == target).group_by(event_store.c.stream_id))).all())
    versions: dict[UUID, int] = {}
    envelopes: list[Envelope] = []
    payloads: list[EventPayload] = []
    now = datetime.now(UTC)
    for number, envelope in enumerate(document.events, start=1):
        if envelope.tenant_id != document.tenant_id or envelope.producer != "ledger":
            raise InvalidInput(f"event {number} ({envelope.type}) is not of the exported household's ledger")
        stream = ids[envelope.stream_id]
        if envelope.stream_version <= existing.get(stream, 0) and stream not in versions:
            continue  # the new household has this stream already (its default categories)
        versions[stream] = versions.get(stream, existing.get(stream, 0)) + 1
        moved = envelope.model_copy(update={
            "id": uuid4(), "tenant_id": target, "stream_id": stream, "stream_version": versions[stream],
            "recorded_at": now, "actor": ctx.actor, "correlation_id": ctx.correlation_id or uuid4(),
            "causation_id": None, "data": _remap(envelope.data, text_ids)})
        try:
            payload = registry.payload(moved)
        except (InvalidEventPayload, UnknownEventType) as exc:
            raise InvalidInput(f"event {number} ({envelope.type}) cannot be read: {exc}") from exc
        if isinstance(payload, PayeeMerged) and stream != payee_id(target, payload.name):
            raise InvalidInput(f"event {number}: a payee merge whose stream is not its payee's")
        envelopes.append(Envelope.model_validate(moved.model_dump()))
        payloads.append(payload)
    await repository.save_recorded(session, settings, envelopes, payloads=payloads)
    return len(envelopes)

