"""Budgets from household histories imported from other apps (ledger.BudgetsImported): the months each
import budgeted per category, and which amount versions an import wrote (`import_id`; a version set by
hand has none), so that undoing the import takes out only those still as it wrote them."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.add_column("budget_amounts", sa.Column("import_id", UUID(as_uuid=True)))
    op.create_table(
        "imported_months",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("category_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("amount_minor", sa.BigInteger, nullable=False),
        sa.Column("rollover", sa.Boolean, nullable=False),
        sa.Column("import_id", UUID(as_uuid=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("imported_months")
    op.drop_column("budget_amounts", "import_id")
