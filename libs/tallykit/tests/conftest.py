from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest_asyncio

from tallykit.db import Database
from tallykit.settings import ServiceSettings

MIGRATIONS = Path(__file__).parent / "kit_migrations"


@pytest_asyncio.fixture
async def kit_db(make_database: Callable[[Path], Any]) -> AsyncIterator[tuple[str, Database]]:
    url = await make_database(MIGRATIONS)
    db = Database(url)
    yield url, db
    await db.dispose()


@pytest_asyncio.fixture
async def kit_settings(
    kit_db: tuple[str, Database], service_env: Callable[[str, str], dict[str, Any]]
) -> ServiceSettings:
    return ServiceSettings(**service_env(kit_db[0], "kit"))
