"""A burst applied together (tally_analytics.bursts) leaves exactly what the same events leave applied
one at a time: the read model, the journal, the inbox, unusual spending and what was published — also a
history's burst, its transfers among its purchases in one run, its years-old expenses not judged."""

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from aiokafka import ConsumerRecord
from sqlalchemy import text

from tally_analytics.consumers import ledger_consumer
from tally_analytics.main import MIGRATIONS, create_app
from tally_analytics.settings import AnalyticsSettings
from tallykit.consumer import EventConsumer
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

HOME, OTHER = uuid4(), uuid4()
CHECKING, SAVINGS = uuid4(), uuid4()
GROCERIES, DINING = uuid4(), uuid4()
# The burst is judged (this month); its usual range is last month's (tally_analytics.unusual).
THIS_MONTH = datetime.now(UTC).date().replace(day=1)
LAST_MONTH = (THIS_MONTH - timedelta(days=1)).replace(day=1)
YEARS_AGO = THIS_MONTH.replace(year=THIS_MONTH.year - 3)

# What each table holds, without what differs by design (when it was written, generated ids).
TABLES = {
    "flows": "SELECT * FROM flows",
    "tag_flows": "SELECT * FROM tag_flows",
    "balance_moves": "SELECT * FROM balance_moves",
    "journal": "SELECT tenant_id, event_id, event_type, envelope FROM journal",
    "unusual": "SELECT tenant_id, transaction_id, category_id, payee, amount_minor, typical_minor, reason"
               " FROM unusual",
    "inbox": "SELECT event_id, type, tenant_id FROM inbox",
    "published": "SELECT key, envelope->'type', envelope->'data', envelope->'causation_id' FROM outbox",
}


def _event(payload: EventPayload, stream: UUID | None = None, version: int = 1,
           tenant: UUID = HOME) -> Envelope:
    return registry.envelope(payload, tenant_id=tenant, stream_id=stream or uuid4(), stream_version=version,
                             actor=SYSTEM)


def _spend(amount: int, day: date, category: UUID | None = GROCERIES, payee: str = "Lidl",
           **kw: Any) -> TransactionRecorded:
    return TransactionRecorded(account_id=CHECKING, kind=TransactionKind.expense, amount_minor=amount,
                               currency="EUR", category_id=category, payee=payee, booked_on=day, **kw)


def _state(amount: int, day: date, payee: str) -> TransactionState:
    return TransactionState(account_id=CHECKING, kind=EntryKind.expense, amount_minor=amount, currency="EUR",
                            booked_on=day, category_id=GROCERIES, payee=payee)


def _scenario() -> tuple[list[Envelope], list[Envelope]]:
    """(what came before, one at a time; the burst)."""
    before = [
        _event(CategoryCreated(name="Groceries", group="Everyday", kind=CategoryKind.expense), GROCERIES),
        _event(CategoryCreated(name="Dining", group="Everyday", kind=CategoryKind.expense), DINING),
        # A usual range for groceries: ten amounts around 20.00, on other days and payees.
        *(_event(_spend(1_900 + 25 * n, LAST_MONTH.replace(day=1 + n), payee=f"Shop {n}"))
          for n in range(10)),
    ]
    bread, big, bigger = uuid4(), uuid4(), uuid4()
    first = _event(_spend(2_000, THIS_MONTH.replace(day=3), payee="Bakery"), bread)
    burst = [
        # A history's years-old purchases first, as an import brings them (transfers among them): a usual
        # range and a feast that would be unusual were it recent, and is not judged.
        *(_event(_spend(1_900 + 25 * n, YEARS_AGO.replace(day=1 + n), payee=f"Old shop {n}"))
          for n in range(10)),
        _event(TransferRecorded(from_account_id=CHECKING, to_account_id=SAVINGS, amount_minor=7_000,
                                currency="EUR", booked_on=YEARS_AGO.replace(day=11))),
        _event(_spend(50_000, YEARS_AGO.replace(day=12), payee="Feinkost")),
        first,
        first,  # delivered twice within the burst
        before[5],  # and one applied before it
        # Unusual; then a smaller one that the rollup (with the big one in it) judges by, and a split.
        _event(_spend(20_000, THIS_MONTH.replace(day=4), tags=("party",)), big),
        _event(_spend(2_100, THIS_MONTH.replace(day=4), payee="Bakery")),
        _event(_spend(10_000, THIS_MONTH.replace(day=5), category=None, payee="Costco",
                      splits=(Split(category_id=GROCERIES, amount_minor=6_000),
                              Split(category_id=DINING, amount_minor=4_000)))),
        # The record amended in the same burst, after it.
        _event(TransactionAmended(before=_state(2_000, THIS_MONTH.replace(day=3), "Bakery"),
                                  after=_state(2_400, THIS_MONTH.replace(day=6), "Baker")), bread, 2),
        # Another household's events between this one's.
        _event(CategoryCreated(name="Groceries", group="Everyday", kind=CategoryKind.expense), GROCERIES,
               tenant=OTHER),
        _event(_spend(99_000, THIS_MONTH.replace(day=4)), tenant=OTHER),
        _event(_spend(30_000, THIS_MONTH.replace(day=7)), bigger),
        _event(TransactionDeleted(before=_state(20_000, THIS_MONTH.replace(day=4), "Lidl")), big, 2),
        _event(TransferRecorded(from_account_id=CHECKING, to_account_id=SAVINGS, amount_minor=5_000,
                                currency="EUR", booked_on=THIS_MONTH.replace(day=8))),
        _event(_spend(3_000, THIS_MONTH.replace(day=9), category=DINING, payee="Pizza")),
        # The deleted one back (not judged again), and one judged with it in the rollup.
        _event(TransactionRestored(after=_state(20_000, THIS_MONTH.replace(day=4), "Lidl")), big, 3),
        _event(_spend(2_200, THIS_MONTH.replace(day=10), payee="Bakery")),
    ]
    return before, burst


