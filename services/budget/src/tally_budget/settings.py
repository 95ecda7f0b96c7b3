from pydantic_settings import SettingsConfigDict

from tallykit.settings import ServiceSettings


class BudgetSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TALLY_BUDGET_", extra="ignore", frozen=True)

    service_name: str = "budget"
