from tally_analytics import tables
from tally_analytics.bursts import BATCH_HANDLERS
from tally_analytics.projections import AUTH_HANDLERS, BUDGET_HANDLERS, LEDGER_HANDLERS
from tallykit.consumer import EventConsumer
from tallykit.contracts import registry
from tallykit.db import Database
from tallykit.forgetting import batches_unless_forgotten, unless_forgotten
from tallykit.settings import ServiceSettings


def ledger_consumer(db: Database, settings: ServiceSettings) -> EventConsumer:
    """Ledger, budget and auth events, in one consumer: all three key by tenant, and one inbox keeps
    each event applied once."""
    return EventConsumer(
        db=db,
        settings=settings,
        registry=registry,
        topics=["ledger.events", "budget.events", "auth.events"],
        handlers=unless_forgotten(tables.forgotten_households,
                                  {**LEDGER_HANDLERS, **BUDGET_HANDLERS, **AUTH_HANDLERS}),
        # An import's burst: runs of money events applied in a few statements (tally_analytics.bursts).
        batch_handlers=batches_unless_forgotten(tables.forgotten_households, BATCH_HANDLERS),
    )
