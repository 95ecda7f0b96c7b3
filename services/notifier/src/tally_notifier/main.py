"""The notifier's app: the API, the consumer of every topic, the dispatcher of every channel, the
listener that feeds live streams, and the digest scheduler."""

from pathlib import Path

from fastapi import FastAPI

from tally_notifier import keys
from tally_notifier.api import router
from tally_notifier.consumers import build_consumer
from tally_notifier.digest import DigestScheduler
from tally_notifier.dispatcher import Dispatcher
from tally_notifier.settings import NotifierSettings
from tally_notifier.stream import FeedListener
from tallykit.app import create_service_app
from tallykit.db import Database
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
    db = Database.from_settings(settings)
    listener = FeedListener(db)

    async def startup(database: Database) -> None:
        # Make the VAPID and unsubscribe keys now (first start), not on the first request that needs them.
        async with database.transaction() as session:
            await keys.load(session, settings)

    app = create_service_app(
        settings,
        title="Tally notifier",
        routers=[router],
        db=db,
        consumers=lambda db: [build_consumer(db, settings)],
        workers=lambda db: [Dispatcher(db, settings).run, listener.run, DigestScheduler(db, settings).run],
        verifier=verifier,
        run_background=run_background,
        startup=startup,
    )
    app.state.listener = listener
    return app


DEFINITION = ServiceDefinition(
    name="notifier",
    settings=NotifierSettings,
    create_app=create_app,
    migrations_dir=MIGRATIONS,
    default_port=8005,
)
