"""Sums of the transactions per household, day, account, counter account, kind, status, currency and tag
set, so that the totals of a search by those alone read some ten thousand rows rather than every
transaction (migration 0018 has the tables and the triggers).

What each statement on `transactions` changes is appended to `transaction_sum_changes` by a trigger, in
the writer's own transaction (an append takes no lock another writer waits for); `compact` folds the
changes into `transaction_sums`, one replica at a time, every `totals_compact_interval_s`. Readers add
the two, so a write counts as soon as it commits, compacted or not.
"""

import asyncio

from sqlalchemy import BigInteger, Column, Date, MetaData, String, Table, text
from sqlalchemy.dialects.postgresql import ARRAY

from tally_ledger.settings import LedgerSettings
from tallykit.db import Database
from tallykit.logging import get_logger
from tallykit.periodic import every
from tallykit.tables import uuid_column

log = get_logger(__name__)
metadata = MetaData()
DIMENSIONS = ("tenant_id", "booked_on", "account_id", "counter_account_id", "kind", "status", "currency",
              "tags")


def _table(name: str) -> Table:
    return Table(
        name,
        metadata,
        uuid_column("tenant_id", nullable=False),
        Column("booked_on", Date, nullable=False),
        uuid_column("account_id", nullable=False),
        uuid_column("counter_account_id"),
        Column("kind", String(20), nullable=False),
        Column("status", String(12), nullable=False),
        Column("currency", String(3), nullable=False),
        Column("tags", ARRAY(String(50)), nullable=False),
        Column("entries", BigInteger, nullable=False),
        Column("amount_minor", BigInteger, nullable=False),
    )


transaction_sums = _table("transaction_sums")
transaction_sum_changes = _table("transaction_sum_changes")

_KEY = ", ".join(DIMENSIONS)
# One replica compacts at a time (a second one would find nothing left to move, but would wait for it).
_COMPACTING = 0x7A11_5035
_FOLD = text(f"""
    WITH moved AS (DELETE FROM transaction_sum_changes RETURNING *),
    merged AS (SELECT {_KEY}, sum(entries) AS entries, sum(amount_minor) AS amount_minor
               FROM moved GROUP BY {_KEY})
    INSERT INTO transaction_sums ({_KEY}, entries, amount_minor)
    SELECT {_KEY}, entries, amount_minor FROM merged ORDER BY {_KEY}
    ON CONFLICT ({_KEY}) DO UPDATE SET entries = transaction_sums.entries + excluded.entries,
                                       amount_minor = transaction_sums.amount_minor + excluded.amount_minor
    RETURNING tenant_id, booked_on, entries""")  # noqa: S608 - column names of this module
_DROP_EMPTY = text("""
    DELETE FROM transaction_sums WHERE entries = 0
    AND (tenant_id, booked_on) IN (SELECT * FROM unnest(CAST(:tenants AS uuid[]), CAST(:days AS date[])))""")


async def compact(db: Database) -> int:
    """Fold the changes appended so far into the sums (a group whose transactions are all gone goes);
    returns how many groups changed (0 also when another replica is compacting)."""
    async with db.transaction() as session:
        if not (await session.execute(text(f"SELECT pg_try_advisory_xact_lock({_COMPACTING})"))).scalar():
            return 0
        folded = (await session.execute(_FOLD)).all()
        empty = sorted({(tenant, day) for tenant, day, entries in folded if entries == 0})
        if empty:
            await session.execute(_DROP_EMPTY, {"tenants": [t for t, _ in empty],
                                                "days": [d for _, d in empty]})
    return len(folded)


class Compactor:
    """The background worker that runs `compact` every `totals_compact_interval_s`."""

    def __init__(self, db: Database, settings: LedgerSettings) -> None:
        self.db, self.settings = db, settings

    async def run(self, stop: asyncio.Event) -> None:
        await every(self.settings.totals_compact_interval_s, lambda: compact(self.db), stop,
                    failed="totals_compaction_failed")
