from tally_auth.tables import metadata
from tallykit.migrations import run_env

run_env(metadata)
