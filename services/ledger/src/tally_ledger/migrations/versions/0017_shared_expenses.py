"""Shared expenses between members: the household's members (from auth events), each shared expense's
sharing and each settle-up."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0017"
down_revision = "0016"


def upgrade() -> None:
    op.create_table(
        "household_members",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("user_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "expense_shares",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("transaction_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("paid_by", UUID(as_uuid=True), nullable=False),
        sa.Column("method", sa.String(12), nullable=False),
        sa.Column("parts", JSONB, nullable=False),
    )
    op.create_table(
        "settlements",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", UUID(as_uuid=True), nullable=False),
        sa.Column("from_user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("to_user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("booked_on", sa.Date, nullable=False),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("settlements_newest", "settlements", ["tenant_id", sa.text("booked_on DESC")])


def downgrade() -> None:
    op.drop_table("settlements")
    op.drop_table("expense_shares")
    op.drop_table("household_members")
