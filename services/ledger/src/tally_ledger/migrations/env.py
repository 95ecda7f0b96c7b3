from tally_ledger.store import metadata
from tallykit.migrations import run_env

run_env(metadata)
