"""Events → the read model, inside the consumer's inbox transaction.

Every handled event is journalled and then applied by `apply`; `rebuild` deletes a tenant's read model
and applies its journal again through the same function, so a rebuild gives the same figures by
construction — and a test checks it does. Each event also bumps the tenant's generation, which
invalidates cached forecasts.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from tally_analytics import read_model, store, tables
from tally_analytics.domain import NO_CATEGORY, OPENING_DAY, BalanceDelta, Deltas, deltas_of, today_in
from tally_analytics.unusual import judge, recent_enough
from tallykit import forgetting
from tallykit.consumer import after_events
from tallykit.contracts import registry
from tallykit.contracts.analytics import UnusualSpendingDetected
from tallykit.contracts.auth import HouseholdSettingsChanged, TenantCreated, UserDeleted
from tallykit.contracts.budget import BudgetRemoved, BudgetSet
from tallykit.contracts.ledger import (
    AccountOpened,
    AccountRenamed,
    CategoryCreated,
    CategoryMerged,
    CategoryRenamed,
    EntryKind,
    PayeeMerged,
    RecurringCancelled,
    RecurringProposalDismissed,
    RecurringScheduled,
    RecurringSeriesFound,
    RecurringSeriesPriceChanged,
    RecurringSeriesStopped,
    TransactionAmended,
    TransactionDeleted,
    TransactionRecorded,
    TransactionRestored,
    TransactionState,
    TransferRecorded,
)
from tallykit.db import Database
from tallykit.events import SYSTEM, Envelope
from tallykit.outbox import enqueue

ANALYTICS_TOPIC = "analytics.events"
# How far back a category's usual range is judged from.
UNUSUAL_WINDOW_DAYS = 365


def recorded_state(payload: TransactionRecorded) -> TransactionState:
    return TransactionState(
        account_id=payload.account_id,
        kind=EntryKind(payload.kind.value),
        amount_minor=payload.amount_minor,
        currency=payload.currency,
        booked_on=payload.booked_on,
        category_id=payload.category_id,
        payee=payload.payee,
        note=payload.note,
        splits=payload.splits,
        tags=payload.tags,
        status=payload.status,
    )


def transfer_state(payload: TransferRecorded) -> TransactionState:
    return TransactionState(
        account_id=payload.from_account_id,
        kind=EntryKind.transfer,
        amount_minor=payload.amount_minor,
        currency=payload.currency,
        booked_on=payload.booked_on,
        counter_account_id=payload.to_account_id,
        payee=payload.payee,
        tags=payload.tags,
        status=payload.status,
    )


async def apply(session: AsyncSession, envelope: Envelope, payload: BaseModel) -> None:
    """Apply one ledger/budget/auth event to the read model (no journal, no alerts)."""
    tenant = envelope.tenant_id
    if (deltas := money_deltas(payload)) is not None:
        await read_model.apply_deltas(session, tenant, deltas)
        return
    match payload:
        case AccountOpened():
            await read_model.save_account(
                session, tenant, envelope.stream_id, payload.name, payload.kind.value, payload.currency
            )
            if payload.opening_balance_minor:
                await read_model.apply_deltas(
                    session,
                    tenant,
                    Deltas(
                        balances=[
                            BalanceDelta(
                                OPENING_DAY,
                                envelope.stream_id,
                                payload.currency,
                                payload.opening_balance_minor,
                            )
                        ]
                    ),
                )
        case AccountRenamed():
            await read_model.rename_account(session, tenant, envelope.stream_id, payload.name)
        case CategoryCreated():
            await read_model.save_category(
                session,
                tenant,
                envelope.stream_id,
                version=envelope.stream_version,
                name=payload.name,
                group=payload.group,
                kind=payload.kind.value,
            )
        case CategoryRenamed():
            await read_model.save_category(
                session,
                tenant,
                envelope.stream_id,
                version=envelope.stream_version,
                name=payload.name,
                group=payload.group,
            )
        case CategoryMerged():
            await read_model.save_category(
                session,
                tenant,
                envelope.stream_id,
                version=envelope.stream_version,
                merged_into=payload.into_category_id,
            )
        case PayeeMerged():
            await read_model.merge_payee(session, tenant, payload.name, payload.into_name)
        case RecurringScheduled():
            await read_model.save_schedule(
                session, tenant, envelope.stream_id, envelope.stream_version, payload.model_dump(mode="json")
            )
        case RecurringCancelled():
            await read_model.save_schedule(session, tenant, envelope.stream_id, envelope.stream_version, None)
        case RecurringSeriesFound() | RecurringSeriesPriceChanged() | RecurringSeriesStopped():
            await save_series(session, tenant, envelope.stream_id, payload)
        case RecurringProposalDismissed():
            await read_model.save_series(session, tenant, envelope.stream_id, dismissed=True)
        case BudgetSet():
            # Forecasts judge monthly budgets of one category; group and other-period budgets are the
            # budget service's to track.
            if payload.category_id is not None and payload.period_kind == "month":
                await read_model.save_budget(
                    session,
                    tenant,
                    payload.category_id,
                    payload.currency,
                    payload.amount_minor,
                    envelope.stream_version,
                )
        case BudgetRemoved():
            if payload.category_id is not None:
                await read_model.remove_budget(session, tenant, payload.category_id, envelope.stream_version)
        case HouseholdSettingsChanged():
            await read_model.save_household(session, tenant, payload.base_currency, payload.time_zone)
        case _:
            raise TypeError(f"analytics does not apply {type(payload).__name__}")


async def save_series(
    session: AsyncSession,
    tenant: UUID,
    series_id: UUID,
    payload: RecurringSeriesFound | RecurringSeriesPriceChanged | RecurringSeriesStopped,
) -> None:
    """What a series event says about the series, for savings opportunities (subscriptions that rose,
    duplicates): its price and since when, its payments' dates, a stop."""
    fields: dict[str, Any] = {
        "name": payload.name,
        "payee": payload.payee,
        "kind": payload.kind.value,
        "period": payload.period.value,
        "currency": payload.currency,
    }
    match payload:
        case RecurringSeriesFound():
            since = payload.price_changed_on or payload.first_on
            await read_model.save_series(
                session, tenant, series_id, **fields, first_on=payload.first_on, paid_on=payload.last_on,
                price=(payload.amount_minor, payload.previous_amount_minor, since),
            )
        case RecurringSeriesPriceChanged():
            await read_model.save_series(
                session, tenant, series_id, **fields, first_on=payload.changed_on, paid_on=payload.changed_on,
                price=(payload.new_amount_minor, payload.old_amount_minor, payload.changed_on),
            )
        case RecurringSeriesStopped():
            await read_model.save_series(
                session, tenant, series_id, **fields, first_on=payload.last_on, paid_on=payload.last_on,
                stopped_after=payload.last_on,
            )


