"""Analytics under test: an in-process app on a fresh database, and a stand-in for the ledger that hands
its events straight to the analytics consumer (as Kafka would, without the broker)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import pytest_asyncio

from tally_analytics.consumers import ledger_consumer
from tally_analytics.main import MIGRATIONS, create_app
from tally_analytics.settings import AnalyticsSettings
from tallykit.consumer import EventConsumer
from tallykit.contracts import registry
from tallykit.contracts.ledger import (
    AccountKind,
    AccountOpened,
    CategoryCreated,
    CategoryKind,
    CategoryMerged,
    EntryKind,
    PayeeMerged,
    Split,
    TransactionAmended,
    TransactionDeleted,
    TransactionKind,
    TransactionRecorded,
    TransactionRestored,
    TransactionState,
    TransferRecorded,
)
from tallykit.events import SYSTEM, Envelope, EventPayload

CHECKING, SAVINGS, USD_ACCOUNT = uuid4(), uuid4(), uuid4()
GROCERIES, RENT, SALARY, DINING, SNACKS = uuid4(), uuid4(), uuid4(), uuid4(), uuid4()


def _tx(
    kind: str, amount: int, day: date, category: UUID | None, payee: str = "", **kw: Any
) -> TransactionRecorded:
    return TransactionRecorded(
        account_id=kw.pop("account", CHECKING),
        kind=TransactionKind(kind),
        amount_minor=amount,
        currency=kw.pop("currency", "EUR"),
        category_id=category,
        payee=payee,
        booked_on=day,
        **kw,
    )


def _household_events() -> list[tuple[EventPayload, UUID, int]]:
    """(payload, stream id, stream version) of the fixed household."""
    pizza, aldi, lost = uuid4(), uuid4(), uuid4()
    pizza_before = TransactionState(
        account_id=CHECKING,
        kind=EntryKind.expense,
        amount_minor=3_000,
        currency="EUR",
        booked_on=date(2025, 3, 20),
        category_id=DINING,
        payee="Pizza Place",
    )
    aldi_state = TransactionState(
        account_id=CHECKING,
        kind=EntryKind.expense,
        amount_minor=2_000,
        currency="EUR",
        booked_on=date(2025, 3, 21),
        category_id=GROCERIES,
        payee="Aldi",
    )
    lost_state = TransactionState(
        account_id=CHECKING,
        kind=EntryKind.expense,
        amount_minor=999,
        currency="EUR",
        booked_on=date(2025, 3, 22),
        payee="Mistake",
    )
    return [
        (
            AccountOpened(
                name="Checking", kind=AccountKind.checking, currency="EUR", opening_balance_minor=100_000
            ),
            CHECKING,
            1,
        ),
        (
            AccountOpened(
                name="Savings", kind=AccountKind.savings, currency="EUR", opening_balance_minor=500_000
            ),
            SAVINGS,
            1,
        ),
        (
            AccountOpened(name="Dollars", kind=AccountKind.checking, currency="USD", opening_balance_minor=0),
            USD_ACCOUNT,
            1,
        ),
        (CategoryCreated(name="Groceries", group="Everyday", kind=CategoryKind.expense), GROCERIES, 1),
        (CategoryCreated(name="Rent", group="Housing", kind=CategoryKind.expense), RENT, 1),
        (CategoryCreated(name="Salary", group="Income", kind=CategoryKind.income), SALARY, 1),
        (CategoryCreated(name="Dining", group="Everyday", kind=CategoryKind.expense), DINING, 1),
        (CategoryCreated(name="Snacks", group="Everyday", kind=CategoryKind.expense), SNACKS, 1),
        # Snacks was merged into Dining: what it counted is Dining's.
        (CategoryMerged(into_category_id=DINING), SNACKS, 2),
        # March 2024 (same period last year) and February 2025 (previous period).
        (_tx("expense", 4_000, date(2024, 3, 10), GROCERIES, "Lidl"), uuid4(), 1),
        (_tx("income", 300_000, date(2025, 2, 1), SALARY, "ACME"), uuid4(), 1),
        (_tx("expense", 5_000, date(2025, 2, 10), GROCERIES, "Lidl"), uuid4(), 1),
        # March 2025.
        (_tx("income", 300_000, date(2025, 3, 1), SALARY, "ACME"), uuid4(), 1),
        (_tx("expense", 120_000, date(2025, 3, 2), RENT, "Landlord"), uuid4(), 1),
        (_tx("expense", 8_000, date(2025, 3, 5), GROCERIES, "Lidl", tags=("food",)), uuid4(), 1),
        (_tx("income", 1_500, date(2025, 3, 6), GROCERIES, "Lidl"), uuid4(), 1),  # a refund
        (
            _tx(
                "expense",
                10_000,
                date(2025, 3, 10),
                None,
                "Costco",
                splits=(
                    Split(category_id=GROCERIES, amount_minor=6_000),
                    Split(category_id=SNACKS, amount_minor=4_000),
                ),
                tags=("food", "trip"),
            ),
            uuid4(),
            1,
        ),
        (
            TransferRecorded(
                from_account_id=CHECKING,
                to_account_id=SAVINGS,
                amount_minor=50_000,
                currency="EUR",
                booked_on=date(2025, 3, 15),
            ),
            uuid4(),
            1,
        ),
        (_tx("expense", 3_000, date(2025, 3, 20), DINING, "Pizza Place"), pizza, 1),
        (
            TransactionAmended(
                before=pizza_before,
                after=pizza_before.model_copy(update={"amount_minor": 3_500, "payee": "Pizzeria"}),
            ),
            pizza,
            2,
        ),
        (_tx("expense", 2_000, date(2025, 3, 21), GROCERIES, "Aldi"), aldi, 1),
        (TransactionDeleted(before=aldi_state), aldi, 2),
        (TransactionRestored(after=aldi_state), aldi, 3),
        (_tx("expense", 999, date(2025, 3, 22), None, "Mistake"), lost, 1),
        (TransactionDeleted(before=lost_state), lost, 2),
        (PayeeMerged(name="Aldi", into_name="Lidl"), uuid4(), 1),
        (
            _tx(
                "expense", 2_000, date(2025, 3, 5), GROCERIES, "Walmart", account=USD_ACCOUNT, currency="USD"
            ),
            uuid4(),
            1,
        ),
    ]


async def _deliver_all(
    analytics: Analytics, events: list[tuple[EventPayload, UUID, int]], tenant: UUID
) -> None:
    for payload, stream, version in events:
        await analytics.deliver(analytics.envelope(payload, stream, version, tenant=tenant))


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

    def envelope(
        self,
        payload: EventPayload,
        stream_id: UUID | None = None,
        version: int = 1,
        tenant: UUID | None = None,
    ) -> Envelope:
        return registry.envelope(
            payload,
            tenant_id=tenant or self.tenant,
            stream_id=stream_id or uuid4(),
            stream_version=version,
            actor=SYSTEM,
        )

    async def get(self, path: str, tenant: UUID | None = None, **params: Any) -> dict[str, Any]:
        response = await self.client.get(path, params=params, headers=self.auth(tenant))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

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


HouseholdEvents = list[tuple[EventPayload, UUID, int]]


@pytest.fixture
def household_events() -> HouseholdEvents:
    """The fixed household of the report tests (hand-computed figures in test_analytics_rollups)."""
    return _household_events()


Deliver = Callable[["Analytics", HouseholdEvents, UUID], Awaitable[None]]


@pytest.fixture
def deliver_all() -> Deliver:
    return _deliver_all
