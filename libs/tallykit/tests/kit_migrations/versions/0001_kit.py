"""Kit tables plus a table a test handler writes to."""

import sqlalchemy as sa
from alembic import op

from tallykit.migrations import create_kit_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_kit_tables()
    op.create_table(
        "applied", sa.Column("id", sa.Integer, primary_key=True), sa.Column("value", sa.String(100))
    )
