"""Schedule date maths and the recurring aggregate, in plain Python: month ends, leap years, intervals,
ends and counts, "today" across a DST change, skip, due, reminders, bill payments."""

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from tally_ledger import due_dates
from tally_ledger.domain import RuleViolation
from tally_ledger.due_dates import Spec, add_months, between, next_on_or_after, occurrences
from tally_ledger.recurring import (
    MAX_DUE_PER_RUN,
    Recurring,
    occurrence_transaction_id,
    within_tolerance,
)
from tallykit.contracts.ledger import BillDueSoon, BillPaid, Cadence, RecurringTransactionDue, TransactionKind

D = date


def first(spec: Spec, n: int) -> list[date]:
    found = []
    for day in occurrences(spec):
        found.append(day)
        if len(found) == n:
            break
    return found


def test_monthly_on_the_31st_clamps_to_each_months_last_day_and_comes_back() -> None:
    spec = Spec(Cadence.monthly, D(2026, 1, 31))
    assert first(spec, 4) == [D(2026, 1, 31), D(2026, 2, 28), D(2026, 3, 31), D(2026, 4, 30)]


def test_monthly_on_the_last_day_follows_leap_years() -> None:
    spec = Spec(Cadence.monthly, D(2028, 1, 10), day_of_month=-1)
    assert first(spec, 3) == [D(2028, 1, 31), D(2028, 2, 29), D(2028, 3, 31)]
    spec = Spec(Cadence.monthly, D(2027, 2, 1), day_of_month=-1)
    assert first(spec, 1) == [D(2027, 2, 28)]


def test_monthly_on_a_day_already_past_in_the_start_month_starts_next_month() -> None:
    spec = Spec(Cadence.monthly, D(2026, 1, 15), day_of_month=1)
    assert first(spec, 2) == [D(2026, 2, 1), D(2026, 3, 1)]
    spec = Spec(Cadence.monthly, D(2026, 1, 15), day_of_month=30, interval=1)
    assert first(spec, 3) == [D(2026, 1, 30), D(2026, 2, 28), D(2026, 3, 30)]


def test_every_three_months_and_across_the_year_end() -> None:
    spec = Spec(Cadence.monthly, D(2025, 11, 30), interval=3)
    assert first(spec, 3) == [D(2025, 11, 30), D(2026, 2, 28), D(2026, 5, 30)]


def test_yearly_on_29_february_falls_on_the_28th_in_common_years() -> None:
    spec = Spec(Cadence.yearly, D(2024, 2, 29))
    assert first(spec, 5) == [D(2024, 2, 29), D(2025, 2, 28), D(2026, 2, 28), D(2027, 2, 28), D(2028, 2, 29)]


def test_daily_weekly_and_every_n_weeks() -> None:
    assert first(Spec(Cadence.daily, D(2026, 2, 27)), 3) == [D(2026, 2, 27), D(2026, 2, 28), D(2026, 3, 1)]
    assert first(Spec(Cadence.weekly, D(2026, 3, 26)), 2) == [D(2026, 3, 26), D(2026, 4, 2)]
    fortnightly = first(Spec(Cadence.weekly, D(2026, 1, 2), interval=2), 3)
    assert fortnightly == [D(2026, 1, 2), D(2026, 1, 16), D(2026, 1, 30)]
    assert all(d.weekday() == 4 for d in fortnightly)
    assert first(Spec(Cadence.daily, D(2026, 1, 1), interval=10), 3) == [
        D(2026, 1, 1),
        D(2026, 1, 11),
        D(2026, 1, 21),
    ]


def test_end_date_and_count_stop_the_schedule() -> None:
    assert list(occurrences(Spec(Cadence.monthly, D(2026, 1, 5), count=3))) == [
        D(2026, 1, 5),
        D(2026, 2, 5),
        D(2026, 3, 5),
    ]
    assert list(occurrences(Spec(Cadence.weekly, D(2026, 1, 1), ends_on=D(2026, 1, 15)))) == [
        D(2026, 1, 1),
        D(2026, 1, 8),
        D(2026, 1, 15),
    ]
    both = Spec(Cadence.daily, D(2026, 1, 1), ends_on=D(2026, 1, 10), count=2)
    assert list(occurrences(both)) == [D(2026, 1, 1), D(2026, 1, 2)]
    assert next_on_or_after(both, D(2026, 1, 3)) is None


