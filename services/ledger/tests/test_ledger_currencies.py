"""Currencies: rates of the day (direct, inverse, latest before), conversion to minor units, CSV of
rates; through HTTP: a transfer between currencies keeps both amounts, net worth and totals in the base
currency at the rate of the day, rates kept per household; and a deleted household's data erased."""

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import text

from tally_ledger.rates import Rate, RateError, RateTable, convert, parse_csv, parse_number
from tallykit.consumer import EventConsumer
from tallykit.contracts import registry
from tallykit.contracts.auth import UserDeleted

from .ledger_helpers import Json, call, open_account

D = date


def test_rate_of_the_day_is_the_latest_by_then_direct_or_inverse() -> None:
    table = RateTable(
        [
            Rate(D(2026, 1, 2), "EUR", "USD", Decimal("1.10")),
            Rate(D(2026, 1, 5), "EUR", "USD", Decimal("1.20")),
            Rate(D(2026, 1, 6), "USD", "EUR", Decimal("0.80")),
        ]
    )
    assert table.rate("EUR", "USD", D(2026, 1, 1)) is None
    assert table.rate("EUR", "USD", D(2026, 1, 4)) == Decimal("1.10")  # the weekend keeps Friday's
    assert table.rate("EUR", "USD", D(2026, 1, 5)) == Decimal("1.20")
    assert table.rate("USD", "EUR", D(2026, 1, 5)) == 1 / Decimal("1.20")
    assert table.rate("EUR", "USD", D(2026, 1, 6)) == 1 / Decimal("0.80")  # the newer inverse wins
    assert table.rate("EUR", "EUR", D(2000, 1, 1)) == 1
    assert table.rate("EUR", "GBP", D(2026, 1, 6)) is None


def test_conversion_respects_minor_units_and_rounds_half_even() -> None:
    assert convert(10_000, "EUR", "JPY", Decimal("160.5")) == 16_050  # 100.00 EUR → 16,050 JPY
    assert convert(16_050, "JPY", "EUR", Decimal("0.00623")) == 9_999  # 99.9915 EUR
    assert convert(1_000, "EUR", "KWD", Decimal("0.33")) == 3_300  # KWD has 3 digits
    assert convert(5, "EUR", "USD", Decimal("0.5")) == 2  # 2.5 → 2 (half to even)
    assert convert(7, "EUR", "USD", Decimal("0.5")) == 4  # 3.5 → 4


def test_numbers_and_csv_of_rates() -> None:
    assert parse_number("1,0842") == Decimal("1.0842")
    assert parse_number("1,084.2") == Decimal("1084.2")
    rates = parse_csv(
        "\ufeffDate;From;To;Rate\n2026-01-02;eur;usd;1,0842\n\n2026-01-05;EUR;JPY;160\n".encode()
    )
    assert rates == [
        Rate(D(2026, 1, 2), "EUR", "USD", Decimal("1.0842")),
        Rate(D(2026, 1, 5), "EUR", "JPY", Decimal("160")),
    ]
    for content, where in (
        (b"date,base,quote,rate\n2026-01-02,EUR,USD,1.1\n2026-13-01,EUR,USD,1.1\n", "line 3"),
        (b"date,base,quote,rate\n2026-01-02,EUR,ABC,1.1\n", "line 2"),
        (b"date,base,quote,rate\n2026-01-02,EUR,USD,-1\n", "line 2"),
        (b"date,base,quote,rate\n2026-01-02,EUR,EUR,1\n", "line 2"),
        (b"date,base,quote\n2026-01-02,EUR,USD\n", "line 1"),
    ):
        with pytest.raises(RateError) as caught:
            parse_csv(content)
        assert caught.value.where == where
    with pytest.raises(RateError):
        parse_csv(b"\xff\xfe\x00bad")
    # Old Mac line ends (a lone \r) read as lines (a stray \r answered 500: schemathesis found it), and
    # what the CSV reader cannot read is refused as such.
    assert parse_csv(b"date,base,quote,rate\r2026-01-02,EUR,USD,1.1\r") == [
        Rate(D(2026, 1, 2), "EUR", "USD", Decimal("1.1"))]
    with pytest.raises(RateError, match="not readable as CSV"):
        parse_csv(b"date,base,quote,rate\n" + b"x" * 200_000)  # a field beyond the reader's limit


