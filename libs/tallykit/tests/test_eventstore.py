import asyncio
from uuid import uuid4

import pytest
from sqlalchemy import event, exists, func, literal, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from tallykit import eventstore, outbox
from tallykit.contracts import registry
from tallykit.contracts.ledger import AccountOpened, AccountRenamed
from tallykit.db import Database, driver_connection, unnest_rows, unnested
from tallykit.events import Envelope
from tallykit.tables import applied_positions, event_store
from tallykit.tables import outbox as outbox_table


def _events(tenant, stream, start, *payloads):
    return [
        registry.envelope(p, tenant_id=tenant, stream_id=stream, stream_version=start + i, actor="system")
        for i, p in enumerate(payloads, start=1)
    ]


async def test_append_load_and_conflict(kit_db: tuple[str, Database]) -> None:
    _, db = kit_db
    tenant, other, stream = uuid4(), uuid4(), uuid4()
    opened = AccountOpened(name="Checking", kind="checking", currency="EUR", opening_balance_minor=0)
    async with db.transaction() as s:
        await eventstore.append(s, 0, _events(tenant, stream, 0, opened))

    with pytest.raises(eventstore.ConcurrencyConflict):
        async with db.transaction() as s:
            await eventstore.append(s, 0, _events(tenant, stream, 0, opened))

    async with db.read() as s:
        assert [e.type for e in await eventstore.load_stream(s, tenant, stream)] == ["ledger.AccountOpened"]
        assert await eventstore.load_stream(s, other, stream) == []  # another tenant sees nothing
        assert await eventstore.count(s) == 1


async def test_a_conflict_part_way_through_writes_nothing_and_the_transaction_goes_on(
    kit_db: tuple[str, Database],
) -> None:
    """Two events appended after version 1 while another writer took version 2: the conflict, and the
    second event (version 3, free) is not left behind; the caller's transaction can go on."""
    _, db = kit_db
    tenant, stream = uuid4(), uuid4()
    opened = AccountOpened(name="A", kind="cash", currency="EUR", opening_balance_minor=0)
    async with db.transaction() as s:
        await eventstore.append(s, 0, _events(tenant, stream, 0, opened, AccountRenamed(name="B")))
    async with db.transaction() as s:
        with pytest.raises(eventstore.ConcurrencyConflict):
            await eventstore.append(
                s, 1, _events(tenant, stream, 1, AccountRenamed(name="C"), AccountRenamed(name="D"))
            )
        other = uuid4()
        await eventstore.append(s, 0, _events(tenant, other, 0, opened))
    async with db.read() as s:
        names = [e.data.get("name") for e in await eventstore.load_stream(s, tenant, stream)]
        assert names == ["A", "B"]
        assert len(await eventstore.load_stream(s, tenant, other)) == 1


async def test_two_writers_at_the_same_version_one_wins(kit_db: tuple[str, Database]) -> None:
    _, db = kit_db
    tenant, stream = uuid4(), uuid4()
    async with db.transaction() as s:
        await eventstore.append(
            s,
            0,
            _events(
                tenant,
                stream,
                0,
                AccountOpened(name="A", kind="cash", currency="EUR", opening_balance_minor=0),
            ),
        )

    async def rename(name: str) -> str:
        try:
            async with db.transaction() as s:
                await eventstore.append(s, 1, _events(tenant, stream, 1, AccountRenamed(name=name)))
            return "won"
        except eventstore.ConcurrencyConflict:
            return "conflict"

    outcomes = await asyncio.gather(rename("B"), rename("C"))
    assert sorted(outcomes) == ["conflict", "won"]
    async with db.read() as s:
        assert (await s.execute(select(func.max(event_store.c.stream_version)))).scalar_one() == 2


