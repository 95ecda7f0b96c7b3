"""The notifier's app: the feed API, the consumer of auth and budget events, and the mailer."""

from pathlib import Path

from fastapi import FastAPI

from tally_notifier.api import router
from tally_notifier.consumers import build_consumer
from tally_notifier.mailer import Mailer
from tally_notifier.settings import NotifierSettings
from tallykit.app import create_service_app
from tallykit.service import ServiceDefinition
from tallykit.tokens import TokenVerifier

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(
    settings: NotifierSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    run_background: bool = True,
) -> FastAPI:
    settings = settings or NotifierSettings()
    return create_service_app(
        settings,
        title="Tally notifier",
        routers=[router],
        consumers=lambda db: [build_consumer(db, settings)],
        workers=lambda db: [Mailer(db, settings).run],
        verifier=verifier,
        run_background=run_background,
    )


DEFINITION = ServiceDefinition(
    name="notifier",
    settings=NotifierSettings,
    create_app=create_app,
    migrations_dir=MIGRATIONS,
    default_port=8005,
)
