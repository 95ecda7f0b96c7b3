import asyncio
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from tallykit import eventstore
from tallykit.contracts import registry
from tallykit.contracts.ledger import AccountOpened, AccountRenamed
from tallykit.db import Database, driver_connection
from tallykit.tables import event_store


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
