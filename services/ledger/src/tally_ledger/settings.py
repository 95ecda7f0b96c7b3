"""Ledger settings, read from `TALLY_LEDGER_*` environment variables."""

import tempfile
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from tallykit.settings import ServiceSettings


# tallykit ships no py.typed yet; without it mypy sees ServiceSettings as Any.
class LedgerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="TALLY_LEDGER_", extra="ignore", frozen=True)

    service_name: str = "ledger"
    # The recurring-transaction scheduler: how often each replica looks for due occurrences, and the zone
    # whose calendar day is "today" for them.
    scheduler_interval_s: float = 60.0
    scheduler_timezone: str = "UTC"
    # Receipts and documents on transactions: where the files go, and how large one may be. Deployments
    # set TALLY_LEDGER_ATTACHMENTS_DIR to a persistent volume; the default under the system's temporary
    # directory suits development only.
    attachments_dir: Path = Field(
        default_factory=lambda: Path(tempfile.gettempdir()) / "tally-ledger-attachments")
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, gt=0, le=100 * 1024 * 1024)

