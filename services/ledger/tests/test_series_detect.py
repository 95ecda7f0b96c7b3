"""The recurring-series detector and the proposal aggregate, as plain Python: late payments, a month with
two payments, a price change, a stop, one-off purchases at the same payee, a supermarket that is no
subscription, bank-written payee variants, and what a household is told."""

import random
from datetime import date, timedelta
from uuid import uuid4

import pytest

from tally_ledger.domain import RuleViolation
from tally_ledger.due_dates import add_months
from tally_ledger.series.detect import Booking, PriceChange, Series, covers, detect
from tally_ledger.series.proposal import SeriesProposal
from tallykit.contracts.ledger import (
    RecurringProposalAccepted,
    RecurringSeriesFound,
    RecurringSeriesPriceChanged,
    RecurringSeriesStopped,
)

START = date(2024, 1, 30)
TODAY = date(2025, 2, 10)


def _monthly(payee: str, amounts: list[int], *, start: date = START, late: dict[int, int] | None = None,
             prefix: str = "") -> list[Booking]:
    late = late or {}
    days = [add_months(start, n) + timedelta(days=late.get(n, 0)) for n in range(len(amounts))]
    return [Booking(f"{prefix}{payee}-{n}", payee, -amount, days[n]) for n, amount in enumerate(amounts)]


def _shop(payee: str, count: int, seed: int, prices: tuple[int, ...] = ()) -> list[Booking]:
    """Purchases on random days, at random amounts or at a few fixed prices (a bakery's)."""
    rng = random.Random(seed)
    return [Booking(f"{payee}-{n}", f"{payee} {rng.randint(1000, 9999)} BERLIN",
                    -(rng.choice(prices) if prices else rng.randint(800, 9000)),
                    START + timedelta(days=rng.randrange(370))) for n in range(count)]


def _only(found: list[Series], payee_key: str) -> Series:
    matching = [s for s in found if s.payee_key == payee_key]
    assert len(matching) == 1, [(s.name, s.period.name, s.occurrences) for s in found]
    return matching[0]


def test_a_monthly_subscription_late_now_and_then_with_a_month_of_two_payments() -> None:
    # On the 30th: February's is the 29th; one comes four days late (so 3 March, then 30 March: March
    # has two), one is collected again 11 days late after a failed debit.
    bookings = _monthly("NETFLIX.COM", [1299] * 13, late={1: 3, 6: 11})
    series = _only(detect(bookings + _shop("REWE", 200, 1), TODAY), "netflix")
    assert (series.period.name, series.occurrences, series.amount_minor) == ("monthly", 13, 1299)
    assert series.next_on == date(2025, 2, 28)  # the 30th, held to February's last day
    assert not series.stopped
    assert not series.amount_varies
    assert set(series.transaction_ids) == {b.id for b in bookings}


def test_a_price_change_is_found_with_its_date_and_one_odd_payment_is_none() -> None:
    amounts = [1299] * 4 + [1500] + [1299] * 2 + [1599] * 6  # a one-off credit note month, then the rise
    series = _only(detect(_monthly("Streamflix", amounts), TODAY), "streamflix")
    assert series.price_changes == (PriceChange(1299, 1599, add_months(START, 7)),)
    assert series.amount_minor == 1599
    # Seen once only, a new price is no change yet.
    once = _only(detect(_monthly("Streamflix", [1299] * 6 + [1599]), date(2024, 9, 1)), "streamflix")
    assert (once.price_changes, once.amount_minor) == ((), 1299)


def test_a_series_that_stopped_is_flagged_after_two_missed_payments() -> None:
    bookings = _monthly("McFit", [2490] * 6)  # last on 30 June 2024
    assert detect(bookings, date(2024, 8, 30)) == [] or not detect(bookings, date(2024, 8, 30))[0].stopped
    late = detect(bookings, date(2024, 9, 6))[0]
    assert (late.missed, late.stopped) == (2, True)
    assert late.stops_on == date(2024, 9, 6)
    assert not detect(bookings, date(2024, 9, 5))[0].stopped


def test_a_supermarket_is_no_subscription_and_one_offs_at_the_payee_do_not_break_one() -> None:
    rng = random.Random(3)
    one_offs = [Booking(f"app-{n}", "APPLE.COM/BILL", -rng.randint(99, 4999),
                        START + timedelta(days=rng.randrange(360))) for n in range(20)]
    icloud = _monthly("APPLE.COM/BILL", [299] * 12, prefix="icloud-")
    bakery = _shop("Baeckerei Kraus", 150, 4, prices=(340, 420, 510, 650, 780))
    found = detect(_shop("REWE SAGT DANKE", 600, 2) + bakery + one_offs + icloud, TODAY)
    assert [(s.payee_key, s.occurrences, s.amount_minor) for s in found] == [("apple", 12, 299)]


