"""Read your own writes (tallykit.positions): the token, what writes and reads answer, and a request that
waits until its service has applied what it names, against a real PostgreSQL and broker."""

import asyncio
import dataclasses
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from fastapi import APIRouter
from sqlalchemy import select

from tallykit import kafka, outbox
from tallykit.app import create_service_app
from tallykit.consumer import EventConsumer
from tallykit.contracts import registry
from tallykit.contracts.ledger import CategoryCreated
from tallykit.db import Database
from tallykit.outbox import OutboxRelay
from tallykit.positions import BadPosition, Position
from tallykit.settings import ServiceSettings
from tallykit.tables import applied_positions, inbox
from tallykit.tokens import CurrentPrincipal, TokenVerifier
from tallystack.tokens import TokenMinter

TOPIC = "ledger.events"
T = UUID("3f2a6c1e-0000-4000-8000-000000000001")


# --- the token ---------------------------------------------------------------------------------------------


def test_a_token_reads_back_as_written() -> None:
    token = Position.parse(f"tenant={T};ledger=345;auth=12")
    assert token == Position(T, {"ledger": 345, "auth": 12})
    assert str(token) == f"tenant={T};auth=12;ledger=345"
    assert Position.parse(f"tenant={T}") == Position(T, {})


def test_merging_keeps_the_larger_position_of_each_service_and_drops_another_households() -> None:
    mine = Position(T, {"auth": 12, "ledger": 300})
    assert Position(T, {"ledger": 345, "budget": 2}).merge(mine) == Position(
        T, {"auth": 12, "ledger": 345, "budget": 2}
    )
    other = Position(uuid4(), {"ledger": 1})
    assert other.merge(mine) == other


@pytest.mark.parametrize("text", [
    "", "ledger=1", f"tenant={T};ledger", f"tenant={T};ledger=-1", f"tenant={T};ledger=1;ledger=2",
    f"tenant={T};Ledger=1", f"tenant={T};ledger=1e3", f"tenant={T};ledger=٣", "tenant=nope;ledger=1",
    f"tenant={T};ledger={2**63}", f"tenant={T};tenant=1", f"tenant={T};" + "a=1;" * 200,
])
def test_a_malformed_token_is_refused(text: str) -> None:
    with pytest.raises(BadPosition):
        Position.parse(text)


# --- a service that publishes ledger.events and consumes them --------------------------------------------


def _category(tenant: UUID, name: str) -> Any:
    return registry.envelope(
        CategoryCreated(name=name, group="Food", kind="expense"),
        tenant_id=tenant, stream_id=uuid4(), stream_version=1, actor="system",
    )


async def _applied_categories(db: Database, tenant: UUID) -> list[str]:
    """The ids of the household's category events the consumer has applied (its inbox)."""
    query = select(inbox.c.event_id).where(
        inbox.c.tenant_id == tenant, inbox.c.type == "ledger.CategoryCreated"
    )
    async with db.read() as s:
        return [str(i) for (i,) in await s.execute(query)]


def _app(settings: ServiceSettings, db: Database, minter: TokenMinter) -> Any:
    router = APIRouter()

    @router.post("/categories", status_code=201)
    async def create(principal: CurrentPrincipal, name: str) -> dict[str, str]:
        async with db.transaction() as s:
            await outbox.enqueue(s, settings.topic(TOPIC), [_category(principal.tenant_id, name)])
        return {"name": name}

    @router.get("/categories")
    async def seen(principal: CurrentPrincipal) -> list[str]:
        return await _applied_categories(db, principal.tenant_id)

    async def noop(*_: Any) -> None:
        return None

    app = create_service_app(
        settings, title="positions", routers=[router], db=db, publishes=[TOPIC],
        consumers=lambda d: [EventConsumer(db=d, settings=settings, registry=registry, topics=[TOPIC],
                                           handlers={"ledger.CategoryCreated": noop})],
        verifier=TokenVerifier(settings, jwks=minter.jwks), run_background=False,
    )
    return app


async def test_a_write_answers_its_position_and_a_read_waits_for_it_or_says_not_caught_up(
    kit_db: tuple[str, Database], kit_settings: ServiceSettings, token_minter: TokenMinter
) -> None:
    _, db = kit_db
    settings = kit_settings.model_copy(update={"service_name": "ledger", "read_your_writes_timeout_s": 0.3})
    app = _app(settings, db, token_minter)
    tenant = uuid4()
    auth = token_minter.headers(uuid4(), tenant)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as client:
        written = await client.post("/categories", params={"name": "Groceries"}, headers=auth)
        assert written.status_code == 201
        token = Position.parse(written.headers["Tally-Position"])
        assert token.tenant_id == tenant
        assert token.services["ledger"] > 0

        # A read answers the household's newest position, and what the request brought (auth's: this
        # service consumes nothing of auth's, so it does not wait for it).
        seen = await client.get("/categories", headers={**auth, "Tally-Position": f"tenant={tenant};auth=7"})
        assert seen.status_code == 200
        assert seen.headers["Tally-Position"] == f"tenant={tenant};auth=7;ledger={token.services['ledger']}"

        # Nothing consumed yet: the request that names the write waits its bound, then says so.
        seen = await client.get("/categories", headers={**auth, "Tally-Position": str(token)})
        assert seen.status_code == 503
        problem = seen.json()
        assert problem["type"] == "https://tally.dev/problems/not-caught-up"
        assert seen.headers["Retry-After"] == "1"
        async with db.read() as s:
            assert (await s.execute(select(applied_positions))).all() == []

        plain = await client.get("/categories", headers=auth)
        assert plain.status_code == 200
        assert plain.headers["Tally-Position"] == str(token)
        # Another household's token is not waited for.
        elsewhere = f"tenant={uuid4()};ledger=9"
        other = await client.get("/categories", headers={**auth, "Tally-Position": elsewhere})
        assert other.status_code == 200

        bad = await client.get("/categories", headers={**auth, "Tally-Position": "ledger=1"})
        assert bad.status_code == 400
        assert bad.json()["type"].endswith("/bad-position")

        # Publish and consume; a request naming the write now waits until it is applied, then sees it.
        app.state.catch_up = dataclasses.replace(app.state.catch_up, timeout_s=60.0)  # a patient service
        consumer: EventConsumer = app.state.consumers[0]
        stop = asyncio.Event()
        await kafka.ensure_topics(settings, [settings.topic(TOPIC)])
        relay = OutboxRelay(db, settings, [TOPIC])
        tasks = [asyncio.create_task(consumer.run(stop)), asyncio.create_task(relay.run(stop))]
        try:
            after = await client.get("/categories", headers={**auth, "Tally-Position": str(token)})
            assert after.status_code == 200
            assert len(after.json()) == 1  # the write is applied by the time the read answers
            assert Position.parse(after.headers["Tally-Position"]) == token
        finally:
            stop.set()
            await asyncio.gather(*tasks)


async def test_events_no_handler_wants_still_move_the_position_and_old_ones_never_lower_it(
    kit_db: tuple[str, Database], kit_settings: ServiceSettings
) -> None:
    _, db = kit_db
    consumer = EventConsumer(db=db, settings=kit_settings, registry=registry, topics=[TOPIC], handlers={})
    tenant = uuid4()
    assert await consumer.handle(_category(tenant, "Rent").to_json(), position=("ledger", tenant, 5)) is False
    await consumer.handle(_category(tenant, "Fuel").to_json(), position=("ledger", tenant, 3))  # a replay
    async with db.read() as s:
        assert (await s.execute(select(applied_positions.c.position))).scalar_one() == 5
