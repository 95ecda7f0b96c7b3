from datetime import date, timedelta
from uuid import uuid4

import pytest

from tally_budget import goals
from tally_budget.domain import (
    AmountVersion,
    CategoryInfo,
    Crossings,
    Limit,
    Target,
    Total,
    evaluate_thresholds,
    limit_for,
    members,
    month_of,
    overview_day,
    pace_warning,
    percent_used,
    root_of,
    same_point,
    thresholds_reached,
    totals_by_currency,
    trend_percent,
)
from tally_budget.periods import Period, PeriodKind, PeriodSpec, period_containing
from tallykit.contracts.budget import GoalReached


@pytest.mark.parametrize(
    ("spent", "budget", "reached"),
    [
        (0, 10_000, []),
        (7_999, 10_000, []),  # 79.99 % does not reach 80
        (8_000, 10_000, [80]),  # exactly 80 % does
        (9_999, 10_000, [80]),
        (10_000, 10_000, [80, 100]),
        (25_000, 10_000, [80, 100]),
        (3, 4, []),  # 75 %
        (4, 5, [80]),  # 80 % of a tiny budget, no rounding involved
        (799_999_999_999_999, 10**15, []),  # integers stay exact where floats would not
        (8 * 10**14, 10**15, [80]),
    ],
)
def test_thresholds_reached(spent: int, budget: int, reached: list[int]) -> None:
    assert thresholds_reached(spent, budget) == reached


@pytest.mark.parametrize(
    ("spent", "budget", "percent"),
    [(0, 100, 0), (7_999, 10_000, 79), (8_000, 10_000, 80), (2, 3, 66), (10_001, 10_000, 100), (30, 10, 300)],
)
def test_percent_used_rounds_down(spent: int, budget: int, percent: int) -> None:
    assert percent_used(spent, budget) == percent


def test_an_empty_envelope() -> None:
    """With rollover, overspending can leave nothing (or less) for a period: any spending reaches every
    threshold, no spending reaches none."""
    assert thresholds_reached(1, 0) == [80, 100]
    assert thresholds_reached(0, 0) == []
    assert thresholds_reached(0, -500) == []
    assert percent_used(1, -5) == 999
    assert percent_used(0, 0) == 0


def test_month_of() -> None:
    assert month_of(date(2025, 1, 31)) == "2025-01"
    assert month_of(date(987, 12, 1)) == "0987-12"


# --- periods ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "day", "start", "end"),
    [
        (PeriodSpec(PeriodKind.week), date(2025, 6, 11), date(2025, 6, 9), date(2025, 6, 15)),  # Wed → Mon
        (
            PeriodSpec(PeriodKind.week, week_start="sunday"),
            date(2025, 6, 11),
            date(2025, 6, 8),
            date(2025, 6, 14),
        ),
        (
            PeriodSpec(PeriodKind.week, week_start="saturday"),
            date(2025, 6, 14),
            date(2025, 6, 14),
            date(2025, 6, 20),
        ),
        (
            PeriodSpec(PeriodKind.fortnight, anchor=date(2025, 6, 6)),
            date(2025, 6, 19),
            date(2025, 6, 6),
            date(2025, 6, 19),
        ),
        (
            PeriodSpec(PeriodKind.fortnight, anchor=date(2025, 6, 6)),
            date(2025, 6, 20),
            date(2025, 6, 20),
            date(2025, 7, 3),
        ),
        (
            PeriodSpec(PeriodKind.fortnight, anchor=date(2025, 6, 6)),
            date(2025, 6, 5),
            date(2025, 5, 23),
            date(2025, 6, 5),
        ),
        (PeriodSpec(PeriodKind.month), date(2024, 2, 29), date(2024, 2, 1), date(2024, 2, 29)),
        (
            PeriodSpec(PeriodKind.month, start_day=25),
            date(2025, 1, 24),
            date(2024, 12, 25),
            date(2025, 1, 24),
        ),
        (PeriodSpec(PeriodKind.month, start_day=25), date(2025, 1, 25), date(2025, 1, 25), date(2025, 2, 24)),
        (PeriodSpec(PeriodKind.month, start_day=28), date(2025, 3, 1), date(2025, 2, 28), date(2025, 3, 27)),
        (PeriodSpec(PeriodKind.quarter), date(2025, 5, 31), date(2025, 4, 1), date(2025, 6, 30)),
        (PeriodSpec(PeriodKind.quarter), date(2025, 12, 31), date(2025, 10, 1), date(2025, 12, 31)),
        (PeriodSpec(PeriodKind.year), date(2025, 7, 1), date(2025, 1, 1), date(2025, 12, 31)),
    ],
)
def test_period_containing(spec: PeriodSpec, day: date, start: date, end: date) -> None:
    assert period_containing(spec, day) == Period(start, end)


