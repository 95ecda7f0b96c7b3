from pathlib import Path

from fastapi import FastAPI

from tally_analytics.api import router
from tally_analytics.consumers import ledger_consumer
from tally_analytics.domain import InvalidPeriod
from tally_analytics.forecasting import shared_forecaster
from tally_analytics.opportunities import SavingsPublisher
from tally_analytics.settings import AnalyticsSettings
from tallykit.app import create_service_app
from tallykit.errors import InvalidInput, install_domain_errors
from tallykit.service import ServiceDefinition
from tallykit.tokens import TokenVerifier

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(
    settings: AnalyticsSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    run_background: bool = True,
) -> FastAPI:
    settings = settings or AnalyticsSettings()
    forecaster = shared_forecaster(settings)
    app = create_service_app(
        settings,
        title="Tally analytics",
        routers=[router],
        consumers=lambda db: [ledger_consumer(db, settings)],
        workers=lambda db: [SavingsPublisher(db, settings).run],
        verifier=verifier,
        run_background=run_background,
        publishes=["analytics.events"],
    )
    install_domain_errors(app, {InvalidPeriod: InvalidInput})
    app.state.forecaster = forecaster
    return app


DEFINITION = ServiceDefinition(
    name="analytics",
    settings=AnalyticsSettings,
    create_app=create_app,
    migrations_dir=MIGRATIONS,
    default_port=8004,
)
