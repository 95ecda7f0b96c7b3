"""Notifications in each person's language: German for "de*" locales, English (unchanged) for the rest.

A household with an English and a German member gets one of each, on every channel; e-mails written at
send time (rate-limit summary, digests) follow the recipient's locale too."""

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from sqlalchemy import select

from tally_notifier import wording
from tally_notifier.digest import DigestScheduler, Period, build_digest
from tally_notifier.dispatcher import Dispatcher
from tally_notifier.domain import (
    BudgetAlert,
    NotificationType,
    bill_message,
    goal_message,
    month_label,
    pace_message,
    recurring_message,
    security_message,
    summary_message,
    unusual_message,
)
from tally_notifier.fanout import push_payload
from tally_notifier.reactions import household_message
from tally_notifier.tables import notifications, recipients
from tally_notifier.templates import (
    render_account_email,
    render_budget_alert,
    render_digest,
    render_invitation,
    render_message,
)
from tallykit.contracts import registry
from tallykit.contracts.analytics import UnusualSpendingDetected
from tallykit.contracts.auth import (
    EmailVerificationRequested,
    MemberInvited,
    PasswordChanged,
    PasswordResetRequested,
    ProfileUpdated,
    TwoFactorDisabled,
    UserRegistered,
)
from tallykit.contracts.budget import BudgetExceeded, BudgetPaceWarning, GoalBehind, GoalReached
from tallykit.contracts.ledger import BillDueSoon, RecurringTransactionDue, TransactionKind

PUBLIC = "https://tally.example.org"
ACCOUNT = uuid4()


def exceeded(spent: int = 123450, budget: int = 100000) -> BudgetExceeded:
    return BudgetExceeded(
        budget_id=uuid4(),
        category_id=uuid4(),
        category_name="Groceries",
        period="2026-11",
        threshold_percent=100,
        spent_minor=spent,
        budget_minor=budget,
        currency="EUR",
    )


PACE = BudgetPaceWarning(
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
GOAL_REACHED = GoalReached(
    goal_id=uuid4(), name="Bike", target_minor=80000, saved_minor=80000, currency="EUR"
)
GOAL_BEHIND = GoalBehind(
    goal_id=uuid4(),
    name="Trip",
    target_minor=300000,
    saved_minor=50000,
    currency="EUR",
    needed_per_month_minor=36000,
)
BILL = BillDueSoon(
    name="Rent",
    due_on=date(2026, 12, 3),
    days_ahead=3,
    account_id=ACCOUNT,
    amount_minor=123450,
    currency="EUR",
)
RECURRING = RecurringTransactionDue(
    name="Gym",
    due_on=date(2026, 11, 22),
    account_id=ACCOUNT,
    kind=TransactionKind.expense,
    amount_minor=2999,
    currency="EUR",
)
UNUSUAL = UnusualSpendingDetected(
    transaction_id=uuid4(),
    account_id=ACCOUNT,
    payee="Bikes & Co",
    amount_minor=129900,
    typical_minor=8000,
    currency="EUR",
    booked_on=date(2026, 11, 20),
    reason="",
)


# --- plain functions ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("de", "de"),
        ("de-AT", "de"),
        ("de_CH", "de"),
        ("DE", "de"),
        ("en-GB", "en"),
        ("ja", "en"),
        (None, "en"),
    ],
)
def test_language_is_german_for_every_de_locale(locale: str | None, expected: str) -> None:
    assert wording.language(locale) == expected


def test_money_days_and_months_follow_the_language() -> None:
    assert wording.money(123450, "EUR", "de") == "1.234,50 €"
    assert wording.money(123450, "EUR", "en-GB") == "1234.50 EUR"  # English as it always was
    assert wording.money(-5, "EUR", "de-DE") == "-0,05 €"
    assert wording.money(4000, "JPY", "de") == "4.000 ¥"
    assert wording.day(date(2026, 12, 3), "de") == "3. Dezember 2026"
    assert wording.day(date(2026, 12, 3), "en") == "3 December 2026"
    assert month_label("2026-11", "de") == "November 2026"
    assert month_label("2026-03", "de-AT") == "März 2026"
    assert month_label("2025-06") == "June 2025"
    assert wording.number(9995, "de") == "9.995"
    assert wording.number(9995, "en") == "9,995"


