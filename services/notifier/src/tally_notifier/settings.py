"""Notifier settings, read from `TALLY_NOTIFIER_*` environment variables."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from tallykit.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TALLY_NOTIFIER_", extra="ignore", frozen=True)

    service_name: str = "notifier"

    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=1025, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    mail_from: str = "Tally <no-reply@tally.local>"
    # Where people open the app; links in emails point here.
    public_url: str = "http://127.0.0.1:8000"

    # The dispatcher (every channel): how often it looks, how much per round, retries and backoff.
    mail_poll_interval_s: float = Field(default=1.0, gt=0)
    mail_batch_size: int = Field(default=20, ge=1)
    mail_max_attempts: int = Field(default=8, ge=1)
    mail_backoff_base_s: float = Field(default=5.0, gt=0)
    mail_backoff_cap_s: float = Field(default=3600.0, gt=0)

    # Per person and channel: at most this many notifications per window; the rest become one summary.
    rate_limit_per_window: int = Field(default=10, ge=1)
    rate_window_s: int = Field(default=900, ge=10, le=86400)

    # Web Push: the VAPID key (PEM); made on first start and kept in the database when not given.
    vapid_private_key_pem: SecretStr | None = None
    vapid_subject: str = "mailto:admin@tally.local"
    push_ttl_s: int = Field(default=86400, ge=0)
    push_timeout_s: float = Field(default=10.0, gt=0)

    # Webhooks and push endpoints: refuse private, loopback and link-local addresses unless allowed
    # (a home server on a LAN may want that; the tests allow it to reach a local receiver).
    allow_private_targets: bool = False
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    webhook_disable_after_failures: int = Field(default=10, ge=1)
    webhooks_per_user: int = Field(default=10, ge=1)

    # Live stream: a comment line this often keeps proxies from closing an idle stream.
    stream_keepalive_s: float = Field(default=15.0, gt=0)
    # A stream ends after this long and the browser reconnects (with a fresh token by then).
    stream_max_s: float = Field(default=600.0, gt=0)

    # Digests go out at this local hour (the person's time zone): Mondays for the week, the 1st for the month.
    digest_hour: int = Field(default=8, ge=0, le=23)
    digest_poll_interval_s: float = Field(default=60.0, gt=0)
