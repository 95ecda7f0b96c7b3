"""Service settings: one pydantic-settings class per service, read from env vars with a per-service prefix."""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Environment = Literal["development", "test", "production"]


class ServiceSettings(BaseSettings):
    """Settings every service shares. Subclass it and set `env_prefix` (e.g. `TALLY_LEDGER_`)."""

    model_config = SettingsConfigDict(env_prefix="TALLY_", extra="ignore", frozen=True)

    service_name: str = "tally"
    environment: Environment = "development"
    log_format: Literal["console", "json"] | None = Field(
        default=None, description="Defaults to json in production, console elsewhere."
    )
    log_level: str = "INFO"

    database_url: SecretStr = SecretStr("postgresql+asyncpg://postgres@127.0.0.1:5432/tally")
    database_pool_size: int = 5

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    # The local Tansu broker refuses InitProducerId; consumers' inboxes make duplicates harmless anyway.
    kafka_enable_idempotence: bool = False
    # The local broker reports a partition's end one past the first record of the last batch written to
    # it, not past its last record (see tallykit.outbox.publish); on for it, off for Apache Kafka. On,
    # the relay ends each partition's records of a produce request with a batch of one record.
    kafka_single_record_batches: bool = False
    # With kafka_single_record_batches: at most this many records of one partition per produce request
    # (and at most kafka_record_set_bytes of them). 1 is the relay as it was before (one record per
    # request), kept for the benchmarks' baseline (bench/broker_produce.py, bench/ledger_import.py).
    kafka_records_per_request: int = Field(default=500, ge=1)
    kafka_record_set_bytes: int = Field(default=512 * 1024, ge=1024)
    # The local broker can wedge a partition (a write refused as `AlreadyExists`, again and again): a
    # relay whose writes to one keep being refused this long reports it, in this file when it is set;
    # the local stack sets it and restarts its broker when the file appears (tallystack.stack).
    kafka_wedged_after_s: float = 5.0
    kafka_wedge_report_file: Path | None = None
    # A consumer with nothing to do while a partition of its topics has records its group has not
    # committed, and no commit moved there for this long, leaves the group and joins again: a member
    # that died without leaving (kill -9) or lost its place when the broker restarted holds partitions
    # nobody reads (tallykit.consumer). Longer than the group's session timeout (10 s).
    kafka_stalled_after_s: float = 30.0
    kafka_topic_partitions: int = 6
    # What a consumer takes per poll (all partitions) and per partition per fetch: an import's burst is
    # applied a poll's partition at a time, in one transaction each (tallykit.consumer).
    kafka_max_poll_records: int = Field(default=1_000, ge=1)
    kafka_max_partition_fetch_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    # Off: a batch's events are applied each by itself (its inbox row, its handler), as before batch
    # handlers existed; kept for the benchmarks' baseline (bench/ledger_import.py --baseline).
    consumer_batches: bool = True
    kafka_replication_factor: int = 1
    # Lets tests (and several stacks on one broker) keep their topics apart.
    topic_prefix: str = ""

    jwks_url: str = "http://127.0.0.1:8001/.well-known/jwks.json"
    jwt_issuer: str = "tally-auth"
    jwt_audience: str = "tally"

    relay_poll_interval_s: float = 0.2
    # How often the leading relay asks the broker whether it forgot, and moves its settled marks on.
    relay_check_interval_s: float = 5.0
    # How long a request carrying a Tally-Position token waits for this service to apply it (then 503).
    read_your_writes_timeout_s: float = Field(default=2.0, ge=0, le=30)
    relay_batch_size: int = 500
    # Worker processes for occasional CPU work (tallykit.workers) stop after this long without a task.
    worker_pool_idle_s: float = Field(default=300.0, gt=0)

    @model_validator(mode="after")
    def _production_needs_json_logs(self) -> "ServiceSettings":
        if self.environment == "production" and self.log_format == "console":
            raise ValueError("console logs are for development; production logs are JSON")
        return self

    @property
    def effective_log_format(self) -> Literal["console", "json"]:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.environment == "production" else "console"

    def topic(self, name: str) -> str:
        """The broker topic for a logical topic name such as `ledger.events`."""
        return f"{self.topic_prefix}{name}"