def test_every_language_has_every_key() -> None:
    for name, table in wording.TABLES.items():
        assert set(table) == set(wording.EN), name
        for key, text in table.items():
            fields = set(re.findall(r"{(\w+)}", text))
            assert fields == set(re.findall(r"{(\w+)}", wording.EN[key])), (name, key)


def test_each_message_in_german_and_english_unchanged() -> None:
    alert = BudgetAlert.from_payload(exceeded(), "Home", "de")
    message = alert.message()
    assert message.title == "Budget „Groceries“ überschritten"
    assert message.body == (
        "1.234,50 € von 1.000,00 € im Budget „Groceries“ für November 2026 ausgegeben, 234,50 € darüber."
    )
    assert message.facts == (
        ("Ausgegeben", "1.234,50 €"),
        ("Budget", "1.000,00 €"),
        ("Darüber", "234,50 €"),
        ("Monat", "November 2026"),
    )
    assert message.link_label == "Budgets ansehen"
    english = BudgetAlert.from_payload(exceeded(), "Home").message()
    assert english.title == "Groceries budget exceeded"
    assert english.body == (
        "1234.50 EUR spent of the 1000.00 EUR Groceries budget for November 2026, 234.50 EUR over."
    )
    assert english.facts[-1] == ("Month", "2026-11")

    pace = pace_message(PACE, "de")
    assert pace.title == "Dining: Budget wird voraussichtlich überschritten"
    assert "bis zum 30. November 2026 auf 610,00 €" in pace.body
    assert pace_message(PACE).title == "Dining: on pace to overspend"

    assert goal_message(GOAL_REACHED, "de").title == "Sparziel erreicht: Bike"
    assert goal_message(GOAL_REACHED, "de").body == (
        "Du hast 800,00 € für Bike gespart und das Ziel von 800,00 € erreicht."
    )
    behind = goal_message(GOAL_BEHIND, "de-AT")
    assert behind.title == "Sparziel im Rückstand: Trip"
    assert ("Nötig pro Monat", "€ 360,00") in behind.facts  # Austrian money format
    assert goal_message(GOAL_BEHIND).title == "Goal behind: Trip"
    loan = GOAL_BEHIND.model_copy(update={"kind": "debt", "name": "Car loan"})
    assert goal_message(loan).title == "Paying off Car loan is behind"
    assert goal_message(loan).body == (
        "500.00 EUR of Car loan's 3000.00 EUR is paid off; "
        "about 360.00 EUR a month would pay it off by its date."
    )
    assert goal_message(loan, "de").facts[:2] == (("Abbezahlt", "500,00 €"), ("Schuld", "3.000,00 €"))
    paid = goal_message(GOAL_REACHED.model_copy(update={"kind": "debt"}), "de")
    assert (paid.title, paid.body) == (
        "Schuld abbezahlt: Bike",
        "Du hast Bike abbezahlt: die ganzen 800,00 €, die beim Anlegen des Ziels offen waren.",
    )

    bill = bill_message(BILL, "de")
    assert bill.title == "Rent ist in 3 Tagen fällig"
    assert bill.body == "Rent (1.234,50 €) ist am 3. Dezember 2026 fällig."
    assert bill_message(BILL).body == "Rent (1234.50 EUR) is due on 3 December 2026."

    recurring = recurring_message(RECURRING, "de")
    assert recurring.title == "Gym ist fällig"
    assert recurring.body == "Gym (29,99 €) ist am 22. November 2026 fällig."
    posted = recurring_message(RECURRING.model_copy(update={"transaction_id": uuid4()}), "de")
    assert posted.title == "Gym wurde gebucht"

    unusual = unusual_message(UNUSUAL, "de")
    assert unusual.title == "Ungewöhnliche Ausgabe: 1.299,00 € bei Bikes & Co"
    assert unusual.body == "1.299,00 € am 20. November 2026 liegt weit über den üblichen 80,00 €."
    assert unusual_message(UNUSUAL).title == "Unusual spending: 1299.00 EUR at Bikes & Co"

    security = security_message(
        NotificationType.password_changed,
        device="Laptop",
        ip=None,
        detail=wording.words("de", "detail_password_changed"),
        locale="de",
    )
    assert security.title == "Dein Tally-Passwort wurde geändert"
    assert security.body.startswith("Dein Passwort wurde geändert. Falls du das nicht warst")
    assert security.facts == (("Gerät", "Laptop"),)

    summary = summary_message(9995, {"spending.unusual": 9990, "budget.exceeded": 5}, "de")
    assert summary.title == "9.995 weitere Benachrichtigungen"
    assert summary.body == (
        "Es gab 9.995 Benachrichtigungen mehr, als wir auf einmal senden: "
        "9.990 x Ungewöhnliche Ausgabe, 5 x Budget überschritten."
    )
    assert summary_message(9995, {"spending.unusual": 9990}).title == "9,995 more notifications"

    payload = push_payload(household_message(BILL, "Home", "de"), uuid4(), PUBLIC)
    assert payload["title"] == "Rent ist in 3 Tagen fällig"
    assert payload["url"] == f"{PUBLIC}/#/recurring"


