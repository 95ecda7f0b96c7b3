"""The ledger service: its app, its command line (`python -m tally_ledger migrate|serve|rebuild`)."""

from pathlib import Path

from fastapi import FastAPI

from tally_ledger import projections
from tally_ledger.api import router
from tally_ledger.attachments_api import router as attachments_router
from tally_ledger.bulk_api import router as bulk_router
from tally_ledger.categoriser_api import router as categoriser_router
from tally_ledger.categorising import Trainer
from tally_ledger.consumers import auth_events_consumer
from tally_ledger.export_api import router as export_router
from tally_ledger.history_api import router as history_router
from tally_ledger.import_api import router as import_router
from tally_ledger.rates_api import router as rates_router
from tally_ledger.reconcile_api import router as reconcile_router
from tally_ledger.recurring_api import router as recurring_router
from tally_ledger.repository import TOPIC
from tally_ledger.rules_api import router as rules_router
from tally_ledger.scheduler import Scheduler
from tally_ledger.series_api import router as series_router
from tally_ledger.series_finding import Finder
from tally_ledger.settings import LedgerSettings
from tally_ledger.sharing_api import router as sharing_router
from tally_ledger.totals import Compactor
from tallykit.app import create_service_app
from tallykit.db import Database
from tallykit.service import ServiceDefinition
from tallykit.tokens import TokenVerifier

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: LedgerSettings | None = None, *, verifier: TokenVerifier | None = None,
               run_background: bool = True) -> FastAPI:
    settings = settings or LedgerSettings()
    app: FastAPI = create_service_app(
        settings,
        title="Tally ledger",
        routers=[router, import_router, export_router, series_router, recurring_router, rules_router,
                 rates_router, attachments_router, history_router, categoriser_router, bulk_router,
                 reconcile_router, sharing_router],
        publishes=[TOPIC],
        consumers=lambda db: [auth_events_consumer(db, settings)],
        workers=lambda db: [Scheduler(db, settings).run, Trainer(db, settings).run,
                            Compactor(db, settings).run, Finder(db, settings).run],
        verifier=verifier,
        run_background=run_background,
    )
    return app


async def rebuild(settings: LedgerSettings) -> None:
    """Recompute every read model from the event store."""
    db = Database.from_settings(settings)
    try:
        await projections.rebuild(db)
    finally:
        await db.dispose()


DEFINITION = ServiceDefinition(
    name="ledger",
    settings=LedgerSettings,
    create_app=create_app,
    migrations_dir=MIGRATIONS,
    default_port=8002,
    commands={"rebuild": rebuild},
)
