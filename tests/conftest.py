"""Cross-service tests: the whole stack as processes, driven only through the gateway."""

from collections.abc import Iterator

import pytest

from tallystack.stack import Ports, Stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("stack"), Ports.free())
    try:
        running.start()
    except Exception:
        running.stop()
        raise
    yield running
    running.stop()
