"""Ledger and auth events → the budget service's read models, and the rows they write (households,
categories and merges, spending per category and day, account balances; a deleted household forgotten).
Each returns what changed, so the consumer can check the alerts and goals it may affect; none of them
decides anything. store.py reads these rows."""

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from uuid import UUID

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession

from tally_budget import tables
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
from tallykit.db import upsert_adding, upsert_replacing
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
    await _add_flows(session, envelope.tenant_id, deltas.categories)
    await _add_account_flows(session, envelope.tenant_id, deltas.accounts)
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
        await _add_flows(session, tenant, flows)
        await _add_account_flows(session, tenant, balances)
        out[tenant] = envelope, Changed(
            categories=frozenset((f.category_id, f.day) for f in flows),
            accounts=frozenset(b.account_id for b in balances),
        )
    return out


async def category_created(session: AsyncSession, envelope: Envelope, payload: CategoryCreated) -> None:
    """A category's id is its ledger stream id."""
    await _save_category(
        session,
        envelope.tenant_id,
        envelope.stream_id,
        envelope.stream_version,
        name=payload.name,
        group=payload.group,
        kind=payload.kind.value,
    )
    await _set_category_kind(session, envelope.tenant_id, envelope.stream_id, payload.kind.value)


async def category_renamed(session: AsyncSession, envelope: Envelope, payload: CategoryRenamed) -> None:
    await _save_category(
        session,
        envelope.tenant_id,
        envelope.stream_id,
        envelope.stream_version,
        name=payload.name,
        group=payload.group,
    )


async def category_archived(session: AsyncSession, envelope: Envelope, payload: CategoryArchived) -> None:
    await _archive_category(session, envelope.tenant_id, envelope.stream_id)


async def category_merged(session: AsyncSession, envelope: Envelope, payload: CategoryMerged) -> None:
    await _merge_category(session, envelope.tenant_id, envelope.stream_id, payload.into_category_id)


async def account_opened(session: AsyncSession, envelope: Envelope, payload: AccountOpened) -> None:
    await _save_account(
        session,
        envelope.tenant_id,
        envelope.stream_id,
        payload.name,
        payload.currency,
        payload.opening_balance_minor,
        payload.kind.value,
    )


async def account_renamed(session: AsyncSession, envelope: Envelope, payload: AccountRenamed) -> None:
    await _rename_account(session, envelope.tenant_id, envelope.stream_id, payload.name)


async def tenant_created(session: AsyncSession, envelope: Envelope, payload: TenantCreated) -> None:
    """A new household comes with all its settings: its budgets have a currency and weeks at once."""
    await _save_household(
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
    await _save_household(
        session, envelope.tenant_id, payload.base_currency, payload.time_zone, payload.week_start.value
    )


async def user_deleted(session: AsyncSession, envelope: Envelope, payload: UserDeleted) -> None:
    """Budgets hold nothing personal about a person; households deleted with them are forgotten whole."""
    for household in payload.deleted_household_ids:
        await _forget_tenant(session, household)
    await forgetting.remember(session, tables.forgotten_households, payload.deleted_household_ids)


# --- the read-model rows the projections above write -----------------------------------------------------


async def _save_household(
    session: AsyncSession,
    tenant_id: UUID,
    base_currency: str,
    time_zone: str,
    week_start: str,
    *,
    created: bool = False,
) -> None:
    """The household's settings; `created` (its first settings, from auth.TenantCreated) never replaces
    settings already stored, which can only be later ones."""
    values = {"base_currency": base_currency, "time_zone": time_zone, "week_start": week_start}
    row = {"tenant_id": tenant_id, **values}
    if created:
        await session.execute(
            insert(tables.households).values(row).on_conflict_do_nothing(
                index_elements=[tables.households.c.tenant_id]
            )
        )
    else:
        await session.execute(upsert_replacing(tables.households, tuple(values)), row)


async def _save_category(
    session: AsyncSession, tenant_id: UUID, category_id: UUID, version: int, **values: object
) -> None:
    """Insert or update a category's name/group/kind, unless a later version of it is stored already
    (events of one category may arrive out of order)."""
    statement = insert(tables.categories).values(
        tenant_id=tenant_id,
        id=category_id,
        version=version,
        name=values.get("name", ""),
        group=values.get("group", ""),
        kind=values.get("kind", "expense"),
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[tables.categories.c.tenant_id, tables.categories.c.id],
            set_={**values, "version": statement.excluded.version},
            where=tables.categories.c.version < statement.excluded.version,
        )
    )