# What the ledger found in the history feeds savings opportunities, not forecasts: the forecasts cached
# stay good (the series finder runs every half minute; a forecast asked twice would be fitted twice).
NOT_IN_FORECASTS = (RecurringSeriesFound, RecurringSeriesPriceChanged, RecurringSeriesStopped,
                    RecurringProposalDismissed)


async def _handle(session: AsyncSession, envelope: Envelope, payload: BaseModel) -> None:
    await read_model.journal_event(
        session, envelope.tenant_id, envelope.id, envelope.type, envelope.model_dump(mode="json")
    )
    await apply(session, envelope, payload)
    if not isinstance(payload, NOT_IN_FORECASTS):
        _changed(session, envelope.tenant_id)


async def on_event(session: AsyncSession, envelope: Envelope, payload: BaseModel) -> None:
    await _handle(session, envelope, payload)
    if isinstance(payload, TransactionDeleted):
        # A deleted transaction is no longer unusual spending to look at.
        await store.drop_unusual(session, envelope.tenant_id, envelope.stream_id)


async def on_transaction_recorded(
    session: AsyncSession, envelope: Envelope, payload: TransactionRecorded
) -> None:
    await _handle(session, envelope, payload)
    await detect_unusual(session, envelope, payload)


async def on_tenant_created(session: AsyncSession, envelope: Envelope, payload: TenantCreated) -> None:
    """A new household comes with its settings: its reports have its currency and time zone at once."""
    # Not journalled either (see on_household_settings).
    await read_model.save_household(
        session, envelope.tenant_id, payload.base_currency, payload.time_zone, created=True
    )
    _changed(session, envelope.tenant_id)


