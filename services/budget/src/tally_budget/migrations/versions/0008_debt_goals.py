"""Debt goals: a goal's kind (savings, or paying off the debt of a loan or credit-card account) and the
kind of each account the ledger opened (accounts seen before this migration have none: a debt goal on such
an account is accepted while its balance owes something)."""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.add_column("accounts", sa.Column("kind", sa.String(20)))
    op.add_column("goals", sa.Column("kind", sa.String(10), nullable=False, server_default="savings"))


def downgrade() -> None:
    op.drop_column("goals", "kind")
    op.drop_column("accounts", "kind")
