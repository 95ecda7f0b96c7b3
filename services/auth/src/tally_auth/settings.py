from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from tallykit.settings import ServiceSettings


class AuthSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TALLY_AUTH_", extra="ignore", frozen=True)

    service_name: str = "auth"
    access_token_ttl_s: int = 15 * 60
    refresh_token_ttl_s: int = 30 * 24 * 3600
    default_currency: str = "EUR"
    # argon2id cost (docs/security.md): RFC 9106's second recommended option (t=3, m=64 MiB, p=4),
    # about 50-80 ms per hash on one server core. Raising any of them makes every login rehash its
    # password with the new cost.
    argon2_time_cost: int = 3
    argon2_memory_cost_kib: int = 65536
    argon2_parallelism: int = 4

    email_verification_ttl_s: int = Field(default=48 * 3600, gt=0)
    password_reset_ttl_s: int = Field(default=30 * 60, gt=0)
    login_challenge_ttl_s: int = Field(default=5 * 60, gt=0)
    # A reset request answers no sooner than this, whether the email has an account or not, so that
    # response time does not tell (the work done for a known email fits well inside it).
    reset_response_floor_s: float = Field(default=0.25, ge=0)

    # The web client's refresh token: an HttpOnly, SameSite=Strict cookie scoped to the auth API.
    refresh_cookie_name: str = "tally_refresh"
    refresh_cookie_path: str = "/api/auth"
    refresh_cookie_secure: bool = True

    # Rate limits (fixed windows in the database, shared by every replica).
    login_failures_per_account: int = Field(default=5, ge=1)
    login_lockout_window_s: int = Field(default=15 * 60, gt=0)
    login_failures_per_ip: int = Field(default=30, ge=1)
    login_ip_window_s: int = Field(default=5 * 60, gt=0)
    mail_requests_per_account: int = Field(default=3, ge=1)
    mail_requests_per_ip: int = Field(default=10, ge=1)
    mail_window_s: int = Field(default=3600, gt=0)
    invitations_per_household: int = Field(default=20, ge=1)
    token_failures_per_ip: int = Field(default=20, ge=1)
    token_window_s: int = Field(default=15 * 60, gt=0)
    # Fernet keys for secrets kept at rest (TOTP seeds), comma-separated: the first encrypts, all decrypt.
    # Required in production; elsewhere a key is generated into `secret_key_file` when none is set.
    secret_keys: SecretStr | None = None
    secret_key_file: Path = Path("~/.local/share/tally/auth-secret.key")

    # Trust X-Forwarded-For from the gateway (the only way in) for the client's address.
    trust_forwarded_for: bool = True
