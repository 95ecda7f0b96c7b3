"""Forgetting a household: when auth says a person deleted their account and households they alone
owned went with it (auth.UserDeleted.deleted_household_ids), every row the ledger holds for those
households goes: its event store, read models, imports, rules, rates, schedules, attachments, its learned
categoriser and the recurring series found, and its events not yet published. The ledger holds nothing
else about a person (an actor id on events of a household that lives on is the household's history,
kept)."""

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import delete, or_
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import attachments, categorising, series_finding, sharing_store, tables
from tally_ledger.attachments import Storage
from tally_ledger.batches import account_sources, import_batches, import_mappings, import_rows
from tally_ledger.history.write import history_imports
from tallykit.logging import get_logger
from tallykit.tables import event_store, outbox

log = get_logger(__name__)

# Every table with a tenant_id column, children before parents.
TENANT_TABLES = (
    tables.transaction_splits,
    tables.transactions,
    tables.payees,
    tables.categories,
    tables.accounts,
    tables.recurring_occurrences,
    tables.recurring,
    tables.rules,
    tables.exchange_rates,
    tables.households,
    import_rows,
    import_batches,
    import_mappings,
    account_sources,
    history_imports,
    *categorising.TENANT_TABLES,
    *series_finding.TENANT_TABLES,
    *sharing_store.TENANT_TABLES,
    event_store,
)


async def erase_households(
    session: AsyncSession, tenant_ids: Sequence[UUID], storage: Storage | None = None
) -> int:
    """Delete every row of these households, in the caller's transaction, and their attachments' files;
    returns how many rows went."""
    if not tenant_ids:
        return 0
    removed = 0
    if storage is not None:
        # Files first: should the transaction then fail, the rows remain and a redelivery erases again
        # (a missing file is no error).
        for key in await attachments.keys_of_households(session, list(tenant_ids)):
            await storage.delete(key)
    for table in (*TENANT_TABLES, *tables.EXTRA_TENANT_TABLES):
        result = await session.execute(delete(table).where(table.c.tenant_id.in_(tenant_ids)))
        removed += int(result.rowcount)  # type: ignore[attr-defined]
    result = await session.execute(
        # Unpublished rows, and rows that only named an erased event (a replay would find nothing).
        delete(outbox).where(outbox.c.key.in_([str(t) for t in tenant_ids]),
                             or_(outbox.c.published_at.is_(None), outbox.c.envelope.is_(None)))
    )
    removed += int(result.rowcount)  # type: ignore[attr-defined]
    log.info("households_erased", households=len(tenant_ids), rows=removed)
    return removed
