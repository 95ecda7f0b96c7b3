"""One async engine per service and one way to run a unit of work.

Repositories and domain handlers never commit: `Database.transaction()` commits when its block ends
without an exception and rolls back otherwise. State, outbox rows and inbox rows written in the
block share that one transaction, which is what the outbox and inbox guarantees rest on.
"""

from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from functools import cache
from typing import Any

from sqlalchemy import Table, TableValuedAlias, bindparam, column, func, text
from sqlalchemy.dialects.postgresql import ARRAY, Insert, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.types import TypeEngine

from tallykit import commits, positions
from tallykit.settings import ServiceSettings


def async_url(url: str) -> str:
    """Accept plain `postgresql://` URLs too (embedded PostgreSQL hands those out)."""
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url.removeprefix("postgresql://")
    if url.startswith("postgres://"):
        return "postgresql+asyncpg://" + url.removeprefix("postgres://")
    return url


class Database:
    def __init__(self, url: str, *, pool_size: int = 5) -> None:
        self.engine: AsyncEngine = create_async_engine(
            async_url(url), pool_size=pool_size, pool_pre_ping=True, max_overflow=pool_size
        )
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._waiting: dict[str, list[Callable[[], None]]] = defaultdict(list)

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> "Database":
        return cls(settings.database_url.get_secret_value(), pool_size=settings.database_pool_size)

    def on_commit(self, what: str, call: Callable[[], None]) -> None:
        """Call `call` after each transaction that noted `what` (`tallykit.commits.note`) commits."""
        self._waiting[what].append(call)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            async with session.begin():
                yield session
            positions.committed(session)  # the request may now answer what it wrote (not on a rollback)
            for what in commits.taken(session):
                for call in self._waiting.get(what, ()):
                    call()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A session for queries only; whatever it did is rolled back at the end."""
        async with self._sessions() as session:
            try:
                yield session
            finally:
                await session.rollback()

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


async def driver_connection(session: AsyncSession) -> Any:
    """The asyncpg connection under a session, for what SQLAlchemy cannot send (COPY), inside the
    session's transaction. SQLAlchemy begins that transaction with its first statement: a COPY sent to
    the driver before any would run on its own and commit at once, whatever the unit of work did next."""
    connection = await session.connection()
    raw: Any = (await connection.get_raw_connection()).driver_connection
    if not raw.is_in_transaction():
        await session.execute(text("SELECT 1"))
    return raw


async def copy_records(session: AsyncSession, table: Table, columns: Sequence[str],
                       records: Sequence[tuple[Any, ...]]) -> None:
    """Insert many rows, laid out as tuples in the order of `columns`, with COPY in the session's
    transaction (an INSERT of thousands of rows spends most of its time binding parameters)."""
    if records:
        raw = await driver_connection(session)
        await raw.copy_records_to_table(table.name, columns=list(columns), records=records)


def unnested(name: str, columns: Sequence[tuple[str, TypeEngine[Any]]], *, numbered: bool = False
             ) -> TableValuedAlias:
    """Rows given as one array parameter per column (`<name>_<column>`, see `unnest_rows`), as a FROM item
    with typed columns (and `n`, their order from 1, when `numbered`). A statement built on it reads the
    same whatever the number of rows, so SQLAlchemy compiles it once and PostgreSQL prepares it once,
    where a VALUES list is a new statement for every count. (An array column cannot go this way: unnest
    would flatten it.)"""
    arrays = (bindparam(f"{name}_{c}", type_=ARRAY(t)) for c, t in columns)
    return func.unnest(*arrays).table_valued(
        *(column(c, t) for c, t in columns), with_ordinality="n" if numbered else None).render_derived(name)


def unnest_rows(name: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> dict[str, list[Any]]:
    """The parameters of `unnested(name, …)` for rows laid out in the order of `columns`."""
    return {f"{name}_{c}": [row[i] for row in rows] for i, c in enumerate(columns)}


@cache
def upsert_adding(table: Table, sums: tuple[str, ...]) -> Insert:
    """INSERT of rows keyed by `table`'s primary key, or, where the key is there already, `sums` added to
    its columns. Built once per table: a consumer runs it per event, and compiling it anew each time cost
    more than PostgreSQL's work. Execute it with a list of rows, or call `.values(rows)` for a
    multi-row statement (one statement may not touch a key twice)."""
    new = insert(table)
    return new.on_conflict_do_update(
        index_elements=list(table.primary_key.columns),
        set_={name: table.c[name] + new.excluded[name] for name in sums},
    )


@cache
def upsert_replacing(table: Table, columns: tuple[str, ...]) -> Insert:
    """INSERT of a row keyed by `table`'s primary key, or, where the key is there already, its `columns`
    set to the new row's (its other columns stay). Built once per table and columns, like
    `upsert_adding`; execute it with the row."""
    new = insert(table)
    return new.on_conflict_do_update(
        index_elements=list(table.primary_key.columns),
        set_={name: new.excluded[name] for name in columns},
    )
