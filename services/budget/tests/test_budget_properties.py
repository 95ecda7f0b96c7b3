"""Property tests: whatever ledger events arrive, in whatever order, however often, spent per budget
period equals a from-scratch computation over the final ledger, and each threshold alert fires at most
once per crossing. The pure rules get hundreds of examples; the service on its database a few."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from tally_budget import domain
from tally_budget.flows import deltas_of
from tally_budget.periods import PeriodKind, PeriodSpec, period_containing, periods_between
from tallykit.contracts.ledger import (
    CategoryCreated,
    CategoryKind,
    CategoryMerged,
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
from tallykit.events import EventPayload

if TYPE_CHECKING:
    from conftest import Budget

FIRST_DAY = date(2025, 1, 1)
DAYS = 80
A, B, C, INCOME = (UUID(int=n) for n in (101, 102, 103, 104))  # A and B in "Food", C in "Home"
GROUPS = {A: "Food", B: "Food", C: "Home"}
CHECKING, SAVINGS = UUID(int=201), UUID(int=202)
CURRENCY = "EUR"


@dataclass
class Scenario:
    events: list[tuple[UUID, int, EventPayload]]  # (stream id, stream version, payload) in ledger order
    final: dict[UUID, TransactionState | None]  # transaction id → its state now (None: deleted)
    merged: bool  # A was merged into B
    delivery: list[int] = field(default_factory=list)  # indexes into events: shuffled, some twice

    def spent_from_scratch(self) -> dict[tuple[UUID, date], int]:
        """Spending per (category, day) over the final ledger: expenses count, incomes on an expense
        category are refunds (negative), transfers never count; a merged category counts on its target."""
        totals: dict[tuple[UUID, date], int] = defaultdict(int)
        for state in self.final.values():
            if state is None or state.kind == EntryKind.transfer:
                continue
            sign = 1 if state.kind == EntryKind.expense else -1
            parts = [(s.category_id, s.amount_minor) for s in state.splits] or [
                (state.category_id, state.amount_minor)
            ]
            for category, amount in parts:
                if category is None or category == INCOME:
                    continue
                if self.merged and category == A:
                    category = B
                totals[(category, state.booked_on)] += sign * amount
        return totals

    def balance_from_scratch(self, account: UUID) -> int:
        total = 0
        for state in self.final.values():
            if state is None:
                continue
            if state.kind == EntryKind.transfer:
                total += -state.amount_minor if state.account_id == account else 0
                total += state.amount_minor if state.counter_account_id == account else 0
            elif state.account_id == account:
                total += state.amount_minor if state.kind == EntryKind.income else -state.amount_minor
        return total


amounts = st.integers(min_value=1, max_value=5_000)
days = st.integers(min_value=0, max_value=DAYS - 1).map(lambda n: FIRST_DAY + timedelta(days=n))


@st.composite
def entry_states(draw: st.DrawFn, merged: bool) -> TransactionState:
    """An expense (one category or split), an income (salary, uncategorised, or a refund on an
    expense category)."""
    expense_categories = [B, C] if merged else [A, B, C]
    kind = draw(st.sampled_from([EntryKind.expense, EntryKind.expense, EntryKind.income]))
    day = draw(days)
    if kind == EntryKind.expense and draw(st.booleans()):
        first, second = draw(st.permutations(expense_categories))[:2]
        a, b = draw(amounts), draw(amounts)
        return TransactionState(
            account_id=CHECKING,
            kind=kind,
            amount_minor=a + b,
            currency=CURRENCY,
            booked_on=day,
            splits=(Split(category_id=first, amount_minor=a), Split(category_id=second, amount_minor=b)),
        )
    if kind == EntryKind.expense:
        category: UUID | None = draw(st.sampled_from(expense_categories))
    else:
        category = draw(st.sampled_from([INCOME, None, *expense_categories]))
    return TransactionState(
        account_id=CHECKING,
        kind=kind,
        amount_minor=draw(amounts),
        currency=CURRENCY,
        booked_on=day,
        category_id=category,
    )


@st.composite
def scenarios(draw: st.DrawFn, max_steps: int = 25) -> Scenario:
    events: list[tuple[UUID, int, EventPayload]] = []
    current: dict[UUID, TransactionState] = {}  # last known state, deleted or not
    alive: dict[UUID, bool] = {}
    versions: dict[UUID, int] = {}
    merged = False
    for step in range(draw(st.integers(min_value=1, max_value=max_steps))):
        action = draw(
            st.sampled_from(["record", "record", "transfer", "amend", "delete", "restore", "merge"])
        )
        existing = sorted(current)
        if action in ("amend", "delete", "restore") and not existing:
            action = "record"
        if action == "record":
            tx = UUID(int=10_000 + step)
            state = draw(entry_states(merged))
            payload: EventPayload = TransactionRecorded(
                account_id=state.account_id,
                kind=TransactionKind(state.kind.value),
                amount_minor=state.amount_minor,
                currency=state.currency,
                category_id=state.category_id,
                booked_on=state.booked_on,
                splits=state.splits,
            )
            current[tx], alive[tx], versions[tx] = state, True, 1
            events.append((tx, 1, payload))
        elif action == "transfer":
            tx = UUID(int=10_000 + step)
            amount, day = draw(amounts), draw(days)
            current[tx] = TransactionState(
                account_id=CHECKING,
                counter_account_id=SAVINGS,
                kind=EntryKind.transfer,
                amount_minor=amount,
                currency=CURRENCY,
                booked_on=day,
            )
            alive[tx], versions[tx] = True, 1
            payload = TransferRecorded(
                from_account_id=CHECKING,
                to_account_id=SAVINGS,
                amount_minor=amount,
                currency=CURRENCY,
                booked_on=day,
            )
            events.append((tx, 1, payload))
        elif action == "merge":
            if merged:
                continue
            merged = True
            events.append((A, 2, CategoryMerged(into_category_id=B)))
        else:
            tx = draw(st.sampled_from(existing))
            before = current[tx]
            if action == "amend" and alive[tx]:
                if before.kind == EntryKind.transfer:
                    after = before.model_copy(update={"amount_minor": draw(amounts), "booked_on": draw(days)})
                else:
                    after = draw(entry_states(merged))
                payload = TransactionAmended(before=before, after=after)
                current[tx] = after
            elif action == "delete" and alive[tx]:
                payload = TransactionDeleted(before=before)
                alive[tx] = False
            elif action == "restore" and not alive[tx]:
                payload = TransactionRestored(after=before)
                alive[tx] = True
            else:
                continue
            versions[tx] += 1
            events.append((tx, versions[tx], payload))
    if not events:
        tx = UUID(int=9_999)
        state = draw(entry_states(merged))
        events.append(
            (
                tx,
                1,
                TransactionRecorded(
                    account_id=CHECKING,
                    kind=TransactionKind(state.kind.value),
                    amount_minor=state.amount_minor,
                    currency=CURRENCY,
                    category_id=state.category_id,
                    booked_on=state.booked_on,
                    splits=state.splits,
                ),
            )
        )
        current[tx], alive[tx] = state, True
    order = draw(st.permutations(range(len(events))))
    duplicates = draw(st.lists(st.integers(min_value=0, max_value=len(events) - 1), max_size=5))
    delivery = list(order)
    for index in duplicates:
        delivery.insert(draw(st.integers(min_value=0, max_value=len(delivery))), index)
    return Scenario(
        events=events,
        final={tx: (state if alive[tx] else None) for tx, state in current.items()},
        merged=merged,
        delivery=delivery,
    )


# --- the properties ---------------------------------------------------------------------------------------

SPECS = [
    PeriodSpec(PeriodKind.week, week_start="monday"),
    PeriodSpec(PeriodKind.week, week_start="sunday"),
    PeriodSpec(PeriodKind.fortnight, anchor=date(2025, 1, 3)),
    PeriodSpec(PeriodKind.month),
    PeriodSpec(PeriodKind.month, start_day=25),
    PeriodSpec(PeriodKind.quarter),
    PeriodSpec(PeriodKind.year),
]
TARGETS = [
    domain.Target(category_id=A),
    domain.Target(category_id=B),
    domain.Target(category_id=C),
    domain.Target(group="Food"),
    domain.Target(group="Home"),
]
INFOS = {
    A: domain.CategoryInfo("Groceries", "Food", "expense"),
    B: domain.CategoryInfo("Eating out", "Food", "expense"),
    C: domain.CategoryInfo("Repairs", "Home", "expense"),
    INCOME: domain.CategoryInfo("Salary", "Income", "income"),
}


class Projection:
    """The service's projection without the database: deltas added up per (category, day), balances per
    account, an inbox of handled event ids, merges as they arrive."""

    def __init__(self) -> None:
        self.flows: dict[tuple[UUID, date], int] = defaultdict(int)
        self.balances: dict[UUID, int] = defaultdict(int)
        self.merges: dict[UUID, UUID] = {}
        self.inbox: set[int] = set()

    def deliver(self, index: int, stream_id: UUID, payload: object) -> bool:
        if index in self.inbox:  # the event id was handled already
            return False
        self.inbox.add(index)
        if isinstance(payload, CategoryMerged):
            self.merges[stream_id] = payload.into_category_id
            return True
        deltas = deltas_of(payload)  # type: ignore[arg-type]
        for flow in deltas.categories:
            self.flows[(flow.category_id, flow.day)] += flow.outflow_minor - flow.inflow_minor
        for account in deltas.accounts:
            self.balances[account.account_id] += account.amount_minor
        return True

    def spent(self, target: domain.Target, first: date, last: date) -> int:
        known = {category for category, _ in self.flows}
        members = domain.members(target, known, INFOS, self.merges)
        return sum(v for (c, d), v in self.flows.items() if c in members and first <= d <= last)


def expected_spent(scenario: Scenario, target: domain.Target, first: date, last: date) -> int:
    if target.category_id is not None:
        wanted = {target.category_id}
    else:
        wanted = {c for c, g in GROUPS.items() if g == target.group}
    if scenario.merged and target.category_id == A:
        wanted = set()  # its spending counts on B now
    return sum(v for (c, d), v in scenario.spent_from_scratch().items() if c in wanted and first <= d <= last)


def deliver_all(scenario: Scenario) -> Projection:
    projection = Projection()
    for index in scenario.delivery:
        stream_id, _, payload = scenario.events[index]
        projection.deliver(index, stream_id, payload)
    return projection


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_spent_per_period_equals_a_computation_from_scratch(scenario: Scenario) -> None:
    projection = deliver_all(scenario)
    last_day = FIRST_DAY + timedelta(days=DAYS)
    for spec in SPECS:
        for period in periods_between(spec, FIRST_DAY, last_day):
            for target in TARGETS:
                assert projection.spent(target, period.start, period.end) == expected_spent(
                    scenario, target, period.start, period.end
                ), (spec, period, target)
    assert projection.balances[CHECKING] == scenario.balance_from_scratch(CHECKING)
    assert projection.balances[SAVINGS] == scenario.balance_from_scratch(SAVINGS)


@settings(max_examples=60, deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_delivery_order_does_not_matter(scenario: Scenario, rnd: object) -> None:
    """The same events in two different orders (with different duplicates) end at the same figures."""
    first = deliver_all(scenario)
    shuffled = list(scenario.delivery)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    second = deliver_all(Scenario(scenario.events, scenario.final, scenario.merged, shuffled + shuffled[:3]))
    assert {k: v for k, v in first.flows.items() if v} == {k: v for k, v in second.flows.items() if v}
    assert first.merges == second.merges


def _crossings(values: list[int], threshold: int, budget: int) -> int:
    """How often the sequence goes from below the threshold to at or above it (starting below)."""
    count, above = 0, False
    for value in values:
        now = domain.threshold_reached(threshold, value, budget)
        count += now and not above
        above = now
    return count


@settings(max_examples=150, deadline=None)
@given(scenarios(), st.integers(min_value=500, max_value=8_000))
def test_each_threshold_fires_once_per_crossing(scenario: Scenario, budget_minor: int) -> None:
    """Replay the deliveries, checking January's alerts for Food after each one, as the service does."""
    thresholds = (50, 80, 100)
    target = domain.Target(group="Food")
    january = period_containing(PeriodSpec(PeriodKind.month), FIRST_DAY)
    projection = Projection()
    fired: set[int] = set()
    history: list[int] = []
    fires: dict[int, list[int]] = defaultdict(list)  # threshold → positions in history it fired at
    for index in scenario.delivery:
        stream_id, _, payload = scenario.events[index]
        if not projection.deliver(index, stream_id, payload):
            continue
        spent = projection.spent(target, january.start, january.end)
        history.append(spent)
        crossings = domain.evaluate_thresholds(thresholds, fired, spent, budget_minor)
        fired -= set(crossings.rearmed)
        fired |= set(crossings.fired)
        assert list(crossings.fired) == sorted(crossings.fired)
        for threshold in crossings.fired:
            fires[threshold].append(len(history) - 1)
    for threshold in thresholds:
        assert len(fires[threshold]) == _crossings(history, threshold, budget_minor)
        for earlier, later in zip(fires[threshold], fires[threshold][1:], strict=False):
            between = history[earlier + 1 : later]
            assert any(not domain.threshold_reached(threshold, v, budget_minor) for v in between)
        assert (threshold in fired) == domain.threshold_reached(threshold, history[-1], budget_minor)