async def on_household_settings(
    session: AsyncSession, envelope: Envelope, payload: HouseholdSettingsChanged
) -> None:
    # Settings are not ledger history: they are not journalled (a rebuild keeps the households row).
    await read_model.save_household(session, envelope.tenant_id, payload.base_currency, payload.time_zone)
    _changed(session, envelope.tenant_id)


def _changed(session: AsyncSession, tenant_id: UUID) -> None:
    """The household's figures moved: cached forecasts are stale. Once for the events applied together
    (updating one row once per event of a burst would leave a version of it for each)."""
    after_events(session, _bump_generation, ("generation", tenant_id), tenant_id)


async def _bump_generation(session: AsyncSession, tenant_ids: list[UUID]) -> None:
    await read_model.bump_generation(session, tenant_ids[0])  # the key's tenant, once per event


async def on_user_deleted(session: AsyncSession, envelope: Envelope, payload: UserDeleted) -> None:
    """Households deleted with their only owner: forget everything analytics holds about them."""
    for household_id in payload.deleted_household_ids:
        await read_model.forget_tenant(session, household_id)
    await forgetting.remember(session, tables.forgotten_households, payload.deleted_household_ids)


class History(Protocol):
    """What judging a transaction reads: the patterns marked as expected and a category's amounts."""

    async def expected(self, category_id: UUID, payee_key: str) -> bool: ...

    async def amounts(self, currency: str, category_id: UUID, start: date, end: date) -> list[int]: ...


@dataclass(frozen=True)
class StoredHistory:
    """The history as stored (one event at a time: the rollup already holds the event)."""

    session: AsyncSession
    tenant_id: UUID

    async def expected(self, category_id: UUID, payee_key: str) -> bool:
        return await store.is_expected(self.session, self.tenant_id, category_id, payee_key)

    async def amounts(self, currency: str, category_id: UUID, start: date, end: date) -> list[int]:
        return await store.category_amounts(self.session, self.tenant_id, currency, category_id, start, end)


async def household_today(session: AsyncSession, tenant_id: UUID) -> date:
    """Today in the household's time zone (UTC while analytics knows none)."""
    _, zone, _ = await store.household(session, tenant_id)
    return today_in(zone or "UTC")


def to_judge(payload: BaseModel, today: date) -> bool:
    """Whether `detect_unusual` judges this event at all: an expense recent enough to matter on the
    household's `today` (tally_analytics.unusual: booked on or after the first of the previous month)."""
    return (
        isinstance(payload, TransactionRecorded)
        and payload.kind.value == "expense"
        and recent_enough(payload.booked_on, today)
    )


async def detect_unusual(
    session: AsyncSession,
    envelope: Envelope,
    payload: TransactionRecorded,
    history: History | None = None,
    today: date | None = None,
) -> None:
    """Judge each expense part against its category's usual range over the last year (this transaction
    excluded) and publish `UnusualSpendingDetected` once per transaction, unless the pattern (category and
    payee) was marked as expected — only for an expense recent enough to matter (`to_judge`): one booked
    before the previous month of the household's `today` (read when not given), an imported history's
    years of expenses, alerts nobody. `history` is what the rollup held once this event was applied (the
    stored rollup by default)."""
    if payload.kind.value != "expense":
        return
    tenant = envelope.tenant_id
    if not to_judge(payload, today or await household_today(session, tenant)):
        return
    parts = (
        [(s.category_id, s.amount_minor) for s in payload.splits]
        if payload.splits
        else [(payload.category_id or NO_CATEGORY, payload.amount_minor)]
    )
    history = history or StoredHistory(session, tenant)
    payee_key = payload.payee.strip().casefold()
    for category_id, amount in parts:
        if category_id == NO_CATEGORY:
            continue
        if await history.expected(category_id, payee_key):
            continue
        sample = await history.amounts(
            payload.currency,
            category_id,
            payload.booked_on - timedelta(days=UNUSUAL_WINDOW_DAYS),
            payload.booked_on,
        )
        # The rollup already holds this transaction: take one copy of its amount out of the sample.
        if amount in sample:
            sample.remove(amount)
        verdict = judge(amount, sample)
        if verdict is None:
            continue
        categories = await store.category_map(session, tenant)
        info = categories.get(category_id)
        saved = await store.save_unusual(
            session,
            tenant,
            {
                "transaction_id": envelope.stream_id,
                "account_id": payload.account_id,
                "category_id": category_id,
                "payee": payload.payee.strip(),
                "amount_minor": amount,
                "typical_minor": verdict.typical_minor,
                "currency": payload.currency,
                "booked_on": payload.booked_on,
                "reason": verdict.reason,
                "detected_at": datetime.now(UTC),
            },
        )
        if saved:
            event = UnusualSpendingDetected(
                transaction_id=envelope.stream_id,
                account_id=payload.account_id,
                category_id=category_id,
                category_name=info.name if info else "",
                payee=payload.payee.strip(),
                amount_minor=amount,
                typical_minor=verdict.typical_minor,
                currency=payload.currency,
                booked_on=payload.booked_on,
                reason=verdict.reason,
            )
            await enqueue(
                session,
                ANALYTICS_TOPIC,
                [
                    registry.envelope(
                        event,
                        tenant_id=tenant,
                        stream_id=envelope.stream_id,
                        stream_version=1,
                        actor=SYSTEM,
                        correlation_id=envelope.correlation_id,
                        causation_id=envelope.id,
                    )
                ],
            )
        return  # one alert per transaction is enough


