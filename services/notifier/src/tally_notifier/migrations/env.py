from tally_notifier.tables import metadata
from tallykit.migrations import run_env

run_env(metadata)
