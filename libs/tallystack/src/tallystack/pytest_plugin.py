"""pytest fixtures with real parts: PostgreSQL, the Kafka-protocol broker, an SMTP server.

- PostgreSQL: embedded by default; `TALLY_TEST_POSTGRES_URL` names an existing server's admin URL
  (e.g. postgresql://postgres@127.0.0.1:5432/postgres); `TALLY_TEST_POSTGRES=testcontainers` uses a
  container where Docker is available.
- Broker: Tansu by default; `TALLY_TEST_KAFKA_BOOTSTRAP` names an existing one;
  `TALLY_TEST_KAFKA=testcontainers` starts Apache Kafka in a container.
Each test gets its own databases (copies of a migrated template) and its own topic prefix, so tests
cannot see each other's data.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from tallystack import postgres
from tallystack.broker import free_port, start_tansu
from tallystack.smtp import MailSink, start_smtp_sink
from tallystack.tokens import TokenMinter


@pytest.fixture(scope="session")
def postgres_admin_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if url := os.environ.get("TALLY_TEST_POSTGRES_URL"):
        yield url
    elif os.environ.get("TALLY_TEST_POSTGRES") == "testcontainers":
        from testcontainers.postgres import PostgresContainer  # only where Docker is

        with PostgresContainer("postgres:17-alpine", driver=None) as container:
            yield container.get_connection_url()
    else:
        yield postgres.start_embedded(tmp_path_factory.mktemp("pg") / "data")


def _external_kafka() -> bool:
    return (
        bool(os.environ.get("TALLY_TEST_KAFKA_BOOTSTRAP"))
        or os.environ.get("TALLY_TEST_KAFKA") == "testcontainers"
    )


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if bootstrap := os.environ.get("TALLY_TEST_KAFKA_BOOTSTRAP"):
        yield bootstrap
    elif os.environ.get("TALLY_TEST_KAFKA") == "testcontainers":
        from testcontainers.kafka import KafkaContainer  # only where Docker is

        with KafkaContainer().with_kraft() as container:
            yield container.get_bootstrap_server()
    else:
        port = free_port()
        process = start_tansu(port, tmp_path_factory.mktemp("tansu") / "tansu.log")
        try:
            yield f"127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=10)


_templates: dict[Path, str] = {}

MakeDatabase = Callable[[Path], Awaitable[str]]


@pytest_asyncio.fixture
async def make_database(postgres_admin_url: str) -> AsyncIterator[MakeDatabase]:
    """`await make_database(migrations_dir)` → URL of a fresh, migrated database for this test."""
    from tallykit.migrations import upgrade

    created: list[str] = []

    async def make(migrations_dir: Path) -> str:
        # Tests run one at a time, so the template cache needs no lock.
        if migrations_dir not in _templates:
            name = f"tmpl_{migrations_dir.parent.name}_{uuid.uuid4().hex[:6]}"
            await postgres.create_database(postgres_admin_url, name)
            await asyncio.to_thread(upgrade, postgres.database_url(postgres_admin_url, name), migrations_dir)
            _templates[migrations_dir] = name
        name = f"t_{uuid.uuid4().hex[:12]}"
        await postgres.create_database(postgres_admin_url, name, template=_templates[migrations_dir])
        created.append(name)
        return postgres.database_url(postgres_admin_url, name)

    yield make
    for name in created:
        await postgres.drop_database(postgres_admin_url, name)


@pytest.fixture
def topic_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}."


@pytest.fixture
def smtp_sink() -> Iterator[tuple[int, MailSink]]:
    port = free_port()
    controller, sink = start_smtp_sink(port)
    try:
        yield port, sink
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def token_minter() -> TokenMinter:
    return TokenMinter()


@pytest.fixture
def service_env(kafka_bootstrap: str, topic_prefix: str) -> Callable[[str, str], dict[str, Any]]:
    """Settings values shared by every service under test (pass them to the settings class)."""

    def build(database_url: str, service_name: str) -> dict[str, Any]:
        return {
            "service_name": service_name,
            "environment": "test",
            "database_url": database_url,
            "kafka_bootstrap_servers": kafka_bootstrap,
            "topic_prefix": topic_prefix,
            "relay_poll_interval_s": 0.05,
            # Tansu (the default test broker) needs it; Apache Kafka does not.
            "kafka_single_record_batches": not _external_kafka(),
        }

    return build


@pytest_asyncio.fixture
async def service_client(
    make_database: MakeDatabase,
    service_env: Callable[[str, str], dict[str, Any]],
    token_minter: TokenMinter,
) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """`client = await service_client(create_app, SettingsClass, migrations_dir)`: an httpx client
    talking to the service in-process, on a fresh database, with tokens from `token_minter`.
    Background workers (relay, consumers) are off unless `run_background=True`."""
    import httpx

    from tallykit.tokens import TokenVerifier

    stack: list[Any] = []

    async def make(
        create_app: Callable[..., Any],
        settings_cls: type[Any],
        migrations_dir: Path,
        run_background: bool = False,
        **overrides: Any,
    ) -> httpx.AsyncClient:
        url = await make_database(migrations_dir)
        settings = settings_cls(
            **{**service_env(url, settings_cls.model_fields["service_name"].default), **overrides}
        )
        app = create_app(
            settings, verifier=TokenVerifier(settings, jwks=token_minter.jwks), run_background=run_background
        )
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service")
        client.app = app  # type: ignore[attr-defined]
        stack.append((lifespan, client))
        return client

    yield make
    for lifespan, client in reversed(stack):
        await client.aclose()
        await lifespan.__aexit__(None, None, None)
