"""A burst of money events applied together (one upsert per table and household) leaves exactly the
spending and balances the same events leave applied one at a time."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from aiokafka import ConsumerRecord
from sqlalchemy import text

from tally_budget.consumers import ledger_consumer
from tally_budget.main import MIGRATIONS, create_app
from tally_budget.settings import BudgetSettings
from tallykit.contracts import registry
from tallykit.contracts.ledger import (
    CategoryCreated,
    CategoryKind,
    EntryKind,
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

if TYPE_CHECKING:
    from conftest import Budget

HOME, OTHER = uuid4(), uuid4()
CHECKING, SAVINGS = uuid4(), uuid4()
FUEL, FOOD, SALARY = uuid4(), uuid4(), uuid4()
TABLES = {
    "flows": "SELECT * FROM flows",
    "account_flows": "SELECT * FROM account_flows",
    "inbox": "SELECT event_id, type, tenant_id FROM inbox",
    "positions": "SELECT * FROM applied_positions",
}


def _event(payload: EventPayload, stream: UUID | None = None, version: int = 1,
           tenant: UUID = HOME) -> Envelope:
    return registry.envelope(payload, tenant_id=tenant, stream_id=stream or uuid4(), stream_version=version,
                             actor=SYSTEM)


def _spend(amount: int, day: date, category: UUID | None = FUEL, **kw: Any) -> TransactionRecorded:
    return TransactionRecorded(account_id=CHECKING, kind=TransactionKind(kw.pop("kind", "expense")),
                               amount_minor=amount, currency="EUR", category_id=category, booked_on=day, **kw)


def _state(amount: int, day: date, category: UUID = FUEL) -> TransactionState:
    return TransactionState(account_id=CHECKING, kind=EntryKind.expense, amount_minor=amount, currency="EUR",
                            booked_on=day, category_id=category)


def _records(envelopes: list[Envelope]) -> list[ConsumerRecord[Any, Any]]:
    return [ConsumerRecord("ledger.events", 0, n, 0, 0, str(e.tenant_id).encode(), e.to_json(), None, 0, 0,
                           [("tally-position", str(n + 100).encode())])
            for n, e in enumerate(envelopes)]


async def test_a_burst_applied_together_equals_it_applied_one_at_a_time(
    budget: Budget, service_client: Any
) -> None:
    before = [
        _event(CategoryCreated(name="Fuel", group="Car", kind=CategoryKind.expense), FUEL),
        _event(CategoryCreated(name="Food", group="Everyday", kind=CategoryKind.expense), FOOD),
        _event(CategoryCreated(name="Salary", group="Income", kind=CategoryKind.income), SALARY),
        _event(_spend(1_000, date(2025, 3, 1))),
    ]
    tank, shop = uuid4(), uuid4()
    first = _event(_spend(4_000, date(2025, 3, 2)), tank)
    burst = [
        first,
        first,  # delivered twice within the burst
        before[3],  # and one applied before it
        _event(_spend(300_000, date(2025, 3, 1), SALARY, kind="income")),
        _event(_spend(1_500, date(2025, 3, 3), FUEL, kind="income")),  # a refund
        _event(_spend(9_000, date(2025, 3, 3), None, splits=(Split(category_id=FUEL, amount_minor=5_000),
                                                            Split(category_id=FOOD, amount_minor=4_000)))),
        # The record amended after it, in the same burst, into another category and day.
        _event(TransactionAmended(before=_state(4_000, date(2025, 3, 2)),
                                  after=_state(4_500, date(2025, 3, 5), FOOD)), tank, 2),
        # Another household's events between this one's.
        _event(CategoryCreated(name="Fuel", group="Car", kind=CategoryKind.expense), FUEL, tenant=OTHER),
        _event(_spend(7_000, date(2025, 3, 2)), tenant=OTHER),
        _event(_spend(2_000, date(2025, 3, 4), FOOD), shop),
        _event(TransactionDeleted(before=_state(2_000, date(2025, 3, 4), FOOD)), shop, 2),
        _event(TransactionRestored(after=_state(2_000, date(2025, 3, 4), FOOD)), shop, 3),
        _event(TransferRecorded(from_account_id=CHECKING, to_account_id=SAVINGS, amount_minor=5_000,
                                currency="EUR", booked_on=date(2025, 3, 8))),
    ]
    client = await service_client(create_app, BudgetSettings, MIGRATIONS)
    app = client.app
    one_at_a_time = replace(budget, tenant=HOME)
    together = replace(budget, tenant=HOME, client=client,
                       consumer=ledger_consumer(app.state.db, app.state.settings))
    for service in (one_at_a_time, together):
        for envelope in before:
            assert await service.deliver(envelope)
        await service.set(FUEL, 10_000, effective_from="2025-01-01")
        await service.set(FOOD, 8_000, effective_from="2025-01-01")
    for record in _records(burst):
        await one_at_a_time.consumer.handle(record.value, position=one_at_a_time.consumer.position_of(record))
    assert await together.consumer.handle_together(_records(burst)) is True

    async def read_model(budget: Budget) -> dict[str, Any]:
        async with budget.db.read() as session:
            tables = {name: sorted(repr(tuple(row)) for row in await session.execute(text(query)))
                      for name, query in TABLES.items()}
        response = await budget.client.get("/budgets", params={"month": "2025-03"}, headers=budget.auth())
        assert response.status_code == 200, response.text
        tables["budgets"] = sorted((i["category_id"], i["spent_minor"], i["alerts"])
                                   for i in response.json()["items"])
        return tables

    expected = await read_model(one_at_a_time)
    assert await read_model(together) == expected
    assert expected["budgets"] == sorted([(str(FUEL), 1_000 + 5_000 - 1_500, []),
                                          (str(FOOD), 4_000 + 4_500 + 2_000, [80, 100])])
    assert len(expected["inbox"]) == len(before) + len(burst) - 2
    assert any(str(OTHER) in row for row in expected["flows"])
