from pydantic_settings import SettingsConfigDict

from tallykit.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TALLY_ANALYTICS_", extra="ignore", frozen=True)

    service_name: str = "analytics"
