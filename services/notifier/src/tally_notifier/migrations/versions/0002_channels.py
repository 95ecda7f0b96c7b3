"""Every channel: the e-mail queue becomes the delivery table of all channels (one row per event, channel,
recipient and target, claimed with SKIP LOCKED); preferences and quiet hours; Web Push subscriptions and
the service's own keys; webhooks; the per-user rate window; known sign-in devices; digests and their
rollup; a sequence on the in-app feed for live streams that resume."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column("recipients", sa.Column("locale", sa.String(35), nullable=False, server_default="en"))
    op.add_column("recipients", sa.Column("time_zone", sa.String(64), nullable=False, server_default="UTC"))
    op.add_column("recipients", sa.Column("role", sa.String(10), nullable=False, server_default="member"))
    op.create_index("ix_recipients_user_id", "recipients", ["user_id"])

    op.rename_table("email_deliveries", "deliveries")
    op.drop_constraint("email_deliveries_event_recipient_channel", "deliveries", type_="unique")
    op.execute("ALTER INDEX email_deliveries_due RENAME TO deliveries_due")
    op.execute("ALTER TABLE deliveries RENAME CONSTRAINT email_deliveries_pkey TO deliveries_pkey")
    op.add_column("deliveries", sa.Column("type", sa.String(100), nullable=False, server_default=""))
    op.add_column("deliveries", sa.Column("target_key", sa.String(64), nullable=False, server_default=""))
    op.add_column("deliveries", sa.Column("payload", JSONB))
    for name in ("address", "subject", "text_body", "html_body", "message_id"):
        op.alter_column("deliveries", name, nullable=True)
    op.create_unique_constraint(
        "deliveries_once", "deliveries", ["event_id", "channel", "recipient", "target_key"]
    )
    op.create_index("deliveries_log", "deliveries", ["tenant_id", "channel", "target_key", "created_at"])
    op.create_index("deliveries_recipient", "deliveries", ["recipient"])

    op.add_column("notifications", sa.Column("seq", sa.BigInteger, sa.Identity(), nullable=False))
    op.create_index("notifications_stream", "notifications", ["tenant_id", "user_id", "seq"])
    op.add_column("notifications", sa.Column("link", sa.String(500), nullable=False, server_default=""))

    op.create_table(
        "user_settings",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("user_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("quiet_start", sa.Time),
        sa.Column("quiet_end", sa.Time),
        sa.Column("digest_only", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "preferences",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("user_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("type", sa.String(100), primary_key=True),
        sa.Column("channel", sa.String(20), primary_key=True),
        sa.Column("enabled", sa.Boolean, nullable=False),
    )
    op.create_table(
        "service_keys",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "push_subscriptions",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("endpoint", sa.String(2000), nullable=False, unique=True),
        sa.Column("p256dh", sa.String(200), nullable=False),
        sa.Column("auth", sa.String(100), nullable=False),
        sa.Column("user_agent", sa.String(300), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("last_success_at", sa.DateTime(timezone=True)),
    )
    op.create_index("push_subscriptions_user", "push_subscriptions", ["tenant_id", "user_id"])
    op.create_table(
        "webhooks",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", UUID(as_uuid=True), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("description", sa.String(200), nullable=False, server_default=""),
        sa.Column("event_types", JSONB, nullable=False),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("consecutive_failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("disabled_reason", sa.String(300)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("webhooks_user", "webhooks", ["tenant_id", "user_id"])
    op.create_table(
        "rate_windows",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("user_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("channel", sa.String(20), primary_key=True),
        sa.Column("window_start", sa.DateTime(timezone=True), primary_key=True),
        sa.Column("sent", sa.Integer, nullable=False, server_default="0"),
        sa.Column("held", sa.Integer, nullable=False, server_default="0"),
        sa.Column("counts", JSONB, nullable=False, server_default="{}"),
    )
    op.create_table(
        "known_devices",
        sa.Column("user_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("device", sa.String(64), primary_key=True),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "rollup",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("data", JSONB, nullable=False),
    )
    op.create_table(
        "digests",
        sa.Column("tenant_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("user_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("period", sa.String(20), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
