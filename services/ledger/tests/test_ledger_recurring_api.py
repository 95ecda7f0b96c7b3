"""Recurring transactions and bills through HTTP and the scheduler, on a real database: auto-post, remind,
skip, a bill paid by a matching transaction, each occurrence's events once even with two schedulers
running at the same time, households kept apart, the read model rebuilt to the same rows."""

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import httpx
from sqlalchemy import text

from tally_ledger import projections
from tally_ledger.scheduler import Scheduler
from tallykit.db import Database

from .ledger_helpers import call, open_account


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T06:00:00").replace(tzinfo=UTC)


async def events(ledger: httpx.AsyncClient) -> Counter[str]:
    app: Any = ledger.app  # type: ignore[attr-defined]
    async with app.state.db.read() as session:
        rows = await session.execute(text("SELECT type FROM event_store"))
        return Counter(t for (t,) in rows)


def scheduler(ledger: httpx.AsyncClient, db: Database | None = None) -> Scheduler:
    app: Any = ledger.app  # type: ignore[attr-defined]
    return Scheduler(db or app.state.db, app.state.settings)


async def test_auto_post_remind_skip_and_a_bill_paid_by_a_matching_transaction(
    ledger: httpx.AsyncClient, household: Callable[[], Any]
) -> None:
    home = household()
    account = await open_account(ledger, home.headers, name="Checking", opening_balance_minor=100_000)
    rent = await call(
        ledger,
        home.headers,
        "POST",
        "/recurring",
        201,
        json={
            "name": "Rent",
            "account_id": account["id"],
            "amount_minor": 80_000,
            "payee": "Landlord",
            "cadence": "monthly",
            "day_of_month": 1,
            "starts_on": "2020-01-01",
            "auto_post": True,
        },
    )
    assert rent["currency"] == "EUR"
    assert rent["next_due_on"] > "2025-01-01"  # set up today: the past is not posted
    power = await call(
        ledger,
        home.headers,
        "POST",
        "/recurring",
        201,
        json={
            "name": "Power",
            "account_id": account["id"],
            "amount_minor": 6_000,
            "payee": "City Power",
            "cadence": "monthly",
            "day_of_month": -1,
            "starts_on": "2099-01-01",
            "is_bill": True,
            "remind_days_before": 5,
            "tolerance_pct": 10,
        },
    )
    # Move rent to start in 2099 too so that the test's clock decides what is due.
    rent = await call(
        ledger,
        home.headers,
        "PUT",
        f"/recurring/{rent['id']}",
        json={
            **{
                k: rent[k]
                for k in (
                    "name",
                    "account_id",
                    "amount_minor",
                    "payee",
                    "cadence",
                    "day_of_month",
                    "auto_post",
                )
            },
            "starts_on": "2099-01-01",
            "expected_version": rent["version"],
        },
    )
    assert rent["next_due_on"] == "2099-01-01"
    await call(ledger, home.headers, "POST", f"/recurring/{rent['id']}/skip", json={"due_on": "2099-02-01"})

    sched = scheduler(ledger)
    assert await sched.run_once(at("2098-12-25")) == 0
    assert await sched.run_once(at("2099-01-26")) > 0  # rent of January posted, power reminder for the 31st
    assert await sched.run_once(at("2099-01-26")) == 0
    counted = await events(ledger)
    assert counted["ledger.RecurringTransactionDue"] == 1
    assert counted["ledger.BillDueSoon"] == 1
    posted = await call(ledger, home.headers, "GET", "/transactions", params={"q": "landlord"})
    assert [(t["booked_on"], t["amount_minor"]) for t in posted["items"]] == [("2099-01-01", 80_000)]

    # The power bill is paid by a transaction close enough in amount and date.
    await call(
        ledger,
        home.headers,
        "POST",
        "/transactions",
        201,
        json={
            "account_id": account["id"],
            "kind": "expense",
            "amount_minor": 6_400,
            "booked_on": "2099-01-29",
            "payee": "CITY POWER",
        },
    )
    upcoming = await call(
        ledger,
        home.headers,
        "GET",
        "/recurring/upcoming",
        params={"from_date": "2099-01-01", "to_date": "2099-03-31"},
    )
    status = [(o["name"], o["due_on"], o["status"]) for o in upcoming["items"]]
    assert status == [
        ("Rent", "2099-01-01", "posted"),
        ("Power", "2099-01-31", "paid"),
        ("Rent", "2099-02-01", "skipped"),
        ("Power", "2099-02-28", "upcoming"),
        ("Rent", "2099-03-01", "upcoming"),
        ("Power", "2099-03-31", "upcoming"),
    ]
    # Skipped February: March's rent comes next; power of January is due but paid: no more reminder.
    await sched.run_once(at("2099-03-01"))
    counted = await events(ledger)
    assert counted["ledger.RecurringTransactionDue"] == 4  # rent Jan, Mar; power Jan, Feb
    assert counted["ledger.BillDueSoon"] == 1  # Feb's reminder window passed unseen: not sent late
    assert counted["ledger.BillPaid"] == 1

    # Bad input: nothing changes.
    before = await events(ledger)
    for body in ({"due_on": "2099-03-01"}, {"due_on": "2099-04-02"}):
        await call(ledger, home.headers, "POST", f"/recurring/{rent['id']}/skip", 422, json=body)
    await call(
        ledger,
        home.headers,
        "POST",
        "/recurring",
        422,
        json={
            "name": "X",
            "account_id": account["id"],
            "amount_minor": 1,
            "cadence": "weekly",
            "starts_on": "2099-01-01",
            "day_of_month": 3,
        },
    )
    await call(
        ledger,
        home.headers,
        "POST",
        "/recurring",
        422,
        json={
            "name": "X",
            "account_id": account["id"],
            "amount_minor": 1,
            "cadence": "monthly",
            "starts_on": "2099-01-01",
            "ends_on": "2098-01-01",
        },
    )
    await call(
        ledger,
        home.headers,
        "GET",
        "/recurring/upcoming",
        422,
        params={"from_date": "2099-01-01", "to_date": "2101-01-01"},
    )
    await call(
        ledger, home.headers, "POST", f"/recurring/{power['id']}/cancel", 409, json={"expected_version": 1}
    )
    assert await events(ledger) == before

    cancelled = await call(
        ledger,
        home.headers,
        "POST",
        f"/recurring/{power['id']}/cancel",
        json={"expected_version": power["version"] + 4},
    )
    assert cancelled["cancelled"] is True
    assert [r["name"] for r in (await call(ledger, home.headers, "GET", "/recurring"))["items"]] == ["Rent"]


