"""Ledger settings, read from `TALLY_LEDGER_*` environment variables."""

from pydantic_settings import SettingsConfigDict

from tallykit.settings import ServiceSettings


# tallykit ships no py.typed yet; without it mypy sees ServiceSettings as Any.
class LedgerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TALLY_LEDGER_", extra="ignore", frozen=True)

    service_name: str = "ledger"
