"""Benchmark: recategorise 10,000 transactions at once through the gateway, until the budget service and
analytics show it, against PostgreSQL UPDATE of the same rows in the same run.

    uv run python bench/bulk_edit.py [--rows 10000]

It starts the whole local stack (as `make up` runs it) in a temporary folder, registers a household, sets a
monthly budget on Groceries and imports a bank CSV of `--rows` uncategorised expenses booked this month
(waiting until budget and analytics have taken every one). Then the measured part: one
`POST /api/ledger/transactions/bulk` naming the rows by the transaction list's search ("all N that match",
no ids sent) with Groceries as their category, the request the web client sends — and polling, through
the gateway, the budget's spending on Groceries and analytics' monthly report by category until both show
every row's amount there. Goal: at most 5 s.

Baseline, against the ledger's own database with the services and broker stopped (so it has the machine
to itself): one UPDATE of the same rows' category in the read model, the least a change of category can
cost in PostgreSQL, with no event, history, undo or other service told.

Prints a table and writes bench/results/bulk_edit.{json,md}.
"""

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from tallystack import postgres
from tallystack.measure import sharing
from tallystack.people import Person
from tallystack.stack import Ports, Stack

RESULTS = Path(__file__).parent / "results"
GOAL_S = 5.0
SHOW_LIMIT_S = 120.0
PAYEES = ["Markthalle", "Corner Shop", "Bio Laden", "Wochenmarkt", "Kiosk am Eck", "Feinkost Rossi"]