async def test_read_all_is_in_commit_order(kit_db: tuple[str, Database]) -> None:
    _, db = kit_db
    tenant = uuid4()
    streams = [uuid4() for _ in range(5)]
    for stream in streams:
        async with db.transaction() as s:
            await eventstore.append(
                s,
                0,
                _events(
                    tenant,
                    stream,
                    0,
                    AccountOpened(name="x", kind="cash", currency="EUR", opening_balance_minor=0),
                ),
            )
    async with db.read() as s:
        rows = await eventstore.read_all(s)
    assert [e.stream_id for _, e in rows] == streams
    assert [p for p, _ in rows] == sorted(p for p, _ in rows)


async def test_a_copy_that_opens_a_unit_of_work_rolls_back_with_it(kit_db: tuple[str, Database]) -> None:
    """A COPY goes straight to the driver; as the first thing a unit of work does, it must still be
    inside that unit's transaction (SQLAlchemy only begins it with its own first statement)."""
    _, db = kit_db
    tenant, stream = uuid4(), uuid4()
    opened = AccountOpened(name="Checking", kind="checking", currency="EUR", opening_balance_minor=0)

    async def copy_then_fail() -> None:
        async with db.transaction() as s:
            raw = await driver_connection(s)
            await raw.copy_records_to_table(
                "event_store", columns=["event_id", "tenant_id", "stream_id", "stream_version", "type",
                                        "envelope"],
                records=[(uuid4(), tenant, stream, 1, "ledger.AccountOpened", opened.model_dump_json())])
            raise RuntimeError("the unit of work fails after the COPY")

    with pytest.raises(RuntimeError, match="the unit of work fails after the COPY"):
        await copy_then_fail()
    async with db.read() as s:
        assert await eventstore.load_stream(s, tenant, stream) == []


@pytest.mark.parametrize("count", [3, 150])  # an INSERT for a few, a COPY for many
async def test_outbox_rows_that_name_stored_events_are_read_with_their_envelopes(
        kit_db: tuple[str, Database], count: int) -> None:
    _, db = kit_db
    tenant = uuid4()
    opened = AccountOpened(name="Checking", kind="checking", currency="EUR", opening_balance_minor=0)
    envelopes = [e for _ in range(count) for e in _events(tenant, uuid4(), 0, opened)]
    async with db.transaction() as s:
        await s.execute(text("DELETE FROM outbox"))
        await eventstore.append_many(s, envelopes)
        await outbox.enqueue_stored(s, "tally.ledger.events", envelopes)
    async with db.read() as s:
        held = (await s.execute(select(func.count()).where(outbox_table.c.envelope.is_not(None)))).scalar()
        rows = await outbox.fetch_unpublished(s, 1000)
    assert held == 0  # each envelope is kept once, in the event store
    assert [Envelope.model_validate(r.envelope) for r in rows] == envelopes
    assert {(r.topic, r.key) for r in rows} == {("tally.ledger.events", str(tenant))}


def _count_opened(appended):
    # A projection for append_and_enqueue: module-level, so its statement is built once.
    """Count each appended event of a tenant in `applied_positions` (a kit table any database has)."""
    new = unnested("seen", [("tenant_id", applied_positions.c.tenant_id.type),
                            ("position", applied_positions.c.position.type)])
    counted = pg_insert(applied_positions).from_select(
        ["source", "tenant_id", "position"],
        select(literal("count"), new.c.tenant_id, new.c.position).where(exists(select(appended.c.event_id))))
    return [counted.on_conflict_do_update(
        index_elements=[applied_positions.c.source, applied_positions.c.tenant_id],
        set_={"position": applied_positions.c.position + counted.excluded.position})]


