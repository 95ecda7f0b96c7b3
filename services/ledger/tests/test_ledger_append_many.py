"""The kit's batch append (`eventstore.append_many`, by COPY) keeps the guarantees of `append`: events
stored as given and read back equal; a stream that moved meanwhile fails the whole batch with a
ConcurrencyConflict, and the caller's transaction goes on with nothing of the batch written."""

from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import text

from tallykit import eventstore
from tallykit.contracts import registry
from tallykit.contracts.ledger import AccountOpened, AccountRenamed


def envelope(tenant: Any, stream: Any, version: int, name: str = "A") -> Any:
    payload = (
        AccountOpened(name=name, kind="checking", currency="EUR", opening_balance_minor=0)
        if version == 1
        else AccountRenamed(name=name)
    )
    return registry.envelope(payload, tenant_id=tenant, stream_id=stream, stream_version=version, actor="t")


async def test_append_many_stores_in_order_and_refuses_a_moved_stream(ledger: httpx.AsyncClient) -> None:
    app: Any = ledger.app  # type: ignore[attr-defined]
    tenant, first, second = uuid4(), uuid4(), uuid4()
    batch = [envelope(tenant, first, 1), envelope(tenant, first, 2, "B"), envelope(tenant, second, 1)]
    async with app.state.db.transaction() as session:
        await eventstore.append_many(session, batch)
    async with app.state.db.read() as session:
        assert await eventstore.load_stream(session, tenant, first) == batch[:2]
        positions = [
            p
            for (p,) in await session.execute(
                text("SELECT position FROM event_store WHERE tenant_id = :t ORDER BY position"), {"t": tenant}
            )
        ]
    assert positions == sorted(positions)
    assert len(positions) == 3

    with pytest.raises(ValueError, match="follow one another"):
        async with app.state.db.transaction() as session:
            await eventstore.append_many(session, [envelope(tenant, first, 3), envelope(tenant, first, 5)])

    async with app.state.db.transaction() as session:
        with pytest.raises(eventstore.ConcurrencyConflict):
            await eventstore.append_many(session, [envelope(tenant, uuid4(), 1), envelope(tenant, first, 2)])
        await session.execute(text("SELECT 1"))  # the transaction survives the failed batch
    async with app.state.db.read() as session:
        count = (
            await session.execute(
                text("SELECT count(*) FROM event_store WHERE tenant_id = :t"), {"t": tenant}
            )
        ).scalar_one()
    assert count == 3
