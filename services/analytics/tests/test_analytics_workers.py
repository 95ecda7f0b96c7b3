"""The analytics service process never imports what only its worker processes need (numpy, pandas,
Prophet, matplotlib): those stay out of an idle service's memory (tallykit.workers stops the workers)."""

import subprocess
import sys


def test_the_service_imports_neither_numpy_nor_prophet() -> None:
    probe = (
        "import sys, tally_analytics.main\n"
        "print(sorted(m for m in ('numpy', 'pandas', 'prophet', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"