@given(st.sampled_from(SPECS), st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)))
def test_periods_tile_the_calendar(spec: PeriodSpec, day: date) -> None:
    """Every day is in exactly one period, and the next period starts the day after this one ends."""
    period = period_containing(spec, day)
    assert period.start <= day <= period.end
    following = period_containing(spec, period.end + timedelta(days=1))
    assert following.start == period.end + timedelta(days=1)
    assert period_containing(spec, period.start) == period == period_containing(spec, period.end)


# --- the service on its database -------------------------------------------------------------------------


def _examples(count: int) -> list[Scenario]:
    """A few scenarios drawn by hypothesis (no shrinking: each runs against a real database)."""
    found: list[Scenario] = []

    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate])
    @given(scenarios(max_steps=14))
    def collect(scenario: Scenario) -> None:
        found.append(scenario)

    collect()
    return found[:count]


DB_BUDGETS: list[tuple[domain.Target, PeriodSpec, dict[str, Any]]] = [
    (domain.Target(category_id=A), PeriodSpec(PeriodKind.week), {"period": "week"}),
    (
        domain.Target(category_id=B),
        PeriodSpec(PeriodKind.fortnight, anchor=date(2025, 1, 3)),
        {"period": "fortnight", "anchor": "2025-01-03"},
    ),
    (domain.Target(category_id=C), PeriodSpec(PeriodKind.month, start_day=25), {"start_day": 25}),
    (domain.Target(group="Food"), PeriodSpec(PeriodKind.month), {}),
]


