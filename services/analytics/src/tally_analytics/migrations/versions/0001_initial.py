"""Kit tables, category names and monthly totals per category and currency."""

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
        "monthly_totals",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("category_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("currency", sa.String(3), primary_key=True),
        sa.Column("income_minor", sa.BigInteger, nullable=False),
        sa.Column("expense_minor", sa.BigInteger, nullable=False),
    )