async def test_two_schedulers_at_once_emit_each_occurrence_once(
    ledger: httpx.AsyncClient, household: Callable[[], Any]
) -> None:
    app: Any = ledger.app  # type: ignore[attr-defined]
    homes = [household() for _ in range(3)]
    for home in homes:
        account = await open_account(ledger, home.headers, name="Checking", opening_balance_minor=100_000)
        for n in range(4):
            await call(
                ledger,
                home.headers,
                "POST",
                "/recurring",
                201,
                json={
                    "name": f"Sub {n}",
                    "account_id": account["id"],
                    "amount_minor": 1_000 + n,
                    "cadence": "weekly",
                    "starts_on": "2099-01-0" + str(n + 1),
                    "auto_post": n % 2 == 0,
                    "is_bill": True,
                    "remind_days_before": 2,
                },
            )
    other = Database(app.state.settings.database_url.get_secret_value())
    try:
        first, second = scheduler(ledger), scheduler(ledger, other)
        for day in ("2099-01-05", "2099-01-20", "2099-02-03"):
            results = await asyncio.gather(
                first.run_once(at(day)), second.run_once(at(day)), first.run_once(at(day))
            )
            assert sum(results) > 0
    finally:
        await other.dispose()
    async with app.state.db.read() as session:
        rows = (
            await session.execute(
                text(
                    "SELECT stream_id, type, envelope->'data'->>'due_on' FROM event_store "
                    "WHERE type IN ('ledger.RecurringTransactionDue', 'ledger.BillDueSoon')"
                )
            )
        ).all()
        outbox = (
            await session.execute(
                text("SELECT count(*) FROM outbox JOIN event_store USING (event_id) "
                     "WHERE event_store.type = 'ledger.RecurringTransactionDue'")
            )
        ).scalar()
        posted = (
            await session.execute(text("SELECT count(*) FROM transactions WHERE note LIKE 'Sub %'"))
        ).scalar()
    assert len(rows) == len(set(rows))  # each (schedule, kind, day) once
    due = [r for r in rows if r[1] == "ledger.RecurringTransactionDue"]
    # Weekly from Jan 1-4 up to Feb 3: 5 occurrences each for the Jan 1-3 starts, 5 for Jan 4 (4, 11, 18,
    # 25, Feb 1); 4 schedules x 3 households.
    assert len(due) == 5 * 4 * 3
    assert outbox == len(due)
    assert posted == 5 * 2 * 3  # the auto-posted half


