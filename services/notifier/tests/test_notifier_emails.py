"""Every e-mail type through a real SMTP server (aiosmtpd): headers, both parts, links, unsubscribe."""

from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

from tally_notifier.dispatcher import Dispatcher
from tallykit.contracts.analytics import UnusualSpendingDetected
from tallykit.contracts.auth import LoginSucceeded, MemberInvited, PasswordChanged, TwoFactorEnabled
from tallykit.contracts.budget import BudgetPaceWarning, GoalBehind, GoalReached
from tallykit.contracts.ledger import BillDueSoon, RecurringTransactionDue, TransactionKind

PUBLIC = "https://tally.example.org"


async def test_each_type_renders_with_headers_links_and_unsubscribe(
    notifier, household, feed, token_minter, smtp_sink
) -> None:
    port, sink = smtp_sink
    client = await notifier(smtp_port=port, public_url=PUBLIC, mail_batch_size=50, rate_limit_per_window=50)
    home = household(name="Smith & <Sons>")
    ann, a = home.join("Ann")
    await feed(client, home.created(), a)
    headers = token_minter.headers(ann, home.tenant_id)
    every_email = {
        t: {"email": True}
        for t in ("budget.pace_warning", "goal.behind", "recurring.due", "spending.unusual")
    }
    assert (
        await client.patch("/preferences", headers=headers, json={"channels": every_email})
    ).status_code == 200
    account = uuid4()
    events = {
        "budget.threshold_reached": home.alert(),
        "budget.exceeded": home.alert(exceeded=True, spent=51000),
        "budget.pace_warning": home.event(
            BudgetPaceWarning(
                budget_id=uuid4(),
                category_id=None,
                category_name="Dining",
                period_start=date(2026, 11, 1),
                period_end=date(2026, 11, 30),
                spent_minor=30000,
                projected_minor=61000,
                budget_minor=40000,
                currency="EUR",
                method="pace",
            )
        ),
        "goal.reached": home.event(
            GoalReached(goal_id=uuid4(), name="Bike", target_minor=80000, saved_minor=80000, currency="EUR")
        ),
        "goal.behind": home.event(
            GoalBehind(
                goal_id=uuid4(),
                name="Trip",
                target_minor=300000,
                saved_minor=50000,
                currency="EUR",
                needed_per_month_minor=36000,
            )
        ),
        "bill.due_soon": home.event(
            BillDueSoon(
                name="Rent",
                due_on=date(2026, 12, 1),
                days_ahead=1,
                account_id=account,
                amount_minor=95000,
                currency="EUR",
            )
        ),
        "recurring.due": home.event(
            RecurringTransactionDue(
                name="Gym",
                due_on=date(2026, 11, 22),
                account_id=account,
                kind=TransactionKind.expense,
                amount_minor=2999,
                currency="EUR",
            )
        ),
        "spending.unusual": home.event(
            UnusualSpendingDetected(
                transaction_id=uuid4(),
                account_id=account,
                payee="<script>alert(1)</script>",
                amount_minor=129900,
                typical_minor=8000,
                currency="EUR",
                booked_on=date(2026, 11, 20),
                reason="16 times the usual",
            )
        ),
        "security.password_changed": home.event(PasswordChanged(user_id=ann)),
        "security.two_factor_changed": home.event(TwoFactorEnabled(user_id=ann)),
        "household.invitation": home.event(
            MemberInvited(
                invitation_id=uuid4(),
                email="carol@example.net",
                role="viewer",
                household_name="Smith & <Sons>",
                invited_by_name="Ann",
                path="/#/join?token=abc",
                expires_at=datetime(2026, 12, 1, tzinfo=UTC),
            )
        ),
    }
    sign_in_1 = home.event(LoginSucceeded(user_id=ann, session_id=uuid4(), device="Laptop"))
    sign_in_2 = home.event(LoginSucceeded(user_id=ann, session_id=uuid4(), device="Phone", ip="203.0.113.9"))
    await feed(client, *events.values(), sign_in_1, sign_in_2)
    await Dispatcher(client.app.state.db, client.app.state.settings).drain()

    by_event = {m["X-Tally-Event-ID"]: m for m in sink.messages}
    assert len(sink.messages) == len(events) + 1
    expected_links = {
        "budget.threshold_reached": f"{PUBLIC}/#/budgets?month=2025-06",
        "budget.exceeded": f"{PUBLIC}/#/budgets?month=2025-06",
        "budget.pace_warning": f"{PUBLIC}/#/budgets",
        "goal.reached": f"{PUBLIC}/#/goals",
        "goal.behind": f"{PUBLIC}/#/goals",
        "bill.due_soon": f"{PUBLIC}/#/recurring",
        "recurring.due": f"{PUBLIC}/#/recurring",
        "spending.unusual": f"{PUBLIC}/#/transaction?id=",
        "security.password_changed": f"{PUBLIC}/#/security",
        "security.two_factor_changed": f"{PUBLIC}/#/security",
        "household.invitation": f"{PUBLIC}/#/join?token=abc",
    }
    for kind, envelope in events.items():
        message = by_event[str(envelope.id)]
        assert message["From"] == "Tally <no-reply@tally.local>", kind
        assert message["To"] == (
            "carol@example.net" if kind == "household.invitation" else home.members[0][1]
        )
        assert message["Message-ID"].startswith(f"<{envelope.id}.")
        assert abs((parsedate_to_datetime(message["Date"]) - datetime.now(UTC)).total_seconds()) < 600
        assert message.get_content_type() == "multipart/alternative"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        link = expected_links[kind]
        assert link in text, kind
        assert f'href="{link}' in html.replace("&amp;", "&"), kind
        assert "<script>" not in html  # names, payees, households are escaped
        unsubscribable = not kind.startswith("security.") and kind != "household.invitation"
        assert ("List-Unsubscribe" in message) is unsubscribable, kind
        if unsubscribable:
            url = message["List-Unsubscribe"].strip("<>")
            assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            assert url.startswith(f"{PUBLIC}/api/notifier/unsubscribe?token=")
            assert url in text
            assert url in html.replace("&amp;", "&")
            assert f"{PUBLIC}/#/preferences" in text
    assert (
        "Smith &amp; &lt;Sons&gt;"
        in by_event[str(events["budget.exceeded"].id)].get_body(("html",)).get_content()
    )
    assert "Phone" in by_event[str(sign_in_2.id)].get_body(("plain",)).get_content()
    assert str(sign_in_1.id) not in by_event  # the first device ever seen is not news

    # Every type's link turns off that type only.
    url = by_event[str(events["bill.due_soon"].id)]["List-Unsubscribe"].strip("<>")
    token = parse_qs(urlsplit(url).query)["token"][0]
    assert (await client.post("/unsubscribe", params={"token": token})).status_code == 200
    prefs = {
        t["type"]: t["channels"]["email"]
        for t in (await client.get("/preferences", headers=headers)).json()["types"]
    }
    assert prefs["bill.due_soon"] is False
    assert prefs["goal.reached"] is True
