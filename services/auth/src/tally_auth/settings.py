from pydantic_settings import SettingsConfigDict

from tallykit.settings import ServiceSettings


class AuthSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TALLY_AUTH_", extra="ignore", frozen=True)

    service_name: str = "auth"
    access_token_ttl_s: int = 15 * 60
    refresh_token_ttl_s: int = 30 * 24 * 3600
    default_currency: str = "EUR"
    # argon2id cost; the defaults are argon2-cffi's (RFC 9106 "low memory" profile: t=3, m=64 MiB, p=4).
    argon2_time_cost: int = 3
    argon2_memory_cost_kib: int = 65536
    argon2_parallelism: int = 4
