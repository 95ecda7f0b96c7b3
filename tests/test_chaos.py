"""Proof under fire, short form: 20 faults while households write, then nothing lost or doubled.

The harness is `tallystack.chaos` (a longer run: `uv run python -m tallystack.chaos --faults 100`).
It runs on a stack of its own: it kills services and the broker, which other tests must not meet."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tallystack.chaos import ChaosRun
from tallystack.stack import Ports, Stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("chaos"), Ports.free())
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.mark.timeout(600)  # about 3 minutes on 2 cores; the settle wait alone may take 2
def test_twenty_faults_lose_nothing_and_double_nothing(own_stack: Stack) -> None:
    report = ChaosRun(own_stack, households=3, faults=20, seed=20261122, progress=print).run()
    text = report.render()
    artifacts = Path(__file__).parents[1] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "chaos-report.md").write_text(text)
    assert len(report.faults) >= 20
    assert sum(report.counts.acknowledged.values()) > 50, text  # the writers really wrote during the run
    assert report.findings.ok, text
