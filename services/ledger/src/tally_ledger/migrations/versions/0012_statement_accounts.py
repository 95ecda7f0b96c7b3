"""A statement finds its account: the bank accounts (as statements name them) remembered per Tally
account, and the one account a batch takes of a file that names several."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0012"
down_revision = "0011"


def upgrade() -> None:
    op.create_table(
        "account_sources",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("source_key", sa.String(200), primary_key=True),
        sa.Column("account_id", UUID(as_uuid=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.add_column("import_batches", sa.Column("source_key", sa.String(200)))


def downgrade() -> None:
    op.drop_column("import_batches", "source_key")
    op.drop_table("account_sources")
