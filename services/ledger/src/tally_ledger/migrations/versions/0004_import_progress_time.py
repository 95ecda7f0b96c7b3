"""When an import batch last made progress, so that one interrupted by a crash can be taken up again."""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    op.add_column("import_batches", sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                                              server_default=sa.func.now()))
