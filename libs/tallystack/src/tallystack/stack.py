"""The whole system as processes on one machine: embedded PostgreSQL (a database per service), the
Tansu broker, an SMTP sink, every service and the gateway. Used by `make up` and the end-to-end tests.

Everything durable lives under one data directory, so a second start finds it all again. The broker
keeps nothing on disk; the services' relays notice its empty topics and re-publish what some consumer
had not applied yet (tallykit.settling). When a relay reports a wedged partition of the broker (in the
file `broker_wedged`, see tallykit.outbox), the stack's watchdog restarts the broker.
"""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from aiosmtpd.controller import Controller

from tallystack import postgres
from tallystack.broker import create_topics, free_port, free_ports, start_tansu, wait_for_port
from tallystack.smtp import MailSink, start_smtp_sink

SERVICES = ("auth", "ledger", "budget", "analytics", "notifier")
Progress = Callable[[str], None]


@dataclass
class Ports:
    gateway: int = 8000
    services: dict[str, int] = field(
        default_factory=lambda: {name: 8001 + i for i, name in enumerate(SERVICES)}
    )
    broker: int = 9092
    smtp: int = 1025

    @classmethod
    def free(cls) -> "Ports":
        gateway, broker, smtp, *services = free_ports(3 + len(SERVICES))
        by_service = dict(zip(SERVICES, services, strict=True))
        return cls(gateway=gateway, services=by_service, broker=broker, smtp=smtp)


