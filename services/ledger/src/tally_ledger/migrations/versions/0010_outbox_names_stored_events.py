"""The ledger's outbox rows name their event in the event store instead of holding a second copy of its
envelope (`outbox.enqueue_stored`); rows written before keep theirs."""

from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    op.alter_column("outbox", "envelope", nullable=True)


def downgrade() -> None:
    op.execute("UPDATE outbox SET envelope = e.envelope FROM event_store e "
               "WHERE outbox.envelope IS NULL AND e.event_id = outbox.event_id")
    op.execute("DELETE FROM outbox WHERE envelope IS NULL")  # their events were erased
    op.alter_column("outbox", "envelope", nullable=False)