async def test_transfers_between_currencies_and_totals_in_the_base_currency(
    ledger: httpx.AsyncClient,
    household: Callable[[], Any],
    give_defaults: Callable[[Any], Awaitable[dict[str, Json]]],
) -> None:
    home = household()
    await give_defaults(home)  # TenantCreated: base currency EUR
    eur = await open_account(ledger, home.headers, "EUR", name="Giro", opening_balance_minor=100_000)
    usd = await open_account(ledger, home.headers, "USD", name="Dollars")
    jpy = await open_account(ledger, home.headers, "JPY", name="Yen")

    body = {
        "from_account_id": eur["id"],
        "to_account_id": usd["id"],
        "amount_minor": 50_000,
        "booked_on": "2026-01-05",
    }
    await call(ledger, home.headers, "POST", "/transfers", 422, json=body)  # the arriving amount is needed
    await call(
        ledger,
        home.headers,
        "POST",
        "/transfers",
        422,
        json={
            **body,
            "to_account_id": (await open_account(ledger, home.headers, "EUR", name="Cash"))["id"],
            "counter_amount_minor": 1,
        },
    )  # one currency, one amount
    transfer = await call(
        ledger, home.headers, "POST", "/transfers", 201, json={**body, "counter_amount_minor": 54_210}
    )
    assert (transfer["amount_minor"], transfer["counter_amount_minor"]) == (50_000, 54_210)
    balances = {
        a["name"]: a["balance_minor"] for a in (await call(ledger, home.headers, "GET", "/accounts"))["items"]
    }
    assert (balances["Giro"], balances["Dollars"]) == (50_000, 54_210)
    as_of = await call(
        ledger, home.headers, "GET", f"/accounts/{usd['id']}/balance", params={"as_of": "2026-01-05"}
    )
    assert as_of["balance_minor"] == 54_210
    # An edit of what arrived moves the target's balance only; history says so.
    amended = await call(
        ledger,
        home.headers,
        "PATCH",
        f"/transactions/{transfer['id']}",
        json={"counter_amount_minor": 54_000, "expected_version": 1},
    )
    assert amended["counter_amount_minor"] == 54_000
    assert (await call(ledger, home.headers, "GET", f"/accounts/{usd['id']}"))["balance_minor"] == 54_000
    await call(
        ledger,
        home.headers,
        "POST",
        "/transactions",
        201,
        json={"account_id": jpy["id"], "kind": "expense", "amount_minor": 3_000, "booked_on": "2026-01-06"},
    )

    # No rates yet: converted net worth leaves USD and JPY out and says so.
    worth = await call(ledger, home.headers, "GET", "/net-worth", params={"as_of": "2026-01-06"})
    assert worth["converted"] == {"currency": "EUR", "amount_minor": 50_000, "missing_rates": ["JPY", "USD"]}
    await call(
        ledger,
        home.headers,
        "POST",
        "/rates",
        201,
        json={"on": "2026-01-02", "base": "EUR", "quote": "USD", "rate": "1.08"},
    )
    imported = await ledger.post(
        "/rates/import",
        headers=home.headers,
        files={
            "file": ("rates.csv", b"date,base,quote,rate\n2026-01-06,EUR,USD,1.125\n2026-01-05,EUR,JPY,150\n")
        },
    )
    assert imported.json() == {"imported": 2}
    worth = await call(ledger, home.headers, "GET", "/net-worth", params={"as_of": "2026-01-06"})
    # 500.00 EUR + 540.00 USD / 1.125 = 480.00 EUR + (-3,000 JPY) / 150 = -20.00 EUR
    assert worth["converted"] == {
        "currency": "EUR",
        "amount_minor": 50_000 + 48_000 - 2_000,
        "missing_rates": [],
    }
    in_usd = await call(
        ledger, home.headers, "GET", "/net-worth", params={"as_of": "2026-01-05", "currency": "USD"}
    )
    # 500.00 EUR at 1.08 + 540.00 USD; yen has no USD rate (no conversion through a third currency)
    assert in_usd["converted"] == {"currency": "USD", "amount_minor": 108_000, "missing_rates": ["JPY"]}
    totals = await call(ledger, home.headers, "GET", "/transactions/totals", params={"in_currency": "EUR"})
    assert totals["converted"] == {
        "currency": "EUR",
        "income_minor": 0,
        "expense_minor": 2_000,
        "missing_rates": [],
    }

    # A bad rates file is refused whole, naming the line.
    before = await call(ledger, home.headers, "GET", "/rates")
    bad = await ledger.post(
        "/rates/import",
        headers=home.headers,
        files={
            "file": ("rates.csv", b"date,base,quote,rate\n2026-02-01,EUR,USD,1.1\n2026-02-02,EUR,USD,abc\n")
        },
    )
    assert bad.status_code == 422
    assert "line 3" in bad.json()["detail"]
    assert await call(ledger, home.headers, "GET", "/rates") == before
    await call(
        ledger,
        home.headers,
        "POST",
        "/rates",
        422,
        json={"on": "2026-01-02", "base": "EUR", "quote": "EUR", "rate": "1"},
    )


