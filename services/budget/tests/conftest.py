"""Budget service under test: an in-process app on a fresh database, and a stand-in for the ledger that
hands its events straight to the budget's consumer (as Kafka would, without the broker)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest_asyncio
from sqlalchemy import select

from tally_budget.consumers import ledger_consumer
from tally_budget.main import MIGRATIONS, create_app
from tally_budget.settings import BudgetSettings
from tallykit.consumer import EventConsumer
from tallykit.contracts import registry
from tallykit.contracts.ledger import CategoryCreated, CategoryKind, TransactionKind, TransactionRecorded
from tallykit.db import Database
from tallykit.events import SYSTEM, Envelope, EventPayload
from tallykit.tables import outbox


@dataclass
class Budget:
    client: httpx.AsyncClient
    consumer: EventConsumer
    headers: Callable[..., dict[str, str]]
    tenant: UUID
    user: UUID

    @staticmethod
    def today() -> date:
        return datetime.now(UTC).date()

    @property
    def db(self) -> Database:
        db: Database = self.client.app.state.db  # type: ignore[attr-defined]
        return db

    def auth(self, tenant: UUID | None = None, role: str = "owner") -> dict[str, str]:
        return self.headers(self.user, tenant or self.tenant, role)

    async def deliver(self, envelope: Envelope) -> bool:
        return await self.consumer.handle(envelope.to_json())

    async def category(
        self,
        name: str = "Groceries",
        kind: str = "expense",
        tenant: UUID | None = None,
        group: str = "Everyday",
    ) -> UUID:
        category_id = uuid4()
        payload = CategoryCreated(name=name, group=group, kind=CategoryKind(kind))
        await self.deliver(
            registry.envelope(
                payload,
                tenant_id=tenant or self.tenant,
                stream_id=category_id,
                stream_version=1,
                actor=SYSTEM,
            )
        )
        return category_id

    def transaction(
        self,
        category_id: UUID | None,
        amount_minor: int,
        *,
        currency: str = "EUR",
        booked_on: date | None = None,
        kind: str = "expense",
        tenant: UUID | None = None,
    ) -> Envelope:
        payload = TransactionRecorded(
            account_id=uuid4(),
            kind=TransactionKind(kind),
            amount_minor=amount_minor,
            currency=currency,
            category_id=category_id,
            booked_on=booked_on or self.today(),
        )
        return registry.envelope(
            payload,
            tenant_id=tenant or self.tenant,
            stream_id=uuid4(),
            stream_version=1,
            actor=str(self.user),
        )

    async def spend(self, category_id: UUID, amount_minor: int, **kwargs: Any) -> Envelope:
        envelope = self.transaction(category_id, amount_minor, **kwargs)
        assert await self.deliver(envelope)
        return envelope

    def event(self, payload: EventPayload, stream_id: UUID | None = None, version: int = 1) -> Envelope:
        """Any ledger (or auth) event of this tenant, as the ledger would publish it."""
        return registry.envelope(
            payload,
            tenant_id=self.tenant,
            stream_id=stream_id or uuid4(),
            stream_version=version,
            actor=str(self.user),
        )

    async def set(
        self, category_id: UUID, amount_minor: int, currency: str = "EUR", **extra: Any
    ) -> dict[str, Any]:
        """Set a budget; pace warnings are off unless asked for, so alert sequences depend only on the
        amounts spent (not on the day of the month the test runs)."""
        response = await self.client.post(
            "/budgets",
            headers=self.auth(),
            json={
                "category_id": str(category_id),
                "amount_minor": amount_minor,
                "currency": currency,
                "pace_alerts": False,
                **extra,
            },
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    async def published(self) -> list[dict[str, Any]]:
        """Envelopes in the outbox, in the order they will be published."""
        async with self.db.read() as session:
            rows = await session.execute(select(outbox.c.envelope).order_by(outbox.c.id))
            return [envelope for (envelope,) in rows]


@pytest_asyncio.fixture
async def budget(service_client: Callable[..., Awaitable[httpx.AsyncClient]], token_minter: Any) -> Budget:
    client = await service_client(create_app, BudgetSettings, MIGRATIONS)
    app = client.app  # type: ignore[attr-defined]
    return Budget(
        client=client,
        consumer=ledger_consumer(app.state.db, app.state.settings),
        headers=token_minter.headers,
        tenant=uuid4(),
        user=uuid4(),
    )
