from tally_analytics import projections
from tallykit.consumer import EventConsumer
from tallykit.contracts import registry
from tallykit.db import Database
from tallykit.settings import ServiceSettings


def ledger_consumer(db: Database, settings: ServiceSettings) -> EventConsumer:
    return EventConsumer(
        db=db,
        settings=settings,
        registry=registry,
        topics=["ledger.events"],
        handlers={
            "ledger.CategoryCreated": projections.category_created,
            "ledger.TransactionRecorded": projections.transaction_recorded,
        },
    )