class Stack:
    def __init__(
        self,
        data_dir: Path,
        ports: Ports | None = None,
        *,
        progress: Progress = lambda _: None,
        environment: str = "development",
    ) -> None:
        self.data_dir = data_dir.resolve()
        self.ports = ports or Ports()
        self.progress = progress
        self.environment = environment
        self.logs = self.data_dir / "logs"
        self.mail_dir = self.data_dir / "mail"
        self.admin_url = ""
        self.broker: subprocess.Popen[bytes] | None = None
        self.smtp: Controller | None = None
        self.mail: MailSink | None = None
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.replica_ports: dict[str, int] = {}
        self.broker_wedged = self.data_dir / "broker-wedged"
        self.broker_restarts: list[str] = []  # why the watchdog restarted the broker, in order
        self._broker_lock = threading.Lock()
        self._watching = threading.Event()
        self._watchdog: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports.gateway}"

    def service_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports.services[name]}"

    # -- start -------------------------------------------------------------------------------
    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        self._step("PostgreSQL", self._start_postgres)
        self._step("Kafka-protocol broker (Tansu)", self.start_broker)
        self._step("SMTP sink", self._start_smtp)
        self._step("migrations", self._migrate)
        for name in SERVICES:
            self.start_service(name)
        self.start_service("gateway")
        self._step("services ready", self.wait_ready)

    def _step(self, what: str, action: Callable[[], None]) -> None:
        started = time.monotonic()
        action()
        self.progress(f"  ✓ {what} ({time.monotonic() - started:.1f}s)")

    def _start_postgres(self) -> None:
        self.admin_url = postgres.start_embedded(self.data_dir / "postgres", stop_at_exit=False)

        async def create_all() -> None:
            for name in SERVICES:
                await postgres.create_database(self.admin_url, f"tally_{name}")

        asyncio.run(create_all())

    def start_broker(self) -> None:
        self.broker_wedged.unlink(missing_ok=True)  # about a broker that is gone
        self.broker = start_tansu(self.ports.broker, self.logs / "tansu.log")
        create_topics(self.ports.broker)
        if self._watchdog is None:
            self._watching.set()
            self._watchdog = threading.Thread(target=self._watch_broker, name="broker-watchdog", daemon=True)
            self._watchdog.start()

    def stop_broker(self) -> None:
        if self._watchdog is not None:
            self._watching.clear()
            self._watchdog.join()
            self._watchdog = None
        with self._broker_lock:
            if self.broker is not None:
                self.broker.terminate()
                self.broker.wait(timeout=10)
                self.broker = None

    def restart_broker(self, outage_s: float = 0.0) -> None:
        """Kill -9 the broker and start it again, empty, after `outage_s` without one."""
        with self._broker_lock:
            if self.broker is not None:
                self.broker.kill()
                self.broker.wait(timeout=10)
                self.broker = None
            time.sleep(outage_s)
            self.broker_wedged.unlink(missing_ok=True)
            self.broker = start_tansu(self.ports.broker, self.logs / "tansu.log")
            create_topics(self.ports.broker)

    def _watch_broker(self) -> None:
        """A wedged partition cannot be mended by any client; a broker restarted empty has none, and the
        relays publish again what consumers had not applied."""
        while self._watching.is_set():
            try:
                partition = self.broker_wedged.read_text().strip()
            except FileNotFoundError:
                time.sleep(0.25)
                continue
            self.restart_broker()
            self.broker_restarts.append(f"{partition} wedged")
            self.progress(f"  broker restarted: a relay found {partition} wedged")

    def _start_smtp(self) -> None:
        self.smtp, self.mail = start_smtp_sink(self.ports.smtp, self.mail_dir)

    def env(self, name: str) -> dict[str, str]:
        prefix = f"TALLY_{name.upper()}_"
        values = {
            "ENVIRONMENT": self.environment,
            "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{self.ports.broker}",
            "KAFKA_SINGLE_RECORD_BATCHES": "true",  # the local Tansu broker, see tallykit.outbox.publish
            "KAFKA_WEDGE_REPORT_FILE": str(self.broker_wedged),
            "JWKS_URL": f"{self.service_url('auth')}/.well-known/jwks.json",
        }
        if name in SERVICES:
            values["DATABASE_URL"] = postgres.database_url(self.admin_url, f"tally_{name}")
        if name == "notifier":
            values |= {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(self.ports.smtp), "PUBLIC_URL": self.url}
        if name == "gateway":
            values |= {f"{s.upper()}_URL": self.service_url(s) for s in SERVICES}
        if name == "ledger":
            # A categoriser learns within seconds of a change, not a minute (someone trying it, a browser
            # test waiting for a suggestion); each look is one indexed query.
            values |= {k: v for k, v in (("CATEGORISER_INTERVAL_S", "2"), ("CATEGORISER_QUIET_S", "10"))
                       if prefix + k not in os.environ}
        return {**os.environ, **{prefix + k: v for k, v in values.items()}}

    def _migrate(self) -> None:
        """Each service migrates its own database; they run side by side (start-up is mostly imports)."""
        running = {
            name: subprocess.Popen(
                [sys.executable, "-m", f"tally_{name}", "migrate"],
                env=self.env(name),
                stdout=subprocess.DEVNULL,
                stderr=(self.logs / f"{name}.log").open("ab"),
            )
            for name in SERVICES
        }
        failed = [name for name, process in running.items() if process.wait() != 0]
        if failed:
            raise RuntimeError(f"migrations failed for {', '.join(failed)}; see {self.logs}")

    def start_service(self, key: str) -> None:
        """Start one process. `key` is a service name, or `<name>-<n>` for a further replica of it,
        which runs beside the first on a port of its own (see `replica_url`)."""
        name = key.split("-", 1)[0]
        if key == "gateway":
            port = self.ports.gateway
        elif key == name:
            port = self.ports.services[name]
        else:
            port = self.replica_ports.setdefault(key, free_port())
        with (self.logs / f"{key}.log").open("ab") as log:
            self.processes[key] = subprocess.Popen(
                [sys.executable, "-m", f"tally_{name}", "serve", "--port", str(port)],
                env=self.env(name),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def replica_url(self, key: str) -> str:
        return f"http://127.0.0.1:{self.replica_ports[key]}"

    def wait_ready(self, timeout_s: float = 90.0, names: Sequence[str] = (*SERVICES, "gateway")) -> None:
        """Until each of `names` (services, "gateway") answers /readyz, or TimeoutError naming its log."""
        deadline = time.monotonic() + timeout_s
        targets = {n: self.url if n == "gateway" else self.service_url(n) for n in names}
        with httpx.Client(timeout=2.0) as client:
            for name, base in targets.items():
                wait_for_port(int(base.rsplit(":", 1)[1]), max(1.0, deadline - time.monotonic()))
                while True:
                    self._check_alive(name)
                    try:
                        if client.get(f"{base}/readyz").status_code == 200:
                            break
                    except httpx.HTTPError:
                        pass
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{name} is not ready; see {self.logs / (name + '.log')}")
                    time.sleep(0.2)

    def _check_alive(self, name: str) -> None:
        process = self.processes[name]
        if process.poll() is not None:
            tail = (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{tail}")

    # -- stop --------------------------------------------------------------------------------
    def stop_service(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(name, None)
        if process is None:
            return
        if process.poll() is None:
            os.killpg(process.pid, sig)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def stop(self, *, keep_postgres: bool = False) -> None:
        for key in sorted(self.processes, key=lambda k: k != "gateway"):  # the public entry first
            self.stop_service(key)
        self.stop_broker()
        if self.smtp is not None:
            self.smtp.stop()
            self.smtp = None
        if not keep_postgres:
            postgres.stop_embedded(self.data_dir / "postgres")

    def restart(self) -> None:
        self.stop()
        self.start()

    def exited(self) -> list[str]:
        return [name for name, p in self.processes.items() if p.poll() is not None]
