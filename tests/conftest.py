"""Cross-service tests: the whole stack as processes, driven only through the gateway."""

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tallystack.stack import Ports, Stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("stack"), Ports.free())
    try:
        running.start()
    except Exception:
        running.stop()
        raise
    yield running
    running.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (its own browser download does not work here).

    Module-scoped: Playwright's sync API keeps an event loop of its own on the main thread while it
    runs, which async tests elsewhere in the session must not meet."""
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        pytest.fail(
            "Chromium is needed for the web tests: `make test` installs it (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    folder = Path(__file__).parents[1] / "test-artifacts" / "screens"
    folder.mkdir(parents=True, exist_ok=True)
    return folder
