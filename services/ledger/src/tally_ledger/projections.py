"""Events → read-model rows. Handlers project their new events in the same transaction as the
append; `rebuild` replays the whole event store through the same functions, to the same rows.

A projection uses only what the event carries (payload and envelope), never the clock, so replaying
gives identical rows.
"""

from uuid import UUID

from sqlalchemy import insert, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger.store import READ_MODELS, accounts, categories, transactions
from tallykit import eventstore
from tallykit.contracts import registry
from tallykit.contracts.ledger import (
    AccountOpened,
    AccountRenamed,
    CategoryCreated,
    TransactionKind,
    TransactionRecorded,
)
from tallykit.db import Database
from tallykit.events import Envelope, EventPayload
from tallykit.logging import get_logger

log = get_logger(__name__)

_REBUILD_PAGE = 1000


async def project(session: AsyncSession, envelope: Envelope, payload: EventPayload) -> None:
    tenant, stream = envelope.tenant_id, envelope.stream_id
    if isinstance(payload, AccountOpened):
        await session.execute(insert(accounts).values(
            id=stream, tenant_id=tenant, name=payload.name, kind=payload.kind.value,
            currency=payload.currency, opening_balance_minor=payload.opening_balance_minor,
            balance_minor=payload.opening_balance_minor,
            version=envelope.stream_version, opened_at=envelope.occurred_at,
        ))
    elif isinstance(payload, AccountRenamed):
        await session.execute(
            update(accounts).where(accounts.c.tenant_id == tenant, accounts.c.id == stream)
            .values(name=payload.name, version=envelope.stream_version)
        )
    elif isinstance(payload, CategoryCreated):
        await session.execute(insert(categories).values(
            id=stream, tenant_id=tenant, name=payload.name, group_name=payload.group, kind=payload.kind.value,
            created_at=envelope.occurred_at,
        ))
    elif isinstance(payload, TransactionRecorded):
        await session.execute(insert(transactions).values(
            id=stream, tenant_id=tenant, account_id=payload.account_id, kind=payload.kind.value,
            amount_minor=payload.amount_minor, currency=payload.currency, category_id=payload.category_id,
            payee=payload.payee, booked_on=payload.booked_on, note=payload.note,
            recorded_at=envelope.recorded_at,
        ))
        await _add_to_balance(session, tenant, payload.account_id, _signed(payload))
    else:
        raise TypeError(f"the ledger has no projection for {envelope.type}")


def _signed(payload: TransactionRecorded) -> int:
    amount = int(payload.amount_minor)
    return amount if payload.kind == TransactionKind.income else -amount


async def _add_to_balance(session: AsyncSession, tenant_id: UUID, account_id: UUID, delta: int) -> None:
    await session.execute(
        update(accounts).where(accounts.c.tenant_id == tenant_id, accounts.c.id == account_id)
        .values(balance_minor=accounts.c.balance_minor + delta)
    )


async def rebuild(db: Database) -> int:
    """Empty the read models and replay every stored event, in position order, in one transaction.

    Appends wait for it (it holds the append lock), so it replays a log that cannot move meanwhile,
    and readers see the old rows until the new ones commit.
    """
    replayed = 0
    async with db.transaction() as session:
        await eventstore.lock_appends(session)
        await session.execute(text(f"TRUNCATE {', '.join(t.name for t in READ_MODELS)}"))
        position = 0
        while page := await eventstore.read_all(session, after_position=position, limit=_REBUILD_PAGE):
            for _, envelope in page:
                await project(session, envelope, registry.payload(envelope))
            replayed += len(page)
            position = page[-1][0]
    log.info("read_models_rebuilt", events=replayed)
    return replayed
