from pathlib import Path

from fastapi import FastAPI

from tally_budget.api import router
from tally_budget.consumers import ledger_consumer
from tally_budget.settings import BudgetSettings
from tallykit.app import create_service_app
from tallykit.service import ServiceDefinition
from tallykit.tokens import TokenVerifier

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(
    settings: BudgetSettings | None = None,
    *,
    verifier: TokenVerifier | None = None,
    run_background: bool = True,
) -> FastAPI:
    settings = settings or BudgetSettings()
    return create_service_app(
        settings,
        title="Tally budget",
        routers=[router],
        publishes=["budget.events"],
        consumers=lambda db: [ledger_consumer(db, settings)],
        verifier=verifier,
        run_background=run_background,
    )


DEFINITION = ServiceDefinition(
    name="budget",
    settings=BudgetSettings,
    create_app=create_app,
    migrations_dir=MIGRATIONS,
    default_port=8003,
)
