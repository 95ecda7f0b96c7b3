"""Recurring series found in a household's history, through the ledger's HTTP API on a real database: the
worker finds a subscription whose price rose, tells it once (an event for the notifier), proposes it;
accepted with one click it is a bill schedule at its current price; a later rise and its stop are told;
a dismissed proposal stays dismissed and is told nothing; another household sees and touches none of it;
bad input changes nothing."""

from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy import text

from tally_ledger.main import MIGRATIONS, create_app
from tally_ledger.series_finding import Finder
from tally_ledger.settings import LedgerSettings

from .ledger_helpers import open_account


@pytest_asyncio.fixture
async def ledger(service_client: Callable[..., Awaitable[httpx.AsyncClient]]) -> httpx.AsyncClient:
    return await service_client(create_app, LedgerSettings, MIGRATIONS, series_processes=0)


def _finder(ledger: httpx.AsyncClient) -> Finder:
    app: Any = ledger.app  # type: ignore[attr-defined]
    return Finder(app.state.db, app.state.settings)


async def _events(ledger: httpx.AsyncClient) -> Counter[str]:
    app: Any = ledger.app  # type: ignore[attr-defined]
    async with app.state.db.read() as session:
        rows = await session.execute(text("SELECT type FROM event_store WHERE type LIKE 'ledger.Recurring%'"))
        return Counter(t.removeprefix("ledger.") for (t,) in rows)


async def _pay(ledger: httpx.AsyncClient, headers: dict[str, str], account: str, payee: str, amount: int,
               day: str, category: str | None = None) -> None:
    made = await ledger.post("/transactions", headers=headers, json={
        "account_id": account, "kind": "expense", "amount_minor": amount, "payee": payee,
        "category_id": category, "booked_on": day})
    assert made.status_code == 201, made.text


async def test_found_proposed_accepted_told_dismissed_and_kept_apart(
    ledger: httpx.AsyncClient, household: Callable[[], Any], give_defaults: Callable[[Any], Awaitable[Any]]
) -> None:
    home, other = household(), household()
    categories = await give_defaults(home)
    category = next(c["id"] for c in categories.values() if c["kind"] == "expense")
    account = (await open_account(ledger, home.headers, name="Giro"))["id"]
    for month, amount in enumerate([1299] * 4 + [1599] * 3, start=1):
        day = f"2025-{month:02d}-{21 if month == 3 else 18}"  # March's came three days late
        await _pay(ledger, home.headers, account, "STREAMFLIX.COM", amount, day, category)
        await _pay(ledger, home.headers, account, f"PAYPAL *SPOTIFY {month}", 1099, f"2025-{month:02d}-03")
        for n, spent in enumerate((2341, 5620, 1875, 3307)):  # a supermarket is no subscription
            await _pay(ledger, home.headers, account, "REWE SAGT DANKE", spent + month * 397 % 1000,
                       f"2025-{month:02d}-{n * 7 + 2:02d}")

    assert await _finder(ledger).run_once(today=date(2025, 8, 1)) == 1
    listed = (await ledger.get("/recurring/proposals", headers=home.headers)).json()
    assert listed["detected_at"] is not None
    assert len(listed["items"]) == 2
    streamflix = next(p for p in listed["items"] if p["name"] == "STREAMFLIX.COM")
    spotify = next(p for p in listed["items"] if p["name"] == "Spotify")
    assert (streamflix["name"], streamflix["period"], streamflix["amount_minor"], streamflix["occurrences"],
            streamflix["next_on"], streamflix["category_id"]) == (
        "STREAMFLIX.COM", "monthly", 1599, 7, "2025-08-18", category)
    assert streamflix["price_changes"] == [{"old_minor": 1299, "new_minor": 1599, "on": "2025-05-18"}]
    assert spotify["payee"].startswith("PAYPAL *SPOTIFY")
    assert spotify["amount_minor"] == 1099
    assert await _events(ledger) == {"RecurringSeriesFound": 2}
    assert await _finder(ledger).run_once(today=date(2025, 8, 2)) == 0  # nothing changed: nothing told

    # Another household sees none of it and can touch none of it; a viewer may not decide; bad ids.
    assert (await ledger.get("/recurring/proposals", headers=other.headers)).json()["items"] == []
    for action in ("accept", "dismiss"):
        path = f"/recurring/proposals/{streamflix['id']}/{action}"
        assert (await ledger.post(path, headers=other.headers)).status_code == 404
        assert (await ledger.post(path, headers=home.viewer_headers)).status_code == 403
        bad = await ledger.post(f"/recurring/proposals/not-an-id/{action}", headers=home.headers)
        assert bad.status_code == 422
    assert await _events(ledger) == {"RecurringSeriesFound": 2}

    # One click: a monthly bill on the 18th at the current price, with the series' category.
    accepted = await ledger.post(f"/recurring/proposals/{streamflix['id']}/accept", headers=home.headers)
    assert accepted.status_code == 201, accepted.text
    schedule = accepted.json()
    fields = ("name", "amount_minor", "cadence", "interval", "day_of_month", "is_bill", "auto_post",
              "category_id")
    assert [schedule[f] for f in fields] == ["STREAMFLIX.COM", 1599, "monthly", 1, 18, True, False, category]
    again = await ledger.post(f"/recurring/proposals/{streamflix['id']}/accept", headers=home.headers)
    assert again.status_code == 422, again.text
    dismissed = await ledger.post(f"/recurring/proposals/{spotify['id']}/dismiss", headers=home.headers)
    assert dismissed.status_code == 200, dismissed.text
    assert (await ledger.get("/recurring/proposals", headers=home.headers)).json()["items"] == []
    assert [s["name"] for s in (await ledger.get("/recurring", headers=home.headers)).json()["items"]] == [
        "STREAMFLIX.COM"]
    assert await _events(ledger) == {"RecurringSeriesFound": 2, "RecurringScheduled": 1,
                                     "RecurringProposalAccepted": 1, "RecurringProposalDismissed": 1}

    # The accepted series still hears of a new price and, later, of its stop; the dismissed one of nothing.
    for day in ("2025-08-18", "2025-09-18"):
        await _pay(ledger, home.headers, account, "STREAMFLIX.COM", 1799, day)
    await _finder(ledger).run_once(today=date(2025, 10, 1))
    await _finder(ledger).run_once(today=date(2026, 1, 15))
    told = await _events(ledger)
    # Streamflix stopped after September, Spotify after July: only the accepted one is told.
    assert [told[t] for t in ("RecurringSeriesPriceChanged", "RecurringSeriesStopped", "RecurringSeriesFound")
            ] == [1, 1, 2]
