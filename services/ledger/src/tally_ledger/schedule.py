"""The old name of `due_dates` (issue #21: names say what a file holds), kept only for the callers outside
the ledger that still import `add_months` from it: bench/recurring_detection.py and
tests/test_web_recurring.py. Import `tally_ledger.due_dates`; delete this module once they do."""

from tally_ledger.due_dates import add_months

__all__ = ["add_months"]