def test_a_pay_month_is_labelled_by_the_month_it_starts_in() -> None:
    period = period_containing(PeriodSpec(PeriodKind.month, start_day=25), date(2025, 1, 3))
    assert period.month_label == "2024-12"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": PeriodKind.month, "start_day": 29},
        {"kind": PeriodKind.month, "start_day": 0},
        {"kind": PeriodKind.week, "start_day": 3},
        {"kind": PeriodKind.month, "anchor": date(2025, 1, 1)},
        {"kind": PeriodKind.week, "week_start": "friday-ish"},
    ],
)
def test_impossible_period_specs(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"start|anchor|day of the week"):
        PeriodSpec(**kwargs)  # type: ignore[arg-type]


# --- thresholds, re-arming, pace -------------------------------------------------------------------------


def test_thresholds_fire_once_and_rearm_below() -> None:
    assert evaluate_thresholds((80, 100), set(), 8_500, 10_000) == Crossings(fired=(80,), rearmed=())
    assert evaluate_thresholds((80, 100), {80}, 9_000, 10_000) == Crossings(fired=(), rearmed=())
    assert evaluate_thresholds((80, 100), {80}, 7_000, 10_000) == Crossings(fired=(), rearmed=(80,))
    assert evaluate_thresholds((80, 100), set(), 12_000, 10_000) == Crossings(fired=(80, 100), rearmed=())
    assert evaluate_thresholds((80, 100), {80, 100}, 9_000, 10_000) == Crossings(fired=(), rearmed=(100,))


@pytest.mark.parametrize(
    ("spent", "budget", "today", "projected"),
    [
        (5_000, 10_000, date(2025, 6, 10), 15_000),  # half of it in a third of June: 3 times
        (3_000, 10_000, date(2025, 6, 10), None),  # projects 9,000: under
        (10_000, 10_000, date(2025, 6, 20), None),  # already over: the 100 % alert says it
        (4_000, 10_000, date(2025, 6, 2), None),  # two days are too few to say
        (4_000, 10_000, date(2025, 6, 5), None),  # under 20 % of the month: still too early
        (4_000, 10_000, date(2025, 6, 6), 20_000),
        (4_000, 10_000, date(2025, 7, 1), None),  # not in the period
    ],
)
def test_pace_warning(spent: int, budget: int, today: date, projected: int | None) -> None:
    june = Period(date(2025, 6, 1), date(2025, 6, 30))
    assert pace_warning(spent, budget, june, today) == projected


# --- versions and rollover -------------------------------------------------------------------------------

MONTHLY = PeriodSpec(PeriodKind.month)
JAN, FEB, MAR = (period_containing(MONTHLY, date(2025, m, 1)) for m in (1, 2, 3))


def test_a_change_takes_effect_from_its_period_and_leaves_the_past() -> None:
    versions = [AmountVersion(date(2025, 1, 1), 10_000), AmountVersion(date(2025, 3, 1), 15_000)]
    assert limit_for(MONTHLY, versions, {}, period_containing(MONTHLY, date(2024, 12, 5))) is None
    assert limit_for(MONTHLY, versions, {}, FEB) == Limit(10_000, 0)
    assert limit_for(MONTHLY, versions, {}, MAR) == Limit(15_000, 0)


def test_rollover_carries_what_is_left_and_what_is_overspent() -> None:
    versions = [AmountVersion(date(2025, 1, 1), 10_000, rollover=True)]
    spent = {date(2025, 1, 10): 7_000, date(2025, 2, 3): 14_000}
    assert limit_for(MONTHLY, versions, spent, JAN) == Limit(10_000, 0)
    assert limit_for(MONTHLY, versions, spent, FEB) == Limit(10_000, 3_000)  # 3,000 left in January
    march = limit_for(MONTHLY, versions, spent, MAR)
    assert march == Limit(10_000, -1_000)  # February had 13,000 and spent 14,000
    assert march is not None
    assert march.available_minor == 9_000


