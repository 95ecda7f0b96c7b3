"""Another app's SQLite file (an Actual budget, a GnuCash book), opened so that reading it can do no harm:
read-only and immutable (no journal, no lock, no write), with the schema's own code (triggers, views,
functions in its definitions) untrusted; and checked to have the tables and columns a reader needs."""

import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from pathlib import Path

from tally_ledger.history.model import HistoryError


@contextmanager
def opened(path: Path, where: str, *, any_thread: bool = False) -> Iterator[sqlite3.Connection]:
    """The file, rows by column name; HistoryError (at `where`) when it cannot be opened or read.
    `any_thread`: threads may use the connection in turn (never two at once)."""
    try:
        db = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True,
                             check_same_thread=not any_thread)
    except sqlite3.Error as exc:
        raise HistoryError(f"cannot be opened ({exc})", where) from exc
    with closing(db):
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA trusted_schema = OFF")
            yield db
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"cannot be read, it is damaged ({exc})", where) from exc


def tables(db: sqlite3.Connection) -> set[str]:
    return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row["name"] for row in db.execute(f"PRAGMA table_info({table})")}


def require(db: sqlite3.Connection, required: Mapping[str, Sequence[str]], *, what: str, since: str,
            where: str) -> None:
    """Every table and column a reader needs is there, else HistoryError saying the file is not `what`
    ("an Actual Budget database"), or one older than `since`."""
    missing = sorted(t for t in required if t not in tables(db))
    if missing:
        raise HistoryError(f"has no table {', '.join(missing)}: it is not {what}", where)
    for table, needed in required.items():
        absent = [c for c in needed if c not in columns(db, table)]
        if absent:
            raise HistoryError(f"table {table} has no column {', '.join(absent)}: not {what}, or one older "
                               f"than this reader knows ({since})", where)
