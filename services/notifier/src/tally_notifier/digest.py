"""The weekly and the monthly digest.

Built only from what the notifier itself received (its `rollup`: spending per budgeted category from
budget alerts, upcoming bills, unusual transactions, the month's savings opportunities from analytics) and
its own feed — it reads no other service's
data. Sent at `digest_hour` in each person's time zone: on Mondays for the week before, on the 1st for
the month before. Exactly once per person and period, across replicas and restarts: the scheduler first
inserts (tenant, user, kind, period) into `digests`, whose primary key lets only one insert win, and the
delivery it queues in the same transaction has an id derived from that key.

Plain-Python parts (`period_due`, `build_digest`) are tested without a database."""

import asyncio
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote
from uuid import UUID, uuid5

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tally_notifier import keys, store, tables, wording
from tally_notifier.domain import Channel, NotificationType, channel_enabled, zone
from tally_notifier.fanout import email_delivery, message_id, unsubscribe_url
from tally_notifier.reactions import UNNAMED_HOUSEHOLD
from tally_notifier.settings import NotifierSettings
from tally_notifier.templates import Digest, DigestSection, render_digest
from tallykit.db import Database
from tallykit.logging import get_logger
from tallykit.periodic import every

log = get_logger(__name__)
_DIGESTS = UUID("0b5d3c57-5f0e-4f7e-8d0c-7d1f0b9a4e21")


@dataclass(frozen=True)
class Period:
    kind: NotificationType
    key: str  # "2026-W46" or "2026-10"
    first: date  # inclusive, local
    last: date  # inclusive, local
    send_at: datetime  # UTC


def period_due(kind: NotificationType, now: datetime, time_zone: str, hour: int) -> Period:
    """The latest period whose digest is due at or before `now` (in the person's zone)."""
    tz = zone(time_zone)
    local = now.astimezone(tz)
    if kind is NotificationType.digest_weekly:
        monday = local.date() - timedelta(days=local.weekday())
        send = datetime.combine(monday, time(hour), tzinfo=tz)
        if send > local:
            monday -= timedelta(days=7)
            send = datetime.combine(monday, time(hour), tzinfo=tz)
        first = monday - timedelta(days=7)
        year, week, _ = first.isocalendar()
        return Period(kind, f"{year}-W{week:02d}", first, monday - timedelta(days=1), send.astimezone(UTC))
    first_of_month = local.date().replace(day=1)
    send = datetime.combine(first_of_month, time(hour), tzinfo=tz)
    if send > local:
        first_of_month = (first_of_month - timedelta(days=1)).replace(day=1)
        send = datetime.combine(first_of_month, time(hour), tzinfo=tz)
    last = first_of_month - timedelta(days=1)
    first = last.replace(day=1)
    return Period(kind, f"{first:%Y-%m}", first, last, send.astimezone(UTC))


def _months(first: date, last: date) -> set[str]:
    months, day = set(), first
    while day <= last:
        months.add(f"{day:%Y-%m}")
        day += timedelta(days=1)
    return months


def savings_section(
    found: Mapping[str, Any] | None, locale: str | None, public_url: str
) -> DigestSection | None:
    """The month's savings opportunities (`analytics.SavingsOpportunitiesFound` as the rollup keeps it),
    each with its figures and a link to its transactions; None when analytics has not told them (yet)."""
    if found is None:
        return None

    def w(key: str, **fields: object) -> str:
        return wording.words(locale, key, **fields)

    rows: list[tuple[str, str]] = []
    links: list[str | None] = []
    for o in found.get("opportunities", []):
        cur = o["currency"]

        def money(amount: int, cur: str = cur) -> str:
            return wording.money(int(amount), cur, locale)

        percent = w("savings_percent", percent=wording.number(int(o.get("change_percent") or 0), locale))
        if o["kind"] == "above_median":
            label = w("savings_above_median", name=o["name"], months=o["baseline_months"])
            value = w("savings_above_median_figures", amount=money(o["amount_minor"]),
                      median=money(o["baseline_minor"]), percent=percent)
        elif o["kind"] == "price_rise":
            label = w("savings_price_rise", name=o["name"],
                      day=wording.short_day(date.fromisoformat(o["changed_on"]), locale, year=True))
            value = w("savings_price_rise_figures", old=money(o["baseline_minor"]),
                      new=money(o["amount_minor"]), every=w(f"every_{o['period']}"),
                      yearly=money(o["yearly_minor"]), extra=money(o["extra_yearly_minor"]))
        elif o["kind"] == "duplicate":
            label = w("savings_duplicate", count=len(o["series"]), name=o["name"])
            each = ", ".join(f"{s['name']} {money(s['amount_minor'])} {w('every_' + s['period'])}"
                             for s in o["series"])
            value = w("savings_duplicate_figures", each=each, yearly=money(o["yearly_minor"]))
        elif o["kind"] == "fees":
            label = w("savings_fees", name=o["name"])
            value = w("savings_fees_figures", amount=money(o["amount_minor"]),
                      yearly=money(o["yearly_minor"]))
        else:
            continue  # a kind this notifier does not know yet
        rows.append((label, value))
        links.append(f"{public_url.rstrip('/')}/#/transactions?q={quote(o['query'], safe='')}"
                     if public_url and o.get("query") else None)
    return DigestSection(w("digest_savings"), rows, w("digest_no_savings"), links, w("savings_link"))


