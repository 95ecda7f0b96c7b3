"""Households deleted with their owner's account are remembered, so their events that arrive after the
erasure (from another topic) change nothing (tallykit.forgetting)."""

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
