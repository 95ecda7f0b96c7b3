"""The gateway app. It owns no database, so it composes the kit's pieces rather than create_service_app."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx
from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware
from starlette.staticfiles import StaticFiles

from tally_gateway import guide, health, proxy
from tally_gateway.settings import GatewaySettings
from tally_gateway.web import SecurityHeadersMiddleware, WebFiles
from tallykit import metrics
from tallykit.app import request_id_middleware
from tallykit.errors import install_problem_handlers
from tallykit.logging import configure_logging, get_logger
from tallykit.tokens import TokenVerifier

log = get_logger(__name__)
DEFAULT_PORT = 8000


def create_app(settings: GatewaySettings | None = None, *, verifier: TokenVerifier | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # One pooled client for every upstream call; no environment proxies between us and the services.
        # It must keep no cookies: a Set-Cookie meant for one browser would go out with everyone's requests.
        no_cookies = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))
        async with httpx.AsyncClient(
            timeout=settings.upstream_timeout_s, trust_env=False, cookies=no_cookies
        ) as client:
            app.state.http = client
            log.info("gateway_started", services=settings.services, web_dir=str(settings.web_dir))
            yield
        log.info("gateway_stopped")

    # No /docs: the Swagger page loads from a CDN, which the CSP forbids, and the paths belong to the client.
    app = FastAPI(title="Tally gateway", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings
    app.state.verifier = verifier or TokenVerifier(settings)
    install_problem_handlers(app)
    request_id_middleware(app)
    metrics.instrument(app, settings)
    app.add_middleware(SecurityHeadersMiddleware)
    app.include_router(health.router)
    app.include_router(proxy.router)
    app.include_router(guide.router)
    if (settings.guide_dir / guide.SCREENSHOTS).is_dir():
        app.mount("/guide/screenshots", StaticFiles(directory=settings.guide_dir / guide.SCREENSHOTS),
                  name="guide-screenshots")
    if settings.web_dir.is_dir():
        # Compressed (the client's modules and strings shrink to about a quarter); only the static files,
        # so API answers and event streams pass through untouched.
        app.mount("/", GZipMiddleware(WebFiles(directory=settings.web_dir, html=True), minimum_size=1024),
                  name="web")
    else:
        log.warning("web_dir_missing", web_dir=str(settings.web_dir))
    return app
