"""The auth service's tables."""

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, Text, func

from tallykit.tables import uuid_column

metadata = MetaData()

users = Table(
    "users",
    metadata,
    uuid_column("id", primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("display_name", String(100), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("email_verified_at", DateTime(timezone=True)),
    Column("password_changed_at", DateTime(timezone=True)),
    # TOTP: the secret being enrolled (not yet confirmed), the confirmed one, and the last time step used
    # (a code is good once).
    # Encrypted at rest (twofactor.SecretBox); legacy rows hold the base32 secret as it was.
    Column("totp_pending_secret", Text),
    Column("totp_secret", Text),
    Column("totp_enabled_at", DateTime(timezone=True)),
    Column("totp_last_step", Integer),
    Column("locale", String(35), nullable=False, server_default="en"),
    Column("time_zone", String(64), nullable=False, server_default="UTC"),
    Column("week_start", String(10), nullable=False, server_default="monday"),
)

tenants = Table(
    "tenants",
    metadata,
    uuid_column("id", primary_key=True),
    Column("name", String(100), nullable=False),
    Column("base_currency", String(3), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("time_zone", String(64), nullable=False, server_default="UTC"),
    Column("week_start", String(10), nullable=False, server_default="monday"),
)

memberships = Table(
    "memberships",
    metadata,
    uuid_column("tenant_id", ForeignKey("tenants.id"), primary_key=True),
    uuid_column("user_id", ForeignKey("users.id"), primary_key=True),
    Column("role", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    uuid_column("id", primary_key=True),
    uuid_column("family_id", nullable=False, index=True),
    uuid_column("user_id", ForeignKey("users.id"), nullable=False),
    uuid_column("tenant_id", ForeignKey("tenants.id"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)

# One row per sign-in (a refresh-token family): what the session list shows.
sessions = Table(
    "sessions",
    metadata,
    uuid_column("id", primary_key=True),  # = refresh_tokens.family_id
    uuid_column("user_id", ForeignKey("users.id"), nullable=False, index=True),
    uuid_column("tenant_id", ForeignKey("tenants.id"), nullable=False),
    Column("device", String(200), nullable=False),
    Column("ip", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_seen_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

# Single-use secrets mailed or handed out: email verification, password reset, the 2FA login challenge.
one_time_tokens = Table(
    "one_time_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("purpose", String(30), nullable=False),
    uuid_column("user_id", ForeignKey("users.id"), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
)

recovery_codes = Table(
    "recovery_codes",
    metadata,
    uuid_column("user_id", ForeignKey("users.id"), primary_key=True),
    Column("code_hash", String(64), primary_key=True),
    Column("used_at", DateTime(timezone=True)),
)

# Fixed-window counters shared by every replica: `key` says what is counted (e.g. "login-ip:1.2.3.4").
rate_limits = Table(
    "rate_limits",
    metadata,
    Column("key", String(400), primary_key=True),
    Column("hits", Integer, nullable=False),
    Column("window_ends_at", DateTime(timezone=True), nullable=False),
)

security_log = Table(
    "security_log",
    metadata,
    uuid_column("id", primary_key=True),
    uuid_column("user_id", ForeignKey("users.id"), nullable=False),
    Column("type", String(100), nullable=False),
    Column("ip", String(64)),
    Column("device", String(200)),
    Column("detail", String(200)),
    Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
Index("security_log_user", security_log.c.user_id, security_log.c.occurred_at)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("private_pem", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("retired_at", DateTime(timezone=True)),
)

# An invitation to join a household: only the SHA-256 of its mailed secret is kept.
invitations = Table(
    "invitations",
    metadata,
    uuid_column("id", primary_key=True),
    uuid_column("tenant_id", ForeignKey("tenants.id"), nullable=False, index=True),
    Column("email", String(320), nullable=False),
    Column("role", String(20), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    uuid_column("invited_by"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("accepted_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
)
