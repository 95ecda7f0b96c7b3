"""Every event the notifier handles, published as its producer would: who is told, on which channel."""

from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

from sqlalchemy import select

from tally_notifier.tables import known_devices, preferences, push_subscriptions, recipients, webhooks
from tallykit.contracts.analytics import UnusualSpendingDetected
from tallykit.contracts.auth import (
    LoginSucceeded,
    MemberInvited,
    MemberJoined,
    MemberLeft,
    MemberRoleChanged,
    PasswordChanged,
    ProfileUpdated,
    TwoFactorDisabled,
    TwoFactorEnabled,
    UserDeleted,
)
from tallykit.contracts.budget import BudgetPaceWarning, GoalBehind, GoalReached
from tallykit.contracts.ledger import BillDueSoon, RecurringTransactionDue, TransactionKind


def by_user(found, user):  # type: ignore[no-untyped-def]
    return [n for n in found["notifications"] if n["user_id"] == user]


def emails_to(found, user):  # type: ignore[no-untyped-def]
    return [d for d in found["deliveries"] if d["recipient"] == user and d["channel"] == "email"]


async def test_household_alerts_reach_every_member_on_their_default_channels(
    notifier, household, feed, rows
) -> None:
    client = await notifier(public_url="https://tally.example.org")
    home = household()
    ann, a = home.join("Ann")
    bob, b = home.join("Bob")
    account = uuid4()
    events = [
        home.event(
            BudgetPaceWarning(
                budget_id=uuid4(),
                category_id=uuid4(),
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
        home.event(
            GoalReached(goal_id=uuid4(), name="Bike", target_minor=80000, saved_minor=80000, currency="EUR")
        ),
        home.event(
            GoalBehind(
                goal_id=uuid4(),
                name="Trip",
                target_minor=300000,
                saved_minor=50000,
                currency="EUR",
                target_date=date(2027, 6, 1),
                needed_per_month_minor=36000,
            )
        ),
        home.event(
            BillDueSoon(
                name="Rent",
                due_on=date(2026, 12, 1),
                days_ahead=3,
                account_id=account,
                amount_minor=95000,
                currency="EUR",
                payee="Landlord",
            )
        ),
        home.event(
            RecurringTransactionDue(
                name="Gym",
                due_on=date(2026, 11, 22),
                account_id=account,
                kind=TransactionKind.expense,
                amount_minor=2999,
                currency="EUR",
                transaction_id=uuid4(),
            )
        ),
        home.event(
            UnusualSpendingDetected(
                transaction_id=uuid4(),
                account_id=account,
                category_name="Electronics",
                payee="MegaStore",
                amount_minor=129900,
                typical_minor=8000,
                currency="EUR",
                booked_on=date(2026, 11, 20),
                reason="16 times the usual amount",
            )
        ),
    ]
    assert await feed(client, home.created(), a, b, *events) == [True] * 9
    found = await rows(client)
    for person in (ann, bob):
        titles = [n["title"] for n in by_user(found, person)]
        assert sorted(titles) == sorted(
            [
                "Dining: on pace to overspend",
                "Goal reached: Bike",
                "Goal behind: Trip",
                "Rent is due in 3 days",
                "Gym was recorded",
                "Unusual spending: 1299.00 EUR at MegaStore",
            ]
        )
        # E-mail by default only for goals reached and bills (pace, behind, recurring, unusual: in-app/push).
        assert sorted(d["subject"] for d in emails_to(found, person)) == [
            "Goal reached: Bike",
            "Rent is due in 3 days",
        ]
    rent = next(d for d in emails_to(found, ann) if d["subject"].startswith("Rent"))
    assert "950.00 EUR" in rent["text_body"]
    assert "https://tally.example.org/#/recurring" in rent["html_body"]
    assert rent["payload"]["unsubscribe"].startswith(
        "https://tally.example.org/api/notifier/unsubscribe?token="
    )


async def test_security_events_go_to_the_person_only_and_a_known_device_is_quiet(
    notifier, household, feed, rows
) -> None:
    client = await notifier()
    home = household()
    ann, a = home.join("Ann")
    bob, b = home.join("Bob")
    laptop, phone = "Firefox on Linux", "Safari on iPhone"
    first = home.event(LoginSucceeded(user_id=ann, session_id=uuid4(), device=laptop, ip="198.51.100.7"))
    again = home.event(LoginSucceeded(user_id=ann, session_id=uuid4(), device=laptop, ip="198.51.100.7"))
    new = home.event(LoginSucceeded(user_id=ann, session_id=uuid4(), device=phone, ip="203.0.113.9"))
    changed = home.event(PasswordChanged(user_id=ann, by_reset=True))
    on = home.event(TwoFactorEnabled(user_id=ann))
    off = home.event(TwoFactorDisabled(user_id=ann))
    await feed(client, a, b, first, again, new, changed, on, off)
    found = await rows(client)
    assert by_user(found, bob) == []
    assert emails_to(found, bob) == []
    assert [n["title"] for n in by_user(found, ann)] == [
        "New sign-in to your Tally account",
        "Your Tally password was changed",
        "Two-factor sign-in was changed",
        "Two-factor sign-in was changed",
    ]
    sign_in = emails_to(found, ann)[0]
    assert sign_in["event_id"] == new.id
    assert phone in sign_in["text_body"]
    assert "203.0.113.9" in sign_in["text_body"]
    assert "reset with an e-mailed link" in emails_to(found, ann)[1]["text_body"]
    assert "switched off" in emails_to(found, ann)[3]["text_body"]
    # Security e-mail cannot be unsubscribed from: no link, no header.
    assert all(d["payload"] is None for d in emails_to(found, ann))
    assert "Unsubscribe" not in sign_in["text_body"]


async def test_invitation_is_mailed_to_the_invitee(notifier, household, feed, rows) -> None:
    client = await notifier(public_url="https://tally.example.org")
    home = household(name="The Smiths")
    _, a = home.join("Ann")
    invitation = uuid4()
    invited = home.event(
        MemberInvited(
            invitation_id=invitation,
            email="carol@example.net",
            role="member",
            household_name="The Smiths",
            invited_by_name="Ann",
            path="/#/join?token=s3cret",
            expires_at=datetime(2026, 12, 1, 12, tzinfo=UTC),
        )
    )
    await feed(client, a, invited, invited)
    [mail] = [d for d in (await rows(client))["deliveries"] if d["type"] == "household.invitation"]
    assert (mail["address"], mail["recipient"]) == ("carol@example.net", invitation)
    assert mail["subject"] == "Ann invited you to The Smiths on Tally"
    assert "https://tally.example.org/#/join?token=s3cret" in mail["text_body"]
    assert 'href="https://tally.example.org/#/join?token=s3cret"' in mail["html_body"]
    assert "01 December 2026 at 12:00 UTC" in mail["text_body"]


async def test_membership_keeps_the_households_recipients(notifier, household, feed, rows) -> None:
    client = await notifier()
    home = household()
    ann, a = home.join("Ann")
    carol = uuid4()
    joined = home.event(
        MemberJoined(user_id=carol, email="carol@example.net", display_name="Carol", role="viewer")
    )
    await feed(client, a, joined, home.event(MemberRoleChanged(user_id=carol, role="member")))
    await feed(client, home.alert(category="Fuel"))
    assert {n["user_id"] for n in (await rows(client))["notifications"]} == {ann, carol}
    async with client.app.state.db.read() as s:
        role = await s.scalar(select(recipients.c.role).where(recipients.c.user_id == carol))
    assert role == "member"

    await feed(client, home.event(MemberLeft(user_id=carol, removed_by=ann)), home.alert(category="Rent"))
    found = await rows(client)
    assert [n["title"] for n in by_user(found, carol)] == ["Fuel budget: 80% used"]
    assert len(by_user(found, ann)) == 2


async def test_profile_time_zone_is_used_for_quiet_hours(
    notifier, household, feed, rows, token_minter
) -> None:
    client = await notifier()
    home = household()
    ann, a = home.join("Ann")
    await feed(client, a)
    # Quiet hours around "now" in Tokyo: whatever the hour, 1 hour ago to 1 hour ahead there.
    now_tokyo = datetime.now(UTC) + timedelta(hours=9)
    start, end = (
        (now_tokyo - timedelta(hours=1)).strftime("%H:%M"),
        (now_tokyo + timedelta(hours=1)).strftime("%H:%M"),
    )
    headers = token_minter.headers(ann, home.tenant_id)
    changed = await client.patch(
        "/preferences", headers=headers, json={"quiet_hours": {"start": start, "end": end}}
    )
    assert changed.status_code == 200, changed.text
    await feed(
        client,
        home.event(ProfileUpdated(user_id=ann, display_name="Ann B.", locale="ja", time_zone="Asia/Tokyo")),
    )
    prefs = (await client.get("/preferences", headers=headers)).json()
    assert prefs["time_zone"] == "Asia/Tokyo"
    await feed(client, home.alert())
    [mail] = (await rows(client))["deliveries"]
    held_for = mail["next_attempt_at"] - datetime.now(UTC)
    assert timedelta(minutes=50) < held_for <= timedelta(hours=1, minutes=1)
    assert mail["text_body"].startswith("Hello Ann B.,")
    # In-app is silent: it is in the feed at once.
    assert len((await rows(client))["notifications"]) == 1


async def test_user_deleted_forgets_the_person(notifier, household, feed, rows, token_minter) -> None:
    client = await notifier(allow_private_targets=True)
    home = household()
    ann, a = home.join("Ann")
    bob, b = home.join("Bob")
    await feed(client, a, b, home.event(LoginSucceeded(user_id=ann, session_id=uuid4(), device="x")))
    headers = token_minter.headers(ann, home.tenant_id)
    await client.patch("/preferences", headers=headers, json={"channels": {"goal.behind": {"email": True}}})
    await client.post(
        "/webhooks", headers=headers, json={"url": "http://127.0.0.1:9/", "event_types": ["goal.behind"]}
    )
    await feed(client, home.alert())
    await feed(client, home.event(UserDeleted(user_id=ann)))
    found = await rows(client)
    assert by_user(found, ann) == []
    assert [d for d in found["deliveries"] if d["recipient"] == ann] == []  # the pending one is dropped
    assert len(by_user(found, bob)) == 1
    async with client.app.state.db.read() as s:
        for table in (recipients, preferences, webhooks, push_subscriptions, known_devices):
            left = (await s.execute(select(table).where(table.c.user_id == ann))).all()
            assert left == [], table.name
