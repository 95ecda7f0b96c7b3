"""Email rendering and the small pure rules: no database, no network."""

from uuid import uuid4

import pytest

from tally_notifier.dispatcher import compose
from tally_notifier.domain import BudgetAlert, NotificationType, backoff_delay_s, month_label
from tally_notifier.fanout import message_id
from tally_notifier.templates import render_budget_alert
from tallykit.contracts import registry

URL = "https://tally.example.org"


@pytest.fixture
def make_alert(household):
    def make(household_name: str = "The Smiths", **alert: object) -> BudgetAlert:
        return BudgetAlert.from_payload(registry.payload(household().alert(**alert)), household_name)

    return make


def test_notifier_threshold_email_has_subject_amounts_and_link(make_alert) -> None:
    email = render_budget_alert(make_alert(), display_name="Ann", public_url=URL + "/")
    assert email.subject == "Groceries budget: 80% used"
    for part in (email.text, email.html):
        assert "412.50 EUR" in part
        assert "500.00 EUR" in part
        assert "Ann" in part
        assert "The Smiths" in part
    assert f"{URL}/#/budgets?month=2025-06" in email.text
    assert f'href="{URL}/#/budgets?month=2025-06"' in email.html
    assert "Over" not in email.text


def test_notifier_exceeded_email_says_how_far_over(make_alert) -> None:
    alert = make_alert(exceeded=True, spent=53000)
    email = render_budget_alert(alert, display_name="Ann", public_url=URL)
    assert email.subject == "Groceries budget exceeded"
    assert alert.type is NotificationType.budget_exceeded
    assert "30.00 EUR" in email.text
    assert "30.00 EUR" in email.html
    assert alert.body == "530.00 EUR spent of the 500.00 EUR Groceries budget for June 2025, 30.00 EUR over."


def test_notifier_amounts_follow_the_currency_minor_units(make_alert) -> None:
    yen = render_budget_alert(
        make_alert(spent=4000, budget=5000, currency="JPY"), display_name="K", public_url=URL
    )
    assert "4000 JPY" in yen.text
    assert "5000 JPY" in yen.text
    dinar = render_budget_alert(
        make_alert(spent=1500, budget=2000, currency="KWD"), display_name="A", public_url=URL
    )
    assert "1.500 KWD" in dinar.text
    assert "2.000 KWD" in dinar.text


def test_notifier_html_part_is_escaped_text_part_is_not(make_alert) -> None:
    alert = make_alert(category="<script>x()</script> & Co", household_name='"Q" <b>')
    email = render_budget_alert(alert, display_name="<img src=x onerror=alert(1)>", public_url=URL)
    assert "<script>" not in email.html
    assert "<img" not in email.html
    assert "&lt;script&gt;x()&lt;/script&gt; &amp; Co" in email.html
    assert "&lt;img src=x onerror=alert(1)&gt;" in email.html
    assert "<script>x()</script> & Co" in email.text
    assert email.subject == "<script>x()</script> & Co budget: 80% used"


def test_notifier_composed_message_is_multipart_alternative_with_stable_message_id(make_alert) -> None:
    event_id, user_id = uuid4(), uuid4()
    email = render_budget_alert(make_alert(), display_name="Ann", public_url=URL)
    mid = message_id(event_id, user_id, "Tally <no-reply@tally.example.org>")
    assert mid == message_id(event_id, user_id, "Tally <no-reply@tally.example.org>")
    assert mid != message_id(event_id, uuid4(), "Tally <no-reply@tally.example.org>")
    assert mid.endswith("@tally.example.org>")
    message = compose(
        {
            "address": "ann@example.org",
            "subject": email.subject,
            "message_id": mid,
            "event_id": event_id,
            "text_body": email.text,
            "html_body": email.html,
        },  # type: ignore[arg-type]
        "Tally <no-reply@tally.example.org>",
    )
    assert message.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    assert message["Message-ID"] == mid
    assert message["X-Tally-Event-ID"] == str(event_id)


@pytest.mark.parametrize(("attempts", "expected"), [(1, 5.0), (2, 10.0), (3, 20.0), (5, 80.0), (9, 300.0)])
def test_notifier_backoff_doubles_up_to_the_cap(attempts: int, expected: float) -> None:
    assert backoff_delay_s(attempts, 5.0, 300.0) == expected


def test_notifier_month_label() -> None:
    assert month_label("2025-06") == "June 2025"
    assert month_label("2024-12") == "December 2024"
