from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tallykit.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TALLY_ANALYTICS_", extra="ignore", frozen=True)

    service_name: str = "analytics"

    # How often the savings publisher looks for households whose month has ended (it publishes each
    # household's opportunities of the month once, for the monthly digest).
    savings_interval_s: float = Field(default=300.0, gt=0)