def test_german_emails_have_german_layout_and_escaping() -> None:
    alert = BudgetAlert.from_payload(exceeded(), "Müllers & <Co>", "de")
    email = render_budget_alert(alert, display_name="Jörg", public_url=PUBLIC, unsubscribe_url=PUBLIC + "/u")
    assert email.subject == "Budget „Groceries“ überschritten"
    assert email.text.startswith("Hallo Jörg,\n\nDein Budget „Groceries“ in Müllers & <Co> ist aufgebraucht.")
    assert "  Ausgegeben: 1.234,50 €" in email.text
    assert "E-Mails „Budget überschritten“ abbestellen: https://tally.example.org/u" in email.text
    assert "Benachrichtigungseinstellungen: https://tally.example.org/#/preferences" in email.text
    assert '<html lang="de">' in email.html
    assert (
        "Dein Budget <strong>Groceries</strong> in Müllers &amp; &lt;Co&gt; ist aufgebraucht." in email.html
    )
    assert ">Budgets ansehen</a>" in email.html
    assert "Hello" not in email.text + email.html

    english = render_budget_alert(
        BudgetAlert.from_payload(exceeded(), "Home"), display_name="Ann", public_url=PUBLIC
    )
    assert '<html lang="en">' in english.html
    assert english.text.startswith("Hello Ann,\n\nYour Groceries budget in Home is used up.")
    assert (
        "  Spent:  1234.50 EUR\n  Budget: 1000.00 EUR\n  Over:   234.50 EUR\n  Month:  2026-11"
        in english.text
    )

    unnamed = render_message(
        goal_message(GOAL_REACHED, "de"),
        display_name="Jörg",
        household="your household",
        public_url=PUBLIC,
        unsubscribe_url=None,
        locale="de",
    )
    assert "weil du Mitglied von deinem Haushalt bist." in unnamed.text
    plain = render_message(
        bill_message(BILL, "de"),
        display_name="Jörg",
        household="H",
        public_url=PUBLIC,
        unsubscribe_url=None,
        locale="de",
    )
    assert "  Betrag: 1.234,50 €\n  Fällig: 3. Dezember 2026" in plain.text
    assert plain.text.endswith("Tally · du bekommst diese E-Mail, weil du Mitglied von H bist.\n")

    invitation = render_invitation(
        household="Zuhause",
        invited_by="",
        role="viewer",
        link=PUBLIC + "/j",
        expires_at=datetime(2026, 12, 1, tzinfo=UTC),
        locale="de",
    )
    assert invitation.subject == "Jemand hat dich zu Zuhause in Tally eingeladen"
    assert invitation.text.startswith(
        "Hallo,\n\nJemand hat dich eingeladen, Zuhause in Tally als Betrachter:in"
    )
    assert "läuft am 1. Dezember 2026 um 00:00 UTC ab" in invitation.text

    for template, subject, button in (
        ("verify_email", "Bestätige deine E-Mail-Adresse für Tally", "E-Mail-Adresse bestätigen"),
        ("password_reset", "Setze dein Tally-Passwort zurück", "Neues Passwort wählen"),
    ):
        mail = render_account_email(
            template,
            display_name="Jörg",
            email="j@example.org",
            link=PUBLIC + "/l",
            expires_at=datetime(2030, 1, 2, 3, 4, tzinfo=UTC),
            locale="de-DE",
        )
        assert mail.subject == subject
        assert mail.text.startswith("Hallo Jörg,")
        assert "2. Januar 2030 um 03:04 UTC" in mail.text
        assert f">{button}</a>" in mail.html
        assert '<html lang="de">' in mail.html


