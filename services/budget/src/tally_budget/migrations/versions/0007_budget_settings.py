"""What "available to budget" counts as the month's income, chosen per household (budget_settings): the
income of the month so far, or last month's (for a household paid late in the month)."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_table(
        "budget_settings",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("income_basis", sa.String(20), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("budget_settings")
