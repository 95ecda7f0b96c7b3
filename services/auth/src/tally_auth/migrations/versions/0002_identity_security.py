"""Email verification, TOTP, sessions, single-use tokens, recovery codes, rate limits, security log."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    now = sa.text("now()")
    tz = sa.DateTime(timezone=True)
    for column in (
        sa.Column("email_verified_at", tz),
        sa.Column("password_changed_at", tz),
        sa.Column("totp_pending_secret", sa.String(64)),
        sa.Column("totp_secret", sa.String(64)),
        sa.Column("totp_enabled_at", tz),
        sa.Column("totp_last_step", sa.Integer),
    ):
        op.add_column("users", column)
    op.create_table(
        "sessions",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("device", sa.String(200), nullable=False),
        sa.Column("ip", sa.String(64)),
        sa.Column("created_at", tz, nullable=False, server_default=now),
        sa.Column("last_seen_at", tz, nullable=False, server_default=now),
        sa.Column("expires_at", tz, nullable=False),
        sa.Column("revoked_at", tz),
    )
    op.create_index("ix_sessions_user_id", "sessions", ["user_id"])
    op.create_table(
        "one_time_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("purpose", sa.String(30), nullable=False),
        sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", tz, nullable=False, server_default=now),
        sa.Column("expires_at", tz, nullable=False),
        sa.Column("used_at", tz),
    )
    op.create_index("ix_one_time_tokens_user_id", "one_time_tokens", ["user_id"])
    op.create_table(
        "recovery_codes",
        sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("used_at", tz),
    )
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(400), primary_key=True),
        sa.Column("hits", sa.Integer, nullable=False),
        sa.Column("window_ends_at", tz, nullable=False),
    )
    op.create_table(
        "security_log",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("user_id", UUID(as_uuid=True), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("ip", sa.String(64)),
        sa.Column("device", sa.String(200)),
        sa.Column("detail", sa.String(200)),
        sa.Column("occurred_at", tz, nullable=False, server_default=now),
    )
    op.create_index("security_log_user", "security_log", ["user_id", "occurred_at"])