def build_digest(
    period: Period,
    rollup: Sequence[Mapping[str, Any]],
    alerts: Sequence[str],
    today: date,
    locale: str | None = None,
    public_url: str = "",
) -> Digest:
    """The digest's content from the rollup rows (`kind`, `day`, `data`) and the titles of the period's
    alerts (already in the person's language: they are their feed's titles), in `locale`'s language. A
    monthly digest lists the month's savings opportunities too, linked to the app at `public_url`."""
    months = _months(period.first, period.last)
    spending = [r["data"] for r in rollup if r["kind"] == "budget" and r["data"].get("period") in months]
    totals: dict[str, int] = defaultdict(int)
    for entry in spending:
        totals[entry["currency"]] += int(entry["spent_minor"])
    top = sorted(spending, key=lambda e: -int(e["spent_minor"]))[:5]
    at_risk = [e for e in spending if int(e["spent_minor"]) * 100 >= int(e["budget_minor"]) * 80]
    bills = sorted(
        (
            r["data"]
            for r in rollup
            if r["kind"] == "bill"
            and today <= date.fromisoformat(r["data"]["due_on"]) <= today + timedelta(days=14)
        ),
        key=lambda b: b["due_on"],
    )
    unusual = sum(1 for r in rollup if r["kind"] == "unusual" and period.first <= r["day"] <= period.last)

    def money(amount: int, currency: str) -> str:
        return wording.money(amount, currency, locale)

    def w(key: str, **fields: object) -> str:
        return wording.words(locale, key, **fields)

    word = "weekly" if period.kind is NotificationType.digest_weekly else "monthly"
    span = f"{wording.short_day(period.first, locale)} - {wording.short_day(period.last, locale, year=True)}"
    sections = [
        DigestSection(
            w("digest_spent"),
            [(w("digest_total", currency=c), money(a, c)) for c, a in sorted(totals.items())],
            w(f"digest_no_spending_{word}"),
        ),
        DigestSection(
            w("digest_top"),
            [(e["category"], money(int(e["spent_minor"]), e["currency"])) for e in top],
            w("digest_nothing"),
        ),
        DigestSection(
            w("digest_at_risk"),
            [
                (
                    e["category"],
                    w(
                        "digest_of",
                        spent=money(int(e["spent_minor"]), e["currency"]),
                        budget=money(int(e["budget_minor"]), e["currency"]),
                    ),
                )
                for e in at_risk
            ],
            w("digest_none_at_risk"),
        ),
        DigestSection(
            w("digest_bills"),
            [
                (
                    f"{b['name']} · {wording.short_day(date.fromisoformat(b['due_on']), locale)}",
                    money(int(b["amount_minor"]), b["currency"]),
                )
                for b in bills
            ],
            w("digest_no_bills"),
        ),
        DigestSection(
            w(f"digest_alerts_{word}"),
            [(title, "") for title in alerts[:10]]
            + ([(w("digest_unusual"), wording.number(unusual, locale))] if unusual else []),
            w("digest_no_alerts"),
        ),
    ]
    if period.kind is NotificationType.digest_monthly:
        savings = next((r["data"] for r in rollup if r["kind"] == "savings" and r["key"] == period.key), None)
        if (section := savings_section(savings, locale, public_url)) is not None:
            sections.append(section)
    return Digest(
        kind=period.kind,
        title=w(f"digest_title_{word}", span=span),
        intro=w("digest_intro", span=span),
        sections=sections,
        locale=locale or "en",
    )