def test_german_digest() -> None:
    period = Period(
        NotificationType.digest_monthly,
        "2026-11",
        date(2026, 11, 1),
        date(2026, 11, 30),
        datetime(2026, 12, 1, 8, tzinfo=UTC),
    )
    rollup: list[dict[str, Any]] = [
        {
            "kind": "budget",
            "day": date(2026, 11, 20),
            "data": {
                "category": "Groceries",
                "period": "2026-11",
                "spent_minor": 123450,
                "budget_minor": 130000,
                "currency": "EUR",
            },
        },
        {
            "kind": "bill",
            "day": date(2026, 11, 30),
            "data": {"name": "Rent", "due_on": "2026-12-03", "amount_minor": 95000, "currency": "EUR"},
        },
    ]
    digest = build_digest(period, rollup, ["Budget „Groceries“ überschritten"], date(2026, 12, 1), "de")
    assert digest.title == "Dein Monat in Tally: 01. Nov. - 30. Nov. 2026"
    email = render_digest(digest, display_name="Jörg", household="H", public_url=PUBLIC, unsubscribe_url="u")
    assert "Gesamt (EUR): 1.234,50 €" in email.text
    assert "Groceries: 1.234,50 € von 1.300,00 €" in email.text
    assert "Rent · 03. Dez.: 950,00 €" in email.text
    assert "Hinweise dieses Monats\n  Budget „Groceries“ überschritten" in email.text
    assert "E-Mails „Monatliche Zusammenfassung“ abbestellen: u" in email.text
    english = build_digest(period, rollup, [], date(2026, 12, 1))
    assert english.title == "Your month in Tally: 01 Nov - 30 Nov 2026"


# --- through the consumer, the database and a real SMTP server ---------------------------------------------


async def _household(
    client: Any, home: Any, feed: Any, token_minter: Any, emails: bool = True
) -> tuple[UUID, UUID]:
    ann, a = home.join("Ann")
    joerg, j = home.join("Joerg")
    await feed(
        client,
        home.created(),
        a,
        j,
        home.event(
            ProfileUpdated(user_id=joerg, display_name="Jörg", locale="de-DE", time_zone="Europe/Berlin")
        ),
        home.event(
            ProfileUpdated(user_id=ann, display_name="Ann", locale="en-GB", time_zone="Europe/London")
        ),
    )
    if emails:
        every_email = {
            t: {"email": True}
            for t in ("budget.pace_warning", "goal.behind", "recurring.due", "spending.unusual")
        }
        for person in (ann, joerg):
            headers = token_minter.headers(person, home.tenant_id)
            changed = await client.patch("/preferences", headers=headers, json={"channels": every_email})
            assert changed.status_code == 200
    return ann, joerg


