"""A statement naming several bank accounts imports each into its own account in one batch: the batch
keeps which Tally account each bank account (SourceAccount.key) goes into."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0015"
down_revision = "0014"


def upgrade() -> None:
    op.add_column("import_batches", sa.Column("accounts", JSONB))


def downgrade() -> None:
    op.drop_column("import_batches", "accounts")
