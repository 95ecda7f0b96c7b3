"""The outbox relay wakes when a transaction that wrote outbox rows commits (a request's, a consumer's, a
background import's alike), not on a rollback nor a commit that wrote none; and every answer carries a
request id."""

import asyncio
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from tallykit import commits, outbox
from tallykit.app import request_id_middleware
from tallykit.contracts import registry
from tallykit.contracts.ledger import AccountOpened
from tallykit.db import Database


async def test_a_commit_that_wrote_outbox_rows_wakes_the_relay_and_nothing_else_does(
        kit_db: tuple[str, Database]) -> None:
    _, db = kit_db
    wakeup = asyncio.Event()
    db.on_commit(commits.OUTBOX, wakeup.set)
    opened = registry.envelope(AccountOpened(name="A", kind="cash", currency="EUR", opening_balance_minor=0),
                               tenant_id=uuid4(), stream_id=uuid4(), stream_version=1, actor="system")
    async with db.transaction() as s:
        await s.execute(text("SELECT 1"))
    assert not wakeup.is_set()

    async def enqueue_then_fail() -> None:
        async with db.transaction() as s:
            await outbox.enqueue(s, "t", [opened])
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"):
        await enqueue_then_fail()
    assert not wakeup.is_set()
    async with db.transaction() as s:
        await outbox.enqueue(s, "t", [opened])
    assert wakeup.is_set()


async def test_every_answer_carries_the_request_id_it_was_given_or_a_new_one() -> None:
    app = FastAPI()
    request_id_middleware(app)

    @app.get("/things")
    async def read() -> list[str]:
        return []

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as client:
        given = await client.get("/things", headers={"X-Request-ID": "req-7"})
        assert given.headers["X-Request-ID"] == "req-7"
        made = (await client.get("/things", headers={"X-Request-ID": "x" * 101})).headers["X-Request-ID"]
        assert len(made) == 36  # a fresh uuid instead of an id longer than 100 characters
