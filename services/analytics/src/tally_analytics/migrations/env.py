from tally_analytics.store import metadata
from tallykit.migrations import run_env

run_env(metadata)
