"""Read your own writes across services (tallykit.positions): the positions this service's consumer has
applied per source and household, and its outbox's index by household."""

from tallykit.migrations import add_positions, drop_positions

revision = "0004"
down_revision = "0003"


def upgrade() -> None:
    add_positions()


def downgrade() -> None:
    drop_positions()