def money_deltas(payload: BaseModel) -> Deltas | None:
    """What an event that moves money adds to the sums (None for the others)."""
    match payload:
        case TransactionRecorded():
            return deltas_of(recorded_state(payload), +1)
        case TransferRecorded():
            return deltas_of(transfer_state(payload), +1)
        case TransactionAmended():
            deltas = deltas_of(payload.before, -1)
            deltas.extend(deltas_of(payload.after, +1))
            return deltas
        case TransactionDeleted():
            return deltas_of(payload.before, -1)
        case TransactionRestored():
            return deltas_of(payload.after, +1)
    return None


REBUILD_PAGE = 5_000


async def rebuild(db: Database, tenant_id: UUID) -> int:
    """Delete the tenant's read model and apply its journal again; returns the events applied. A page of
    the journal at a time: its money-moving events' deltas are summed and written in a few statements
    (sums commute, and nothing else an event changes touches them: merges are resolved when read), the
    others go through `apply`; memory stays that of a page, whatever the size of the history."""
    applied = 0
    after: UUID | None = None
    async with db.transaction() as session:
        await read_model.forget_tenant(session, tenant_id, keep_journal=True)
        while page := await read_model.journal_page(session, tenant_id, after, REBUILD_PAGE):
            merged = Deltas()
            for _, raw in page:
                envelope = Envelope.model_validate(raw)
                payload = registry.payload(envelope)
                deltas = money_deltas(payload)
                if deltas is None:
                    await apply(session, envelope, payload)
                else:
                    merged.extend(deltas)
            await read_model.apply_deltas(session, tenant_id, merged)
            applied += len(page)
            after = page[-1][0]
        await read_model.bump_generation(session, tenant_id)
    return applied


Handler = Callable[[AsyncSession, Envelope, Any], Awaitable[None]]

LEDGER_HANDLERS: dict[str, Handler] = {
    "ledger.TransactionRecorded": on_transaction_recorded,
    **{
        name: on_event
        for name in (
            "ledger.TransferRecorded",
            "ledger.TransactionAmended",
            "ledger.TransactionDeleted",
            "ledger.TransactionRestored",
            "ledger.AccountOpened",
            "ledger.AccountRenamed",
            "ledger.CategoryCreated",
            "ledger.CategoryRenamed",
            "ledger.CategoryMerged",
            "ledger.PayeeMerged",
            "ledger.RecurringScheduled",
            "ledger.RecurringCancelled",
            "ledger.RecurringSeriesFound",
            "ledger.RecurringSeriesPriceChanged",
            "ledger.RecurringSeriesStopped",
            "ledger.RecurringProposalDismissed",
        )
    },
}
BUDGET_HANDLERS: dict[str, Handler] = {"budget.BudgetSet": on_event, "budget.BudgetRemoved": on_event}
AUTH_HANDLERS: dict[str, Handler] = {
    "auth.TenantCreated": on_tenant_created,
    "auth.HouseholdSettingsChanged": on_household_settings,
    "auth.UserDeleted": on_user_deleted,
}
