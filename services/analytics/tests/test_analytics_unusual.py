"""Irregular spending: a purchase far above its category's median (in MADs) is recorded and published
as analytics.UnusualSpendingDetected through the outbox, once; marked as expected, its pattern (category
and payee) stops alerting while other payees still do."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from sqlalchemy import select

from tallykit.contracts.ledger import (
    EntryKind,
    TransactionDeleted,
    TransactionKind,
    TransactionRecorded,
    TransactionState,
)
from tallykit.tables import outbox

if TYPE_CHECKING:
    from conftest import Analytics

ACCOUNT = uuid4()
START = date(2025, 1, 6)


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
