"""The client's plain-JavaScript unit tests (money, i18n, suggestions: web/tests/*.test.js) under Node."""

import shutil
import subprocess
from pathlib import Path

import pytest

WEB_TESTS = Path(__file__).parents[1] / "web" / "tests"


def test_web_unit_tests_pass() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed (apt-get install nodejs) to run web/tests/*.test.js")
    files = sorted(str(path) for path in WEB_TESTS.glob("*.test.js"))
    assert files, "no web unit tests found"
    result = subprocess.run(
        [node, "--test", *files], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