def _address(home: Any, user: UUID) -> str:
    return next(email for user_id, email, _ in home.members if user_id == user)


async def test_household_alerts_reach_each_member_in_their_language(
    notifier, household, feed, rows, token_minter, smtp_sink
) -> None:
    port, sink = smtp_sink
    client = await notifier(smtp_port=port, public_url=PUBLIC, mail_batch_size=50, rate_limit_per_window=50)
    home = household(name="Müllers")
    ann, joerg = await _household(client, home, feed, token_minter)
    events = {
        "budget.exceeded": (
            home.event(exceeded()),
            "Budget „Groceries“ überschritten",
            "Groceries budget exceeded",
        ),
        "budget.pace_warning": (
            home.event(PACE),
            "Dining: Budget wird voraussichtlich überschritten",
            "Dining: on pace to overspend",
        ),
        "goal.reached": (home.event(GOAL_REACHED), "Sparziel erreicht: Bike", "Goal reached: Bike"),
        "goal.behind": (home.event(GOAL_BEHIND), "Sparziel im Rückstand: Trip", "Goal behind: Trip"),
        "bill.due_soon": (home.event(BILL), "Rent ist in 3 Tagen fällig", "Rent is due in 3 days"),
        "recurring.due": (home.event(RECURRING), "Gym ist fällig", "Gym is due"),
        "spending.unusual": (
            home.event(UNUSUAL),
            "Ungewöhnliche Ausgabe: 1.299,00 € bei Bikes & Co",
            "Unusual spending: 1299.00 EUR at Bikes & Co",
        ),
    }
    security_de = home.event(PasswordChanged(user_id=joerg))
    security_en = home.event(TwoFactorDisabled(user_id=ann))
    await feed(client, *(e for e, _, _ in events.values()), security_de, security_en)
    await Dispatcher(client.app.state.db, client.app.state.settings).drain()

    mails = {(m["X-Tally-Event-ID"], m["To"]): m for m in sink.messages}
    assert len(mails) == len(events) * 2 + 2
    de_address, en_address = _address(home, joerg), _address(home, ann)
    for kind, (envelope, german, english) in events.items():
        de = mails[(str(envelope.id), de_address)]
        en = mails[(str(envelope.id), en_address)]
        assert de["Subject"] == german, kind
        assert en["Subject"] == english, kind
        de_text, en_text = de.get_body(("plain",)).get_content(), en.get_body(("plain",)).get_content()
        assert de_text.startswith("Hallo Jörg,"), kind
        assert en_text.startswith("Hello Ann,"), kind
        assert "abbestellen: " in de_text, kind
        assert "Unsubscribe from " in en_text, kind
        assert '<html lang="de">' in de.get_body(("html",)).get_content()
        assert '<html lang="en">' in en.get_body(("html",)).get_content()
    budget_de = mails[(str(events["budget.exceeded"][0].id), de_address)].get_body(("plain",)).get_content()
    assert "  Ausgegeben: 1.234,50 €" in budget_de
    budget_en = mails[(str(events["budget.exceeded"][0].id), en_address)].get_body(("plain",)).get_content()
    assert "  Spent:  1234.50 EUR" in budget_en
    assert mails[(str(security_de.id), de_address)]["Subject"] == "Dein Tally-Passwort wurde geändert"
    assert (str(security_de.id), en_address) not in mails  # security alerts are for that person only
    assert mails[(str(security_en.id), en_address)]["Subject"] == "Two-factor sign-in was changed"

    found = await rows(client)
    titles = {(n["user_id"], n["event_id"]): (n["title"], n["body"]) for n in found["notifications"]}
    bill = events["bill.due_soon"][0].id
    assert titles[(joerg, bill)] == (
        "Rent ist in 3 Tagen fällig",
        "Rent (1.234,50 €) ist am 3. Dezember 2026 fällig.",
    )
    assert titles[(ann, bill)] == ("Rent is due in 3 days", "Rent (1234.50 EUR) is due on 3 December 2026.")
    assert titles[(joerg, security_de.id)][1].startswith("Dein Passwort wurde geändert.")


