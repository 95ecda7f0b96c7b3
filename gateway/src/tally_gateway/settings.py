"""Gateway settings (env prefix `TALLY_GATEWAY_`): where the services are, where the web client is, limits."""

from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from tallykit.settings import ServiceSettings

# gateway/src/tally_gateway/settings.py → the repository's web/ folder.
DEFAULT_WEB_DIR = Path(__file__).resolve().parents[3] / "web"
# … and its docs/ folder, where the user guide (guide.md) and its screenshots are.
DEFAULT_GUIDE_DIR = Path(__file__).resolve().parents[3] / "docs"
JWKS_PATH = "/.well-known/jwks.json"


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TALLY_GATEWAY_", extra="ignore", frozen=True)

    service_name: str = "gateway"

    auth_url: str = "http://127.0.0.1:8001"
    ledger_url: str = "http://127.0.0.1:8002"
    budget_url: str = "http://127.0.0.1:8003"
    analytics_url: str = "http://127.0.0.1:8004"
    notifier_url: str = "http://127.0.0.1:8005"

    web_dir: Path = DEFAULT_WEB_DIR
    guide_dir: Path = DEFAULT_GUIDE_DIR  # guide.md and screenshots/, served at /guide/ (guide.py)
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    # Statement uploads and whole-ledger restores; the ledger applies its own tighter limit per route.
    upload_max_body_bytes: int = Field(default=200 * 1024 * 1024, gt=0)
    upstream_timeout_s: float = Field(default=10.0, gt=0)
    # An upload's answer comes once the file is read and checked (a history of 100,000 entries: a minute
    # or two on a small machine); what takes longer is done after the answer.
    upload_timeout_s: float = Field(default=300.0, gt=0)
    # Forecasts fitted on the spot and changes of many transactions at once (proxy.SLOW_PATHS): over 10 s
    # on two busy cores for a first forecast or 10,000 transactions.
    slow_timeout_s: float = Field(default=60.0, gt=0)
    readiness_timeout_s: float = Field(default=3.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _jwks_follows_auth(cls, data: Any) -> Any:
        """Unless set on its own, the JWKS is fetched from the configured auth service."""
        if isinstance(data, dict) and "jwks_url" not in data and "auth_url" in data:
            return {**data, "jwks_url": str(data["auth_url"]).rstrip("/") + JWKS_PATH}
        return data

    @property
    def services(self) -> dict[str, str]:
        """Service name (the first segment after /api/) → base URL without a trailing slash."""
        urls = {
            "auth": self.auth_url,
            "ledger": self.ledger_url,
            "budget": self.budget_url,
            "analytics": self.analytics_url,
            "notifier": self.notifier_url,
        }
        return {name: url.rstrip("/") for name, url in urls.items()}
