"""What a unit of work tells others once it commits: a transaction notes what it wrote (outbox rows,
deliveries due now), and `Database.transaction` calls whoever waits for that after the commit — not on a
rollback. The outbox relay and the notifier's dispatcher wake this way instead of at their next poll."""

from sqlalchemy.ext.asyncio import AsyncSession

OUTBOX = "outbox"  # outbox rows: the service's relay publishes them
_NOTED = "tally_committed_notes"


def note(session: AsyncSession, what: str) -> None:
    """Once this session's transaction commits, tell those waiting for `what` (`Database.on_commit`)."""
    session.info.setdefault(_NOTED, set()).add(what)


def taken(session: AsyncSession) -> set[str]:
    """What the session's transaction noted, forgotten from it (called after its commit)."""
    noted: set[str] = session.info.pop(_NOTED, set())
    return noted
