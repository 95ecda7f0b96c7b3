"""The ledger's read models (derived from the event store, rebuildable) and their queries.

Every row carries `tenant_id` and every query takes the tenant it may look at.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    select,
)
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.ext.asyncio import AsyncSession

metadata = MetaData()

accounts = Table(
    "accounts",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("tenant_id", PgUUID(as_uuid=True), nullable=False),
    Column("name", String(100), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("opening_balance_minor", BigInteger, nullable=False),
    Column("balance_minor", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=False),
)
Index("accounts_tenant", accounts.c.tenant_id, accounts.c.name)

categories = Table(
    "categories",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("tenant_id", PgUUID(as_uuid=True), nullable=False),
    Column("name", String(100), nullable=False),
    Column("group_name", String(100), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
Index("categories_tenant", categories.c.tenant_id, categories.c.kind, categories.c.group_name,
      categories.c.name)

transactions = Table(
    "transactions",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("tenant_id", PgUUID(as_uuid=True), nullable=False),
    Column("account_id", PgUUID(as_uuid=True), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("category_id", PgUUID(as_uuid=True)),
    Column("payee", String(200), nullable=False),
    Column("booked_on", Date, nullable=False),
    Column("note", String(1000), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
Index("transactions_tenant_newest", transactions.c.tenant_id, transactions.c.booked_on.desc(),
      transactions.c.recorded_at.desc())
Index("transactions_account_newest", transactions.c.tenant_id, transactions.c.account_id,
      transactions.c.booked_on.desc(), transactions.c.recorded_at.desc())

READ_MODELS = (transactions, categories, accounts)


@dataclass(frozen=True)
class AccountRow:
    id: UUID
    name: str
    kind: str
    currency: str
    balance_minor: int
    version: int


@dataclass(frozen=True)
class CategoryRow:
    id: UUID
    name: str
    group: str
    kind: str


@dataclass(frozen=True)
class TransactionRow:
    id: UUID
    account_id: UUID
    kind: str
    amount_minor: int
    currency: str
    category_id: UUID | None
    category_name: str | None
    payee: str
    booked_on: date
    note: str
    recorded_at: datetime


_ACCOUNT_COLUMNS = (accounts.c.id, accounts.c.name, accounts.c.kind, accounts.c.currency,
                    accounts.c.balance_minor, accounts.c.version)


async def list_accounts(session: AsyncSession, tenant_id: UUID) -> list[AccountRow]:
    rows = await session.execute(
        select(*_ACCOUNT_COLUMNS).where(accounts.c.tenant_id == tenant_id)
        .order_by(accounts.c.name, accounts.c.id)
    )
    return [AccountRow(*row) for row in rows]


async def get_account(session: AsyncSession, tenant_id: UUID, account_id: UUID) -> AccountRow | None:
    row = (await session.execute(
        select(*_ACCOUNT_COLUMNS).where(accounts.c.tenant_id == tenant_id, accounts.c.id == account_id)
    )).first()
    return AccountRow(*row) if row else None


async def list_categories(session: AsyncSession, tenant_id: UUID) -> list[CategoryRow]:
    rows = await session.execute(
        select(categories.c.id, categories.c.name, categories.c.group_name, categories.c.kind)
        .where(categories.c.tenant_id == tenant_id)
        .order_by(categories.c.kind, categories.c.group_name, categories.c.name)
    )
    return [CategoryRow(*row) for row in rows]


def _transactions_query(tenant_id: UUID) -> Any:
    joined = transactions.outerjoin(
        categories, and_(categories.c.id == transactions.c.category_id, categories.c.tenant_id == tenant_id)
    )
    return (
        select(transactions.c.id, transactions.c.account_id, transactions.c.kind, transactions.c.amount_minor,
               transactions.c.currency, transactions.c.category_id, categories.c.name, transactions.c.payee,
               transactions.c.booked_on, transactions.c.note, transactions.c.recorded_at)
        .select_from(joined)
        .where(transactions.c.tenant_id == tenant_id)
    )


async def list_transactions(session: AsyncSession, tenant_id: UUID, *, account_id: UUID | None = None,
                            limit: int = 50) -> list[TransactionRow]:
    """Newest first: by booking date, then by when they were recorded."""
    query = _transactions_query(tenant_id)
    if account_id is not None:
        query = query.where(transactions.c.account_id == account_id)
    query = query.order_by(transactions.c.booked_on.desc(), transactions.c.recorded_at.desc(),
                           transactions.c.id).limit(limit)
    return [TransactionRow(*row) for row in await session.execute(query)]


async def get_transaction(session: AsyncSession, tenant_id: UUID,
                          transaction_id: UUID) -> TransactionRow | None:
    row = (await session.execute(
        _transactions_query(tenant_id).where(transactions.c.id == transaction_id)
    )).first()
    return TransactionRow(*row) if row else None