def test_between_and_next_skip_excluded_days() -> None:
    spec = Spec(Cadence.monthly, D(2026, 1, 1))
    assert between(spec, D(2026, 2, 2), D(2026, 5, 1)) == [D(2026, 3, 1), D(2026, 4, 1), D(2026, 5, 1)]
    assert next_on_or_after(spec, D(2026, 2, 2), excluding={D(2026, 3, 1)}) == D(2026, 4, 1)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"interval": 0},
        {"day_of_month": 0},
        {"day_of_month": 32},
        {"ends_on": D(2025, 12, 31)},
        {"count": 0},
    ],
)
def test_impossible_schedules_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(due_dates.ScheduleError):
        Spec(Cadence.monthly, D(2026, 1, 1), **kwargs)  # type: ignore[arg-type]
    with pytest.raises(due_dates.ScheduleError):
        Spec(Cadence.weekly, D(2026, 1, 1), day_of_month=5)


def test_add_months_clamps() -> None:
    assert add_months(D(2026, 3, 31), -1) == D(2026, 2, 28)
    assert add_months(D(2026, 1, 1), 1, -1) == D(2026, 2, 28)


def test_today_depends_on_the_zone_not_on_daylight_saving() -> None:
    # 2026-03-29 01:30 UTC: Berlin has just moved to summer time (03:30 local), still the 29th; New York
    # is on the 28th. A schedule of whole days gets exactly one "today" either way.
    now = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert due_dates.today_in(now, "Europe/Berlin") == D(2026, 3, 29)
    assert due_dates.today_in(now, "America/New_York") == D(2026, 3, 28)
    assert due_dates.today_in(now - timedelta(hours=2), "Europe/Berlin") == D(2026, 3, 29)
    with pytest.raises(ValueError, match="aware"):
        due_dates.today_in(datetime(2026, 1, 1), "UTC")


# --- the aggregate --------------------------------------------------------------------------------------


def _values(**overrides: object) -> dict[str, object]:
    return {
        "name": "Rent",
        "account_id": uuid4(),
        "kind": TransactionKind.expense,
        "amount_minor": 90_000,
        "currency": "EUR",
        "cadence": Cadence.monthly,
        "starts_on": D(2026, 1, 1),
        "day_of_month": 1,
        **overrides,
    }


def test_a_schedule_set_up_late_does_not_post_the_past() -> None:
    rent = Recurring.create(uuid4(), _values(), today=D(2026, 3, 15))
    assert rent.next_due_on == D(2026, 4, 1)
    assert rent.fall_due(D(2026, 3, 31), lambda d: None) == []


def test_fall_due_posts_each_missed_occurrence_once_in_order() -> None:
    rent = Recurring.create(uuid4(), _values(auto_post=True), today=D(2026, 1, 1))
    posted: list[date] = []

    def post(day: date) -> object:
        posted.append(day)
        return occurrence_transaction_id(rent.id, day)

    assert rent.fall_due(D(2026, 3, 2), post) == [D(2026, 1, 1), D(2026, 2, 1), D(2026, 3, 1)]  # type: ignore[arg-type]
    assert rent.fall_due(D(2026, 3, 2), post) == []  # type: ignore[arg-type]
    assert posted == [D(2026, 1, 1), D(2026, 2, 1), D(2026, 3, 1)]
    due = [e for e in rent.pending if isinstance(e, RecurringTransactionDue)]
    assert [e.transaction_id for e in due] == [occurrence_transaction_id(rent.id, d) for d in posted]
    assert rent.next_due_on == D(2026, 4, 1)


def test_catching_up_is_bounded_per_run() -> None:
    daily = Recurring.create(uuid4(), _values(cadence=Cadence.daily, day_of_month=None), today=D(2026, 1, 1))
    assert len(daily.fall_due(D(2027, 1, 1), lambda d: None)) == MAX_DUE_PER_RUN
    assert daily.next_due_on == D(2026, 1, 1) + timedelta(days=MAX_DUE_PER_RUN)


def test_skip_one_occurrence_moves_past_it_and_only_future_ones_can_be_skipped() -> None:
    rent = Recurring.create(uuid4(), _values(), today=D(2026, 1, 1))
    rent.skip(D(2026, 1, 1))
    assert rent.next_due_on == D(2026, 2, 1)
    rent.skip(D(2026, 3, 1))
    assert rent.fall_due(D(2026, 4, 1), lambda d: None) == [D(2026, 2, 1), D(2026, 4, 1)]
    with pytest.raises(RuleViolation, match="already fallen due"):
        rent.skip(D(2026, 2, 1))
    with pytest.raises(RuleViolation, match="not an occurrence"):
        rent.skip(D(2026, 5, 2))
    with pytest.raises(RuleViolation, match="already skipped"):
        rent.skip(D(2026, 3, 1))


