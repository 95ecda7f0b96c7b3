"""The kit's own tables, created in every service's database by its first migration.

- `outbox`: envelopes waiting to be published, written in the same transaction as the change.
- `inbox`: ids of handled events, written in the same transaction as the read-model change.
- `event_store`: the append-only log of an event-sourced service (only the ledger uses it today).
"""

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
from sqlalchemy.dialects.postgresql import JSONB, UUID

kit_metadata = MetaData()

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

inbox = Table(
    "inbox",
    kit_metadata,
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("type", String(100), nullable=False),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("handled_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
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
