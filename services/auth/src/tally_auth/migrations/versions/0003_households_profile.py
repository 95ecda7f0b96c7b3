"""Profile (locale, time zone, week start), household settings, invitations; TOTP secrets grow to hold
their encrypted form."""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    now = sa.text("now()")
    tz = sa.DateTime(timezone=True)
    op.add_column("users", sa.Column("locale", sa.String(35), nullable=False, server_default="en"))
    op.add_column("users", sa.Column("time_zone", sa.String(64), nullable=False, server_default="UTC"))
    op.add_column("users", sa.Column("week_start", sa.String(10), nullable=False, server_default="monday"))
    op.add_column("tenants", sa.Column("time_zone", sa.String(64), nullable=False, server_default="UTC"))
    op.add_column("tenants", sa.Column("week_start", sa.String(10), nullable=False, server_default="monday"))
    # Fernet tokens of a 32-character secret are about 140 characters.
    op.alter_column("users", "totp_pending_secret", type_=sa.Text)
    op.alter_column("users", "totp_secret", type_=sa.Text)
    op.create_table(
        "invitations",
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("tenant_id", UUID(as_uuid=True), sa.ForeignKey("tenants.id"), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("invited_by", UUID(as_uuid=True), nullable=True),
        sa.Column("created_at", tz, nullable=False, server_default=now),
        sa.Column("expires_at", tz, nullable=False),
        sa.Column("accepted_at", tz),
        sa.Column("revoked_at", tz),
    )
    op.create_index("ix_invitations_tenant_id", "invitations", ["tenant_id"])