async def test_rates_are_per_household_and_viewers_only_read(
    ledger: httpx.AsyncClient, household: Callable[[], Any]
) -> None:
    mine, theirs = household(), household()
    rate = {"on": "2026-01-02", "base": "EUR", "quote": "USD", "rate": "1.08"}
    assert (await ledger.post("/rates", json=rate, headers=mine.viewer_headers)).status_code == 403
    await call(ledger, mine.headers, "POST", "/rates", 201, json=rate)
    assert (await call(ledger, theirs.headers, "GET", "/rates"))["items"] == []
    await call(ledger, theirs.headers, "DELETE", "/rates/EUR/USD/2026-01-02", 404)
    assert len((await call(ledger, mine.headers, "GET", "/rates"))["items"]) == 1
    await call(ledger, mine.headers, "DELETE", "/rates/EUR/USD/2026-01-02", 204)


async def test_a_deleted_household_is_erased_and_another_kept(
    ledger: httpx.AsyncClient,
    household: Callable[[], Any],
    auth_consumer: EventConsumer,
    give_defaults: Callable[[Any], Awaitable[dict[str, Json]]],
) -> None:
    gone, kept = household(), household()
    for home in (gone, kept):
        await give_defaults(home)
        giro = await open_account(ledger, home.headers, "EUR", name="Giro", opening_balance_minor=1_000)
        await call(
            ledger,
            home.headers,
            "POST",
            "/transactions",
            201,
            json={
                "account_id": giro["id"],
                "kind": "expense",
                "amount_minor": 100,
                "booked_on": "2026-01-02",
            },
        )
        await call(
            ledger,
            home.headers,
            "POST",
            "/rates",
            201,
            json={"on": "2026-01-02", "base": "EUR", "quote": "USD", "rate": "1.08"},
        )
        await call(
            ledger,
            home.headers,
            "POST",
            "/recurring",
            201,
            json={
                "name": "Gym",
                "account_id": giro["id"],
                "amount_minor": 3_000,
                "cadence": "monthly",
                "starts_on": "2099-01-15",
            },
        )
        await call(
            ledger,
            home.headers,
            "POST",
            "/rules",
            201,
            json={
                "name": "r",
                "conditions": [{"field": "payee", "op": "contains", "value": "x"}],
                "actions": {"note": "x"},
            },
        )
    envelope = registry.envelope(
        UserDeleted(user_id=gone.owner_id, deleted_household_ids=(gone.tenant_id,)),
        tenant_id=gone.tenant_id,
        stream_id=uuid4(),
        stream_version=1,
        actor=str(gone.owner_id),
    )
    assert await auth_consumer.handle(envelope.to_json()) is True
    app: Any = ledger.app  # type: ignore[attr-defined]
    async with app.state.db.read() as session:
        tables = [
            t
            for (t,) in await session.execute(
                text(
                    "SELECT table_name FROM information_schema.columns WHERE column_name = 'tenant_id' "
                    "AND table_schema = 'public' AND table_name NOT IN ('inbox')"
                )
            )
        ]
        left = {}
        for table in tables:
            for home in (gone, kept):
                n = (
                    await session.execute(
                        text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t"), {"t": home.tenant_id}
                    )
                ).scalar_one()
                left[(table, home is gone)] = n
    assert {k: v for k, v in left.items() if k[1] and v} == {}
    assert left[("event_store", False)] > 0
    assert left[("exchange_rates", False)] == 1
    assert (await call(ledger, gone.headers, "GET", "/accounts"))["items"] == []
    assert len((await call(ledger, kept.headers, "GET", "/accounts"))["items"]) == 1
