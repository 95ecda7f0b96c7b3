"""GET /savings against a household built from ledger events (spending, and the recurring series the
ledger found, told, re-priced, stopped and dismissed): the opportunities with their figures and queries,
the same after a rebuild, nothing for another household, 422 for a bad month or currency; and the
monthly publication for the digest, once per household and month."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from sqlalchemy import select

from tally_analytics.opportunities import SavingsPublisher
from tallykit.contracts.ledger import (
    RecurringProposalDismissed,
    RecurringSeriesFound,
    RecurringSeriesPriceChanged,
    RecurringSeriesStopped,
    SeriesPeriod,
    TransactionKind,
    TransactionRecorded,
)
from tallykit.tables import outbox

if TYPE_CHECKING:
    from conftest import Analytics

ACCOUNT = uuid4()


def spend(category: UUID, amount: int, day: date, payee: str = "Shop") -> TransactionRecorded:
    return TransactionRecorded(account_id=ACCOUNT, kind=TransactionKind.expense, amount_minor=amount,
                               currency="EUR", category_id=category, payee=payee, booked_on=day)


def found(
    name: str, amount: int, previous: int | None = None, changed: date | None = None
) -> RecurringSeriesFound:
    return RecurringSeriesFound(
        name=name, payee=name, account_id=ACCOUNT, kind=TransactionKind.expense, period=SeriesPeriod.monthly,
        amount_minor=amount, currency="EUR", occurrences=6, first_on=date(2025, 8, 3),
        last_on=date(2026, 1, 3), next_on=date(2026, 2, 3), previous_amount_minor=previous,
        price_changed_on=changed,
    )


async def household(analytics: Analytics) -> None:
    groceries = await analytics.category("Groceries")
    fees = await analytics.category("Bank fees")
    for month, amount in zip(range(7, 13), [25_000, 27_000, 28_000, 28_000, 30_000, 31_000], strict=True):
        await analytics.deliver(analytics.envelope(spend(groceries, amount, date(2025, month, 10))))
    await analytics.deliver(analytics.envelope(spend(groceries, 41_200, date(2026, 1, 10))))
    await analytics.deliver(analytics.envelope(spend(fees, 1_250, date(2026, 1, 31), "Bank")))
    # A subscription found at 12.99, then re-priced at 15.99.
    streamflix = uuid4()
    await analytics.deliver(analytics.envelope(found("STREAMFLIX.COM", 1_299), streamflix, 1))
    await analytics.deliver(analytics.envelope(RecurringSeriesPriceChanged(
        name="STREAMFLIX.COM", payee="STREAMFLIX.COM", account_id=ACCOUNT, kind=TransactionKind.expense,
        period=SeriesPeriod.monthly, old_amount_minor=1_299, new_amount_minor=1_599, currency="EUR",
        changed_on=date(2025, 11, 3)), streamflix, 2))
    # Two subscriptions to one payee; a third that stopped; one whose proposal was dismissed.
    await analytics.deliver(analytics.envelope(found("Netflix", 1_299)))
    await analytics.deliver(analytics.envelope(found("NETFLIX.COM", 799)))
    stopped = uuid4()
    await analytics.deliver(analytics.envelope(found("netflix", 499), stopped, 1))
    await analytics.deliver(analytics.envelope(RecurringSeriesStopped(
        name="netflix", payee="netflix", account_id=ACCOUNT, kind=TransactionKind.expense,
        period=SeriesPeriod.monthly, amount_minor=499, currency="EUR", last_on=date(2026, 1, 3), missed=2),
        stopped, 2))
    dismissed = uuid4()
    await analytics.deliver(analytics.envelope(found("Cloud", 300, previous=200, changed=date(2025, 12, 1)),
                                               dismissed, 1))
    await analytics.deliver(analytics.envelope(RecurringProposalDismissed(), dismissed, 2))


def summary(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    return [(o["kind"], o["name"], o["amount_minor"], o["baseline_minor"], o["change_percent"],
             o["yearly_minor"], o["query"]) for o in body["opportunities"]]


EXPECTED = [
    ("above_median", "Groceries", 41_200, 28_000, 47, None, 'category:"Groceries" on:2026-01'),
    ("price_rise", "STREAMFLIX.COM", 1_599, 1_299, 23, 19_188, 'payee:"STREAMFLIX.COM" type:expense'),
    ("duplicate", "Netflix", 25_176, None, None, 25_176, 'payee:"Netflix" payee:"NETFLIX.COM" type:expense'),
    ("fees", "Bank fees", 1_250, None, None, 1_250, 'category:"Bank fees" on:2026-01'),
]


async def test_savings_opportunities_isolation_and_bad_input(analytics: Analytics) -> None:
    await household(analytics)
    body = await analytics.get("/savings", month="2026-01")
    assert (body["month"], body["currency"], body["history_from"]) == ("2026-01", "EUR", "2025-07-10")
    assert summary(body) == EXPECTED
    duplicate = body["opportunities"][2]
    assert [(s["name"], s["amount_minor"], s["yearly_minor"]) for s in duplicate["series"]] == [
        ("Netflix", 1_299, 15_588), ("NETFLIX.COM", 799, 9_588)]
    assert body["opportunities"][1]["extra_yearly_minor"] == 3_600
    assert body["opportunities"][1]["changed_on"] == "2025-11-03"

    # A month with less history before it: no median yet, the rest stays.
    earlier = await analytics.get("/savings", month="2025-12")
    assert [o["kind"] for o in earlier["opportunities"]] == ["price_rise", "duplicate"]

    # The same after the read model is rebuilt from its journal (another order of the same events).
    rebuilt = await analytics.client.post("/rebuild", headers=analytics.auth())
    assert rebuilt.status_code == 200, rebuilt.text
    assert summary(await analytics.get("/savings", month="2026-01")) == EXPECTED

    # Another household sees nothing of it.
    other = await analytics.get("/savings", tenant=uuid4(), month="2026-01")
    assert (other["opportunities"], other["history_from"]) == ([], None)

    for params in ({"month": "2026-13"}, {"month": "January"}, {"month": "0000-01"}, {"currency": "eur"}):
        response = await analytics.client.get("/savings", params=params, headers=analytics.auth())
        assert response.status_code == 422, (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert (await analytics.client.get("/savings")).status_code == 401


async def test_each_households_month_is_published_once(analytics: Analytics) -> None:
    await household(analytics)
    app = analytics.client.app  # type: ignore[attr-defined]
    publisher = SavingsPublisher(app.state.db, app.state.settings)
    # 1 February 2026 in the household's zone (UTC: none known): January has ended.
    now = datetime(2026, 2, 1, 0, 5, tzinfo=UTC)
    assert await publisher.tick(now) == 1
    assert await publisher.tick(now) == 0  # once, however often it looks
    assert await SavingsPublisher(app.state.db, app.state.settings).tick(now) == 0  # another replica
    async with app.state.db.read() as session:
        rows = await session.execute(select(outbox.c.envelope).where(outbox.c.topic == "analytics.events"))
        events = [e for (e,) in rows if e["type"] == "analytics.SavingsOpportunitiesFound"]
    [event] = events
    assert event["tenant_id"] == str(analytics.tenant)
    assert event["data"]["month"] == "2026-01"
    assert summary(event["data"]) == EXPECTED
    assert await publisher.tick(datetime(2026, 3, 1, 0, 5, tzinfo=UTC)) == 1  # February's, in March


async def test_series_the_ledger_finds_leave_cached_forecasts_good(analytics: Analytics) -> None:
    from tally_analytics import store

    groceries = await analytics.category("Groceries")
    await analytics.deliver(analytics.envelope(spend(groceries, 2_500, date(2026, 1, 10))))
    db = analytics.client._transport.app.state.db  # type: ignore[attr-defined]

    async def generation() -> int:
        async with db.read() as session:
            return await store.generation(session, analytics.tenant)

    before = await generation()
    series = uuid4()
    await analytics.deliver(analytics.envelope(found("STREAMFLIX.COM", 1_299), series, 1))
    await analytics.deliver(analytics.envelope(RecurringProposalDismissed(), series, 2))
    assert await generation() == before  # a series found and dismissed: forecasts unchanged
    await analytics.deliver(analytics.envelope(spend(groceries, 1_000, date(2026, 1, 11))))
    assert await generation() > before  # money moved: forecasts are fitted again
