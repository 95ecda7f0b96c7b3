"""The tables and queries of shared expenses: the household's members as the auth service announces
them, each shared expense's sharing and each settle-up (read models of the ledger's events)."""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    MetaData,
    String,
    Table,
    and_,
    delete,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import tables
from tally_ledger.sharing import SharedExpense
from tallykit.contracts.ledger import ExpenseShared, MemberPart, MembersSettledUp
from tallykit.events import Envelope
from tallykit.tables import uuid_column

metadata = MetaData()

# Who belongs to the household (auth.MemberJoined / auth.MemberLeft). One who left stays, inactive:
# they may still owe or be owed.
household_members = Table(
    "household_members",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("user_id", primary_key=True),
    Column("display_name", String(100), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("joined_at", DateTime(timezone=True), nullable=False),
)

expense_shares = Table(
    "expense_shares",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("transaction_id", primary_key=True),
    uuid_column("paid_by", nullable=False),
    Column("method", String(12), nullable=False),
    Column("parts", JSONB, nullable=False),  # [{"user_id", "weight"}]
)

settlements = Table(
    "settlements",
    metadata,
    uuid_column("id", primary_key=True),
    uuid_column("tenant_id", nullable=False),
    uuid_column("from_user_id", nullable=False),
    uuid_column("to_user_id", nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("booked_on", Date, nullable=False),
    Column("note", String(200), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)
Index("settlements_newest", settlements.c.tenant_id, settlements.c.booked_on.desc())

TENANT_TABLES = (expense_shares, settlements, household_members)
READ_MODELS = (expense_shares, settlements)  # made from the ledger's own events: a rebuild makes them again


# --- members -----------------------------------------------------------------------------------------

async def member_joined(session: AsyncSession, tenant_id: UUID, user_id: UUID, display_name: str,
                        at: datetime) -> None:
    statement = pg_insert(household_members).values(tenant_id=tenant_id, user_id=user_id,
                                                     display_name=display_name, active=True, joined_at=at)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[household_members.c.tenant_id, household_members.c.user_id],
        set_={"display_name": display_name, "active": True}))


async def member_left(session: AsyncSession, tenant_id: UUID, user_id: UUID) -> None:
    m = household_members.c
    await session.execute(household_members.update().where(m.tenant_id == tenant_id, m.user_id == user_id)
                          .values(active=False))


@dataclass(frozen=True)
class Member:
    user_id: UUID
    display_name: str
    active: bool


async def members(session: AsyncSession, tenant_id: UUID) -> list[Member]:
    m = household_members.c
    rows = await session.execute(select(m.user_id, m.display_name, m.active)
                                 .where(m.tenant_id == tenant_id).order_by(m.joined_at, m.user_id))
    return [Member(*row) for row in rows]


# --- projection ----------------------------------------------------------------------------------------

async def project_shared(session: AsyncSession, envelope: Envelope, payload: ExpenseShared) -> None:
    values: dict[str, Any] = {"paid_by": payload.paid_by, "method": payload.method.value,
                              "parts": [p.model_dump(mode="json") for p in payload.parts]}
    statement = pg_insert(expense_shares).values(tenant_id=envelope.tenant_id,
                                                 transaction_id=payload.transaction_id, **values)
    await session.execute(statement.on_conflict_do_update(
        index_elements=[expense_shares.c.tenant_id, expense_shares.c.transaction_id], set_=values))


async def project_unshared(session: AsyncSession, envelope: Envelope, transaction_id: UUID) -> None:
    s = expense_shares.c
    await session.execute(delete(expense_shares).where(s.tenant_id == envelope.tenant_id,
                                                       s.transaction_id == transaction_id))


async def project_settled(session: AsyncSession, envelope: Envelope, payload: MembersSettledUp) -> None:
    await session.execute(settlements.insert().values(
        id=envelope.stream_id, tenant_id=envelope.tenant_id, from_user_id=payload.from_user_id,
        to_user_id=payload.to_user_id, amount_minor=payload.amount_minor, currency=payload.currency,
        booked_on=payload.booked_on, note=payload.note, recorded_at=envelope.recorded_at))


# --- queries ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SharedRow:
    expense: SharedExpense
    method: str
    booked_on: date
    payee: str
    category_id: UUID | None


def _shared_query(tenant_id: UUID) -> Any:
    s, t = expense_shares.c, tables.transactions.c
    return (select(s.transaction_id, t.amount_minor, t.currency, s.paid_by, s.parts, s.method, t.booked_on,
                   t.payee, t.category_id)
            .join(tables.transactions, and_(t.tenant_id == s.tenant_id, t.id == s.transaction_id))
            .where(s.tenant_id == tenant_id, ~t.deleted))


def _shared(row: Any) -> SharedRow:
    transaction_id, amount, currency, paid_by, parts, method, booked_on, payee, category_id = row
    expense = SharedExpense(transaction_id, amount, currency, paid_by,
                            tuple(MemberPart.model_validate(p) for p in parts))
    return SharedRow(expense, method, booked_on, payee, category_id)


async def shared_expenses(session: AsyncSession, tenant_id: UUID, *, limit: int | None = None,
                          month: str | None = None) -> list[SharedRow]:
    """The household's live shared expenses, newest first (a deleted expense no longer counts)."""
    t = tables.transactions.c
    query = _shared_query(tenant_id).order_by(t.booked_on.desc(), t.id)
    if month is not None:
        year, number = (int(x) for x in month.split("-"))
        first = date(year, number, 1)
        following = date(year + number // 12, number % 12 + 1, 1)
        query = query.where(t.booked_on >= first, t.booked_on < following)
    if limit is not None:
        query = query.limit(limit)
    return [_shared(row) for row in await session.execute(query)]


async def sharing_of(session: AsyncSession, tenant_id: UUID, transaction_id: UUID) -> SharedRow | None:
    row = (await session.execute(_shared_query(tenant_id).where(
        expense_shares.c.transaction_id == transaction_id))).first()
    return _shared(row) if row is not None else None


async def settled(session: AsyncSession, tenant_id: UUID, *,
                  limit: int | None = None) -> list[tuple[UUID, MembersSettledUp]]:
    c = settlements.c
    query = select(c.id, c.from_user_id, c.to_user_id, c.amount_minor, c.currency, c.booked_on, c.note).where(
        c.tenant_id == tenant_id).order_by(c.booked_on.desc(), c.recorded_at.desc())
    if limit is not None:
        query = query.limit(limit)
    return [(row.id, MembersSettledUp(from_user_id=row.from_user_id, to_user_id=row.to_user_id,
                                      amount_minor=row.amount_minor, currency=row.currency,
                                      booked_on=row.booked_on, note=row.note))
            for row in await session.execute(query)]
