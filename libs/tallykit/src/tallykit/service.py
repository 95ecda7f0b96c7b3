"""What the command line of every service does: `python -m tally_<name> migrate | serve | republish`."""

import argparse
import asyncio
import gc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from tallykit import outbox
from tallykit.db import Database
from tallykit.logging import configure_logging, get_logger
from tallykit.migrations import upgrade
from tallykit.settings import ServiceSettings


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    settings: Callable[[], ServiceSettings]
    create_app: Callable[[Any], FastAPI]
    migrations_dir: Path
    default_port: int
    commands: dict[str, Callable[[Any], Any]] | None = None


def main(definition: ServiceDefinition, argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=f"tally-{definition.name}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="apply database migrations")
    serve = sub.add_parser("serve", help="run the HTTP service and its workers")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=definition.default_port)
    sub.add_parser("republish", help="have the relay publish the whole outbox again")
    for name in definition.commands or {}:
        sub.add_parser(name)
    args = parser.parse_args(argv)

    settings = definition.settings()
    configure_logging(settings)
    if args.command == "migrate":
        upgrade(settings.database_url.get_secret_value(), definition.migrations_dir)
    elif args.command == "serve":
        app = definition.create_app(settings)
        tune_garbage_collector()
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=10,
        )
    elif args.command == "republish":
        asyncio.run(_republish(settings))
    else:
        command = (definition.commands or {})[args.command]
        asyncio.run(command(settings))


async def _republish(settings: ServiceSettings) -> None:
    db = Database.from_settings(settings)
    try:
        get_logger(__name__).info("outbox_republishing", rows=await outbox.republish(db))
    finally:
        await db.dispose()


def tune_garbage_collector() -> None:
    """Once the service is built: what startup made (modules, schemas, routes) lives as long as the process,
    so it is frozen out of the collector's walks, and the young generation is collected every 10,000
    allocations instead of 700. A service allocates in bursts (a page of events, a statement of many
    rows) that make few reference cycles; with the defaults a statement import spent 60% of its Python
    time in the collector."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
