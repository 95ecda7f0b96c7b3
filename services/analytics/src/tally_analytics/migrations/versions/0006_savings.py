"""Savings opportunities: the recurring series the ledger found (from its `RecurringSeries*` events) and
the months whose opportunities were published for the monthly digest (once per household and month)."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.create_table(
        "series",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("name", sa.String(100), nullable=True),
        sa.Column("payee", sa.String(200), nullable=True),
        sa.Column("kind", sa.String(10), nullable=True),
        sa.Column("period", sa.String(10), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("amount_minor", sa.BigInteger, nullable=True),
        sa.Column("previous_minor", sa.BigInteger, nullable=True),
        sa.Column("price_on", sa.Date, nullable=True),
        sa.Column("first_on", sa.Date, nullable=True),
        sa.Column("last_paid_on", sa.Date, nullable=True),
        sa.Column("stopped_after", sa.Date, nullable=True),
        sa.Column("dismissed", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "savings_months",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("month", sa.String(7), primary_key=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("savings_months")
    op.drop_table("series")
