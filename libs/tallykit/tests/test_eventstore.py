import asyncio
from uuid import uuid4

import pytest
from sqlalchemy import func, select, text

from tallykit import eventstore, outbox
from tallykit.contracts import registry
from tallykit.contracts.ledger import AccountOpened, AccountRenamed
from tallykit.db import Database, driver_connection
from tallykit.events import Envelope
from tallykit.tables import event_store
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
