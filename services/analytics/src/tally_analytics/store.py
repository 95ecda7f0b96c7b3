"""The analytics service's tables: category names, and monthly totals per (tenant, month, category,
currency), updated as `ledger.TransactionRecorded` events arrive, so reports never scan transactions."""

from uuid import UUID

from sqlalchemy import BigInteger, Column, MetaData, String, Table, and_, select
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from tally_analytics.domain import NO_CATEGORY, UNCATEGORISED, UNKNOWN_CATEGORY, CategoryTotal

metadata = MetaData()

categories = Table(
    "categories",
    metadata,
    Column("tenant_id", PgUUID(as_uuid=True), primary_key=True),
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("kind", String(20), nullable=False),
)

monthly_totals = Table(
    "monthly_totals",
    metadata,
    Column("tenant_id", PgUUID(as_uuid=True), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("category_id", PgUUID(as_uuid=True), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("income_minor", BigInteger, nullable=False),
    Column("expense_minor", BigInteger, nullable=False),
)


async def save_category(
    session: AsyncSession, tenant_id: UUID, category_id: UUID, name: str, kind: str
) -> None:
    new = insert(categories).values(tenant_id=tenant_id, id=category_id, name=name, kind=kind)
    await session.execute(
        new.on_conflict_do_update(
            index_elements=[categories.c.tenant_id, categories.c.id],
            set_={"name": new.excluded.name, "kind": new.excluded.kind},
        )
    )


async def add_to_month(
    session: AsyncSession,
    tenant_id: UUID,
    month: str,
    category_id: UUID,
    currency: str,
    *,
    income_minor: int,
    expense_minor: int,
) -> None:
    new = insert(monthly_totals).values(
        tenant_id=tenant_id,
        month=month,
        category_id=category_id,
        currency=currency,
        income_minor=income_minor,
        expense_minor=expense_minor,
    )
    await session.execute(
        new.on_conflict_do_update(
            index_elements=[
                monthly_totals.c.tenant_id,
                monthly_totals.c.month,
                monthly_totals.c.category_id,
                monthly_totals.c.currency,
            ],
            set_={
                "income_minor": monthly_totals.c.income_minor + new.excluded.income_minor,
                "expense_minor": monthly_totals.c.expense_minor + new.excluded.expense_minor,
            },
        )
    )


async def month_by_category(session: AsyncSession, tenant_id: UUID, month: str) -> list[CategoryTotal]:
    """A tenant's totals of one month per category and currency, by currency then category name."""
    query = (
        select(
            monthly_totals.c.category_id,
            categories.c.name,
            monthly_totals.c.currency,
            monthly_totals.c.income_minor,
            monthly_totals.c.expense_minor,
        )
        .outerjoin(
            categories,
            and_(
                categories.c.tenant_id == monthly_totals.c.tenant_id,
                categories.c.id == monthly_totals.c.category_id,
            ),
        )
        .where(monthly_totals.c.tenant_id == tenant_id, monthly_totals.c.month == month)
    )
    rows = [
        CategoryTotal(
            category_id=None if category_id == NO_CATEGORY else category_id,
            category_name=UNCATEGORISED if category_id == NO_CATEGORY else name or UNKNOWN_CATEGORY,
            currency=currency,
            income_minor=int(income),
            expense_minor=int(expense),
        )
        for category_id, name, currency, income, expense in await session.execute(query)
    ]
    return sorted(rows, key=lambda r: (r.currency, r.category_name.casefold(), str(r.category_id)))
