"""The ledger's repository: the one way aggregates are loaded from the event store and saved to it.

`save` appends the aggregates' pending events at the versions they were loaded at (a stream that moved
meanwhile → 409), projects them into the read models and names them on the outbox, all in the caller's
transaction. `save_recorded` is the same for envelopes worked out ahead (a statement import's chunks, a
restored export), whose read-model rows the caller has already written in bulk or projects here. No other
module appends to the event store or writes the outbox.
"""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import projections, store
from tally_ledger.domain import Aggregate, Transaction
from tallykit import eventstore, outbox
from tallykit.contracts import registry
from tallykit.contracts.ledger import TransactionState
from tallykit.events import SYSTEM, Envelope, EventPayload
from tallykit.settings import ServiceSettings
from tallykit.tables import event_store
from tallykit.tokens import Principal

TOPIC = "ledger.events"
A = TypeVar("A", bound=Aggregate)


@dataclass(frozen=True)
class Context:
    """Who acts, for which household, and what caused it."""

    tenant_id: UUID
    actor: str
    correlation_id: UUID | None = None
    causation_id: UUID | None = None

    @classmethod
    def of(cls, principal: Principal) -> "Context":
        return cls(tenant_id=principal.tenant_id, actor=principal.actor)

    @classmethod
    def caused_by(cls, envelope: Envelope) -> "Context":
        return cls(tenant_id=envelope.tenant_id, actor=SYSTEM, correlation_id=envelope.correlation_id,
                   causation_id=envelope.id)


async def load(session: AsyncSession, ctx: Context, cls: type[A], aggregate_id: UUID) -> A:
    """The aggregate as of its stream; another household's stream reads as one that does not exist."""
    history = await eventstore.load_stream(session, ctx.tenant_id, aggregate_id)
    return cls.from_history(aggregate_id, (registry.payload(e) for e in history))


async def load_transaction(session: AsyncSession, ctx: Context, transaction_id: UUID) -> Transaction:
    transaction = await load(session, ctx, Transaction, transaction_id)
    transaction.canonical = await canonical(session, ctx)
    return transaction


async def load_transactions(session: AsyncSession, ctx: Context, ids: Sequence[UUID]) -> list[Transaction]:
    """Many transactions in one query, in the order of `ids`, with today's names for merged categories
    and payees."""
    if not ids:
        return []
    histories: dict[UUID, list[Any]] = defaultdict(list)
    rows = await session.execute(
        select(event_store.c.stream_id, event_store.c.envelope)
        .where(event_store.c.tenant_id == ctx.tenant_id, event_store.c.stream_id.in_(ids))
        .order_by(event_store.c.stream_id, event_store.c.stream_version))
    for stream_id, envelope in rows:
        histories[stream_id].append(registry.payload(Envelope.model_validate(envelope)))
    names_now = await canonical(session, ctx)
    loaded = []
    for transaction_id in ids:
        transaction = Transaction.from_history(transaction_id, histories[transaction_id])
        transaction.canonical = names_now
        loaded.append(transaction)
    return loaded


async def canonical(session: AsyncSession, ctx: Context) -> Callable[[TransactionState], TransactionState]:
    """Today's names for a stored state: a merged category's target, a merged payee's target."""
    categories = await store.category_merges(session, ctx.tenant_id)
    payees = await store.payee_merges(session, ctx.tenant_id)

    def named_now(state: TransactionState) -> TransactionState:
        changes: dict[str, Any] = {}
        if state.category_id in categories:
            changes["category_id"] = categories[state.category_id]
        if any(s.category_id in categories for s in state.splits):
            changes["splits"] = tuple(
                s.model_copy(update={"category_id": categories.get(s.category_id, s.category_id)})
                for s in state.splits)
        if state.payee.lower() in payees:
            changes["payee"] = payees[state.payee.lower()]
        return state.model_copy(update=changes) if changes else state

    return named_now


async def save(session: AsyncSession, settings: ServiceSettings, ctx: Context,
               *aggregates: Aggregate) -> list[Envelope]:
    """Append, project and enqueue the aggregates' pending events; returns their envelopes."""
    projected: list[tuple[Envelope, EventPayload]] = []
    first_expected = aggregates[0].expected_version if aggregates else 0  # before pending is cleared
    for aggregate in aggregates:
        start = aggregate.expected_version
        projected += [
            (registry.envelope(payload, tenant_id=ctx.tenant_id, stream_id=aggregate.id,
                               stream_version=start + n, actor=ctx.actor, correlation_id=ctx.correlation_id,
                               causation_id=ctx.causation_id), payload)
            for n, payload in enumerate(aggregate.pending, start=1)
        ]
        aggregate.pending.clear()
    envelopes = [envelope for envelope, _ in projected]
    if len(aggregates) == 1:
        await eventstore.append(session, first_expected, envelopes)
    else:
        # Many streams in one go: the append lock, one COPY, the unique (stream, version) key as the
        # concurrency check, instead of one append per stream.
        await eventstore.append_many(session, envelopes)
    await projections.project_many(session, projected)
    await outbox.enqueue_stored(session, settings.topic(TOPIC), envelopes)
    return envelopes


async def save_recorded(session: AsyncSession, settings: ServiceSettings, envelopes: Sequence[Envelope], *,
                        payloads: Sequence[EventPayload] | None = None,
                        encoded: Sequence[str] | None = None) -> None:
    """Append and enqueue envelopes worked out ahead; with `payloads`, project them too (without, the
    caller has written their read-model rows already)."""
    if not envelopes:
        return
    await eventstore.append_many(session, envelopes, encoded=encoded)
    if payloads is not None:
        await projections.project_many(session, list(zip(envelopes, payloads, strict=True)))
    await outbox.enqueue_stored(session, settings.topic(TOPIC), envelopes)
