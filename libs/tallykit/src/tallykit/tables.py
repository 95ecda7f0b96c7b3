"""The kit's own tables, created in every service's database by its first migration.

- `outbox`: envelopes waiting to be published, written in the same transaction as the change.
- `inbox`: ids of handled events, written in the same transaction as the read-model change.
- `event_store`: the append-only log of an event-sourced service (only the ledger uses it today).
- `applied_positions`: per source service and household, the highest outbox position a consumer has
  applied (tallykit.positions: read your own writes across services).
- `relay_marks`: per topic a relay publishes, up to when every consumer group has applied what it
  published (tallykit.settling: what to send again when the broker forgets).
"""

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

kit_metadata = MetaData()


def uuid_column(name: str, *args: Any, **kw: Any) -> Column[Any]:
    """A UUID column read and written as `uuid.UUID` (every id and tenant id in Tally); `args` and `kw` go
    to `Column` as they are (a `ForeignKey`, `primary_key=True`, `nullable=False`)."""
    return Column(name, UUID(as_uuid=True), *args, **kw)

outbox = Table(
    "outbox",
    kit_metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("topic", String(200), nullable=False),
    Column("key", String(100), nullable=False),
    # NULL: the envelope is the event store's row with this event_id (outbox.enqueue_stored)
    Column("envelope", JSONB),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True)),
)
Index("outbox_unpublished", outbox.c.id, postgresql_where=outbox.c.published_at.is_(None))
# A household's newest position: what a read answers (tallykit.positions.newest).
Index("outbox_tenant_position", outbox.c.key, outbox.c.id)
# What was published since a time: what a relay sends again when the broker forgot (tallykit.settling).
Index("outbox_published_at", outbox.c.published_at)

inbox = Table(
    "inbox",
    kit_metadata,
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("type", String(100), nullable=False),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("handled_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

applied_positions = Table(
    "applied_positions",
    kit_metadata,
    Column("source", String(40), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("position", BigInteger, nullable=False),
)

relay_marks = Table(
    "relay_marks",
    kit_metadata,
    Column("topic", String(200), primary_key=True),
    # Every row of the topic published up to this time was applied by each of `groups`.
    Column("settled_through", DateTime(timezone=True), nullable=False),
    Column("groups", ARRAY(String(200)), nullable=False),
    # Partition → the log's end offset when it settled: a broker whose log is shorter forgot.
    Column("ends", JSONB, nullable=False),
)

event_store = Table(
    "event_store",
    kit_metadata,
    Column("position", BigInteger, Identity(), primary_key=True),
    Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("stream_id", UUID(as_uuid=True), nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("type", String(100), nullable=False),
    Column("envelope", JSONB, nullable=False),
    UniqueConstraint("stream_id", "stream_version", name="event_store_stream_version"),
)
Index("event_store_tenant", event_store.c.tenant_id, event_store.c.position)
