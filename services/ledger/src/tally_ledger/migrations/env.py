from tally_ledger.tables import metadata
from tallykit.migrations import run_env

run_env(metadata)
