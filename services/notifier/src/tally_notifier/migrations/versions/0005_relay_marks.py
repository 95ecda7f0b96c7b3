"""A restart of the local broker re-publishes what consumers had not applied, not the whole outbox
(tallykit.settling): per topic the relay's settled mark, and the outbox's index by publishing time."""

from tallykit.migrations import add_relay_marks, drop_relay_marks

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    add_relay_marks()


def downgrade() -> None:
    drop_relay_marks()
