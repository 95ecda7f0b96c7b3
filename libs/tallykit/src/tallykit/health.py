"""Liveness (`/healthz`: the process answers) and readiness (`/readyz`: its database and broker do)."""

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from tallykit.db import Database
from tallykit.settings import ServiceSettings

Check = Callable[[], Awaitable[None]]


async def broker_reachable(settings: ServiceSettings) -> None:
    host, _, port = settings.kafka_bootstrap_servers.split(",")[0].rpartition(":")
    _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout=2.0)
    writer.close()
    await writer.wait_closed()


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz(request: Request) -> JSONResponse:
        db: Database = request.app.state.db
        settings: ServiceSettings = request.app.state.settings
        checks: dict[str, Check] = {"database": db.ping, "broker": lambda: broker_reachable(settings)}
        results: dict[str, str] = {}
        for name, check in checks.items():
            try:
                await asyncio.wait_for(check(), timeout=3.0)
                results[name] = "ok"
            except Exception as exc:
                results[name] = f"failed: {type(exc).__name__}"
        ready = all(v == "ok" for v in results.values())
        # Which partitions this replica's consumers hold: how the work is spread, at a glance.
        holds = {
            c.group_id: sorted(f"{tp.topic}/{tp.partition}" for tp in c.assigned)
            for c in getattr(request.app.state, "consumers", [])
        }
        body = {"status": "ready" if ready else "not ready", "checks": results, "partitions": holds}
        return JSONResponse(body, status_code=200 if ready else 503)

    return router
