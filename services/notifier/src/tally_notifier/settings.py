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

    mail_poll_interval_s: float = Field(default=1.0, gt=0)
    mail_batch_size: int = Field(default=20, ge=1)
    mail_max_attempts: int = Field(default=8, ge=1)
    mail_backoff_base_s: float = Field(default=5.0, gt=0)
    mail_backoff_cap_s: float = Field(default=3600.0, gt=0)