async def test_account_mail_and_invitations_in_the_persons_language(
    notifier, household, feed, token_minter, smtp_sink
) -> None:
    port, sink = smtp_sink
    client = await notifier(smtp_port=port, public_url=PUBLIC)
    home = household()
    ann, joerg = await _household(client, home, feed, token_minter, emails=False)

    def mailed(kind: type[EmailVerificationRequested | PasswordResetRequested], user: UUID) -> Any:
        payload = kind(
            user_id=user,
            email=_address(home, user),
            display_name="Jörg" if user == joerg else "Ann",
            path="/#/verify?token=x",
            expires_at=datetime(2030, 1, 2, 3, 4, tzinfo=UTC),
        )
        return registry.envelope(
            payload, tenant_id=home.tenant_id, stream_id=user, stream_version=1, actor=str(user)
        )

    def invited(by: UUID, email: str) -> Any:
        payload = MemberInvited(
            invitation_id=uuid4(),
            email=email,
            role="member",
            household_name="Müllers",
            invited_by_name="Jörg",
            path="/#/join?token=abc",
            expires_at=datetime(2026, 12, 1, tzinfo=UTC),
        )
        return registry.envelope(
            payload, tenant_id=home.tenant_id, stream_id=uuid4(), stream_version=1, actor=str(by)
        )

    verify_de = mailed(EmailVerificationRequested, joerg)
    reset_en = mailed(PasswordResetRequested, ann)
    new_person = invited(joerg, "carol@example.net")  # unknown invitee: the inviter's language
    known_person = invited(joerg, _address(home, ann).upper())  # a Tally user: their own language
    await feed(client, verify_de, reset_en, new_person, known_person)
    await Dispatcher(client.app.state.db, client.app.state.settings).drain()
    subjects = {m["X-Tally-Event-ID"]: m for m in sink.messages}
    assert subjects[str(verify_de.id)]["Subject"] == "Bestätige deine E-Mail-Adresse für Tally"
    assert "2. Januar 2030 um 03:04 UTC" in subjects[str(verify_de.id)].get_body(("plain",)).get_content()
    assert subjects[str(reset_en.id)]["Subject"] == "Reset your Tally password"
    assert subjects[str(new_person.id)]["Subject"] == "Jörg hat dich zu Müllers in Tally eingeladen"
    text = subjects[str(new_person.id)].get_body(("plain",)).get_content()
    assert "als Mitglied beizutreten" in text
    assert f"Einladung annehmen: {PUBLIC}/#/join?token=abc" in text
    assert subjects[str(known_person.id)]["Subject"] == "Jörg invited you to Müllers on Tally"