def test_varying_amounts_weekly_quarterly_and_yearly_and_bank_written_variants() -> None:
    rng = random.Random(5)
    power = [Booking(f"power-{n}", "Vattenfall Europe Sales GmbH", -round(7800 * rng.uniform(0.95, 1.05)),
                     add_months(date(2024, 1, 5), n) + timedelta(days=rng.randint(0, 2))) for n in range(13)]
    box = [Booking(f"box-{n}", "Oekokiste Gruenzeug", -2490, date(2024, 3, 4) + timedelta(days=7 * n))
           for n in range(10)]
    water = [Booking(f"water-{n}", "Zweckverband Wasser", -8900, add_months(date(2024, 2, 15), 3 * n))
             for n in range(4)]
    prime = [Booking(f"prime-{n}", "AMAZON PRIME*2K4LM0ZQ5", -8990,
                     date(2024, 2, 3) + timedelta(days=366 * n)) for n in range(2)]
    spelt = ["PAYPAL *SPOTIFY", "Spotify AB 4711", "SUMUP *SPOTIFY STOCKHOLM"] * 3
    spotify = [Booking(f"spotify-{n}", payee, -1099, add_months(date(2024, 1, 22), n))
               for n, payee in enumerate(spelt)]
    found = {s.payee_key: s for s in detect(power + box + water + prime + spotify, TODAY)}
    assert {k: (s.period.name, s.occurrences) for k, s in found.items()} == {
        "vattenfall": ("monthly", 13), "oekokiste": ("weekly", 10), "zweckverband": ("quarterly", 4),
        "amazon": ("yearly", 2), "spotify": ("monthly", 9)}
    assert found["vattenfall"].amount_varies
    assert found["vattenfall"].tolerance_pct >= 7
    assert found["oekokiste"].stopped  # the last box came in May
    assert found["zweckverband"].period.cadence == "monthly"
    assert found["zweckverband"].period.interval == 3
    assert covers("Spotify", False, 1199, found["spotify"])
    assert not covers("Spotify", True, 1099, found["spotify"])
    assert Series.from_json(found["amazon"].to_json()) == found["amazon"]


def test_the_proposal_tells_each_finding_once_and_keeps_what_was_decided() -> None:
    monthly = _monthly("Streamflix", [1299] * 6)
    series = detect(monthly, date(2024, 7, 15))[0]
    account = uuid4()
    proposal = SeriesProposal(uuid4())
    proposal.notice(series, account_id=account, covered=True)
    assert not proposal.exists  # a schedule stands for it: nothing to propose
    proposal.notice(series, account_id=account, covered=False)
    proposal.notice(series, account_id=account, covered=False)
    assert [type(e) for e in proposal.pending] == [RecurringSeriesFound]
    rise = _monthly("Streamflix", [1599] * 2, start=add_months(START, 6))
    risen = detect(monthly + rise, date(2024, 9, 15))[0]
    proposal.notice(risen, account_id=account, covered=False)
    proposal.notice(risen, account_id=account, covered=False)
    assert isinstance(proposal.pending[-1], RecurringSeriesPriceChanged)
    schedule_id = uuid4()
    proposal.accept(schedule_id)
    assert isinstance(proposal.pending[-1], RecurringProposalAccepted)
    with pytest.raises(RuleViolation):
        proposal.dismiss()
    stopped = detect(monthly, date(2025, 1, 1))[0]
    proposal.notice(stopped, account_id=account, covered=True)
    proposal.notice(stopped, account_id=account, covered=True)
    assert [type(e).__name__ for e in proposal.pending].count("RecurringSeriesStopped") == 1
    assert isinstance(proposal.pending[-1], RecurringSeriesStopped)

    dismissed = SeriesProposal(uuid4())
    dismissed.notice(series, account_id=account, covered=False)
    dismissed.dismiss()
    dismissed.notice(stopped, account_id=account, covered=False)
    assert len(dismissed.pending) == 2  # found, dismissed: nothing told after
    with pytest.raises(RuleViolation):
        dismissed.accept(uuid4())
