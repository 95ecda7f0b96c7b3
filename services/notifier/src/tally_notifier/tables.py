"""The notifier's tables (the queries over them are in store.py).

- `households`, `recipients`: who lives in which tenant (membership, address, locale, time zone), learned
  from `auth.events`.
- `pending_alerts`: household alerts that arrived before anyone of their tenant was known (the topics are
  not ordered with each other); fanned out when the first recipient is known.
- `notifications`: the in-app feed, one row per (event, user); `seq` orders the live stream.
- `deliveries`: one row per (event, channel, recipient, target) for e-mail, Web Push and webhooks — the
  unique key is what makes a redelivered event or a second replica a no-op; the dispatcher claims due
  rows with SKIP LOCKED. `failed` rows are the dead-letter record.
- `user_settings`, `preferences`: quiet hours, digest-only, and per (type, channel) choices.
- `push_subscriptions`, `webhooks`, `service_keys` (VAPID and token keys made on first start).
- `rate_windows`: per user and channel, how many were sent and held in a fixed window.
- `known_devices`, `rollup`, `digests`: for new-sign-in alerts and the weekly and monthly digest.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Time,
    UniqueConstraint,
    false,
    func,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB

from tallykit import forgetting
from tallykit.tables import uuid_column

metadata = MetaData()

households = Table(
    "households",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    Column("name", String(100), nullable=False),
    Column("base_currency", String(3), nullable=False),
)

recipients = Table(
    "recipients",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("user_id", primary_key=True),
    Column("email", String(320), nullable=False),
    Column("display_name", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("locale", String(35), nullable=False, server_default="en"),
    Column("time_zone", String(64), nullable=False, server_default="UTC"),
    Column("role", String(10), nullable=False, server_default="member"),
)

pending_alerts = Table(
    "pending_alerts",
    metadata,
    uuid_column("event_id", primary_key=True),
    uuid_column("tenant_id", nullable=False, index=True),
    Column("envelope", JSONB, nullable=False),
)

# Only ids: which households were deleted, so their late alerts are dropped (holds no personal data).
forgotten_households = forgetting.forgotten_households_table(metadata)

notifications = Table(
    "notifications",
    metadata,
    uuid_column("id", primary_key=True),
    uuid_column("tenant_id", nullable=False),
    uuid_column("user_id", nullable=False),
    uuid_column("event_id", nullable=False),
    Column("type", String(100), nullable=False),
    Column("title", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("read", Boolean, nullable=False, server_default=false()),
    Column("read_at", DateTime(timezone=True)),
    Column("seq", BigInteger, Identity(), nullable=False),
    Column("link", String(500), nullable=False, server_default=""),
    UniqueConstraint("event_id", "user_id", name="notifications_event_user"),
)
Index("notifications_feed", notifications.c.tenant_id, notifications.c.user_id, notifications.c.created_at)
Index("notifications_stream", notifications.c.tenant_id, notifications.c.user_id, notifications.c.seq)

deliveries = Table(
    "deliveries",
    metadata,
    uuid_column("id", primary_key=True),
    uuid_column("tenant_id", nullable=False),
    uuid_column("event_id", nullable=False),
    uuid_column("recipient", nullable=False),
    Column("channel", String(20), nullable=False),
    Column("type", String(100), nullable=False, server_default=""),
    Column("target_key", String(64), nullable=False, server_default=""),
    Column("address", String(320)),
    Column("subject", String(300)),
    Column("text_body", Text),
    Column("html_body", Text),
    Column("message_id", String(300)),
    Column("payload", JSONB),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sent_at", DateTime(timezone=True)),
    UniqueConstraint("event_id", "channel", "recipient", "target_key", name="deliveries_once"),
)
Index("deliveries_due", deliveries.c.next_attempt_at, postgresql_where=deliveries.c.status == "pending")

user_settings = Table(
    "user_settings",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("user_id", primary_key=True),
    Column("quiet_start", Time),
    Column("quiet_end", Time),
    Column("digest_only", Boolean, nullable=False, server_default=false()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

preferences = Table(
    "preferences",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("user_id", primary_key=True),
    Column("type", String(100), primary_key=True),
    Column("channel", String(20), primary_key=True),
    Column("enabled", Boolean, nullable=False),
)

service_keys = Table(
    "service_keys",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("value", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

push_subscriptions = Table(
    "push_subscriptions",
    metadata,
    uuid_column("id", primary_key=True),
    uuid_column("tenant_id", nullable=False),
    uuid_column("user_id", nullable=False),
    Column("endpoint", String(2000), nullable=False, unique=True),
    Column("p256dh", String(200), nullable=False),
    Column("auth", String(100), nullable=False),
    Column("user_agent", String(300), nullable=False, server_default=""),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_success_at", DateTime(timezone=True)),
)

webhooks = Table(
    "webhooks",
    metadata,
    uuid_column("id", primary_key=True),
    uuid_column("tenant_id", nullable=False),
    uuid_column("user_id", nullable=False),
    Column("url", String(2000), nullable=False),
    Column("description", String(200), nullable=False, server_default=""),
    Column("event_types", JSONB, nullable=False),
    Column("secret", String(100), nullable=False),
    Column("enabled", Boolean, nullable=False, server_default=true()),
    Column("consecutive_failures", Integer, nullable=False, server_default="0"),
    Column("disabled_reason", String(300)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

rate_windows = Table(
    "rate_windows",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("user_id", primary_key=True),
    Column("channel", String(20), primary_key=True),
    Column("window_start", DateTime(timezone=True), primary_key=True),
    Column("sent", Integer, nullable=False, server_default="0"),
    Column("held", Integer, nullable=False, server_default="0"),
    Column("counts", JSONB, nullable=False, server_default="{}"),
)

known_devices = Table(
    "known_devices",
    metadata,
    uuid_column("user_id", primary_key=True),
    Column("device", String(64), primary_key=True),
    Column("first_seen", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

rollup = Table(
    "rollup",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("day", Date, nullable=False),
    Column("data", JSONB, nullable=False),
)

digests = Table(
    "digests",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    uuid_column("user_id", primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("period", String(20), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
