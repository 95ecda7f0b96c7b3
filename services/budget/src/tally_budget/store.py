"""The budget service's tables and the small queries over them.

- `categories`: names and kinds of each tenant's categories, from `ledger.CategoryCreated`.
- `spending`: expenses per (tenant, category, month, currency), from `ledger.TransactionRecorded`,
  kept whether or not a budget exists yet, so a budget set mid-month starts from the right figure.
- `budgets`: one monthly budget per (tenant, category); `version` is its event stream's position.
- `budget_alerts`: thresholds fired, at most one row per (budget, month, threshold).
"""

from dataclasses import dataclass
from uuid import UUID, uuid4

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    and_,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import UUID as PgUUID
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

metadata = MetaData()

categories = Table(
    "categories",
    metadata,
    Column("tenant_id", PgUUID(as_uuid=True), primary_key=True),
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("kind", String(20), nullable=False),
)

spending = Table(
    "spending",
    metadata,
    Column("tenant_id", PgUUID(as_uuid=True), primary_key=True),
    Column("category_id", PgUUID(as_uuid=True), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("currency", String(3), primary_key=True),
    Column("spent_minor", BigInteger, nullable=False),
)

budgets = Table(
    "budgets",
    metadata,
    Column("id", PgUUID(as_uuid=True), primary_key=True),
    Column("tenant_id", PgUUID(as_uuid=True), nullable=False),
    Column("category_id", PgUUID(as_uuid=True), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant_id", "category_id", name="budgets_one_per_category"),
)

budget_alerts = Table(
    "budget_alerts",
    metadata,
    Column("budget_id", PgUUID(as_uuid=True), ForeignKey("budgets.id"), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("threshold", Integer, primary_key=True),
    Column("tenant_id", PgUUID(as_uuid=True), nullable=False),
    Column("spent_minor", BigInteger, nullable=False),
    Column("budget_minor", BigInteger, nullable=False),
    Column("fired_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("budget_alerts_tenant_month", budget_alerts.c.tenant_id, budget_alerts.c.month)


@dataclass(frozen=True)
class Category:
    id: UUID
    name: str
    kind: str


@dataclass(frozen=True)
class Budget:
    id: UUID
    tenant_id: UUID
    category_id: UUID
    amount_minor: int
    currency: str
    version: int


@dataclass(frozen=True)
class BudgetRow:
    """A budget as listed for a month: with its category's name, that month's spending and alerts."""

    id: UUID
    category_id: UUID
    category_name: str
    amount_minor: int
    currency: str
    spent_minor: int
    alerts: list[int]


_BUDGET_COLUMNS = (
    budgets.c.id,
    budgets.c.tenant_id,
    budgets.c.category_id,
    budgets.c.amount_minor,
    budgets.c.currency,
    budgets.c.version,
)


async def save_category(session: AsyncSession, tenant_id: UUID, category: Category) -> None:
    statement = insert(categories).values(
        tenant_id=tenant_id, id=category.id, name=category.name, kind=category.kind
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[categories.c.tenant_id, categories.c.id],
            set_={"name": statement.excluded.name, "kind": statement.excluded.kind},
        )
    )


async def get_category(session: AsyncSession, tenant_id: UUID, category_id: UUID) -> Category | None:
    query = select(categories.c.id, categories.c.name, categories.c.kind).where(
        categories.c.tenant_id == tenant_id, categories.c.id == category_id
    )
    row = (await session.execute(query)).first()
    return Category(*row) if row else None


async def add_spending(
    session: AsyncSession, tenant_id: UUID, category_id: UUID, month: str, currency: str, amount_minor: int
) -> int:
    """Add an expense to its month's spending; returns the new total."""
    new = insert(spending).values(
        tenant_id=tenant_id, category_id=category_id, month=month, currency=currency, spent_minor=amount_minor
    )
    statement = new.on_conflict_do_update(
        index_elements=[spending.c.tenant_id, spending.c.category_id, spending.c.month, spending.c.currency],
        set_={"spent_minor": spending.c.spent_minor + new.excluded.spent_minor},
    ).returning(spending.c.spent_minor)
    return int((await session.execute(statement)).scalar_one())


async def spent(session: AsyncSession, tenant_id: UUID, category_id: UUID, month: str, currency: str) -> int:
    query = select(spending.c.spent_minor).where(
        spending.c.tenant_id == tenant_id,
        spending.c.category_id == category_id,
        spending.c.month == month,
        spending.c.currency == currency,
    )
    return int((await session.execute(query)).scalar_one_or_none() or 0)


async def upsert_budget(
    session: AsyncSession, tenant_id: UUID, category_id: UUID, amount_minor: int, currency: str
) -> Budget:
    """Create the category's budget, or change it (one more version); the row stays locked until commit."""
    new = insert(budgets).values(
        id=uuid4(),
        tenant_id=tenant_id,
        category_id=category_id,
        amount_minor=amount_minor,
        currency=currency,
        version=1,
    )
    statement = new.on_conflict_do_update(
        constraint="budgets_one_per_category",
        set_={
            "amount_minor": new.excluded.amount_minor,
            "currency": new.excluded.currency,
            "version": budgets.c.version + 1,
            "updated_at": func.now(),
        },
    ).returning(*_BUDGET_COLUMNS)
    return Budget(*(await session.execute(statement)).one())


async def lock_budget_for_category(
    session: AsyncSession, tenant_id: UUID, category_id: UUID
) -> Budget | None:
    """The category's budget, locked, so alert evaluation and budget changes take turns."""
    query = (
        select(*_BUDGET_COLUMNS)
        .where(budgets.c.tenant_id == tenant_id, budgets.c.category_id == category_id)
        .with_for_update()
    )
    row = (await session.execute(query)).first()
    return Budget(*row) if row else None


async def next_versions(session: AsyncSession, budget_id: UUID, count: int) -> list[int]:
    """Reserve the next `count` positions of a budget's event stream."""
    statement = (
        update(budgets)
        .where(budgets.c.id == budget_id)
        .values(version=budgets.c.version + count)
        .returning(budgets.c.version)
    )
    last = int((await session.execute(statement)).scalar_one())
    return list(range(last - count + 1, last + 1))


async def record_alert(
    session: AsyncSession, budget: Budget, month: str, threshold: int, spent_minor: int
) -> bool:
    """Record that a threshold fired; False when it already had this month."""
    statement = (
        insert(budget_alerts)
        .values(
            budget_id=budget.id,
            month=month,
            threshold=threshold,
            tenant_id=budget.tenant_id,
            spent_minor=spent_minor,
            budget_minor=budget.amount_minor,
        )
        .on_conflict_do_nothing()
        .returning(budget_alerts.c.threshold)
    )
    return (await session.execute(statement)).first() is not None


async def list_budgets(
    session: AsyncSession, tenant_id: UUID, month: str, budget_id: UUID | None = None
) -> list[BudgetRow]:
    query = (
        select(
            budgets.c.id,
            budgets.c.category_id,
            categories.c.name,
            budgets.c.amount_minor,
            budgets.c.currency,
            func.coalesce(spending.c.spent_minor, 0),
        )
        .join(
            categories,
            and_(categories.c.tenant_id == budgets.c.tenant_id, categories.c.id == budgets.c.category_id),
        )
        .outerjoin(
            spending,
            and_(
                spending.c.tenant_id == budgets.c.tenant_id,
                spending.c.category_id == budgets.c.category_id,
                spending.c.month == month,
                spending.c.currency == budgets.c.currency,
            ),
        )
        .where(budgets.c.tenant_id == tenant_id)
        .order_by(categories.c.name, budgets.c.id)
    )
    if budget_id is not None:
        query = query.where(budgets.c.id == budget_id)
    alerts_query = (
        select(budget_alerts.c.budget_id, budget_alerts.c.threshold)
        .where(budget_alerts.c.tenant_id == tenant_id, budget_alerts.c.month == month)
        .order_by(budget_alerts.c.threshold)
    )
    fired: dict[UUID, list[int]] = {}
    for alert_budget, threshold in await session.execute(alerts_query):
        fired.setdefault(alert_budget, []).append(threshold)
    return [
        BudgetRow(
            id=b_id,
            category_id=cat_id,
            category_name=name,
            amount_minor=amount,
            currency=currency,
            spent_minor=int(spent_minor),
            alerts=fired.get(b_id, []),
        )
        for b_id, cat_id, name, amount, currency, spent_minor in await session.execute(query)
    ]
