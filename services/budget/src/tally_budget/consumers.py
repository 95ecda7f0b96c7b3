"""`ledger.events` → categories, spending and balances, and the alerts they may fire, and the budgets of
histories imported from other apps (importing.py); `auth.events` → household settings (from its creation
on) and deleted households."""

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from tally_budget import commands, importing, projections, tables
from tally_budget.flows import LedgerMoneyEvent
from tallykit.consumer import EventConsumer, after_events
from tallykit.contracts import registry
from tallykit.db import Database
from tallykit.events import Envelope
from tallykit.forgetting import batches_unless_forgotten, unless_forgotten
from tallykit.settings import ServiceSettings

TOPICS = ("ledger.events", "auth.events")

MONEY_EVENTS = (
    "ledger.TransactionRecorded",
    "ledger.TransferRecorded",
    "ledger.TransactionAmended",
    "ledger.TransactionDeleted",
    "ledger.TransactionRestored",
)

Projection = Callable[[AsyncSession, Envelope, Any], Awaitable[None]]


def ledger_consumer(db: Database, settings: ServiceSettings) -> EventConsumer:
    async def money_moved(session: AsyncSession, envelope: Envelope, payload: Any) -> None:
        changed = await projections.money_moved(session, envelope, payload)
        after_events(session, check_alerts, envelope.tenant_id, (envelope, changed))

    async def money_moved_together(
        session: AsyncSession, events: list[tuple[Envelope, LedgerMoneyEvent]]
    ) -> None:
        """An import's burst: its deltas in a few statements; the alerts still checked once per
        household, caused by its last event."""
        for tenant, move in (await projections.money_moved_together(session, events)).items():
            after_events(session, check_alerts, tenant, move)

    async def check_alerts(session: AsyncSession, moves: list[tuple[Envelope, projections.Changed]]) -> None:
        """Once per household for the money events applied together (an import's burst: thousands),
        on the figures they leave; thresholds crossed on the way still fire, lowest first."""
        changed = projections.Changed.union(c for _, c in moves)
        await commands.ledger_changed(session, settings, moves[-1][0], changed)

    def then_recheck(projection: Projection) -> Projection:
        """Category changes move spending between budgets (a merge, a new group): recheck this period."""

        async def handle(session: AsyncSession, envelope: Envelope, payload: Any) -> None:
            await projection(session, envelope, payload)
            await commands.ledger_changed(session, settings, envelope, None)

        return handle

    async def budgets_imported(session: AsyncSession, envelope: Envelope, payload: Any) -> None:
        await importing.budgets_imported(session, settings, envelope, payload)

    async def imported_budgets_removed(session: AsyncSession, envelope: Envelope, payload: Any) -> None:
        await importing.imported_budgets_removed(session, settings, envelope, payload)

    return EventConsumer(
        db=db,
        settings=settings,
        registry=registry,
        topics=TOPICS,
        handlers=unless_forgotten(tables.forgotten_households, {
            "ledger.CategoryCreated": projections.category_created,
            "ledger.CategoryRenamed": then_recheck(projections.category_renamed),
            "ledger.CategoryArchived": projections.category_archived,
            "ledger.CategoryMerged": then_recheck(projections.category_merged),
            "ledger.AccountOpened": projections.account_opened,
            "ledger.AccountRenamed": projections.account_renamed,
            "ledger.TransactionRecorded": money_moved,
            "ledger.TransferRecorded": money_moved,
            "ledger.TransactionAmended": money_moved,
            "ledger.TransactionDeleted": money_moved,
            "ledger.TransactionRestored": money_moved,
            "ledger.BudgetsImported": budgets_imported,
            "ledger.ImportedBudgetsRemoved": imported_budgets_removed,
            "auth.TenantCreated": projections.tenant_created,
            "auth.HouseholdSettingsChanged": projections.household_settings_changed,
            "auth.UserDeleted": projections.user_deleted,
        }),
        # Money events only add to sums: a run of them, whatever their types, is applied at once.
        batch_handlers=batches_unless_forgotten(tables.forgotten_households, dict.fromkeys(
            MONEY_EVENTS, money_moved_together
        )),
    )
