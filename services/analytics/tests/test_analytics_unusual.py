"""Irregular spending: a purchase far above its category's median (in MADs) is recorded and published
as analytics.UnusualSpendingDetected through the outbox, once; marked as expected, its pattern (category
and payee) stops alerting while other payees still do. Only recent spending is judged: a years-old
expense (a history import's) alerts nobody."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from aiokafka import ConsumerRecord
from sqlalchemy import select

from tally_analytics.domain import today_in
from tally_analytics.projections import household_today
from tally_analytics.unusual import judged_since, recent_enough
from tallykit.contracts.auth import TenantCreated
from tallykit.contracts.ledger import (
    EntryKind,
    TransactionDeleted,
    TransactionKind,
    TransactionRecorded,
    TransactionState,
)
from tallykit.events import Envelope
from tallykit.tables import outbox

if TYPE_CHECKING:
    from conftest import Analytics

ACCOUNT = uuid4()
# Twelve weeks ago: the purchases judged (weeks 10-12) are recent enough to be (tally_analytics.unusual).
START = datetime.now(UTC).date() - timedelta(weeks=12)


def spend(category: UUID, amount: int, day: date, payee: str) -> TransactionRecorded:
    return TransactionRecorded(
        account_id=ACCOUNT,
        kind=TransactionKind.expense,
        amount_minor=amount,
        currency="EUR",
        category_id=category,
        payee=payee,
        booked_on=day,
    )


async def published(analytics: Analytics) -> list[dict[str, Any]]:
    db = analytics.client.app.state.db  # type: ignore[attr-defined]
    async with db.read() as session:
        rows = await session.execute(select(outbox.c.topic, outbox.c.envelope).order_by(outbox.c.id))
    return [e for topic, e in rows if topic == "analytics.events" and e["tenant_id"] == str(analytics.tenant)]


async def test_unusual_spending_is_published_once_and_can_be_marked_expected(analytics: Analytics) -> None:
    groceries = await analytics.category("Groceries")
    weekly = [4_000, 4_500, 5_000, 5_200, 4_800, 3_900, 4_700, 5_100, 4_400, 4_900]
    for week, amount in enumerate(weekly):
        await analytics.deliver(
            analytics.envelope(spend(groceries, amount, START + timedelta(weeks=week), "Lidl"))
        )
    assert await published(analytics) == []  # usual amounts, and too little history at first

    big = analytics.envelope(spend(groceries, 25_000, START + timedelta(weeks=10), "Feinkost Käfer"))
    assert await analytics.deliver(big)
    assert not await analytics.deliver(big)  # a redelivery alerts nobody twice
    events = await published(analytics)
    assert [e["type"] for e in events] == ["analytics.UnusualSpendingDetected"]
    payload = events[0]["data"]
    assert payload["transaction_id"] == str(big.stream_id)
    assert payload["amount_minor"] == 25_000
    assert payload["typical_minor"] == 4_750
    assert payload["category_name"] == "Groceries"
    listed = await analytics.get("/unusual")
    assert [(u["payee"], u["expected"]) for u in listed] == [("Feinkost Käfer", False)]

    viewer = analytics.headers(uuid4(), analytics.tenant, "viewer")
    path = f"/unusual/{big.stream_id}/expected"
    assert (await analytics.client.post(path, headers=viewer)).status_code == 403
    assert (await analytics.client.post(path, headers=analytics.auth(uuid4()))).status_code == 404
    assert (
        await analytics.client.post(f"/unusual/{uuid4()}/expected", headers=analytics.auth())
    ).status_code == 404
    marked = await analytics.client.post(path, headers=analytics.auth())
    assert marked.status_code == 200
    assert marked.json()["expected"] is True

    # Unusual by every measure (above 1.5x the highest so far): only the expected pattern silences it.
    again = spend(groceries, 90_000, START + timedelta(weeks=11), "FEINKOST KÄFER")
    await analytics.deliver(analytics.envelope(again))
    assert len(await published(analytics)) == 1  # the pattern is expected now
    other = analytics.envelope(spend(groceries, 200_000, START + timedelta(weeks=12), "Delicatessen"))
    await analytics.deliver(other)
    assert len(await published(analytics)) == 2
    assert await analytics.get("/unusual", uuid4()) == []  # another household sees nothing

    state = TransactionState(
        account_id=ACCOUNT,
        kind=EntryKind.expense,
        amount_minor=200_000,
        currency="EUR",
        booked_on=START + timedelta(weeks=12),
        category_id=groceries,
        payee="Delicatessen",
    )
    await analytics.deliver(analytics.envelope(TransactionDeleted(before=state), other.stream_id, 2))
    assert [u["payee"] for u in await analytics.get("/unusual")] == ["Feinkost Käfer"]


def records(envelopes: list[Envelope]) -> list[ConsumerRecord[Any, Any]]:
    """Kafka records of one partition, as a poll hands a burst to the consumer."""
    return [
        ConsumerRecord("ledger.events", 0, n, 0, 0, str(e.tenant_id).encode(), e.to_json(), None, 0, 0, [])
        for n, e in enumerate(envelopes)
    ]


async def test_a_years_old_imported_expense_alerts_nobody_a_recent_one_does(analytics: Analytics) -> None:
    """A history import brings years of expenses: those booked before the previous month are not judged
    (one at a time or in a burst), while a recent one far above the same usual range still alerts."""
    groceries = await analytics.category("Groceries")
    weekly = [4_000, 4_500, 5_000, 5_200, 4_800, 3_900, 4_700, 5_100, 4_400, 4_900]
    years_ago = datetime.now(UTC).date() - timedelta(days=3 * 365)
    history = [analytics.envelope(spend(groceries, amount, years_ago + timedelta(weeks=week), "Lidl"))
               for week, amount in enumerate(weekly)]
    feast = analytics.envelope(spend(groceries, 25_000, years_ago + timedelta(weeks=10), "Feinkost Käfer"))
    assert await analytics.consumer.handle_together(records([*history, feast]))
    # And one at a time (a burst of one record), after the usual range is in the rollup.
    assert await analytics.deliver(
        analytics.envelope(spend(groceries, 90_000, years_ago + timedelta(weeks=11), "Delicatessen"))
    )
    assert await published(analytics) == []
    assert await analytics.get("/unusual") == []

    # The same weeks recently: the feast is news.
    for week, amount in enumerate(weekly):
        usual = spend(groceries, amount, START + timedelta(weeks=week), "Lidl")
        await analytics.deliver(analytics.envelope(usual))
    recent = analytics.envelope(spend(groceries, 25_000, START + timedelta(weeks=10), "Feinkost Käfer"))
    assert await analytics.deliver(recent)
    events = await published(analytics)
    assert [e["data"]["transaction_id"] for e in events] == [str(recent.stream_id)]
    assert [u["transaction_id"] for u in await analytics.get("/unusual")] == [str(recent.stream_id)]


def test_only_spending_of_this_month_and_the_one_before_is_judged() -> None:
    assert judged_since(date(2026, 3, 31)) == date(2026, 2, 1)
    assert judged_since(date(2026, 3, 1)) == date(2026, 2, 1)
    assert judged_since(date(2026, 1, 15)) == date(2025, 12, 1)
    today = date(2026, 3, 10)
    assert not recent_enough(date(2026, 1, 31), today)
    assert recent_enough(date(2026, 2, 1), today)
    assert recent_enough(date(2026, 3, 10), today)
    assert recent_enough(date(2026, 4, 2), today)  # booked ahead: judged like today's
    assert not recent_enough(date(2021, 3, 10), today)


async def test_the_households_own_calendar_says_what_is_recent(analytics: Analytics) -> None:
    """Today is the household's, in its time zone (UTC until analytics knows its settings)."""
    db = analytics.client.app.state.db  # type: ignore[attr-defined]
    async with db.read() as session:
        assert await household_today(session, analytics.tenant) == today_in("UTC")
    zone = "Pacific/Kiritimati"  # UTC+14: its today is often tomorrow in UTC
    created = TenantCreated(name="Far east", owner_user_id=uuid4(), base_currency="EUR", time_zone=zone)
    assert await analytics.deliver(analytics.envelope(created, analytics.tenant))
    async with db.read() as session:
        assert await household_today(session, analytics.tenant) == today_in(zone)
