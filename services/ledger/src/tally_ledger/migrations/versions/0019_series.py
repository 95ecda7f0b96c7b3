"""Recurring series found in the history (tally_ledger.series_finding): per household what changed since
its last detection and what that gave, the series it found, and how far the event store was counted
(from the start: households with history are looked at by the worker's first run)."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0019"
down_revision = "0018"


def upgrade() -> None:
    op.create_table(
        "series_households",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("changes", sa.Integer, nullable=False, server_default="0"),
        sa.Column("changed_at", sa.DateTime(timezone=True)),
        sa.Column("detected_at", sa.DateTime(timezone=True)),
        sa.Column("recheck_on", sa.Date),
        sa.Column("detecting_since", sa.DateTime(timezone=True)),
        sa.Column("transactions", sa.Integer, nullable=False, server_default="0"),
        sa.Column("seconds", sa.Float),
    )
    op.create_index("series_households_due", "series_households", ["changed_at"],
                    postgresql_where=sa.text("changes > 0"))
    op.create_index("series_households_recheck", "series_households", ["recheck_on"],
                    postgresql_where=sa.text("recheck_on IS NOT NULL"))
    op.create_table(
        "detected_series",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", UUID(as_uuid=True), nullable=False),
        sa.Column("series", JSONB, nullable=False),
    )
    op.create_index("detected_series_tenant", "detected_series", ["tenant_id"])
    op.create_table(
        "series_cursor",
        sa.Column("id", sa.SmallInteger, primary_key=True),
        sa.Column("position", sa.BigInteger, nullable=False),
    )
    op.execute("INSERT INTO series_cursor (id, position) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table("series_cursor")
    op.drop_index("detected_series_tenant", table_name="detected_series")
    op.drop_table("detected_series")
    op.drop_index("series_households_recheck", table_name="series_households")
    op.drop_index("series_households_due", table_name="series_households")
    op.drop_table("series_households")
