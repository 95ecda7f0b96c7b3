"""Recurring transactions and bills: a row per schedule (for the scheduler and the lists), and the unique
key per (schedule, occurrence day, what happened) that makes each due event and reminder happen once."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_table(
        "recurring",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", UUID(as_uuid=True), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("account_id", UUID(as_uuid=True), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("is_bill", sa.Boolean, nullable=False),
        sa.Column("auto_post", sa.Boolean, nullable=False),
        sa.Column("schedule", JSONB, nullable=False),
        sa.Column("cancelled", sa.Boolean, nullable=False),
        sa.Column("next_due_on", sa.Date),
        sa.Column("wake_on", sa.Date),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("recurring_tenant", "recurring", ["tenant_id", "name"])
    op.create_index(
        "recurring_wake", "recurring", ["wake_on"], postgresql_where=sa.text("wake_on IS NOT NULL")
    )
    op.create_index(
        "recurring_bills",
        "recurring",
        ["tenant_id", "account_id"],
        postgresql_where=sa.text("is_bill AND NOT cancelled"),
    )
    op.create_table(
        "recurring_occurrences",
        sa.Column("schedule_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("due_on", sa.Date, primary_key=True),
        sa.Column("what", sa.String(10), primary_key=True),
        sa.Column("tenant_id", UUID(as_uuid=True), nullable=False),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False),
        sa.Column("transaction_id", UUID(as_uuid=True)),
    )


def downgrade() -> None:
    op.drop_table("recurring_occurrences")
    op.drop_table("recurring")
