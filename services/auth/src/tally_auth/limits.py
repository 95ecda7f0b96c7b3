"""Rate limits kept in the database, so that every replica counts the same attempts.

Fixed windows: a key (what is counted, e.g. `login-account:ada@example.com`) has a hit count and the
time its window ends. Each counter is updated in its own short transaction that commits even when the
request is then refused, so refused attempts count too.
"""

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from tally_auth.tables import rate_limits
from tallykit.db import Database
from tallykit.errors import TooManyRequests

_TOO_MANY = "too many attempts; try again later"


def _retry_after(window_ends_at: datetime, now: datetime) -> int:
    return max(1, math.ceil((window_ends_at - now).total_seconds()))


async def hit(db: Database, key: str, *, limit: int, window_s: int) -> None:
    """Counts one attempt; refuses it (429, Retry-After) when it is past the limit of its window."""
    now = datetime.now(UTC)
    fresh = rate_limits.c.window_ends_at <= now
    statement = (
        pg_insert(rate_limits)
        .values(key=key, hits=1, window_ends_at=now + timedelta(seconds=window_s))
        .on_conflict_do_update(
            index_elements=[rate_limits.c.key],
            set_={
                "hits": case((fresh, 1), else_=rate_limits.c.hits + 1),
                "window_ends_at": case(
                    (fresh, now + timedelta(seconds=window_s)), else_=rate_limits.c.window_ends_at
                ),
            },
        )
        .returning(rate_limits.c.hits, rate_limits.c.window_ends_at)
    )
    async with db.transaction() as session:
        row = (await session.execute(statement)).one()
    if row.hits > limit:
        raise TooManyRequests(_TOO_MANY, retry_after=_retry_after(row.window_ends_at, now))


async def check(db: Database, key: str, *, limit: int) -> None:
    """Refuses (429) when the key has already reached its limit in the current window; counts nothing."""
    now = datetime.now(UTC)
    async with db.read() as session:
        row = (
            await session.execute(
                select(rate_limits.c.hits, rate_limits.c.window_ends_at).where(rate_limits.c.key == key)
            )
        ).first()
    if row is not None and row.window_ends_at > now and row.hits >= limit:
        raise TooManyRequests(_TOO_MANY, retry_after=_retry_after(row.window_ends_at, now))


async def record(db: Database, key: str, *, window_s: int) -> None:
    """Counts one failure without refusing anything (the next `check` will)."""
    await hit(db, key, limit=1 << 62, window_s=window_s)


async def clear(db: Database, key: str) -> None:
    async with db.transaction() as session:
        await session.execute(delete(rate_limits).where(rate_limits.c.key == key))