async def _set_category_kind(session: AsyncSession, tenant_id: UUID, category_id: UUID, kind: str) -> None:
    """A category's kind never changes: set it whatever the order its events came in."""
    await session.execute(
        update(tables.categories)
        .where(tables.categories.c.tenant_id == tenant_id, tables.categories.c.id == category_id)
        .values(kind=kind)
    )


async def _archive_category(session: AsyncSession, tenant_id: UUID, category_id: UUID) -> None:
    statement = insert(tables.categories).values(
        tenant_id=tenant_id, id=category_id, name="", group="", kind="expense", archived=True, version=0
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[tables.categories.c.tenant_id, tables.categories.c.id],
            set_={"archived": True},
        )
    )


async def _merge_category(session: AsyncSession, tenant_id: UUID, category_id: UUID, into: UUID) -> None:
    await session.execute(
        insert(tables.category_merges)
        .values(tenant_id=tenant_id, category_id=category_id, into_category_id=into)
        .on_conflict_do_nothing()
    )
    await _archive_category(session, tenant_id, category_id)


_ADD_FLOW = upsert_adding(tables.flows, ("outflow_minor", "inflow_minor"))
_ADD_ACCOUNT_FLOW = upsert_adding(tables.account_flows, ("amount_minor",))


async def _add_flows(session: AsyncSession, tenant_id: UUID, deltas: Iterable[CategoryFlow]) -> None:
    await _add(session, _ADD_FLOW, tenant_id, deltas)


async def _add_account_flows(session: AsyncSession, tenant_id: UUID, deltas: Iterable[AccountFlow]) -> None:
    await _add(session, _ADD_ACCOUNT_FLOW, tenant_id, deltas)


async def _add(
    session: AsyncSession, upsert: Insert, tenant_id: UUID, deltas: Iterable[CategoryFlow | AccountFlow]
) -> None:
    """Each delta's fields are its row's columns."""
    rows = [{"tenant_id": tenant_id, **asdict(d)} for d in deltas]
    if rows:
        await session.execute(upsert, rows)


async def _save_account(
    session: AsyncSession,
    tenant_id: UUID,
    account_id: UUID,
    name: str,
    currency: str,
    opening: int,
    kind: str | None = None,
) -> None:
    values = {"name": name, "currency": currency, "opening_balance_minor": opening, "kind": kind}
    await session.execute(
        upsert_replacing(tables.accounts, tuple(values)), {"tenant_id": tenant_id, "id": account_id, **values}
    )


async def _rename_account(session: AsyncSession, tenant_id: UUID, account_id: UUID, name: str) -> None:
    await session.execute(
        update(tables.accounts)
        .where(tables.accounts.c.tenant_id == tenant_id, tables.accounts.c.id == account_id)
        .values(name=name)
    )


async def _forget_tenant(session: AsyncSession, tenant_id: UUID) -> None:
    """Everything this service holds about a household (it was deleted with its owner's account)."""
    budget_ids = select(tables.budgets.c.id).where(tables.budgets.c.tenant_id == tenant_id)
    for table in (tables.alert_states, tables.alerts):
        await session.execute(delete(table).where(table.c.tenant_id == tenant_id))
    await session.execute(
        delete(tables.budget_amounts).where(tables.budget_amounts.c.budget_id.in_(budget_ids))
    )
    for table in (
        tables.budgets,
        tables.goal_contributions,
        tables.goals,
        tables.flows,
        tables.account_flows,
        tables.accounts,
        tables.category_merges,
        tables.categories,
        tables.households,
        tables.imported_months,
        tables.budget_settings,
    ):
        await session.execute(delete(table).where(table.c.tenant_id == tenant_id))