async def test_append_and_enqueue_writes_events_projection_and_outbox_in_one_statement(
        kit_db: tuple[str, Database]) -> None:
    _, db = kit_db
    tenant, stream = uuid4(), uuid4()
    opened = AccountOpened(name="Checking", kind="checking", currency="EUR", opening_balance_minor=0)
    envelopes = _events(tenant, stream, 0, opened, AccountRenamed(name="Giro"), AccountRenamed(name="Main"))
    statements: list[str] = []
    sync = db.engine.sync_engine

    def listener(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(sync, "before_cursor_execute", listener)
    try:
        async with db.transaction() as s:
            await s.execute(text("DELETE FROM outbox"))
            statements.clear()
            await eventstore.append_and_enqueue(s, envelopes, "tally.ledger.events", _count_opened,
                                                unnest_rows("seen", ["tenant_id", "position"], [(tenant, 3)]))
            written = list(statements)
    finally:
        event.remove(sync, "before_cursor_execute", listener)
    assert len(written) == 1  # one round trip
    async with db.read() as s:
        assert await eventstore.load_stream(s, tenant, stream) == envelopes
        rows = await outbox.fetch_unpublished(s, 10)
        counted = (await s.execute(select(applied_positions.c.position).where(
            applied_positions.c.source == "count", applied_positions.c.tenant_id == tenant))).scalar_one()
    assert [Envelope.model_validate(r.envelope) for r in rows] == envelopes  # in the order they happened
    assert [r.id for r in rows] == sorted(r.id for r in rows)
    assert counted == 3


async def test_append_and_enqueue_at_a_version_taken_meanwhile_writes_nothing(
        kit_db: tuple[str, Database]) -> None:
    _, db = kit_db
    tenant, stream = uuid4(), uuid4()
    opened = AccountOpened(name="A", kind="cash", currency="EUR", opening_balance_minor=0)
    async with db.transaction() as s:
        await eventstore.append_and_enqueue(s, _events(tenant, stream, 0, opened), "t")
    with pytest.raises(eventstore.ConcurrencyConflict):
        async with db.transaction() as s:
            await eventstore.append_and_enqueue(
                s, _events(tenant, stream, 0, opened) + _events(tenant, uuid4(), 0, opened), "t",
                _count_opened, unnest_rows("seen", ["tenant_id", "position"], [(tenant, 1)]))
    async with db.read() as s:
        assert len(await eventstore.load_stream(s, tenant, stream)) == 1
        assert (await s.execute(select(func.count()).select_from(event_store).where(
            event_store.c.tenant_id == tenant))).scalar_one() == 1
        counted = select(func.count()).where(applied_positions.c.source == "count",
                                             applied_positions.c.tenant_id == tenant)
        assert (await s.execute(counted)).scalar_one() == 0
        assert (await s.execute(select(func.count()).select_from(outbox_table).where(
            outbox_table.c.key == str(tenant)))).scalar_one() == 1


async def test_writers_of_one_statement_get_outbox_ids_in_commit_order(kit_db: tuple[str, Database]) -> None:
    """Many concurrent one-statement writes: the outbox ids of what committed follow the event store's
    positions (the append lock comes first in the statement)."""
    _, db = kit_db
    tenant = uuid4()
    opened = AccountOpened(name="A", kind="cash", currency="EUR", opening_balance_minor=0)

    async def write() -> None:
        async with db.transaction() as s:
            events = _events(tenant, uuid4(), 0, opened, AccountRenamed(name="B"))
            await eventstore.append_and_enqueue(s, events, "t", _count_opened,
                                                unnest_rows("seen", ["tenant_id", "position"], [(tenant, 2)]))

    await asyncio.gather(*(write() for _ in range(20)))
    async with db.read() as s:
        rows = (await s.execute(
            select(event_store.c.position, outbox_table.c.id)
            .join(outbox_table, outbox_table.c.event_id == event_store.c.event_id)
            .where(event_store.c.tenant_id == tenant).order_by(event_store.c.position))).all()
        counted = (await s.execute(select(applied_positions.c.position).where(
            applied_positions.c.source == "count", applied_positions.c.tenant_id == tenant))).scalar_one()
    assert len(rows) == 40
    assert [i for _, i in rows] == sorted(i for _, i in rows)
    assert counted == 40
