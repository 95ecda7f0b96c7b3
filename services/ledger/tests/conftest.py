"""Fixtures of the ledger's tests: the service on a fresh database, households with tokens, and a way
to give a household its default categories the way production does (an auth.TenantCreated event)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import text

from tally_ledger.consumers import auth_events_consumer
from tally_ledger.main import MIGRATIONS, create_app
from tally_ledger.settings import LedgerSettings
from tallykit.consumer import EventConsumer
from tallykit.contracts import registry
from tallykit.contracts.auth import TenantCreated
from tallykit.events import Envelope
from tallystack.books import Books
from tallystack.tokens import TokenMinter


@dataclass(frozen=True)
class Household:
    tenant_id: UUID
    owner_id: UUID
    headers: dict[str, str]
    viewer_headers: dict[str, str]


@pytest.fixture
def household(token_minter: TokenMinter) -> Callable[[], Household]:
    def make() -> Household:
        tenant, owner = uuid4(), uuid4()
        return Household(tenant, owner, token_minter.headers(owner, tenant),
                         token_minter.headers(uuid4(), tenant, role="viewer"))

    return make


@pytest_asyncio.fixture
async def ledger(service_client: Callable[..., Awaitable[httpx.AsyncClient]]) -> httpx.AsyncClient:
    return await service_client(create_app, LedgerSettings, MIGRATIONS)


def _tenant_created(household: Household) -> Envelope:
    return registry.envelope(
        TenantCreated(name="Home", owner_user_id=household.owner_id, base_currency="EUR"),
        tenant_id=household.tenant_id, stream_id=household.tenant_id, stream_version=1,
        actor=str(household.owner_id),
    )


@pytest.fixture
def tenant_created() -> Callable[[Household], Envelope]:
    """A fresh auth.TenantCreated envelope for a household, as the auth service publishes it."""
    return _tenant_created


@pytest.fixture
def auth_consumer(ledger: httpx.AsyncClient) -> EventConsumer:
    """The ledger's consumer of auth.events, to be fed with `await auth_consumer.handle(raw)`."""
    app: Any = ledger.app  # type: ignore[attr-defined]
    return auth_events_consumer(app.state.db, app.state.settings)


@pytest.fixture
def give_defaults(
    ledger: httpx.AsyncClient, auth_consumer: EventConsumer
) -> Callable[[Household], Awaitable[dict[str, dict[str, Any]]]]:
    """Feed the household's TenantCreated to the ledger's consumer; returns its categories by name."""

    async def give(household: Household) -> dict[str, dict[str, Any]]:
        assert await auth_consumer.handle(_tenant_created(household).to_json()) is True
        response = await ledger.get("/categories", headers=household.headers)
        return {c["name"]: c for c in response.json()["items"]}

    return give


@pytest.fixture
def snapshot(ledger: httpx.AsyncClient) -> Callable[[], Awaitable[dict[str, list[dict[str, Any]]]]]:
    """Every row of the read models, the event store and the outbox, in a stable order."""

    async def take() -> dict[str, list[dict[str, Any]]]:
        app: Any = ledger.app  # type: ignore[attr-defined]
        tables = {"accounts": "id", "categories": "id", "transactions": "id",
                  "transaction_splits": "transaction_id, position", "payees": "tenant_id, key",
                  "event_store": "position", "outbox": "id"}
        result = {}
        async with app.state.db.read() as session:
            for table, order in tables.items():
                rows = await session.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))
                result[table] = [dict(r._mapping) for r in rows]
            stored = {r["event_id"]: r["envelope"] for r in result["event_store"]}
            for row in result["outbox"]:  # a row that names its stored event reads as the relay reads it
                row["envelope"] = row["envelope"] or stored.get(row["event_id"])
        return result

    return take


@pytest.fixture
def books(ledger: httpx.AsyncClient) -> Books:
    return Books(ledger)