def _records(envelopes: list[Envelope]) -> list[ConsumerRecord[Any, Any]]:
    return [ConsumerRecord("ledger.events", 0, n, 0, 0, str(e.tenant_id).encode(), e.to_json(), None, 0, 0,
                           [("tally-position", str(n + 100).encode())])
            for n, e in enumerate(envelopes)]


async def _tables(consumer: EventConsumer) -> dict[str, list[str]]:
    async with consumer.db.read() as session:
        return {name: sorted(repr(tuple(row)) for row in await session.execute(text(query)))
                for name, query in TABLES.items()}


async def test_a_burst_applied_together_equals_it_applied_one_at_a_time(service_client: Any) -> None:
    before, burst = _scenario()
    consumers = []
    for _ in range(2):
        client = await service_client(create_app, AnalyticsSettings, MIGRATIONS)
        consumer = ledger_consumer(client.app.state.db, client.app.state.settings)
        for envelope in before:
            assert await consumer.handle(envelope.to_json())
        consumers.append(consumer)
    one_at_a_time, together = consumers
    for record in _records(burst):
        await one_at_a_time.handle(record.value, position=one_at_a_time.position_of(record))
    assert await together.handle_together(_records(burst)) is True

    expected, got = await _tables(one_at_a_time), await _tables(together)
    assert got == expected
    # The scenario does what it says: one detection published and then dropped with its deletion, one
    # kept, duplicates skipped, the other household's rows apart.
    assert len(expected["published"]) == 2
    assert len(expected["unusual"]) == 1
    assert len(expected["inbox"]) == len(before) + len(burst) - 2
    assert any(str(OTHER) in row for row in expected["flows"])


async def test_a_historys_transfers_go_with_its_purchases_in_one_run(service_client: Any) -> None:
    """Purchases and transfers, interleaved as a history has them, are applied by the batch handler
    together: none goes alone through its one-at-a-time handler (a transfer used to cut the run)."""
    client = await service_client(create_app, AnalyticsSettings, MIGRATIONS)
    consumer = ledger_consumer(client.app.state.db, client.app.state.settings)

    async def alone(*_: Any) -> None:
        raise AssertionError("applied alone")

    for name in ("ledger.TransactionRecorded", "ledger.TransferRecorded"):
        consumer.handlers[name] = alone

    def transfer(day: date) -> Envelope:
        return _event(TransferRecorded(from_account_id=CHECKING, to_account_id=SAVINGS, amount_minor=1_000,
                                       currency="EUR", booked_on=day))

    days = [YEARS_AGO + timedelta(days=n) for n in range(4)]
    history = [_event(_spend(2_000, days[0])), transfer(days[0]), _event(_spend(2_100, days[1])),
               transfer(days[2]), transfer(days[2]), _event(_spend(2_200, days[3]))]
    assert await consumer.handle_together(_records(history)) is True
    tables = await _tables(consumer)
    assert len(tables["journal"]) == len(history)
    assert len(tables["balance_moves"]) == 4 + 2  # checking moved on four days, savings on two
