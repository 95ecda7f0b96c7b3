from tally_analytics.tables import metadata
from tallykit.migrations import run_env

run_env(metadata)