class DigestScheduler:
    def __init__(self, db: Database, settings: NotifierSettings) -> None:
        self.db = db
        self.settings = settings

    async def run(self, stop: asyncio.Event) -> None:
        await every(self.settings.digest_poll_interval_s, lambda: self.tick(datetime.now(UTC)), stop,
                    failed="digest_scheduler_failed")

    async def tick(self, now: datetime) -> int:
        """Queue every digest that is due and not queued yet; returns how many were queued."""
        async with self.db.read() as session:
            people = list((await session.execute(select(tables.recipients))).mappings())
            # What is already queued (one read, not a transaction per person and minute); the insert in
            # `_queue` stays the arbiter between replicas.
            recent = await session.execute(
                select(
                    tables.digests.c.tenant_id,
                    tables.digests.c.user_id,
                    tables.digests.c.kind,
                    tables.digests.c.period,
                ).where(tables.digests.c.created_at > now - timedelta(days=40))
            )
            done = {tuple(row) for row in recent.all()}
        queued = 0
        for person in people:
            for kind in (NotificationType.digest_weekly, NotificationType.digest_monthly):
                period = period_due(kind, now, person["time_zone"], self.settings.digest_hour)
                if person["created_at"] >= period.send_at:
                    continue  # joined after this period's digest was due: start with the next one
                short = "weekly" if kind is NotificationType.digest_weekly else "monthly"
                if (person["tenant_id"], person["user_id"], short, period.key) in done:
                    continue
                async with self.db.transaction() as session:
                    queued += await self._queue(session, person, period, now)
        return queued

    async def _queue(self, session: AsyncSession, person: RowMapping, period: Period, now: datetime) -> int:
        tenant_id, user_id = person["tenant_id"], person["user_id"]
        overrides = await store.overrides_of(session, tenant_id, user_id)
        if not channel_enabled(period.kind, Channel.email, overrides):
            return 0
        kind = "weekly" if period.kind is NotificationType.digest_weekly else "monthly"
        won = await session.execute(
            pg_insert(tables.digests)
            .values(tenant_id=tenant_id, user_id=user_id, kind=kind, period=period.key)
            .on_conflict_do_nothing()
            .returning(tables.digests.c.period)
        )
        if won.first() is None:
            return 0  # another replica, or an earlier round, queued it
        found = await session.execute(select(tables.rollup).where(tables.rollup.c.tenant_id == tenant_id))
        rollup = [dict(r) for r in found.mappings()]
        tz = zone(person["time_zone"])
        starts = datetime.combine(period.first, time(0), tzinfo=tz)
        ends = datetime.combine(period.last + timedelta(days=1), time(0), tzinfo=tz)
        titles = await session.execute(
            select(tables.notifications.c.title)
            .where(
                tables.notifications.c.tenant_id == tenant_id,
                tables.notifications.c.user_id == user_id,
                tables.notifications.c.created_at >= starts,
                tables.notifications.c.created_at < ends,
                tables.notifications.c.type != NotificationType.summary.value,
            )
            .order_by(tables.notifications.c.created_at)
        )
        digest = build_digest(
            period, rollup, [t for (t,) in titles.all()], now.astimezone(tz).date(), person["locale"],
            self.settings.public_url,
        )
        household = await store.household_name(session, tenant_id) or UNNAMED_HOUSEHOLD
        the_keys = await keys.load(session, self.settings)
        unsubscribe = unsubscribe_url(
            self.settings.public_url, the_keys.unsubscribe, tenant_id, user_id, period.kind
        )
        email = render_digest(
            digest,
            display_name=person["display_name"],
            household=household,
            public_url=self.settings.public_url,
            unsubscribe_url=unsubscribe,
        )
        event_id = uuid5(_DIGESTS, f"{tenant_id}:{user_id}:{kind}:{period.key}")
        await store.add_delivery(
            session, delivery_id=uuid5(_DIGESTS, f"delivery:{event_id}"), tenant_id=tenant_id,
            event_id=event_id, recipient=user_id, channel=Channel.email.value, kind=period.kind.value,
            **email_delivery(email, address=person["email"], payload={"unsubscribe": unsubscribe},
                             message_id=message_id(event_id, user_id, self.settings.mail_from)),
        )
        log.info("digest_queued", kind=kind, period=period.key, user_id=str(user_id))
        return 1
