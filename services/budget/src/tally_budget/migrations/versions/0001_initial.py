"""Kit tables, categories, spending per month, budgets and their fired alerts."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

from tallykit.migrations import create_kit_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_kit_tables()
    op.create_table(
        "categories",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
    )
    op.create_table(
        "spending",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("category_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("spent_minor", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "budgets",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", UUID(as_uuid=True), nullable=False),
        sa.Column("category_id", UUID(as_uuid=True), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("tenant_id", "category_id", name="budgets_one_per_category"),
    )
    op.create_table(
        "budget_alerts",
        sa.Column("budget_id", UUID(as_uuid=True), sa.ForeignKey("budgets.id"), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("threshold", sa.Integer, primary_key=True),
        sa.Column("tenant_id", UUID(as_uuid=True), nullable=False),
        sa.Column("spent_minor", sa.BigInteger, nullable=False),
        sa.Column("budget_minor", sa.BigInteger, nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("budget_alerts_tenant_month", "budget_alerts", ["tenant_id", "month"])
