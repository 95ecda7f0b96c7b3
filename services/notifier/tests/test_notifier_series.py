"""What the ledger finds in a household's history (issue #18) reaches every member as one notification
type, "recurring.finding": a new recurring payment, a new price, a stop; in their language; and a person
who switched the type off is not told."""

from datetime import date
from uuid import uuid4

from tally_notifier.domain import series_message
from tallykit.contracts.ledger import (
    RecurringSeriesFound,
    RecurringSeriesPriceChanged,
    RecurringSeriesStopped,
    SeriesPeriod,
    TransactionKind,
)

ACCOUNT = uuid4()
FOUND = RecurringSeriesFound(
    name="Streamflix", payee="STREAMFLIX.COM", account_id=ACCOUNT, kind=TransactionKind.expense,
    period=SeriesPeriod.monthly, amount_minor=1599, currency="EUR", occurrences=8, first_on=date(2025, 1, 18),
    last_on=date(2025, 8, 18), next_on=date(2025, 9, 18), previous_amount_minor=1299,
    price_changed_on=date(2025, 3, 18),
)
CHANGED = RecurringSeriesPriceChanged(
    name="Streamflix", account_id=ACCOUNT, kind=TransactionKind.expense, period=SeriesPeriod.monthly,
    old_amount_minor=1299, new_amount_minor=1599, currency="EUR", changed_on=date(2025, 3, 18),
)
STOPPED = RecurringSeriesStopped(
    name="Gym", account_id=ACCOUNT, kind=TransactionKind.expense, period=SeriesPeriod.monthly,
    amount_minor=2490, currency="EUR", last_on=date(2025, 5, 2), missed=2,
)


def test_each_finding_says_what_was_found_in_both_languages() -> None:
    found = series_message(FOUND)
    assert found.title == "Recurring payment found: Streamflix"
    assert found.body.startswith("Streamflix: 15.99 EUR a month, 8 payments since 18 January 2025")
    assert found.body.endswith("Until 18 March 2025 it was 12.99 EUR.")
    assert found.link_path == "/#/recurring"
    assert series_message(CHANGED).title == "Streamflix: 12.99 EUR → 15.99 EUR from March 2025"
    assert series_message(CHANGED, "de").title == "Streamflix: 12,99 € → 15,99 € ab März 2025"
    assert series_message(STOPPED).title == "Gym seems to have stopped"
    assert "2 expected ones did not come" in series_message(STOPPED).body
    assert series_message(STOPPED, "de").title == "Gym scheint beendet"
    salary = FOUND.model_copy(update={"kind": TransactionKind.income, "name": "ACME GmbH",
                                      "previous_amount_minor": None, "price_changed_on": None})
    assert series_message(salary, "de").title == "Regelmäßige Einnahme gefunden: ACME GmbH"
    assert "Bis zum" not in series_message(salary, "de").body


async def test_findings_reach_members_in_app_unless_switched_off(
    notifier, household, feed, rows, token_minter
) -> None:
    client = await notifier()
    home = household()
    ann, a = home.join("Ann")
    bob, b = home.join("Bob")
    await feed(client, home.created(), a, b)
    off = await client.patch("/preferences", headers=token_minter.headers(bob, home.tenant_id),
                             json={"channels": {"recurring.finding": {"in_app": False, "push": False,
                                                                      "webhook": False}}})
    assert off.status_code == 200, off.text
    prefs = (await client.get("/preferences", headers=token_minter.headers(ann, home.tenant_id))).json()
    finding = next(t for t in prefs["types"] if t["type"] == "recurring.finding")
    assert finding["channels"]["email"] is False
    assert finding["channels"]["in_app"] is True

    await feed(client, home.event(FOUND), home.event(CHANGED), home.event(STOPPED))
    found = await rows(client)
    assert sorted(n["title"] for n in found["notifications"] if n["user_id"] == ann) == [
        "Gym seems to have stopped", "Recurring payment found: Streamflix",
        "Streamflix: 12.99 EUR → 15.99 EUR from March 2025"]
    assert [n for n in found["notifications"] if n["user_id"] == bob] == []
    assert found["deliveries"] == []  # no e-mail by default
