"""Currencies: a transfer between accounts of different currencies keeps what arrived (in the target's
currency); exchange rates by day; each household's base currency (from auth)."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.add_column("transactions", sa.Column("counter_amount_minor", sa.BigInteger))
    op.create_table(
        "exchange_rates",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("base", sa.String(3), primary_key=True),
        sa.Column("quote", sa.String(3), primary_key=True),
        sa.Column("on", sa.Date, primary_key=True),
        sa.Column("rate", sa.Numeric(24, 12), nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ledger_households",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("base_currency", sa.String(3), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ledger_households")
    op.drop_table("exchange_rates")
    op.drop_column("transactions", "counter_amount_minor")
