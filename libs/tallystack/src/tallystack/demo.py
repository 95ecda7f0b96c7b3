"""A demo household, created through the public gateway API only, so every screen has something to show.

    uv run python -m tallystack.demo --url http://127.0.0.1:8000 [--months 24] [--email demo@example.com]

Two years (by default) of a plausible household: salary on the 25th, rent on the 1st, utilities, phone and
insurance bills, groceries with a weekly rhythm (Saturdays big, midweek small), eating out on weekends,
fuel, seasonal spending (December gifts, summer travel), a few unusual purchases, transfers to savings,
monthly budgets and a savings goal. The same `plan()` feeds the benchmarks at any size: it is a pure
function of a seed, so a run is reproducible.
"""

import argparse
import calendar
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx

from tallystack.client import PositionedClient

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Entry:
    """One thing to record: an expense/income on a category, or a transfer between two accounts."""

    day: date
    kind: str  # expense, income, transfer
    amount_minor: int
    account: str  # "checking", "savings", "card"
    category: str = ""
    payee: str = ""
    to_account: str = ""
    tags: tuple[str, ...] = ()


@dataclass
class Plan:
    start: date
    end: date
    entries: list[Entry] = field(default_factory=list)
    budgets: dict[str, int] = field(default_factory=dict)


def _month_days(start: date, end: date) -> Iterator[date]:
    day = start.replace(day=1)
    while day <= end:
        yield day
        day = (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _on(month: date, day: int) -> date:
    return month.replace(day=min(day, calendar.monthrange(month.year, month.month)[1]))


def plan(end: date, months: int = 24, seed: int = 7, scale: int = 1) -> Plan:
    """Entries from `months` months before `end` up to `end`; `scale` multiplies the daily spending
    entries (a benchmark household with many transactions keeps the same rhythm)."""
    rng = random.Random(seed)
    start = end.replace(day=1)
    for _ in range(months):
        start = (start - timedelta(days=1)).replace(day=1)
    out = Plan(start, end)
    add = out.entries.append
    for month in _month_days(start, end):
        index = (month.year - start.year) * 12 + month.month - start.month
        salary = 320_000 + 1_500 * (index // 12) * 10  # a raise each year
        for day_of_month, kind, amount, account, category, payee in (
            (25, "income", salary, "checking", "Salary", "ACME GmbH"),
            (1, "expense", 110_000, "checking", "Rent", "Hausverwaltung Müller"),
            (3, "expense", 4_999, "checking", "Internet & phone", "Telekom"),
            (
                5,
                "expense",
                8_500 + (6_000 if month.month in (12, 1, 2) else 0),
                "checking",
                "Utilities",
                "Stadtwerke",
            ),
            (15, "expense", 12_340, "checking", "Insurance", "Allianz"),
            (10, "expense", 1_299, "card", "Entertainment", "Streamflix"),
        ):
            when = _on(month, day_of_month)
            if start <= when <= end:
                add(Entry(when, kind, amount, account, category, payee))
        saving_day = _on(month, 26)
        if start <= saving_day <= end:
            add(Entry(saving_day, "transfer", 40_000, "checking", payee="Savings", to_account="savings"))
        interest_day = _on(month, 28)
        if start <= interest_day <= end and index % 3 == 2:
            add(Entry(interest_day, "income", 1_800 + index * 20, "savings", "Interest", "Bank"))
    day = start
    while day <= end:
        for _ in range(scale):
            weekday = day.weekday()
            if weekday == 5:
                add(
                    Entry(
                        day,
                        "expense",
                        rng.randint(6_500, 11_000),
                        "card",
                        "Groceries",
                        rng.choice(["Lidl", "REWE"]),
                        tags=("food",),
                    )
                )
            elif weekday in (1, 3) and rng.random() < 0.8:
                add(
                    Entry(
                        day,
                        "expense",
                        rng.randint(900, 2_800),
                        "card",
                        "Groceries",
                        rng.choice(["Bakery", "Lidl", "Kiosk"]),
                        tags=("food",),
                    )
                )
            if weekday in (4, 5) and rng.random() < 0.55:
                add(
                    Entry(
                        day,
                        "expense",
                        rng.randint(1_800, 6_500),
                        "card",
                        "Eating out",
                        rng.choice(["Pizzeria Roma", "Thai Garden", "Café Mitte"]),
                    )
                )
            if weekday == 0 and rng.random() < 0.5:
                add(Entry(day, "expense", rng.randint(4_500, 7_500), "card", "Fuel", "Aral"))
            if rng.random() < 0.08:
                add(
                    Entry(
                        day,
                        "expense",
                        rng.randint(1_500, 9_000),
                        "card",
                        "Shopping",
                        rng.choice(["Amazon", "Zalando", "IKEA"]),
                    )
                )
            if day.month == 12 and day.day < 24 and rng.random() < 0.35:
                add(
                    Entry(
                        day,
                        "expense",
                        rng.randint(2_000, 8_000),
                        "card",
                        "Gifts",
                        rng.choice(["Thalia", "Amazon", "Toy shop"]),
                        tags=("christmas",),
                    )
                )
            if day.month in (7, 8) and day.day in (3, 4, 5) and rng.random() < 0.7:
                add(
                    Entry(
                        day,
                        "expense",
                        rng.randint(15_000, 45_000),
                        "card",
                        "Travel",
                        rng.choice(["Lufthansa", "Hotel Adria", "Booking.com"]),
                        tags=("holiday",),
                    )
                )
        day += timedelta(days=1)
    # A few unusual purchases the analytics should notice.
    for months_ago, amount, category, payee in (
        (14, 62_000, "Groceries", "Feinkost Käfer"),
        (7, 89_900, "Shopping", "MediaMarkt"),
        (1, 38_000, "Eating out", "Sterne-Restaurant"),
    ):
        when = _on((end.replace(day=1) - timedelta(days=30 * months_ago)).replace(day=1), 12)
        if start <= when <= end:
            add(Entry(when, "expense", amount, "card", category, payee))
    # The card is paid off from checking every month.
    for month in _month_days(start, end):
        when = _on(month, 20)
        if start <= when <= end:
            add(Entry(when, "transfer", 60_000, "checking", payee="Card payment", to_account="card"))
    out.entries.sort(key=lambda e: (e.day, e.kind, e.payee))
    out.budgets = {"Groceries": 45_000, "Eating out": 18_000, "Shopping": 12_000, "Fuel": 20_000}
    return out


class Gateway:
    """The public API, as a client sees it (`PositionedClient`: what it just did is there on the next
    call, whichever service answers)."""

    def __init__(self, url: str) -> None:
        self.http = PositionedClient(httpx.Client(base_url=url.rstrip("/"), timeout=30))
        self.headers: dict[str, str] = {}

    def call(
        self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200, 201, 202, 204)
    ) -> Any:
        for attempt in range(5):
            response = self.http.request(method, f"/api{path}", json=body, headers=self.headers)
            if response.status_code in (429, 502, 503) and attempt < 4:
                time.sleep(0.5 * (attempt + 1))
                continue
            if response.status_code not in ok:
                raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
            return (
                response.json()
                if response.content and "json" in response.headers.get("content-type", "")
                else None
            )
        raise AssertionError("unreachable")

    def sign_up(self, email: str, name: str) -> None:
        self.call("POST", "/auth/register", {"email": email, "password": PASSWORD, "display_name": name})
        self.sign_in(email)

    def sign_in(self, email: str) -> None:
        token = self.call("POST", "/auth/login", {"email": email, "password": PASSWORD})["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}


def default_categories(gateway: Gateway) -> dict[str, str]:
    """The default categories the ledger made when it heard of the new household (the token makes the
    read wait for that)."""
    items = gateway.call("GET", "/ledger/categories")["items"]
    if not items:
        raise RuntimeError("the new household has no default categories")
    return {c["name"]: c["id"] for c in items}


def create(
    url: str, email: str, months: int = 24, seed: int = 7, end: date | None = None, log: Any = print
) -> dict[str, Any]:
    """Create the demo household; returns ids and counts."""
    gateway = Gateway(url)
    gateway.sign_up(email, "Demo Household")
    categories = default_categories(gateway)
    try:  # the household's currency and time zone (reports and budgets use them)
        gateway.call("PATCH", "/auth/household", {"base_currency": "EUR", "time_zone": "Europe/Berlin"})
    except RuntimeError as exc:
        log(f"  household settings not set: {exc}")
    the_plan = plan(end or date.today(), months=months, seed=seed)
    accounts = {}
    for key, name, kind, opening in (
        ("checking", "Girokonto", "checking", 250_000),
        ("savings", "Tagesgeld", "savings", 1_000_000),
        ("card", "Kreditkarte", "credit_card", 0),
    ):
        accounts[key] = gateway.call(
            "POST",
            "/ledger/accounts",
            {"name": name, "kind": kind, "currency": "EUR", "opening_balance_minor": opening},
        )["id"]
    started = time.monotonic()
    for n, entry in enumerate(the_plan.entries, 1):
        if entry.kind == "transfer":
            gateway.call(
                "POST",
                "/ledger/transfers",
                {
                    "from_account_id": accounts[entry.account],
                    "to_account_id": accounts[entry.to_account],
                    "amount_minor": entry.amount_minor,
                    "booked_on": entry.day.isoformat(),
                    "payee": entry.payee,
                },
            )
        else:
            gateway.call(
                "POST",
                "/ledger/transactions",
                {
                    "account_id": accounts[entry.account],
                    "kind": entry.kind,
                    "amount_minor": entry.amount_minor,
                    "currency": "EUR",
                    "category_id": categories[entry.category],
                    "payee": entry.payee,
                    "booked_on": entry.day.isoformat(),
                    "tags": list(entry.tags),
                },
            )
        if n % 250 == 0:
            log(f"  {n}/{len(the_plan.entries)} entries ({n / (time.monotonic() - started):.0f}/s)")
    budgets = 0
    for name, amount in the_plan.budgets.items():
        gateway.call(
            "POST",
            "/budget/budgets",
            {"category_id": categories[name], "amount_minor": amount, "currency": "EUR"},
        )
        budgets += 1
    goal = None
    try:
        goal = gateway.call(
            "POST",
            "/budget/goals",
            {
                "name": "Emergency fund",
                "target_minor": 2_000_000,
                "target_date": (date.today() + timedelta(days=365)).isoformat(),
                "account_id": accounts["savings"],
            },
        )
    except RuntimeError as exc:  # goals may not exist in an older budget service
        log(f"  no goal created: {exc}")
    try:
        gateway.call(
            "POST",
            "/ledger/recurring",
            {
                "name": "Rent",
                "account_id": accounts["checking"],
                "kind": "expense",
                "amount_minor": 110_000,
                "category_id": categories["Rent"],
                "payee": "Hausverwaltung Müller",
                "cadence": "monthly",
                "day_of_month": 1,
                "starts_on": _on(
                    (date.today().replace(day=28) + timedelta(days=4)).replace(day=1), 1
                ).isoformat(),
                "is_bill": True,
            },
        )
    except RuntimeError as exc:
        log(f"  no recurring rent: {exc}")
    return {
        "email": email,
        "password": PASSWORD,
        "entries": len(the_plan.entries),
        "accounts": accounts,
        "budgets": budgets,
        "goal": goal["id"] if goal else None,
        "from": the_plan.start.isoformat(),
        "to": the_plan.end.isoformat(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Create a demo household through the gateway")
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--email", default=f"demo+{int(time.time())}@example.com")
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    print(f"Creating a demo household at {args.url} ({args.months} months)...")
    result = create(args.url, args.email, months=args.months, seed=args.seed)
    print(
        f"Done: {result['entries']} entries from {result['from']} to {result['to']},"
        f" {result['budgets']} budgets."
    )
    print(f"Sign in as {result['email']} with the password {result['password']!r}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
