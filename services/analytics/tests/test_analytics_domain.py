"""Plain-Python reporting rules: periods, deltas, classification, robust outliers."""

from datetime import date
from uuid import uuid4

import pytest

from tally_analytics.domain import (
    NO_CATEGORY,
    CategoryInfo,
    FlowRow,
    InvalidPeriod,
    buckets,
    category_lines,
    deltas_of,
    parse_period,
    percent_change,
    resolve_category,
    resolve_payee,
    resolve_period,
    top_changes,
    totals_of,
)
from tally_analytics.unusual import judge
from tallykit.contracts.ledger import EntryKind, Split, TransactionState


def test_periods_and_their_comparisons() -> None:
    q = parse_period("2024-Q1")
    assert (q.start, q.end, q.days) == (date(2024, 1, 1), date(2024, 3, 31), 91)
    assert q.previous().label == "2023-Q4"
    assert q.year_before().label == "2023-Q1"
    assert parse_period("2025-01").previous().label == "2024-12"
    assert parse_period("2025").previous().label == "2024"
    custom = resolve_period(None, date(2024, 2, 28), date(2024, 3, 1), date(2025, 1, 1))
    assert (custom.previous().start, custom.previous().end) == (date(2024, 2, 25), date(2024, 2, 27))
    assert custom.year_before().start == date(2023, 2, 28)
    assert resolve_period(None, None, None, date(2025, 7, 9)).label == "2025-07"
    for bad in ("2025-00", "25", "2025-Q0"):
        with pytest.raises(InvalidPeriod):
            parse_period(bad)


def test_buckets_cover_the_period_exactly() -> None:
    period = parse_period("2025-03")
    weeks = buckets(period, "week")
    assert weeks[0] == (date(2025, 3, 1), date(2025, 3, 2))  # a Saturday: the week is clipped
    assert weeks[-1] == (date(2025, 3, 31), date(2025, 3, 31))
    assert sum((b - a).days + 1 for a, b in weeks) == 31
    assert len(buckets(parse_period("2025"), "month")) == 12


def test_deltas_of_split_transfer_and_removal() -> None:
    account, other, food, fun = uuid4(), uuid4(), uuid4(), uuid4()
    split = TransactionState(
        account_id=account,
        kind=EntryKind.expense,
        amount_minor=1_000,
        currency="EUR",
        booked_on=date(2025, 1, 2),
        splits=(Split(category_id=food, amount_minor=700), Split(category_id=fun, amount_minor=300)),
        tags=("a", "b"),
    )
    added = deltas_of(split, +1)
    assert [(f.category_id, f.expense_minor) for f in added.flows] == [(food, 700), (fun, 300)]
    assert len(added.tags) == 4
    assert [b.delta_minor for b in added.balances] == [-1_000]
    removed = deltas_of(split, -1)
    assert [f.expense_minor for f in removed.flows] == [-700, -300]
    transfer = split.model_copy(
        update={"kind": EntryKind.transfer, "splits": (), "counter_account_id": other}
    )
    moved = deltas_of(transfer, +1)
    assert moved.flows == []
    assert moved.tags == []
    assert sorted(b.delta_minor for b in moved.balances) == [-1_000, 1_000]


def test_refunds_net_against_their_category_and_merges_are_followed() -> None:
    food, snacks, salary = uuid4(), uuid4(), uuid4()
    categories = {
        food: CategoryInfo(food, "Food", "Everyday", "expense"),
        snacks: CategoryInfo(snacks, "Snacks", "Everyday", "expense", merged_into=food),
        salary: CategoryInfo(salary, "Salary", "Income", "income"),
    }
    assert resolve_category(categories, snacks) == food
    rows = [
        FlowRow(food, "Shop", 0, 5_000, 2),
        FlowRow(food, "Shop", 1_000, 0, 1),  # refund
        FlowRow(snacks, "Kiosk", 0, 500, 1),
        FlowRow(salary, "Boss", 9_000, 0, 1),
        FlowRow(NO_CATEGORY, "", 200, 0, 1),
        FlowRow(NO_CATEGORY, "", 0, 300, 1),
    ]
    lines = category_lines(rows, categories)
    assert [(x.side, x.label, x.amount_minor) for x in lines] == [
        ("expense", "Food", 4_500),
        ("expense", "Uncategorised", 300),
        ("income", "Salary", 9_000),
        ("income", "Uncategorised", 200),
    ]
    totals = totals_of(lines)
    assert (totals.income_minor, totals.expense_minor, totals.savings_rate) == (9_200, 4_800, 0.4783)
    assert percent_change(150, 100) == 50.0
    assert percent_change(1, 0) is None
    previous = category_lines([FlowRow(food, "Shop", 0, 1_000, 1)], categories)
    assert [(c.label, c.change_minor) for c in top_changes(lines, previous)][:2] == [
        ("Salary", 9_000),
        ("Food", 3_500),
    ]


def test_payee_merges_are_case_insensitive_and_stop_on_cycles() -> None:
    merges = {"aldi süd": "Aldi", "aldi": "ALDI Group", "aldi group": "aldi"}
    assert resolve_payee(merges, "ALDI SÜD") in {"ALDI Group", "aldi"}
    assert resolve_payee(merges, "Lidl") == "Lidl"


def test_robust_outliers() -> None:
    usual = [4_000, 4_500, 5_000, 5_200, 4_800, 3_900, 4_700, 5_100, 4_400, 4_900]
    assert judge(5_600, usual) is None
    verdict = judge(25_000, usual)
    assert verdict is not None
    assert verdict.typical_minor == 4_750
    assert "5.3 times" in verdict.reason
    assert judge(25_000, usual[:5]) is None  # too little history
    assert judge(100_001, [100_000] * 10) is None  # a fixed amount a cent higher is not unusual
    # Two usual sizes (small top-ups, a big weekly shop): the big one is not unusual, a feast is.
    bimodal = [2_000, 2_200, 1_900, 2_100, 2_300, 8_500, 9_000, 10_500, 2_050, 1_950, 9_800, 2_250]
    assert judge(11_000, bimodal) is None
    assert judge(60_000, bimodal) is not None