def test_rollover_turned_off_stops_carrying() -> None:
    versions = [
        AmountVersion(date(2025, 1, 1), 10_000, rollover=True),
        AmountVersion(date(2025, 2, 1), 10_000, rollover=False),
    ]
    spent = {date(2025, 1, 10): 2_000}
    assert limit_for(MONTHLY, versions, spent, FEB) == Limit(10_000, 8_000)  # January's leftover arrives
    assert limit_for(MONTHLY, versions, spent, MAR) == Limit(10_000, 0)  # February does not carry


def test_the_same_point_of_the_previous_period() -> None:
    dec, jan = Period(date(2024, 12, 1), date(2024, 12, 31)), Period(date(2025, 1, 1), date(2025, 1, 31))
    feb, mar = Period(date(2025, 2, 1), date(2025, 2, 28)), Period(date(2025, 3, 1), date(2025, 3, 31))
    assert same_point(jan, dec, date(2025, 1, 7)) == date(2024, 12, 7)
    assert same_point(mar, feb, date(2025, 3, 31)) == date(2025, 2, 28)  # no 31 February
    assert same_point(jan, dec, date(2025, 2, 3)) == date(2024, 12, 31)  # January is over: all of December
    assert same_point(jan, dec, None) == date(2024, 12, 31)


def test_trend() -> None:
    assert trend_percent(12_000, 10_000) == 20
    assert trend_percent(5_000, 10_000) == -50
    assert trend_percent(5_000, 0) is None


# --- merges and groups -----------------------------------------------------------------------------------


def test_members_follow_merges_and_groups() -> None:
    a, b, c, salary = uuid4(), uuid4(), uuid4(), uuid4()
    infos = {
        a: CategoryInfo("Groceries", "Food", "expense"),
        b: CategoryInfo("Market", "Food", "expense"),
        c: CategoryInfo("Rent", "Home", "expense"),
        salary: CategoryInfo("Salary", "Food", "income"),
    }
    merges = {a: b}
    known = {a, b, c, salary}
    assert members(Target(category_id=b), known, infos, merges) == {a, b}
    assert members(Target(category_id=a), known, infos, merges) == set()
    assert members(Target(group="Food"), known, infos, merges) == {a, b}  # not the income category
    assert members(Target(group="Home"), known, infos, {c: b}) == set()  # Rent now counts as Market
    assert root_of(a, {a: b, b: a}) in (a, b)  # a cycle cannot hang


# --- goals -----------------------------------------------------------------------------------------------


def test_goal_progress() -> None:
    start, target = date(2025, 1, 1), date(2025, 12, 31)
    on_track = goals.progress(60_000, 120_000, start, target, date(2025, 6, 30))
    assert (on_track.status, on_track.percent, on_track.needed_per_month_minor) == (
        goals.GoalStatus.on_track,
        50,
        10_000,  # 60,000 over July..December
    )
    behind = goals.progress(20_000, 120_000, start, target, date(2025, 6, 30))
    assert behind.status is goals.GoalStatus.behind
    assert behind.needed_per_month_minor == 16_667  # rounded up
    assert (
        goals.progress(120_000, 120_000, start, target, date(2025, 3, 1)).status is goals.GoalStatus.reached
    )
    assert goals.progress(5, 100, start, None, date(2025, 3, 1)).status is goals.GoalStatus.no_date
    late = goals.progress(100, 1_000, start, date(2025, 2, 1), date(2025, 3, 1))
    assert (late.status, late.needed_per_month_minor) == (goals.GoalStatus.behind, 900)


def test_a_debt_goal_counts_what_was_paid_off() -> None:
    # A card owing 3,000.00 when the goal was set: the target is that debt, progress what was paid since.
    start, target = date(2025, 1, 1), date(2025, 12, 31)
    assert (goals.owed(-300_000), goals.owed(0), goals.owed(5_000)) == (300_000, 0, 0)
    assert goals.paid_off(300_000, -300_000) == 0
    paid = goals.paid_off(300_000, -180_000)  # 1,800.00 still owed
    assert paid == 120_000
    halfway = goals.progress(paid, 300_000, start, target, date(2025, 6, 30))
    # The debt left (180,000) over July..December; 40 % paid against about half the year gone: behind.
    assert (halfway.percent, halfway.needed_per_month_minor) == (40, 30_000)
    assert halfway.status is goals.GoalStatus.behind
    ahead = goals.progress(goals.paid_off(300_000, -120_000), 300_000, start, target, date(2025, 6, 30))
    assert (ahead.status, ahead.needed_per_month_minor) == (goals.GoalStatus.on_track, 20_000)
    done = goals.progress(goals.paid_off(300_000, 0), 300_000, start, target, date(2025, 6, 30))
    assert (done.status, done.percent, done.needed_per_month_minor) == (goals.GoalStatus.reached, 100, 0)
    # More spent on the card than paid back: progress below nothing, the whole debt and more still needed.
    worse = goals.progress(goals.paid_off(300_000, -330_000), 300_000, start, target, date(2025, 6, 30))
    assert (worse.percent, worse.needed_per_month_minor, worse.status) == (0, 55_000, goals.GoalStatus.behind)


