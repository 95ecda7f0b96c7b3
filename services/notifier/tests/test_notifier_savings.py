"""The monthly digest lists the month's savings opportunities that analytics published
(`analytics.SavingsOpportunitiesFound`), each with its figures and a link to its transactions, in each
person's language, through the real SMTP server; the weekly digest does not, nor does another month's."""

from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import select

from tally_notifier.digest import DigestScheduler
from tally_notifier.dispatcher import Dispatcher
from tally_notifier.tables import recipients, rollup
from tallykit.contracts.analytics import (
    SavingsKind,
    SavingsOpportunitiesFound,
    SavingsOpportunity,
    SavingsSeries,
)
from tallykit.contracts.auth import ProfileUpdated, UserDeleted
from tallykit.contracts.ledger import SeriesPeriod

PUBLIC = "https://tally.example.org"
GROCERIES = SavingsOpportunity(
    kind=SavingsKind.above_median, name="Groceries", currency="EUR", amount_minor=41_200,
    baseline_minor=28_000, baseline_months=6, change_percent=47, query='category:"Groceries" on:2026-11',
)
OPPORTUNITIES = (
    GROCERIES,
    SavingsOpportunity(
        kind=SavingsKind.price_rise, name="STREAMFLIX.COM", currency="EUR", amount_minor=1_599,
        baseline_minor=1_299, change_percent=23, period=SeriesPeriod.monthly, changed_on=date(2026, 9, 12),
        yearly_minor=19_188, extra_yearly_minor=3_600, query='payee:"STREAMFLIX.COM" type:expense',
    ),
    SavingsOpportunity(
        kind=SavingsKind.duplicate, name="Netflix", currency="EUR", amount_minor=25_176, yearly_minor=25_176,
        series=(
            SavingsSeries(name="Netflix", amount_minor=1_299, period=SeriesPeriod.monthly,
                          yearly_minor=15_588),
            SavingsSeries(name="NETFLIX.COM", amount_minor=799, period=SeriesPeriod.monthly,
                          yearly_minor=9_588),
        ),
        query='payee:"Netflix" payee:"NETFLIX.COM" type:expense',
    ),
    SavingsOpportunity(
        kind=SavingsKind.fees, name="Bank fees", currency="EUR", amount_minor=1_250, yearly_minor=4_500,
        query='category:"Bank fees" on:2026-11',
    ),
)


async def test_the_monthly_digest_lists_the_months_savings_opportunities(
    notifier: Any, household: Any, feed: Any, smtp_sink: Any
) -> None:
    port, sink = smtp_sink
    client = await notifier(smtp_port=port, public_url=PUBLIC)
    home = household()
    ann, a = home.join("Ann")
    joerg, j = home.join("Joerg")
    await feed(client, home.created(), a, j, home.event(
        ProfileUpdated(user_id=joerg, display_name="Jörg", locale="de-DE", time_zone="Europe/Berlin")))
    november = home.event(SavingsOpportunitiesFound(month="2026-11", opportunities=OPPORTUNITIES))
    october = home.event(SavingsOpportunitiesFound(month="2026-10", opportunities=(GROCERIES,)))
    assert await feed(client, november, october) == [True, True]
    async with client.app.state.db.transaction() as s:
        await s.execute(recipients.update().values(created_at=datetime(2026, 1, 1, tzinfo=UTC)))
    # Tuesday 1 December 2026: November's digest and the week before's.
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert await DigestScheduler(client.app.state.db, client.app.state.settings).tick(now) == 4
    await Dispatcher(client.app.state.db, client.app.state.settings).drain()
    mails = {(m["To"], m["Subject"].split(":")[0]): m for m in sink.messages}
    address = {user: email for user, email, _ in home.members}

    en = mails[(address[ann], "Your month in Tally")]
    text = en.get_body(("plain",)).get_content()
    section = text[text.index("Savings opportunities"):]
    assert "Groceries: above its 6-month median: 412.00 EUR against 280.00 EUR (+47%)" in section
    assert ("STREAMFLIX.COM costs more since 12 Sep 2026: 12.99 EUR → 15.99 EUR a month: "
            "191.88 EUR a year, 36.00 EUR more") in section
    assert ("2 subscriptions to Netflix: Netflix 12.99 EUR a month, NETFLIX.COM 7.99 EUR a month: "
            "251.76 EUR a year together") in section
    assert "Bank fees: fees and interest paid: 12.50 EUR this month, 45.00 EUR in 12 months" in section
    link = f"{PUBLIC}/#/transactions?q={quote(GROCERIES.query, safe='')}"
    assert f"Show the transactions: {link}" in section
    assert section.count("Show the transactions: ") == 4
    html = en.get_body(("html",)).get_content()
    assert f'<a href="{link}" style="color:#0969da;">Groceries: above its 6-month median</a>' in html

    de = mails[(address[joerg], "Dein Monat in Tally")].get_body(("plain",)).get_content()
    assert "Sparmöglichkeiten" in de
    assert "Groceries: über dem Median der 6 Monate davor: 412,00 € gegenüber 280,00 € (+47 %)" in de
    assert "2 Abos bei Netflix: Netflix 12,99 € pro Monat, NETFLIX.COM 7,99 € pro Monat" in de
    assert f"Buchungen ansehen: {link}" in de

    weekly = mails[(address[ann], "Your week in Tally")].get_body(("plain",)).get_content()
    assert "Savings opportunities" not in weekly
    assert text.count("above its 6-month median") == 1  # October's are not November's


async def test_savings_of_a_deleted_household_are_not_kept(notifier: Any, household: Any, feed: Any) -> None:
    client = await notifier()
    home = household()
    owner, joined = home.join("Ann")
    gone = home.event(UserDeleted(user_id=owner, deleted_household_ids=(home.tenant_id,)))
    await feed(client, home.created(), joined, gone,
               home.event(SavingsOpportunitiesFound(month="2026-11", opportunities=OPPORTUNITIES)))
    async with client.app.state.db.read() as s:
        kept = (await s.execute(select(rollup).where(rollup.c.tenant_id == home.tenant_id))).all()
    assert kept == []
