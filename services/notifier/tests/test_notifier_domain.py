"""Plain-Python rules of the notifier: no database, milliseconds."""

import random
from datetime import UTC, date, datetime, time
from uuid import uuid4

import pytest

from tally_notifier.digest import build_digest, period_due
from tally_notifier.domain import (
    Channel,
    NotificationType,
    Unsubscribe,
    address_allowed,
    channel_enabled,
    quiet_until,
    read_unsubscribe_token,
    retry_delay_s,
    summary_message,
    unsubscribe_token,
    verify_webhook_signature,
    webhook_signature,
    window_start,
)

T = NotificationType


def test_defaults_and_overrides_and_locked_channels() -> None:
    assert channel_enabled(T.budget_exceeded, Channel.email, {})
    assert not channel_enabled(T.unusual_spending, Channel.email, {})
    assert channel_enabled(T.unusual_spending, Channel.email, {("spending.unusual", "email"): True})
    assert not channel_enabled(T.budget_exceeded, Channel.push, {("budget.exceeded", "push"): False})
    # A security alert always reaches the inbox, whatever is stored.
    assert channel_enabled(T.new_sign_in, Channel.email, {("security.new_sign_in", "email"): False})
    assert not channel_enabled(T.new_sign_in, Channel.push, {("security.new_sign_in", "push"): False})


@pytest.mark.parametrize(
    ("now", "zone", "start", "end", "expected"),
    [
        # 23:30 in Berlin (UTC+1 in November) is inside 22:00-07:00: held until 07:00 Berlin = 06:00 UTC.
        (
            datetime(2026, 11, 22, 22, 30, tzinfo=UTC),
            "Europe/Berlin",
            time(22),
            time(7),
            datetime(2026, 11, 23, 6, 0, tzinfo=UTC),
        ),
        # 02:00 Berlin, same night: the same morning.
        (
            datetime(2026, 11, 22, 1, 0, tzinfo=UTC),
            "Europe/Berlin",
            time(22),
            time(7),
            datetime(2026, 11, 22, 6, 0, tzinfo=UTC),
        ),
        # 12:00 Berlin: not quiet.
        (datetime(2026, 11, 22, 11, 0, tzinfo=UTC), "Europe/Berlin", time(22), time(7), None),
        # Quiet 13:00-14:00 in New York (UTC-5): 13:30 there is held until 14:00 there = 19:00 UTC.
        (
            datetime(2026, 11, 22, 18, 30, tzinfo=UTC),
            "America/New_York",
            time(13),
            time(14),
            datetime(2026, 11, 22, 19, 0, tzinfo=UTC),
        ),
        # No quiet hours, or an unknown zone read as UTC.
        (datetime(2026, 11, 22, 3, 0, tzinfo=UTC), "UTC", None, None, None),
        (
            datetime(2026, 11, 22, 3, 0, tzinfo=UTC),
            "Mars/Olympus",
            time(1),
            time(5),
            datetime(2026, 11, 22, 5, 0, tzinfo=UTC),
        ),
    ],
)
def test_quiet_hours_in_the_persons_zone(now, zone, start, end, expected) -> None:  # type: ignore[no-untyped-def]
    assert quiet_until(now, zone, start, end) == expected


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    rng = random.Random(7)
    delays = [[retry_delay_s(n, 5, 3600, rng) for _ in range(200)] for n in (1, 2, 3, 12)]
    assert all(2.5 <= d <= 5 for d in delays[0])
    assert all(5 <= d <= 10 for d in delays[1])
    assert all(10 <= d <= 20 for d in delays[2])
    assert all(1800 <= d <= 3600 for d in delays[3])
    assert len({round(d, 6) for d in delays[0]}) > 150  # spread, not one moment


def test_rate_windows_are_fixed_and_aligned() -> None:
    at = datetime(2026, 11, 22, 10, 7, 31, tzinfo=UTC)
    assert window_start(at, 900) == datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    assert window_start(datetime(2026, 11, 22, 10, 15, tzinfo=UTC), 900) == datetime(
        2026, 11, 22, 10, 15, tzinfo=UTC
    )


def test_summary_says_how_many_of_what() -> None:
    message = summary_message(9995, {"spending.unusual": 9990, "budget.exceeded": 5})
    assert message.title == "9,995 more notifications"
    assert "9,990 x unusual spending" in message.body
    assert message.body.index("unusual") < message.body.index("budget exceeded")


def test_webhook_signature_covers_timestamp_and_body() -> None:
    body = b'{"a":1}'
    header = webhook_signature("whsec_x", 1_700_000_000, body)
    assert header.startswith("t=1700000000,v1=")
    assert verify_webhook_signature("whsec_x", header, body, now=1_700_000_100)
    assert not verify_webhook_signature("whsec_x", header, b'{"a":2}', now=1_700_000_100)
    assert not verify_webhook_signature("whsec_y", header, body, now=1_700_000_100)
    assert not verify_webhook_signature("whsec_x", header, body, now=1_700_001_000)  # too old: a replay
    forged = header.replace("t=1700000000", "t=1700000900")
    assert not verify_webhook_signature("whsec_x", forged, body, now=1_700_000_900)


def test_unsubscribe_tokens_cannot_be_forged_or_moved() -> None:
    key = b"k" * 32
    what = Unsubscribe(uuid4(), uuid4(), T.bill_due_soon)
    token = unsubscribe_token(key, what)
    assert read_unsubscribe_token(key, token) == what
    assert read_unsubscribe_token(b"other" * 8, token) is None
    other = unsubscribe_token(key, Unsubscribe(what.tenant_id, uuid4(), T.bill_due_soon))
    # Someone else's payload with this signature, or garbage: refused.
    assert read_unsubscribe_token(key, other.split(".")[0] + "." + token.split(".")[1]) is None
    for bad in ("", "abc", "a.b", token + "x", "." + token):
        assert read_unsubscribe_token(key, bad) is None