async def test_the_service_agrees_with_the_computation_from_scratch(budget: Budget) -> None:
    for scenario in _examples(4):
        budget.tenant = uuid4()
        for category_id, info in INFOS.items():
            created = CategoryCreated(name=info.name, group=info.group, kind=CategoryKind(info.kind))
            assert await budget.deliver(budget.event(created, category_id))
        ids = {}
        for target, _, extra in DB_BUDGETS:
            body = {"category_id": str(target.category_id)} if target.category_id else {"group": target.group}
            response = await budget.client.post(
                "/budgets",
                headers=budget.auth(),
                json={
                    **body,
                    "amount_minor": 4_000,
                    "currency": CURRENCY,
                    "pace_alerts": False,
                    "effective_from": "2024-12-01",
                    **extra,
                },
            )
            assert response.status_code == 201, response.text
            ids[response.json()["id"]] = target
        envelopes = [budget.event(payload, stream, version) for stream, version, payload in scenario.events]

        # What spent was after each delivery, per (budget, period): the sequence alerts may cross on.
        model = Projection()
        sequences: dict[tuple[str, date], list[int]] = defaultdict(list)
        for index in scenario.delivery:
            handled = await budget.deliver(envelopes[index])
            assert handled == model.deliver(index, *scenario.events[index][::2])
            for budget_id, target in ids.items():
                spec = next(s for t, s, _ in DB_BUDGETS if t == target)
                for period in periods_between(spec, FIRST_DAY, FIRST_DAY + timedelta(days=DAYS)):
                    sequences[(budget_id, period.start)].append(model.spent(target, period.start, period.end))

        for day in (FIRST_DAY + timedelta(days=n) for n in range(0, DAYS, 9)):
            listed = await budget.client.get(
                "/budgets", params={"on": day.isoformat()}, headers=budget.auth()
            )
            items = listed.json()["items"]
            assert len(items) == len(DB_BUDGETS)
            for item in items:
                start, end = date.fromisoformat(item["period_start"]), date.fromisoformat(item["period_end"])
                assert item["spent_minor"] == expected_spent(scenario, ids[item["id"]], start, end), item

        fires: dict[tuple[str, date, int], int] = defaultdict(int)
        for event in await budget.published():
            if event["tenant_id"] == str(budget.tenant) and "threshold_percent" in event["data"]:
                data = event["data"]
                fires[
                    (data["budget_id"], date.fromisoformat(data["period_start"]), data["threshold_percent"])
                ] += 1
        for (budget_id, start, threshold), count in fires.items():
            crossings = _crossings(sequences[(budget_id, start)], threshold, 4_000)
            assert count <= crossings, (ids[budget_id], start, threshold, sequences[(budget_id, start)])
