"""Analytics under test: an in-process app on a fresh database, and a stand-in for the ledger that hands
its events straight to the analytics consumer (as Kafka would, without the broker)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest_asyncio

from tally_analytics.consumers import ledger_consumer
from tally_analytics.main import MIGRATIONS, create_app
from tally_analytics.settings import AnalyticsSettings
from tallykit.consumer import EventConsumer
from tallykit.contracts import registry
from tallykit.contracts.ledger import CategoryCreated, CategoryKind, TransactionKind, TransactionRecorded
from tallykit.events import SYSTEM, Envelope


@dataclass
class Analytics:
    client: httpx.AsyncClient
    consumer: EventConsumer
    headers: Callable[..., dict[str, str]]
    tenant: UUID

    def auth(self, tenant: UUID | None = None) -> dict[str, str]:
        return self.headers(uuid4(), tenant or self.tenant)

    async def deliver(self, envelope: Envelope) -> bool:
        return await self.consumer.handle(envelope.to_json())

    async def category(
        self, name: str, kind: str = "expense", tenant: UUID | None = None, category_id: UUID | None = None
    ) -> UUID:
        category_id = category_id or uuid4()
        payload = CategoryCreated(name=name, group="Everyday", kind=CategoryKind(kind))
        assert await self.deliver(
            registry.envelope(
                payload,
                tenant_id=tenant or self.tenant,
                stream_id=category_id,
                stream_version=1,
                actor=SYSTEM,
            )
        )
        return category_id

    async def record(
        self,
        kind: str,
        category_id: UUID | None,
        amount_minor: int,
        booked_on: date | None = None,
        currency: str = "EUR",
        tenant: UUID | None = None,
    ) -> Envelope:
        payload = TransactionRecorded(
            account_id=uuid4(),
            kind=TransactionKind(kind),
            amount_minor=amount_minor,
            currency=currency,
            category_id=category_id,
            booked_on=booked_on or datetime.now(UTC).date(),
        )
        envelope = registry.envelope(
            payload, tenant_id=tenant or self.tenant, stream_id=uuid4(), stream_version=1, actor=SYSTEM
        )
        assert await self.deliver(envelope)
        return envelope

    async def report(self, month: str | None = None, tenant: UUID | None = None) -> dict[str, Any]:
        params = {"month": month} if month else {}
        response = await self.client.get("/reports/monthly", params=params, headers=self.auth(tenant))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest_asyncio.fixture
async def analytics(
    service_client: Callable[..., Awaitable[httpx.AsyncClient]], token_minter: Any
) -> Analytics:
    client = await service_client(create_app, AnalyticsSettings, MIGRATIONS)
    app = client.app  # type: ignore[attr-defined]
    return Analytics(
        client=client,
        consumer=ledger_consumer(app.state.db, app.state.settings),
        headers=token_minter.headers,
        tenant=uuid4(),
    )