async def test_recurring_is_per_household_and_viewers_only_read(
    ledger: httpx.AsyncClient, household: Callable[[], Any]
) -> None:
    mine, theirs = household(), household()
    account = await open_account(ledger, mine.headers, name="Checking", opening_balance_minor=100_000)
    body = {
        "name": "Gym",
        "account_id": account["id"],
        "amount_minor": 3_000,
        "cadence": "monthly",
        "starts_on": "2099-01-15",
    }
    assert (await ledger.post("/recurring", json=body, headers=mine.viewer_headers)).status_code == 403
    gym = await call(ledger, mine.headers, "POST", "/recurring", 201, json=body)
    # Their token, my ids: not found; my account in their schedule: not found.
    await call(ledger, theirs.headers, "GET", f"/recurring/{gym['id']}", 404)
    await call(
        ledger, theirs.headers, "POST", f"/recurring/{gym['id']}/skip", 404, json={"due_on": "2099-02-15"}
    )
    await call(
        ledger, theirs.headers, "POST", f"/recurring/{gym['id']}/cancel", 404, json={"expected_version": 1}
    )
    await call(ledger, theirs.headers, "POST", "/recurring", 404, json=body)
    assert (await call(ledger, theirs.headers, "GET", "/recurring"))["items"] == []
    upcoming = await call(
        ledger,
        theirs.headers,
        "GET",
        "/recurring/upcoming",
        params={"from_date": "2099-01-01", "to_date": "2099-03-01"},
    )
    assert upcoming["items"] == []
    # Their transaction cannot pay my bill.
    await call(
        ledger, mine.headers, "POST", f"/recurring/{gym['id']}/paid", 422, json={"due_on": "2099-01-15"}
    )  # not a bill


async def test_rebuild_gives_the_same_recurring_rows(
    ledger: httpx.AsyncClient, household: Callable[[], Any]
) -> None:
    app: Any = ledger.app  # type: ignore[attr-defined]
    home = household()
    account = await open_account(ledger, home.headers, name="Checking", opening_balance_minor=100_000)
    for n, auto in enumerate((True, False)):
        created = await call(
            ledger,
            home.headers,
            "POST",
            "/recurring",
            201,
            json={
                "name": f"S{n}",
                "account_id": account["id"],
                "amount_minor": 500,
                "cadence": "daily",
                "interval": 3,
                "starts_on": "2099-01-01",
                "auto_post": auto,
                "is_bill": True,
                "count": 6,
            },
        )
        await call(
            ledger, home.headers, "POST", f"/recurring/{created['id']}/skip", json={"due_on": "2099-01-07"}
        )
    await scheduler(ledger).run_once(at("2099-01-20"))

    async def rows() -> list[Any]:
        async with app.state.db.read() as session:
            found = []
            for table in (
                "recurring ORDER BY id",
                "recurring_occurrences ORDER BY schedule_id, due_on, what",
            ):
                found += [tuple(r) for r in await session.execute(text(f"SELECT * FROM {table}"))]
            return found

    before = await rows()
    assert any(r[1:3] == (date(2099, 1, 16), "due") for r in before if len(r) == 6)
    await projections.rebuild(app.state.db)
    assert await rows() == before


async def test_rules_fill_in_auto_posted_transactions(
    ledger: httpx.AsyncClient, household: Callable[[], Any]
) -> None:
    home = household()
    account = await open_account(ledger, home.headers, name="Checking", opening_balance_minor=100_000)
    await call(
        ledger,
        home.headers,
        "POST",
        "/rules",
        201,
        json={
            "name": "Gym",
            "conditions": [{"field": "payee", "op": "contains", "value": "fitclub"}],
            "actions": {"tags": ["sport"], "note": "membership"},
        },
    )
    await call(
        ledger,
        home.headers,
        "POST",
        "/recurring",
        201,
        json={
            "name": "Gym",
            "account_id": account["id"],
            "amount_minor": 2_990,
            "payee": "FitClub",
            "cadence": "monthly",
            "starts_on": "2099-01-10",
            "auto_post": True,
        },
    )
    await scheduler(ledger).run_once(at("2099-01-10"))
    posted = await call(ledger, home.headers, "GET", "/transactions", params={"q": "fitclub"})
    assert [(t["tags"], t["note"], t["booked_on"]) for t in posted["items"]] == [
        (["sport"], "membership", "2099-01-10")
    ]
