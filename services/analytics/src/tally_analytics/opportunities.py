"""Savings opportunities read from the read model (`savings.find_opportunities` decides), for the
dashboard's `GET /savings`, and published once a month for the notifier's monthly digest.

The digest is the notifier's, the figures are analytics': rather than the notifier asking analytics
while it writes a digest (a synchronous call between services on a write path), analytics publishes
`analytics.SavingsOpportunitiesFound` for each household once its month has ended (in its time zone), and
the notifier keeps it with the rest of the digest's own read model. Exactly once per household and month,
across replicas and restarts: the publisher inserts (household, month) into `savings_months`, whose primary
key lets one insert win, and enqueues the event in the same transaction."""

import asyncio
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid5
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.ext.asyncio import AsyncSession

from tally_analytics import reports, store
from tally_analytics.savings import KnownSeries, add_months, find_opportunities, month_bounds
from tally_analytics.settings import AnalyticsSettings
from tallykit.contracts import registry
from tallykit.contracts.analytics import SavingsOpportunitiesFound, SavingsOpportunity
from tallykit.contracts.ledger import SeriesPeriod
from tallykit.db import Database
from tallykit.events import SYSTEM
from tallykit.logging import get_logger
from tallykit.outbox import enqueue
from tallykit.periodic import every

log = get_logger(__name__)
ANALYTICS_TOPIC = "analytics.events"
_MONTHS = UUID("6f0c8f0e-3a55-4d0e-9b1e-5a2a8f1d7c41")


def known_series(row: dict[str, Any]) -> KnownSeries:
    previous, stopped_after, last_paid_on = row["previous_minor"], row["stopped_after"], row["last_paid_on"]
    return KnownSeries(
        id=row["id"],
        name=row["name"] or row["payee"] or "?",
        payee=row["payee"] or "",
        expense=row["kind"] == "expense",
        period=SeriesPeriod(row["period"]),
        currency=row["currency"],
        amount_minor=int(row["amount_minor"]),
        previous_minor=None if previous is None else int(previous),
        price_on=row["price_on"] if previous is not None else None,
        first_on=row["first_on"],
        # Stopped unless a payment came after the stop was told (the ledger tells no resumption).
        stopped=stopped_after is not None and (last_paid_on is None or last_paid_on <= stopped_after),
        dismissed=bool(row["dismissed"]),
    )


async def opportunities(
    session: AsyncSession, tenant_id: UUID, currency: str, month: date
) -> list[SavingsOpportunity]:
    """The household's opportunities of `month` (any day of it) in `currency`."""
    first, last = month_bounds(month)
    start = add_months(first, -11)
    rows = await store.daily_category_rows(session, tenant_id, currency, start, last, "month")
    categories = await store.category_map(session, tenant_id)
    history_from = await store.first_flow_day(session, tenant_id, currency)
    series = [known_series(r) for r in await store.series_rows(session, tenant_id)]
    return find_opportunities(first, currency, categories, rows, history_from, series)


def month_ended(time_zone: str | None, now: datetime) -> str:
    """The latest month that has ended at `now` in the zone (YYYY-MM; a broken zone counts as UTC)."""
    try:
        today = now.astimezone(ZoneInfo(time_zone or "UTC")).date()
    except (ZoneInfoNotFoundError, ValueError):
        today = now.astimezone(UTC).date()
    return f"{add_months(today.replace(day=1), -1):%Y-%m}"


class SavingsPublisher:
    """Publishes each household's opportunities of the month that just ended, once."""

    def __init__(self, db: Database, settings: AnalyticsSettings) -> None:
        self.db = db
        self.settings = settings

    async def run(self, stop: asyncio.Event) -> None:
        await every(self.settings.savings_interval_s, lambda: self.tick(datetime.now(UTC)), stop,
                    failed="savings_publisher_failed")

    async def tick(self, now: datetime) -> int:
        """Publish every household's month that has ended and is not published yet; returns how many."""
        async with self.db.read() as session:
            homes = await store.households_with_zones(session)
            due = {tenant: month_ended(zone, now) for tenant, zone in homes}
            done = await store.published_savings_months(session, set(due.values()))
        published = 0
        for tenant, month in due.items():
            if (tenant, month) in done:
                continue
            async with self.db.transaction() as session:
                published += await self.publish(session, tenant, month, now)
        return published

    async def publish(self, session: AsyncSession, tenant_id: UUID, month: str, now: datetime) -> int:
        if not await store.claim_savings_month(session, tenant_id, month, now):
            return 0  # another replica, or an earlier round, published it
        ctx = await reports.context(session, tenant_id, None, list_currencies=False)
        found = await opportunities(session, tenant_id, ctx.currency, date.fromisoformat(f"{month}-01"))
        event = SavingsOpportunitiesFound(month=month, opportunities=tuple(found[:100]))
        await enqueue(
            session,
            ANALYTICS_TOPIC,
            [
                registry.envelope(
                    event,
                    tenant_id=tenant_id,
                    stream_id=uuid5(_MONTHS, f"{tenant_id}:{month}"),
                    stream_version=1,
                    actor=SYSTEM,
                )
            ],
        )
        log.info("savings_published", month=month, opportunities=len(found))
        return 1
