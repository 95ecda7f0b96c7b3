"""The events services publish to each other: one registry, one module per producing service.

These payload models are the contract between services, so they live once, here. `docs/events.md`
is generated from this registry (and a test keeps it in step).
"""

from tallykit.events import EventRegistry

registry = EventRegistry()

# Importing the modules registers their events.
from tallykit.contracts import analytics, auth, budget, ledger  # noqa: E402

__all__ = ["analytics", "auth", "budget", "ledger", "registry"]
