"""A run of money events applied together (an import's burst: thousands of `TransactionRecorded`, a
history's transfers among them), to the very same read model as `projections.on_transaction_recorded` /
`on_event` applied one at a time:

- every money event (recorded, transfer, amended, deleted, restored) shares one batch handler, so a
  transfer among purchases does not cut the run in two (and go alone through the one-at-a-time path);
- the journal in one statement, the deltas summed per row and written once per household (sums commute);
- unusual spending judged event by event, in order, for the expenses recent enough to matter
  (`projections.to_judge`, on the household's today, read once per run), against a copy of the rollup
  rows they read (their categories and days, read once before the run's deltas are written) to which
  each event's deltas are added just before it is judged — what the stored rollup would hold at that
  moment one at a time. A history's years-old expenses are not judged: no copy is read for them;
- cached forecasts marked stale once per household; deleted transactions' detections dropped at once.
"""

from bisect import insort
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from tally_analytics import read_model, store, tables
from tally_analytics.domain import NO_CATEGORY, Deltas, FlowDelta
from tally_analytics.projections import (
    UNUSUAL_WINDOW_DAYS,
    _changed,
    detect_unusual,
    household_today,
    money_deltas,
    to_judge,
)
from tallykit.contracts.ledger import TransactionDeleted, TransactionRecorded
from tallykit.events import Envelope

Events = list[tuple[Envelope, Any]]

_JOURNAL = insert(tables.journal).on_conflict_do_nothing()


@dataclass
class RollupCopy:
    """One household's rollup rows (expense - income per day, account and payee) of some currencies and
    categories, over a range of days, kept in step with the events of a run as they are judged."""

    expected_keys: set[tuple[UUID, str]]
    # (currency, category) → day → (account, payee) → expense - income
    rows: dict[tuple[str, UUID], dict[date, dict[tuple[UUID, str], int]]] = field(default_factory=dict)
    days: dict[tuple[str, UUID], list[date]] = field(default_factory=dict)  # sorted days of `rows`

    def add(self, flows: list[FlowDelta]) -> None:
        for f in flows:
            by_day = self.rows.get((f.currency, f.category_id))
            if by_day is None:
                continue  # a category none of the run's expenses is judged on
            self._put(by_day, (f.currency, f.category_id), f.day, (f.account_id, f.payee),
                      f.expense_minor - f.income_minor)

    def _put(self, by_day: dict[date, dict[tuple[UUID, str], int]], key: tuple[str, UUID], day: date,
             row: tuple[UUID, str], value: int) -> None:
        cells = by_day.get(day)
        if cells is None:
            cells = by_day[day] = {}
            insort(self.days[key], day)
        cells[row] = cells.get(row, 0) + value

    async def expected(self, category_id: UUID, payee_key: str) -> bool:
        return (category_id, payee_key) in self.expected_keys

    async def amounts(self, currency: str, category_id: UUID, start: date, end: date) -> list[int]:
        key = (currency, category_id)
        by_day, days = self.rows[key], self.days[key]
        out: list[int] = []
        for day in days:  # sorted; the run's window is at most its days plus a year
            if day < start:
                continue
            if day > end:
                break
            out += [v for v in by_day[day].values() if v > 0]
        return out


async def rollup_copy(session: AsyncSession, tenant_id: UUID, events: Events) -> RollupCopy | None:
    """The rows the run's expenses are judged on, as stored before the run (None: nothing to judge)."""
    windows: dict[tuple[str, UUID], tuple[date, date]] = {}
    for _, payload in events:
        if not isinstance(payload, TransactionRecorded) or payload.kind.value != "expense":
            continue
        parts = [s.category_id for s in payload.splits] if payload.splits else [payload.category_id]
        for category_id in parts:
            if category_id is None or category_id == NO_CATEGORY:
                continue
            key = (payload.currency, category_id)
            first, last = windows.get(key, (payload.booked_on, payload.booked_on))
            windows[key] = (min(first, payload.booked_on), max(last, payload.booked_on))
    if not windows:
        return None
    copy = RollupCopy(await store.expected_keys(session, tenant_id))
    for key in windows:
        copy.rows[key], copy.days[key] = {}, []
    f = tables.flows.c
    start = min(first for first, _ in windows.values()) - timedelta(days=UNUSUAL_WINDOW_DAYS)
    end = max(last for _, last in windows.values())
    stored = await session.execute(
        select(f.currency, f.category_id, f.day, f.account_id, f.payee, f.expense_minor - f.income_minor)
        .where(f.tenant_id == tenant_id, f.day >= start, f.day <= end,
               tuple_(f.currency, f.category_id).in_(list(windows)))
    )
    for currency, category_id, day, account_id, payee, value in stored:
        key = (currency, category_id)
        copy._put(copy.rows[key], key, day, (account_id, payee), int(value))
    return copy


async def journal(session: AsyncSession, events: Events) -> None:
    await session.execute(_JOURNAL, [
        {"tenant_id": e.tenant_id, "event_id": e.id, "event_type": e.type,
         "envelope": e.model_dump(mode="json")}
        for e, _ in events
    ])


def _by_household(events: Events) -> dict[UUID, Events]:
    out: dict[UUID, Events] = defaultdict(list)
    for envelope, payload in events:
        out[envelope.tenant_id].append((envelope, payload))
    return out


async def money_events(session: AsyncSession, events: Events) -> None:
    """`on_transaction_recorded` / `on_event` for each transaction, transfer, amendment, deletion and
    restoration of the run, in a few statements."""
    await journal(session, events)
    for tenant_id, theirs in _by_household(events).items():
        each = [money_deltas(payload) or Deltas() for _, payload in theirs]
        today: date | None = None
        judged: list[int] = []  # positions in `theirs` of the expenses judged
        if any(isinstance(p, TransactionRecorded) and p.kind.value == "expense" for _, p in theirs):
            today = await household_today(session, tenant_id)
            judged = [n for n, (_, payload) in enumerate(theirs) if to_judge(payload, today)]
        # Read before the run's deltas are written: each event's are added to it in turn below.
        copy = await rollup_copy(session, tenant_id, [theirs[n] for n in judged]) if judged else None
        merged = Deltas()
        for deltas in each:
            merged.extend(deltas)
        await read_model.apply_deltas(session, tenant_id, merged)
        _changed(session, tenant_id)
        if copy is not None:
            wanted = set(judged)
            last = judged[-1] + 1  # nothing after the last one judged matters to the copy
            for n, ((envelope, payload), deltas) in enumerate(zip(theirs[:last], each[:last], strict=True)):
                copy.add(deltas.flows)
                if n in wanted:
                    await detect_unusual(session, envelope, payload, copy, today)
        deleted = [e.stream_id for e, p in theirs if isinstance(p, TransactionDeleted)]
        if deleted:
            await session.execute(delete(tables.unusual).where(
                tables.unusual.c.tenant_id == tenant_id, tables.unusual.c.transaction_id.in_(deleted)))


BATCH_HANDLERS = dict.fromkeys(
    ("ledger.TransactionRecorded", "ledger.TransferRecorded", "ledger.TransactionAmended",
     "ledger.TransactionDeleted", "ledger.TransactionRestored"),
    money_events,
)
