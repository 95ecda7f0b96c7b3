"""The old name of `commands` (issue #21: names say what a file holds), kept only for the callers outside
the ledger that still import it: bench/ledger_search.py. Import `tally_ledger.commands`; delete this module
once that script does."""

from tally_ledger.commands import (
    NewEntry,
    create_default_categories,
    open_account,
    record_many,
    record_transaction,
)

__all__ = ["NewEntry", "create_default_categories", "open_account", "record_many", "record_transaction"]