def test_a_goal_projects_its_recent_pace() -> None:
    today = date(2025, 6, 30)
    # A loan owing 12,000.00 on 1 Jan: paid off 1,000.00 on the first of each month, 6,000.00 so far.
    moves = {date(2025, m, 1): 100_000 for m in range(1, 7)}
    opening = goals.paid_off(1_200_000, -1_200_000)  # the debt at the start: nothing paid off yet
    result = goals.projection(opening, moves, 1_200_000, min(moves), today)
    assert result is not None
    # The last 91 days (31 Mar..30 Jun) hold three payments: 300,000 in 91 days, 100,274 a month, and the
    # 600,000 left at that pace takes ceil(600,000 * 91 / 300,000) = 182 days.
    assert result.pace_per_month_minor == 300_000 * 365 // (12 * 91)
    assert result.projected_date == today + timedelta(days=182)
    # Fewer than four weeks of history: no pace to project from (a goal saved by hand set 10 days ago).
    assert goals.projection(0, {today: 5_000}, 100_000, today - timedelta(days=10), today) is None
    assert goals.projection(0, {}, 100_000, None, today) is None
    # Going backwards or standing still never gets there; reached is not projected.
    back = goals.projection(50_000, {date(2025, 6, 1): -10_000}, 100_000, date(2025, 1, 1), today)
    assert back == goals.Projection(-(10_000 * 365 // (12 * 91)), None)
    reached = goals.projection(100_000, {date(2025, 6, 1): 1}, 100_000, date(2025, 1, 1), today)
    assert reached == goals.Projection(0, None)
    # A pace so slow the target lies beyond a hundred years: not at this pace.
    crawl = goals.projection(0, {date(2025, 6, 1): 1}, 10_000_000, date(2025, 1, 1), today)
    assert crawl == goals.Projection(0, None)
    # The window starts at the first day anything could move when that is later than 91 days ago.
    recent = goals.projection(0, {date(2025, 6, 15): 30_000}, 60_000, date(2025, 5, 31), today)
    assert recent == goals.Projection(30_000 * 365 // (12 * 30), today + timedelta(days=30))


def test_goal_events_of_before_debt_goals_read_as_savings() -> None:
    old = {"goal_id": str(uuid4()), "name": "Bike", "target_minor": 500, "saved_minor": 0, "currency": "EUR"}
    assert GoalReached.model_validate(old).kind == "savings"
    assert GoalReached.model_validate({**old, "kind": "debt"}).kind == "debt"
    with pytest.raises(ValueError, match="kind"):
        GoalReached.model_validate({**old, "kind": "mortgage"})


def test_an_overview_adds_up_each_currency_and_is_of_a_day() -> None:
    eur, chf = Total("EUR", 10_000, 4_000, 6_000), Total("CHF", 5_000, 6_000, -1_000)
    more_eur = Total("EUR", 2_000)
    assert totals_by_currency([eur, chf, more_eur]) == [chf, Total("EUR", 12_000, 4_000, 6_000)]
    assert totals_by_currency([]) == []
    today = date(2025, 3, 17)
    assert overview_day(None, None, today) == today
    assert overview_day("2025-01", None, today) == date(2025, 1, 1)
    assert overview_day("2025-01", date(2024, 12, 2), today) == date(2024, 12, 2)


def test_a_goal_history_is_one_point_for_its_start_then_each_day_that_moved_it() -> None:
    moves = {date(2025, 1, 5): 1_000, date(2025, 2, 1): 500, date(2025, 3, 1): -200, date(2025, 4, 1): 900}
    points = goals.history(100, moves, date(2025, 1, 10), date(2025, 3, 15))
    assert points == [(date(2025, 1, 10), 1_100), (date(2025, 2, 1), 1_600), (date(2025, 3, 1), 1_400)]
