"""Alembic, the same way in every service: each service's `migrations/env.py` calls `run_env`."""

import asyncio
from pathlib import Path

from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from tallykit.db import async_url
from tallykit.tables import applied_positions, kit_metadata, relay_marks


def alembic_config(database_url: str, migrations_dir: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, migrations_dir: Path, revision: str = "head") -> None:
    """Migrate a database. Synchronous: call it from a thread when an event loop is running."""
    command.upgrade(alembic_config(database_url, migrations_dir), revision)


def run_env(target_metadata: MetaData) -> None:
    url = context.config.attributes.get("database_url")
    if not url:
        raise RuntimeError("migrations run through tallykit.migrations.upgrade, which passes the URL")

    def run(connection: Connection) -> None:
        context.configure(
            connection=connection, target_metadata=target_metadata, transaction_per_migration=True
        )
        with context.begin_transaction():
            context.run_migrations()

    async def main() -> None:
        engine = create_async_engine(async_url(url), poolclass=NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(run)
            await connection.commit()
        await engine.dispose()

    asyncio.run(main())


def create_kit_tables() -> None:
    """For a service's first migration: the outbox, inbox and event store tables of this kit."""
    kit_metadata.create_all(op.get_bind())


def add_positions() -> None:
    """For the migration that brings read-your-writes (tallykit.positions) to a service made before it:
    the `applied_positions` table and the outbox's index by household. A database made since has both
    from its first migration (`create_kit_tables`), hence the checks."""
    kit_metadata.create_all(op.get_bind(), tables=[applied_positions], checkfirst=True)
    op.execute("CREATE INDEX IF NOT EXISTS outbox_tenant_position ON outbox (key, id)")


def drop_positions() -> None:
    op.execute("DROP INDEX IF EXISTS outbox_tenant_position")
    op.execute("DROP TABLE IF EXISTS applied_positions")


def add_relay_marks() -> None:
    """For the migration that makes a restart of the local broker cost what was not applied yet, not the
    whole history (tallykit.settling): `relay_marks` and the outbox's index by publishing time. A
    database made since has both from its first migration, hence the checks."""
    kit_metadata.create_all(op.get_bind(), tables=[relay_marks], checkfirst=True)
    op.execute("CREATE INDEX IF NOT EXISTS outbox_published_at ON outbox (published_at)")


def drop_relay_marks() -> None:
    op.execute("DROP INDEX IF EXISTS outbox_published_at")
    op.execute("DROP TABLE IF EXISTS relay_marks")
