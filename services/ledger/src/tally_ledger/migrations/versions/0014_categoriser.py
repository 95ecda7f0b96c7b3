"""The learned categoriser (tally_ledger.categorising): per household its setting, what changed since its
last training and what that gave; the trained categoriser itself; how far the event store was counted
(from the start: households with history get their first categoriser at the worker's first run)."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0014"
down_revision = "0013"


def upgrade() -> None:
    op.create_table(
        "categorisers",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("accept_above_pct", sa.SmallInteger, nullable=False, server_default="90"),
        sa.Column("changes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("changed_at", sa.DateTime(timezone=True)),
        sa.Column("version", sa.Integer, nullable=False, server_default="0"),
        sa.Column("method", sa.String(20)),
        sa.Column("examples", sa.Integer, nullable=False, server_default="0"),
        sa.Column("categories", sa.Integer, nullable=False, server_default="0"),
        sa.Column("trained_at", sa.DateTime(timezone=True)),
        sa.Column("training_seconds", sa.Float),
        sa.Column("training_since", sa.DateTime(timezone=True)),
    )
    op.create_index("categorisers_due", "categorisers", ["changed_at"],
                    postgresql_where=sa.text("changes > 0"))
    op.create_table(
        "categoriser_models",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("model", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "categoriser_cursor",
        sa.Column("id", sa.SmallInteger, primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO categoriser_cursor (id, position) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table("categoriser_cursor")
    op.drop_table("categoriser_models")
    op.drop_index("categorisers_due", table_name="categorisers")
    op.drop_table("categorisers")
