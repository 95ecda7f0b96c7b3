"""Histories brought over from other apps (POST /histories): one row per migration, whose id is the
correlation id of every event it wrote, so it can be listed and undone as one."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0013"
down_revision = "0012"


def upgrade() -> None:
    op.create_table(
        "history_imports",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", UUID(as_uuid=True), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("summary", sa.String(500), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("counts", JSONB, nullable=False),
        sa.Column("skipped", JSONB, nullable=False),
        sa.Column("error", sa.String(1000)),
        sa.Column("undo_id", UUID(as_uuid=True)),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("undone_at", sa.DateTime(timezone=True)),
    )
    op.create_index("history_imports_tenant", "history_imports", ["tenant_id", "created_at"])


def downgrade() -> None:
    op.drop_index("history_imports_tenant", table_name="history_imports")
    op.drop_table("history_imports")
