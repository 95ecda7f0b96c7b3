"""The kit's request middleware: every answer carries a request id, and a successful write request
wakes the outbox relay on its way out; reads and failures do not, and an app without a relay (the
gateway) is fine with that."""

import asyncio
from types import SimpleNamespace

import httpx
from fastapi import FastAPI, HTTPException

from tallykit.app import request_id_middleware


def _app(with_relay: bool) -> tuple[FastAPI, asyncio.Event]:
    app = FastAPI()
    wakeup = asyncio.Event()
    if with_relay:
        app.state.relay = SimpleNamespace(wakeup=wakeup)
    request_id_middleware(app)

    @app.post("/things", status_code=201)
    async def create() -> dict[str, str]:
        return {"ok": "yes"}

    @app.post("/broken")
    async def broken() -> None:
        raise HTTPException(409, "no")

    @app.get("/things")
    async def read() -> list[str]:
        return []

    return app, wakeup


async def test_a_successful_write_wakes_the_relay_and_nothing_else_does() -> None:
    app, wakeup = _app(with_relay=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as client:
        assert (await client.get("/things")).status_code == 200
        assert (await client.post("/broken")).status_code == 409
        assert not wakeup.is_set()
        assert (await client.post("/things")).status_code == 201
        assert wakeup.is_set()


async def test_an_app_without_a_relay_answers_writes_as_usual() -> None:
    app, _ = _app(with_relay=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as client:
        assert (await client.post("/things")).status_code == 201


async def test_every_answer_carries_the_request_id_it_was_given_or_a_new_one() -> None:
    app, _ = _app(with_relay=True)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as client:
        given = await client.get("/things", headers={"X-Request-ID": "req-7"})
        assert given.headers["X-Request-ID"] == "req-7"
        made = (await client.post("/broken", headers={"X-Request-ID": "x" * 101})).headers["X-Request-ID"]
        assert len(made) == 36  # a fresh uuid instead of an id longer than 100 characters
