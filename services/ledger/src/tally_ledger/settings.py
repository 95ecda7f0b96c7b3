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

    # The learned categoriser (docs/categorisation.md): how often each replica looks for households whose
    # categoriser is due for training, after how many categorised or corrected transactions since its last
    # training it is, how many of a household's newest categorised transactions it learns from, and the
    # processes training runs in (0: a worker thread of the service — for tests and tiny households only:
    # it holds the interpreter lock for seconds at a time).
    categoriser_interval_s: float = 60.0
    categoriser_retrain_after: int = Field(default=20, ge=1)
    # Fewer changes than that are learnt once the household has made none for this long: the last few
    # corrections of a quiet household are not left out of its model until twenty more come.
    categoriser_quiet_s: float = Field(default=120.0, ge=0)
    categoriser_max_examples: int = Field(default=100_000, ge=100, le=1_000_000)
    categoriser_processes: int = Field(default=1, ge=0, le=4)
    # How often a replica folds the changes of the search totals' sums into them (tally_ledger.totals):
    # readers add what is not folded yet, so this bounds their work, not what they see.
    totals_compact_interval_s: float = Field(default=2.0, gt=0)

    # Recurring series found in the history (docs/recurring.md): how often each replica looks for
    # households whose transactions changed (or whose series may have stopped), how many of a household's
    # newest transactions the detector reads, and from how many on it runs in a process of its own
    # (`series_processes` of them; 0: always in a worker thread of the service — tests).
    series_interval_s: float = 30.0
    series_max_transactions: int = Field(default=100_000, ge=100, le=1_000_000)
    series_in_process_from: int = Field(default=2_000, ge=0)
    series_processes: int = Field(default=1, ge=0, le=4)
