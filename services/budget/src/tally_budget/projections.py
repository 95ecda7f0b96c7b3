"""Ledger and auth events → the budget service's read models. Each returns what changed, so the consumer
can check the alerts and goals it may affect; none of them decides anything."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from tally_budget import store, tables
from tally_budget.flows import AccountFlow, CategoryFlow, LedgerMoneyEvent, deltas_of
from tallykit import forgetting
from tallykit.contracts.auth import HouseholdSettingsChanged, TenantCreated, UserDeleted
from tallykit.contracts.ledger import (
    AccountOpened,
    AccountRenamed,
    CategoryArchived,
    CategoryCreated,
    CategoryMerged,
    CategoryRenamed,
)
from tallykit.events import Envelope


@dataclass(frozen=True)
class Changed:
    """What a ledger event moved: spending on these (category, day) pairs, balances of these accounts."""

    categories: frozenset[tuple[UUID, date]] = field(default_factory=frozenset)
    accounts: frozenset[UUID] = field(default_factory=frozenset)

    @staticmethod
    def union(changes: Iterable["Changed"]) -> "Changed":
        categories: set[tuple[UUID, date]] = set()
        accounts: set[UUID] = set()
        for changed in changes:
            categories |= changed.categories
            accounts |= changed.accounts
        return Changed(frozenset(categories), frozenset(accounts))


async def money_moved(session: AsyncSession, envelope: Envelope, payload: LedgerMoneyEvent) -> Changed:
    deltas = deltas_of(payload)
    await store.add_flows(session, envelope.tenant_id, deltas.categories)
    await store.add_account_flows(session, envelope.tenant_id, deltas.accounts)
    return Changed(
        categories=frozenset((d.category_id, d.day) for d in deltas.categories),
        accounts=frozenset(d.account_id for d in deltas.accounts),
    )


async def money_moved_together(
    session: AsyncSession, events: list[tuple[Envelope, LedgerMoneyEvent]]
) -> dict[UUID, tuple[Envelope, Changed]]:
    """What `money_moved` does for each event, for many at once: the deltas summed per row first (they
    only ever add up, whatever their order), then one upsert per table and household. Per household its
    last event and what they all changed."""
    categories: dict[UUID, dict[tuple[UUID, date, str], list[int]]] = {}
    accounts: dict[UUID, dict[tuple[UUID, date, str], int]] = {}
    last: dict[UUID, Envelope] = {}
    for envelope, payload in events:
        tenant = envelope.tenant_id
        deltas = deltas_of(payload)
        sums = categories.setdefault(tenant, {})
        for c in deltas.categories:
            acc = sums.setdefault((c.category_id, c.day, c.currency), [0, 0])
            acc[0] += c.outflow_minor
            acc[1] += c.inflow_minor
        moves = accounts.setdefault(tenant, {})
        for a in deltas.accounts:
            key = (a.account_id, a.day, a.currency)
            moves[key] = moves.get(key, 0) + a.amount_minor
        last[tenant] = envelope
    out: dict[UUID, tuple[Envelope, Changed]] = {}
    for tenant, envelope in last.items():
        flows = [CategoryFlow(c, d, cur, o, i) for (c, d, cur), (o, i) in sorted(categories[tenant].items())]
        balances = [AccountFlow(a, d, cur, m) for (a, d, cur), m in sorted(accounts[tenant].items())]
        await store.add_flows(session, tenant, flows)
        await store.add_account_flows(session, tenant, balances)
        out[tenant] = envelope, Changed(
            categories=frozenset((f.category_id, f.day) for f in flows),
            accounts=frozenset(b.account_id for b in balances),
        )
    return out


async def category_created(session: AsyncSession, envelope: Envelope, payload: CategoryCreated) -> None:
    """A category's id is its ledger stream id."""
    await store.save_category(
        session,
        envelope.tenant_id,
        envelope.stream_id,
        envelope.stream_version,
        name=payload.name,
        group=payload.group,
        kind=payload.kind.value,
    )
    await store.set_category_kind(session, envelope.tenant_id, envelope.stream_id, payload.kind.value)


async def category_renamed(session: AsyncSession, envelope: Envelope, payload: CategoryRenamed) -> None:
    await store.save_category(
        session,
        envelope.tenant_id,
        envelope.stream_id,
        envelope.stream_version,
        name=payload.name,
        group=payload.group,
    )


async def category_archived(session: AsyncSession, envelope: Envelope, payload: CategoryArchived) -> None:
    await store.archive_category(session, envelope.tenant_id, envelope.stream_id)


async def category_merged(session: AsyncSession, envelope: Envelope, payload: CategoryMerged) -> None:
    await store.merge_category(session, envelope.tenant_id, envelope.stream_id, payload.into_category_id)


async def account_opened(session: AsyncSession, envelope: Envelope, payload: AccountOpened) -> None:
    await store.save_account(
        session,
        envelope.tenant_id,
        envelope.stream_id,
        payload.name,
        payload.currency,
        payload.opening_balance_minor,
        payload.kind.value,
    )


async def account_renamed(session: AsyncSession, envelope: Envelope, payload: AccountRenamed) -> None:
    await store.rename_account(session, envelope.tenant_id, envelope.stream_id, payload.name)


async def tenant_created(session: AsyncSession, envelope: Envelope, payload: TenantCreated) -> None:
    """A new household comes with all its settings: its budgets have a currency and weeks at once."""
    await store.save_household(
        session,
        envelope.tenant_id,
        payload.base_currency,
        payload.time_zone,
        payload.week_start.value,
        created=True,
    )


async def household_settings_changed(
    session: AsyncSession, envelope: Envelope, payload: HouseholdSettingsChanged
) -> None:
    await store.save_household(
        session, envelope.tenant_id, payload.base_currency, payload.time_zone, payload.week_start.value
    )


async def user_deleted(session: AsyncSession, envelope: Envelope, payload: UserDeleted) -> None:
    """Budgets hold nothing personal about a person; households deleted with them are forgotten whole."""
    for household in payload.deleted_household_ids:
        await store.forget_tenant(session, household)
    await forgetting.remember(session, tables.forgotten_households, payload.deleted_household_ids)
