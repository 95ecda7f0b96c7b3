"""The ledger's repository: the one way aggregates are loaded from the event store and saved to it.

`save` appends the aggregates' pending events at the versions they were loaded at (a stream that moved
meanwhile → 409), projects them into the read models and names them on the outbox, all in the caller's
transaction. `save_recorded` is the same for envelopes worked out ahead (a statement import's chunks, a
restored export), whose read-model rows the caller has already written in bulk or projects here. No other
module appends to the event store or writes the outbox.
"""

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar
from uuid import UUID

from sqlalchemy import JSON, Select, any_, bindparam, cast, func, select, union
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import projections, store, tables
from tally_ledger.domain import Aggregate, Category, Transaction, state_of
from tally_ledger.recurring import Recurring
from tally_ledger.rules import Rule, RuleBook, RuleSpec, category_ids
from tallykit import eventstore, outbox
from tallykit.contracts import registry
from tallykit.contracts.ledger import TransactionRecorded, TransactionState, TransferRecorded
from tallykit.events import SYSTEM, Envelope, EventPayload
from tallykit.settings import ServiceSettings
from tallykit.tables import event_store
from tallykit.tokens import Principal

TOPIC = "ledger.events"
# Up to this many new entries are saved in one statement (larger runs: COPY, a few statements in all).
_ONE_STATEMENT_MOST = 50
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


@dataclass(frozen=True)
class EntryContext:
    """What recording new entries reads, in one query (`load_for_entries`)."""

    histories: Mapping[UUID, Sequence[EventPayload]]
    rulebook: RuleBook
    payee_names: Mapping[str, str]  # a merged payee (lower case) → the name it goes by now
    bills: Sequence[Recurring]  # on the accounts asked for, not cancelled

    def aggregate(self, cls: type[A], aggregate_id: UUID) -> A:
        return cls.from_history(aggregate_id, self.histories.get(aggregate_id, ()))

    def payee_name(self, payee: str) -> str:
        return self.payee_names.get(payee.lower(), payee)


async def load_for_entries(session: AsyncSession, ctx: Context, streams: Collection[UUID],
                           accounts: Collection[UUID]) -> EntryContext:
    """The streams named (accounts, categories), the household's rules with the categories they set, its
    merged payees and the bills on `accounts` with their streams: what recording an entry reads, in one
    round trip instead of one each (issue #19: the write path's cost)."""
    found = (await session.execute(_entry_query(), {
        "tenant": ctx.tenant_id, "streams": list(streams), "accounts": list(accounts)})).one()
    histories: dict[UUID, list[EventPayload]] = defaultdict(list)
    for stored in found.envelopes or ():
        envelope = Envelope.model_validate(stored)
        histories[envelope.stream_id].append(registry.payload(envelope))
    rules = [Rule(UUID(i), n, RuleSpec.model_validate(spec)) for i, n, spec in found.rules or ()]
    return EntryContext(
        histories=histories,
        rulebook=RuleBook(rules, {i: Category.from_history(i, histories.get(i, ()))
                                  for i in category_ids(rules)}),
        payee_names=store.resolve_payee_merges(dict(found.payee_merges or ())),
        bills=[Recurring.from_history(UUID(i), histories.get(UUID(i), ())) for i in found.bills or ()],
    )


@cache
def _entry_query() -> Select[Any]:
    tenant, e = bindparam("tenant", type_=event_store.c.tenant_id.type), event_store.c
    r, p, b = tables.rules.c, tables.payees.c, tables.recurring.c
    open_bills = (b.tenant_id == tenant, b.is_bill, ~b.cancelled,
                  b.account_id == any_(bindparam("accounts", type_=ARRAY(b.account_id.type))))
    rule_category = r.spec["actions"]["category_id"].astext
    wanted = union(
        select(func.unnest(bindparam("streams", type_=ARRAY(e.stream_id.type))).label("id")),
        select(cast(rule_category, e.stream_id.type))
        .where(r.tenant_id == tenant, rule_category.is_not(None)),
        select(b.id).where(*open_bills),
    ).subquery("wanted")
    return select(
        select(func.json_agg(aggregate_order_by(e.envelope, e.stream_id, e.stream_version), type_=JSON))
        .select_from(event_store.join(wanted, e.stream_id == wanted.c.id)).where(e.tenant_id == tenant)
        .scalar_subquery().label("envelopes"),
        select(func.json_agg(aggregate_order_by(func.json_build_array(r.id, r.position, r.spec),
                                                r.position, r.id), type_=JSON))
        .where(r.tenant_id == tenant).scalar_subquery().label("rules"),
        select(func.json_agg(func.json_build_array(p.key, p.merged_into), type_=JSON))
        .where(p.tenant_id == tenant, p.merged_into.is_not(None)).scalar_subquery().label("payee_merges"),
        select(func.json_agg(aggregate_order_by(b.id, b.name, b.id), type_=JSON)).where(*open_bills)
        .scalar_subquery().label("bills"),
    )


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
    entries = [(e, state_of(p)) for e, p in projected
               if isinstance(p, TransactionRecorded | TransferRecorded)]
    if len(entries) == len(projected) <= _ONE_STATEMENT_MOST:
        # The everyday write: new entries, a few at most. Their rows go in the statement that appends them.
        rows = projections.new_transaction_rows(entries)
        await eventstore.append_and_enqueue(session, envelopes, settings.topic(TOPIC),
                                            projections.new_transaction_statements,
                                            projections.new_transaction_params(rows))
        return envelopes
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
