"""One async function per command: load the aggregate(s) from the event store, decide, save.

Saving appends the new events at the version the command saw (a concurrent writer → 409), projects
them into the read models and enqueues them on the outbox, all in one transaction.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import TypeVar
from uuid import UUID, uuid4

from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import projections, store
from tally_ledger.domain import (
    DEFAULT_CATEGORIES,
    Account,
    Aggregate,
    Category,
    DoesNotExist,
    RuleViolation,
    StaleVersion,
    Transaction,
)
from tallykit import eventstore, outbox
from tallykit.contracts import registry
from tallykit.contracts.ledger import AccountKind, TransactionKind
from tallykit.db import Database
from tallykit.errors import InvalidInput, NotFound
from tallykit.events import SYSTEM, Envelope
from tallykit.logging import get_logger
from tallykit.settings import ServiceSettings
from tallykit.tokens import Principal

log = get_logger(__name__)

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


@contextmanager
def _domain_errors_as_problems() -> Iterator[None]:
    try:
        yield
    except DoesNotExist as exc:
        raise NotFound(str(exc)) from exc
    except StaleVersion as exc:
        raise eventstore.ConcurrencyConflict(str(exc), expected_version=exc.expected,
                                             current_version=exc.actual) from exc
    except RuleViolation as exc:
        raise InvalidInput(str(exc)) from exc


async def _load(session: AsyncSession, ctx: Context, cls: type[A], aggregate_id: UUID) -> A:
    """The aggregate as of its stream; another household's stream reads as one that does not exist."""
    history = await eventstore.load_stream(session, ctx.tenant_id, aggregate_id)
    return cls.from_history(aggregate_id, (registry.payload(e) for e in history))


async def _save(session: AsyncSession, settings: ServiceSettings, ctx: Context, aggregate: Aggregate) -> None:
    start = aggregate.expected_version
    envelopes = [
        registry.envelope(payload, tenant_id=ctx.tenant_id, stream_id=aggregate.id, stream_version=start + n,
                          actor=ctx.actor, correlation_id=ctx.correlation_id, causation_id=ctx.causation_id)
        for n, payload in enumerate(aggregate.pending, start=1)
    ]
    await eventstore.append(session, start, envelopes)
    for envelope, payload in zip(envelopes, aggregate.pending, strict=True):
        await projections.project(session, envelope, payload)
    await outbox.enqueue(session, settings.topic(TOPIC), envelopes)
    aggregate.pending.clear()


async def _account_row(session: AsyncSession, ctx: Context, account_id: UUID) -> store.AccountRow:
    row = await store.get_account(session, ctx.tenant_id, account_id)
    if row is None:  # the projection ran in this very transaction
        raise RuntimeError(f"account {account_id} missing from its read model")
    return row


async def open_account(db: Database, settings: ServiceSettings, ctx: Context, *, name: str, kind: AccountKind,
                       currency: str, opening_balance_minor: int) -> store.AccountRow:
    async with db.transaction() as session:
        with _domain_errors_as_problems():
            account = Account.open(uuid4(), name=name, kind=kind, currency=currency,
                                   opening_balance_minor=opening_balance_minor)
        await _save(session, settings, ctx, account)
        row = await _account_row(session, ctx, account.id)
    log.info("account_opened", account_id=str(account.id))
    return row


async def rename_account(db: Database, settings: ServiceSettings, ctx: Context, account_id: UUID, *,
                         name: str, expected_version: int) -> store.AccountRow:
    async with db.transaction() as session:
        account = await _load(session, ctx, Account, account_id)
        with _domain_errors_as_problems():
            account.rename(name, expected_version=expected_version)
        await _save(session, settings, ctx, account)
        return await _account_row(session, ctx, account_id)


async def record_transaction(
    db: Database,
    settings: ServiceSettings,
    ctx: Context,
    *,
    account_id: UUID,
    kind: TransactionKind,
    amount_minor: int,
    booked_on: date,
    currency: str | None = None,
    category_id: UUID | None = None,
    payee: str = "",
    note: str = "",
) -> store.TransactionRow:
    async with db.transaction() as session:
        account = await _load(session, ctx, Account, account_id)
        category = await _load(session, ctx, Category, category_id) if category_id is not None else None
        with _domain_errors_as_problems():
            transaction = Transaction.record(uuid4(), account=account, kind=kind, amount_minor=amount_minor,
                                             booked_on=booked_on, currency=currency, category=category,
                                             payee=payee, note=note)
        await _save(session, settings, ctx, transaction)
        row = await store.get_transaction(session, ctx.tenant_id, transaction.id)
    if row is None:
        raise RuntimeError(f"transaction {transaction.id} missing from its read model")
    log.info("transaction_recorded", transaction_id=str(transaction.id))
    return row


async def create_default_categories(session: AsyncSession, settings: ServiceSettings, ctx: Context) -> int:
    """Create the household's default categories that it does not have yet, in the caller's transaction.

    Their ids are derived from the household, so running this again finds them and creates nothing.
    Returns how many were created.
    """
    created = 0
    for default in DEFAULT_CATEGORIES:
        category = await _load(session, ctx, Category, default.id_for(ctx.tenant_id))
        if category.exists:
            continue
        category = Category.create(category.id, name=default.name, group=default.group, kind=default.kind)
        await _save(session, settings, ctx, category)
        created += 1
    log.info("default_categories_created", created=created)
    return created