async def test_rate_limit_summary_in_the_persons_language(
    notifier, household, feed, rows, token_minter, smtp_sink
) -> None:
    port, sink = smtp_sink
    client = await notifier(smtp_port=port, public_url=PUBLIC, rate_limit_per_window=1, rate_window_s=3600)
    home = household()
    ann, joerg = await _household(client, home, feed, token_minter)
    burst = [
        home.event(UNUSUAL.model_copy(update={"transaction_id": uuid4(), "payee": f"Shop {i}"}))
        for i in range(4)
    ]
    await feed(client, *burst)
    found = await rows(client)
    summaries = {n["user_id"]: n for n in found["notifications"] if n["type"] == "summary"}
    assert re.fullmatch(r"\d+ weitere Benachrichtigungen", summaries[joerg]["title"])
    assert "x Ungewöhnliche Ausgabe" in summaries[joerg]["body"]
    assert re.fullmatch(r"\d+ more notifications", summaries[ann]["title"])
    assert "x unusual spending" in summaries[ann]["body"]
    # The summary e-mail is written when its window ends.
    async with client.app.state.db.transaction() as s:
        from tally_notifier.tables import deliveries

        await s.execute(
            deliveries.update()
            .where(deliveries.c.type == "summary")
            .values(next_attempt_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    await Dispatcher(client.app.state.db, client.app.state.settings).drain()
    summary_mails = {
        m["To"]: m for m in sink.messages if "Benachrichtigungen" in m["Subject"] or "more" in m["Subject"]
    }
    de = summary_mails[_address(home, joerg)]
    assert re.fullmatch(r"\d+ weitere Benachrichtigungen", de["Subject"])
    assert ">Benachrichtigungen öffnen</a>" in de.get_body(("html",)).get_content()
    assert re.fullmatch(r"\d+ more notifications", summary_mails[_address(home, ann)]["Subject"])


async def test_digest_in_the_persons_language(notifier, household, feed, token_minter, smtp_sink) -> None:
    port, sink = smtp_sink
    client = await notifier(smtp_port=port, public_url=PUBLIC)
    home = household()
    ann, joerg = await _household(client, home, feed, token_minter, emails=False)
    await feed(client, home.alert(period="2026-11", spent=45000, budget=50000))
    async with client.app.state.db.transaction() as s:
        await s.execute(recipients.update().values(created_at=datetime(2026, 1, 1, tzinfo=UTC)))
        # The alert happened during November, so that it is listed in November's digest.
        await s.execute(notifications.update().values(created_at=datetime(2026, 11, 20, 12, tzinfo=UTC)))
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert await DigestScheduler(client.app.state.db, client.app.state.settings).tick(now) == 4
    await Dispatcher(client.app.state.db, client.app.state.settings).drain()
    monthly = {m["To"]: m for m in sink.messages if m["Subject"].startswith(("Your month", "Dein Monat"))}
    de = monthly[_address(home, joerg)]
    assert de["Subject"] == "Dein Monat in Tally: 01. Nov. - 30. Nov. 2026"
    text = de.get_body(("plain",)).get_content()
    assert text.startswith("Hallo Jörg,")
    assert "Groceries: 450,00 € von 500,00 €" in text
    assert "Budget „Groceries“: 80 % verbraucht" in text  # the alert as Jörg's feed titled it
    en = monthly[_address(home, ann)]
    assert en["Subject"] == "Your month in Tally: 01 Nov - 30 Nov 2026"
    en_text = en.get_body(("plain",)).get_content()
    assert "Groceries: 450.00 EUR of 500.00 EUR" in en_text
    assert "Groceries budget: 80% used" in en_text
    async with client.app.state.db.read() as s:
        titles = set((await s.execute(select(notifications.c.title))).scalars())
    assert titles == {"Groceries budget: 80% used", "Budget „Groceries“: 80 % verbraucht"}


async def test_the_first_email_is_in_the_language_of_the_sign_up(
    notifier, household, feed, smtp_sink
) -> None:
    """UserRegistered carries the language the person signed up in; no profile change needed."""
    port, sink = smtp_sink
    client = await notifier(smtp_port=port, public_url=PUBLIC)
    home = household()
    user = uuid4()
    address = f"neu-{user.hex[:8]}@example.com"
    registered = registry.envelope(
        UserRegistered(user_id=user, email=address, display_name="Jörg", locale="de-AT"),
        tenant_id=home.tenant_id, stream_id=user, stream_version=1, actor=str(user),
    )
    verify = registry.envelope(
        EmailVerificationRequested(user_id=user, email=address, display_name="Jörg", path="/#/verify?token=x",
                                   expires_at=datetime(2030, 1, 2, 3, 4, tzinfo=UTC)),
        tenant_id=home.tenant_id, stream_id=user, stream_version=2, actor=str(user),
    )
    await feed(client, registered, verify)
    await Dispatcher(client.app.state.db, client.app.state.settings).drain()
    mail = next(m for m in sink.messages if m["X-Tally-Event-ID"] == str(verify.id))
    assert mail["Subject"] == "Bestätige deine E-Mail-Adresse für Tally"