@pytest.mark.parametrize(
    ("address", "public_only", "with_private"),
    [
        ("93.184.216.34", True, True),
        ("2606:2800:220:1:248:1893:25c8:1946", True, True),
        ("127.0.0.1", False, True),
        ("10.1.2.3", False, True),
        ("192.168.1.10", False, True),
        ("169.254.169.254", False, True),  # cloud metadata
        ("::1", False, True),
        ("::ffff:127.0.0.1", False, True),
        ("fc00::1", False, True),
        ("0.0.0.0", False, False),
        ("224.0.0.1", False, False),
        ("not-an-ip", False, False),
    ],
)
def test_only_public_addresses_unless_the_operator_allows_private(address, public_only, with_private) -> None:  # type: ignore[no-untyped-def]
    assert address_allowed(address, False) is public_only
    assert address_allowed(address, True) is with_private


def test_digest_periods_in_the_persons_zone() -> None:
    # Monday 23 Nov 2026, 07:30 UTC = 08:30 Berlin: the week of 16-22 Nov is due (sent at 07:00 UTC).
    week = period_due(T.digest_weekly, datetime(2026, 11, 23, 7, 30, tzinfo=UTC), "Europe/Berlin", 8)
    assert (week.key, week.first, week.last) == ("2026-W47", date(2026, 11, 16), date(2026, 11, 22))
    assert week.send_at == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    # 06:30 UTC is 07:30 Berlin: not yet, so the week before is the latest due.
    earlier = period_due(T.digest_weekly, datetime(2026, 11, 23, 6, 30, tzinfo=UTC), "Europe/Berlin", 8)
    assert earlier.key == "2026-W46"
    month = period_due(T.digest_monthly, datetime(2026, 12, 1, 9, 0, tzinfo=UTC), "UTC", 8)
    assert (month.key, month.first, month.last) == ("2026-11", date(2026, 11, 1), date(2026, 11, 30))
    january = period_due(T.digest_monthly, datetime(2026, 1, 1, 7, 0, tzinfo=UTC), "UTC", 8)
    assert january.key == "2025-11"  # 1 Jan before 08:00: December's is not due yet


def test_digest_content_from_the_rollup() -> None:
    period = period_due(T.digest_monthly, datetime(2026, 12, 1, 9, 0, tzinfo=UTC), "UTC", 8)
    rollup = [
        {
            "kind": "budget",
            "day": date(2026, 11, 20),
            "data": {
                "period": "2026-11",
                "category": "Groceries",
                "spent_minor": 45000,
                "budget_minor": 50000,
                "currency": "EUR",
            },
        },
        {
            "kind": "budget",
            "day": date(2026, 11, 25),
            "data": {
                "period": "2026-11",
                "category": "Fuel",
                "spent_minor": 12000,
                "budget_minor": 30000,
                "currency": "EUR",
            },
        },
        {
            "kind": "budget",
            "day": date(2026, 10, 25),
            "data": {
                "period": "2026-10",
                "category": "Old",
                "spent_minor": 99999,
                "budget_minor": 1,
                "currency": "EUR",
            },
        },
        {
            "kind": "bill",
            "day": date(2026, 11, 28),
            "data": {"name": "Rent", "due_on": "2026-12-03", "amount_minor": 95000, "currency": "EUR"},
        },
        {
            "kind": "bill",
            "day": date(2026, 11, 1),
            "data": {"name": "Past", "due_on": "2026-11-03", "amount_minor": 1, "currency": "EUR"},
        },
        {"kind": "unusual", "day": date(2026, 11, 5), "data": {"amount_minor": 1, "currency": "EUR"}},
    ]
    digest = build_digest(period, rollup, ["Groceries budget: 80% used"], date(2026, 12, 1))
    sections = {s.heading: list(s.rows) for s in digest.sections}
    assert digest.title == "Your month in Tally: 01 Nov - 30 Nov 2026"
    assert sections["Spent in budgeted categories"] == [("Total (EUR)", "570.00 EUR")]
    assert sections["Top categories"] == [("Groceries", "450.00 EUR"), ("Fuel", "120.00 EUR")]
    assert sections["Budgets at risk"] == [("Groceries", "450.00 EUR of 500.00 EUR")]
    assert sections["Upcoming bills (next 14 days)"] == [("Rent · 03 Dec", "950.00 EUR")]
    assert sections["Alerts this month"] == [
        ("Groceries budget: 80% used", ""),
        ("Unusual transactions", "1"),
    ]


def test_budget_alert_names_a_weekly_period_by_its_days() -> None:
    from uuid import uuid4 as new_id

    from tally_notifier.domain import BudgetAlert
    from tally_notifier.templates import render_budget_alert
    from tallykit.contracts.budget import BudgetExceeded

    payload = BudgetExceeded(
        budget_id=new_id(),
        category_id=None,
        category_name="Eating out",
        period="2026-11",
        threshold_percent=100,
        spent_minor=12000,
        budget_minor=10000,
        currency="EUR",
        period_start=date(2026, 11, 16),
        period_end=date(2026, 11, 22),
        period_kind="week",
    )
    alert = BudgetAlert.from_payload(payload, "Home")
    assert alert.body == (
        "120.00 EUR spent of the 100.00 EUR Eating out budget for 16 November 2026 - 22 November 2026, "
        "20.00 EUR over."
    )
    email = render_budget_alert(alert, display_name="Ann", public_url="https://t.example")
    assert "Period: 16 November 2026 - 22 November 2026" in email.text
    assert "Month:" not in email.text