def test_bill_reminders_once_not_when_paid_not_late() -> None:
    power = Recurring.create(
        uuid4(),
        _values(name="Power", is_bill=True, remind_days_before=3, day_of_month=10),
        today=D(2026, 1, 1),
    )
    assert power.wake_on() == D(2026, 1, 7)
    assert power.remind(D(2026, 1, 6)) == []
    assert power.remind(D(2026, 1, 7)) == [D(2026, 1, 10)]
    assert power.remind(D(2026, 1, 8)) == []
    reminder = next(e for e in power.pending if isinstance(e, BillDueSoon))
    assert reminder.days_ahead == 3
    assert power.wake_on() == D(2026, 1, 10)  # the due day itself
    power.fall_due(D(2026, 1, 10), lambda d: None)
    assert power.wake_on() == D(2026, 2, 7)
    # February's is paid early: no reminder for it, the next one is March's.
    assert power.payable_occurrence(D(2026, 2, 5), 90_000, TransactionKind.expense) == D(2026, 2, 10)
    power.mark_paid(D(2026, 2, 10), transaction_id=uuid4(), amount_minor=90_000)
    assert power.remind(D(2026, 2, 8)) == []
    assert power.wake_on() == D(2026, 2, 10)
    # A reminder whose window passed unseen is not sent late.
    power.fall_due(D(2026, 3, 11), lambda d: None)
    assert power.remind(D(2026, 3, 11)) == []


def test_payment_matching_amount_tolerance_kind_and_window() -> None:
    power = Recurring.create(
        uuid4(),
        _values(name="Power", is_bill=True, day_of_month=10, amount_minor=10_000, tolerance_pct=5),
        today=D(2026, 1, 1),
    )
    assert within_tolerance(10_000, 10_500, 5)
    assert not within_tolerance(10_000, 10_501, 5)
    assert power.payable_occurrence(D(2026, 1, 12), 9_600, TransactionKind.expense) == D(2026, 1, 10)
    assert power.payable_occurrence(D(2026, 1, 12), 9_400, TransactionKind.expense) is None
    assert power.payable_occurrence(D(2026, 1, 12), 10_000, TransactionKind.income) is None
    assert power.payable_occurrence(D(2026, 1, 25), 10_000, TransactionKind.expense) is None
    power.mark_paid(D(2026, 1, 10), transaction_id=None, amount_minor=0)
    assert power.payable_occurrence(D(2026, 1, 12), 10_000, TransactionKind.expense) is None
    with pytest.raises(RuleViolation, match="already paid"):
        power.mark_paid(D(2026, 1, 10), transaction_id=None, amount_minor=0)


def test_an_auto_posted_bill_is_paid_by_its_own_transaction() -> None:
    bill = Recurring.create(uuid4(), _values(is_bill=True, auto_post=True), today=D(2026, 1, 1))
    bill.fall_due(D(2026, 1, 1), lambda d: occurrence_transaction_id(bill.id, d))
    paid = [e for e in bill.pending if isinstance(e, BillPaid)]
    assert [(p.due_on, p.transaction_id) for p in paid] == [
        (D(2026, 1, 1), occurrence_transaction_id(bill.id, D(2026, 1, 1)))
    ]


def test_cancelled_and_changed_schedules() -> None:
    rent = Recurring.create(uuid4(), _values(), today=D(2026, 1, 1))
    rent.fall_due(D(2026, 2, 1), lambda d: None)
    rent.change(
        {"amount_minor": 95_000, "day_of_month": 5}, today=D(2026, 2, 2), expected_version=rent.version
    )
    assert rent.next_due_on == D(2026, 2, 5)
    with pytest.raises(RuleViolation):
        rent.change({"day_of_month": 40}, today=D(2026, 2, 2), expected_version=rent.version)
    listed = rent.occurrences_between(D(2026, 1, 1), D(2026, 3, 31))
    assert [(o.due_on, o.status) for o in listed] == [
        (D(2026, 1, 1), "due"),
        (D(2026, 2, 1), "due"),
        (D(2026, 2, 5), "upcoming"),
        (D(2026, 3, 5), "upcoming"),
    ]
    rent.cancel(expected_version=rent.version)
    assert rent.wake_on() is None
    assert [o.status for o in rent.occurrences_between(D(2026, 1, 1), D(2026, 3, 31))] == ["due", "due"]
    with pytest.raises(RuleViolation, match="cancelled"):
        rent.skip(D(2026, 3, 5))


def test_schedules_end_with_the_calendar_instead_of_failing() -> None:
    near_the_end = Spec(Cadence.daily, D(9999, 12, 30))
    assert list(occurrences(near_the_end)) == [D(9999, 12, 30), D(9999, 12, 31)]
    assert next_on_or_after(Spec(Cadence.yearly, D(1, 1, 1)), D(9999, 6, 1)) is None
    bill = Recurring.create(
        uuid4(),
        _values(cadence=Cadence.daily, day_of_month=None, starts_on=D(9999, 12, 30), is_bill=True),
        today=D(9999, 12, 29),
    )
    assert bill.fall_due(D.max, lambda d: None) == [D(9999, 12, 30), D(9999, 12, 31)]
    assert bill.next_due_on is None
    assert bill.wake_on() is None
