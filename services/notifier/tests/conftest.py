"""Fixtures for the notifier's tests: a notifier on a fresh database and households that emit events."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import pytest
import pytest_asyncio
from sqlalchemy import select

from tally_notifier.consumers import build_consumer
from tally_notifier.main import MIGRATIONS, create_app
from tally_notifier.settings import NotifierSettings
from tally_notifier.tables import deliveries, notifications
from tallykit.consumer import EventConsumer
from tallykit.contracts import registry
from tallykit.contracts.auth import TenantCreated, UserRegistered
from tallykit.contracts.budget import BudgetExceeded, BudgetThresholdReached
from tallykit.events import SYSTEM, Envelope


@dataclass
class Household:
    name: str = "The Smiths"
    tenant_id: UUID = field(default_factory=uuid4)
    members: list[tuple[UUID, str, str]] = field(default_factory=list)

    def join(self, display_name: str) -> tuple[UUID, Envelope]:
        user_id = uuid4()
        email = f"{display_name.lower()}.{user_id.hex[:6]}@example.org"
        self.members.append((user_id, email, display_name))
        event = UserRegistered(user_id=user_id, email=email, display_name=display_name)
        return user_id, self._envelope(event, user_id)

    def created(self) -> Envelope:
        owner = self.members[0][0] if self.members else uuid4()
        return self._envelope(TenantCreated(name=self.name, owner_user_id=owner, base_currency="EUR"), owner)

    def alert(
        self,
        *,
        exceeded: bool = False,
        category: str = "Groceries",
        spent: int = 41250,
        budget: int = 50000,
        currency: str = "EUR",
        period: str = "2025-06",
    ) -> Envelope:
        kind = BudgetExceeded if exceeded else BudgetThresholdReached
        payload = kind(
            budget_id=uuid4(),
            category_id=uuid4(),
            category_name=category,
            period=period,
            threshold_percent=100 if exceeded else 80,
            spent_minor=spent,
            budget_minor=budget,
            currency=currency,
        )
        return registry.envelope(
            payload, tenant_id=self.tenant_id, stream_id=payload.budget_id, stream_version=1, actor=SYSTEM
        )

    def event(self, payload: Any, stream_id: UUID | None = None) -> Envelope:
        """Any contract payload, as its producer would publish it for this household."""
        return self._envelope(payload, stream_id or uuid4())

    def _envelope(self, payload: Any, stream_id: UUID) -> Envelope:
        return registry.envelope(
            payload, tenant_id=self.tenant_id, stream_id=stream_id, stream_version=1, actor=SYSTEM
        )


@pytest.fixture
def household() -> Callable[..., Household]:
    return Household


@pytest_asyncio.fixture
async def notifier(service_client: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """`client = await notifier(**settings_overrides)`."""

    async def make(**overrides: Any) -> Any:
        return await service_client(create_app, NotifierSettings, MIGRATIONS, **overrides)

    return make


def consumer_of(client: Any) -> EventConsumer:
    return build_consumer(client.app.state.db, client.app.state.settings)


@pytest.fixture
def feed() -> Callable[..., Awaitable[list[bool]]]:
    """`await feed(client, *envelopes)`: hand envelopes to the notifier's consumer, as Kafka would."""

    async def handle(client: Any, *envelopes: Envelope) -> list[bool]:
        consumer = consumer_of(client)
        return [await consumer.handle(e.to_json()) for e in envelopes]

    return handle


@pytest.fixture
def rows() -> Callable[..., Awaitable[dict[str, list[Any]]]]:
    """`await rows(client)` → {"notifications": [...], "deliveries": [...]} as they are in the database."""

    async def read(client: Any) -> dict[str, list[Any]]:
        async with client.app.state.db.read() as s:
            found = await s.execute(select(notifications).order_by(notifications.c.created_at))
            sent = await s.execute(
                select(deliveries).order_by(deliveries.c.created_at, deliveries.c.id)
            )
            return {"notifications": list(found.mappings()), "deliveries": list(sent.mappings())}

    return read
