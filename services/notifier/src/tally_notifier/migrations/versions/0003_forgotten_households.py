"""Households deleted with their last owner's account: alerts about them that arrive later (other topics
are not ordered with auth.events) are dropped instead of waiting for a member who will never come."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "forgotten_households",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("forgotten_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("forgotten_households")
