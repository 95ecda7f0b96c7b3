from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI

from tally_auth import api, household_api, keys, twofactor
from tally_auth.commands import AuthContext
from tally_auth.settings import AuthSettings
from tallykit.app import create_service_app
from tallykit.db import Database
from tallykit.service import ServiceDefinition
from tallykit.tokens import TokenVerifier

MIGRATIONS = Path(__file__).parent / "migrations"


class _LocalJwks(TokenVerifier):
    """The auth service verifies its own tokens straight from its key table, not over HTTP."""

    def __init__(self, settings: AuthSettings, ctx: AuthContext) -> None:
        super().__init__(settings)
        self._ctx = ctx

    async def _refresh(self) -> None:
        async with self._ctx.db.read() as session:
            self._load(await keys.jwks(session, self._ctx.settings.access_token_ttl_s))


def _start_up(ctx: AuthContext) -> Callable[[Database], Awaitable[None]]:
    async def start(db: Database) -> None:
        async with db.transaction() as session:
            await keys.ensure_signing_key(session)
        await twofactor.seal_legacy_secrets(ctx)

    return start


def create_app(
    settings: AuthSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    run_background: bool = True,
) -> FastAPI:
    """`verifier` is accepted for symmetry with the other services but auth always checks its own keys."""
    settings = settings or AuthSettings()
    db = Database.from_settings(settings)
    ctx = AuthContext.build(db, settings)
    app = create_service_app(
        settings,
        title="Tally auth",
        routers=[api.router, household_api.router],
        db=db,
        publishes=["auth.events"],
        run_background=run_background,
        verifier=_LocalJwks(settings, ctx),
        startup=_start_up(ctx),
    )
    app.state.auth = ctx
    return app


async def rotate_key(settings: AuthSettings) -> None:
    """`python -m tally_auth rotate-key`: a new signing key from now on; the old one verifies until its
    tokens have expired."""
    db = Database.from_settings(settings)
    try:
        async with db.transaction() as session:
            kid = await keys.rotate(session, settings.access_token_ttl_s)
    finally:
        await db.dispose()
    print(f"new signing key {kid}; the previous key stays in the JWKS for {settings.access_token_ttl_s} s")


DEFINITION = ServiceDefinition(
    name="auth",
    settings=AuthSettings,
    create_app=create_app,
    migrations_dir=MIGRATIONS,
    default_port=8001,
    commands={"rotate-key": rotate_key},
)