def make_csv(rows: int, first: date, last: date, seed: int = 20) -> tuple[bytes, int]:
    """A German bank export of `rows` expenses between two days; returns it and their total."""
    rnd = random.Random(seed)
    days = (last - first).days + 1
    total = 0
    lines = ['"Buchungstag";"Auftraggeber / Begünstigter";"Verwendungszweck";"Betrag (EUR)";']
    for n in range(rows):
        booked = first + timedelta(days=n * days // rows)
        minor = rnd.randint(50, 9_000)
        total += minor
        amount = f"{Decimal(-minor) / 100:.2f}".replace(".", ",")
        lines.append(f'"{booked:%d.%m.%Y}";"{rnd.choice(PAYEES)}";"Einkauf {n:05d}";"{amount}";')
    return ("\r\n".join(lines) + "\r\n").encode("utf-8"), total


def _dsn(stack: Stack, service: str) -> str:
    return postgres.asyncpg_dsn(postgres.database_url(stack.admin_url, f"tally_{service}"))


def run(rows: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tally-bench-") as folder:
        stack = Stack(Path(folder), Ports.free(), progress=lambda line: print(line, flush=True))
        try:
            stack.start()
            return asyncio.run(_measure(stack, rows))
        finally:
            stack.stop()


async def _handled(stack: Stack, tenant: UUID, event_type: str, count: int, limit_s: float) -> None:
    """Wait until budget and analytics have each handled `count` events of a type of the household."""
    connections = [await asyncpg.connect(_dsn(stack, name)) for name in ("budget", "analytics")]
    began = time.perf_counter()
    try:
        while True:
            counts = [await c.fetchval("SELECT count(*) FROM inbox WHERE tenant_id = $1 AND type = $2",
                                       tenant, event_type) for c in connections]
            sys.stdout.write(f"\r  budget and analytics handled {min(counts):>6}/{count} {event_type}")
            sys.stdout.flush()
            if min(counts) >= count:
                print()
                return
            if time.perf_counter() - began > limit_s:
                raise TimeoutError(f"budget and analytics handled {counts} of {count} {event_type}")
            await asyncio.sleep(0.5)
    finally:
        for connection in connections:
            await connection.close()


async def _measure(stack: Stack, rows: int) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    first = today.replace(day=1)
    data, total = make_csv(rows, first, today)
    with httpx.Client(base_url=stack.url, timeout=60) as sync_client:
        person = Person(sync_client, f"bench-{random.randrange(10**9)}@example.com", "Bench")
        account = person.call("POST", "/ledger/accounts", {"name": "Girokonto", "kind": "checking",
                                                           "currency": "EUR"}).json()["id"]
        categories = person.call("GET", "/ledger/categories").json()["items"]
    groceries = next(c["id"] for c in categories if c["name"] == "Groceries")
    headers, tenant = person.auth, UUID(person.home)
    result: dict[str, Any] = {"rows": rows, "load_before": os.getloadavg()[0]}
    async with httpx.AsyncClient(base_url=stack.url, timeout=600) as client:
        await _wait_for(client, headers, "budget knows the category",
                        lambda: _set_budget(client, headers, groceries))
        print(f"Importing {rows:,} uncategorised expenses ...")
        uploaded = (await client.post("/api/ledger/imports", files={"file": ("umsaetze.csv", data)},
                                      data={"account_id": account}, headers=headers)).json()
        batch_id = uploaded["batch"]["id"]
        batch = (await client.post(f"/api/ledger/imports/{batch_id}/confirm", json={},
                                   headers=headers)).json()
        while batch["status"] == "importing":
            await asyncio.sleep(0.3)
            batch = (await client.get(f"/api/ledger/imports/{batch_id}", headers=headers)).json()
        assert batch["status"] == "imported", batch
        await _handled(stack, tenant, "ledger.TransactionRecorded", rows, 600)
        search = {"account_id": account, "from_date": first.isoformat()}
        listed = (await client.get("/api/ledger/transactions/totals", params=search, headers=headers)).json()
        assert listed["items"][0]["count"] == rows, listed

        print(f"Recategorising all {rows:,} that match, through the gateway ...")
        began = time.perf_counter()
        answer = await client.post("/api/ledger/transactions/bulk", headers=headers, json={
            "search": search, "expected_count": rows, "category_id": groceries})
        result["request_s"] = time.perf_counter() - began
        result["request_status"] = answer.status_code
        # 504: the gateway stopped waiting (its upstream timeout); the ledger finishes the change anyway,
        # which the polling below sees.
        assert answer.status_code in (201, 504), answer.text
        shown = await _until_shown(client, headers, groceries, total, began)
        result |= shown
        print(f"  answered {answer.status_code} in {result['request_s']:.2f} s; "
              f"budget {shown['budget_s']:.2f} s, analytics {shown['analytics_s']:.2f} s")

        newest = (await client.get("/api/ledger/transactions", params={"limit": 1}, headers=headers)).json()
        history = (await client.get(f"/api/ledger/transactions/{newest['items'][0]['id']}/history",
                                    headers=headers)).json()["items"]
        began = time.perf_counter()
        undone = await client.post(f"/api/ledger/transactions/bulk/{history[-1]['change_id']}/undo",
                                   headers=headers)
        result["undo_request_s"] = time.perf_counter() - began
        result["undo_status"] = undone.status_code
    result["shown_s"] = max(result["budget_s"], result["analytics_s"])
    result["load_after"] = os.getloadavg()[0]
    for name in list(stack.processes):
        stack.stop_service(name)
    stack.stop_broker()
    result["update_s"] = await _baseline(stack, tenant, account, groceries, rows)
    result["goal_met"] = result["shown_s"] <= GOAL_S
    return result


async def _wait_for(client: httpx.AsyncClient, headers: dict[str, str], what: str, attempt: Any) -> None:
    """Retry a request the household's first events must reach a service for (its categories)."""
    began = time.perf_counter()
    while not await attempt():
        if time.perf_counter() - began > 60:
            raise TimeoutError(what)
        await asyncio.sleep(0.3)


async def _set_budget(client: httpx.AsyncClient, headers: dict[str, str], category: str) -> bool:
    answer = await client.post("/api/budget/budgets", headers=headers,
                               json={"category_id": category, "amount_minor": 100_000_000})
    return answer.status_code == 201


async def _until_shown(client: httpx.AsyncClient, headers: dict[str, str], category: str, total: int,
                       began: float) -> dict[str, float]:
    """Seconds from the request until the budget's spending and analytics' month on the category are the
    rows' whole amount, each read through the gateway as the web client reads them."""
    shown: dict[str, float] = {}
    while len(shown) < 2:
        if "budget_s" not in shown:
            budgets = (await client.get("/api/budget/budgets", headers=headers)).json()["items"]
            if any(b["category_id"] == category and b["spent_minor"] == total for b in budgets):
                shown["budget_s"] = time.perf_counter() - began
        if "analytics_s" not in shown:
            report = (await client.get("/api/analytics/reports/monthly", headers=headers)).json()
            if any(c["category_id"] == category and c["expense_minor"] == total
                   for c in report["by_category"]):
                shown["analytics_s"] = time.perf_counter() - began
        if time.perf_counter() - began > SHOW_LIMIT_S:
            raise TimeoutError(f"after {SHOW_LIMIT_S} s only {shown} show the change")
        await asyncio.sleep(0.05)
    return shown


async def _baseline(stack: Stack, tenant: UUID, account: str, category: str, rows: int) -> float:
    """One UPDATE of the same rows' category in the ledger's read model (back to none, then timed)."""
    ledger = await asyncpg.connect(_dsn(stack, "ledger"))
    try:
        await ledger.execute("UPDATE transactions SET category_id = NULL WHERE tenant_id = $1 "
                             "AND account_id = $2::uuid", tenant, account)
        began = time.perf_counter()
        status = await ledger.execute("UPDATE transactions SET category_id = $3::uuid WHERE tenant_id = $1 "
                                      "AND account_id = $2::uuid", tenant, account, category)
        took = time.perf_counter() - began
        assert status == f"UPDATE {rows}", status
        return took
    finally:
        await ledger.close()


def report(result: dict[str, Any]) -> str:
    rows = result["rows"]
    load = max(result["load_before"], result["load_after"])
    lines = [
        f"# Bulk edit benchmark ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"{rows:,} uncategorised expenses of this month recategorised at once on {platform.machine()} "
        f"({os.cpu_count()} cores, load average {result['load_before']:.1f} before and "
        f"{result['load_after']:.1f} after: {sharing(load)}; the machine is shared, so the figures are "
        f"noisy), Python {platform.python_version()}. The whole local stack runs as `make up` runs it; the "
        "request goes through the gateway naming the transactions by a search (no ids sent). Each "
        "transaction is changed through its aggregate: one TransactionAmended event each, one correlation "
        "id, its read-model row and an outbox row; budget and analytics take the events through the broker.",
        "",
        "| path | seconds | rows/s |",
        "|---|---:|---:|",
        f"| bulk recategorise request through the gateway, until it answers (HTTP "
        f"{result['request_status']}) | {result['request_s']:.2f} | {rows / result['request_s']:,.0f} |",
        f"| until the budget's spending on the category shows every row | {result['budget_s']:.2f} | |",
        f"| until analytics' monthly report by category shows every row | {result['analytics_s']:.2f} | |",
        f"| **until both show it** | **{result['shown_s']:.2f}** | **{rows / result['shown_s']:,.0f}** |",
        f"| its undo, until it answers (HTTP {result['undo_status']}) | {result['undo_request_s']:.2f} | |",
        f"| baseline: one PostgreSQL UPDATE of the same rows' category (no events, no other service) | "
        f"{result['update_s']:.3f} | {rows / result['update_s']:,.0f} |",
        "",
        f"Goal of at most {GOAL_S:.0f} s until budget and analytics show it: "
        f"**{'met' if result['goal_met'] else 'not met'}**. HTTP 504 would mean the gateway stopped "
        "waiting (its `slow_timeout_s`, 60 s, for bulk changes) while the ledger went on to finish the "
        "change, which budget and analytics then showed.",
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    result = run(args.rows)
    text = report(result)
    print()
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "bulk_edit.md").write_text(text)
    (RESULTS / "bulk_edit.json").write_text(json.dumps(result, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
