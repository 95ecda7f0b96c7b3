"""Liveness of the gateway itself, and readiness = every service it routes to is ready."""

import asyncio

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from tally_gateway.settings import GatewaySettings
from tallykit.app import settings_of

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    settings = settings_of(request, GatewaySettings)
    client: httpx.AsyncClient = request.app.state.http

    async def check(base_url: str) -> str:
        try:
            response = await client.get(f"{base_url}/readyz", timeout=settings.readiness_timeout_s)
        except httpx.HTTPError as exc:
            return f"failed: {type(exc).__name__}"
        return "ok" if response.status_code == 200 else f"failed: HTTP {response.status_code}"

    names = list(settings.services)
    outcomes = await asyncio.gather(*(check(settings.services[name]) for name in names))
    results = dict(zip(names, outcomes, strict=True))
    ready = all(result == "ok" for result in results.values())
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": results},
                        status_code=200 if ready else 503)
