"""Two replicas of every consumer service and two relays on the local stack: the work is shared,
nothing is applied twice, each household's events apply in order, and a second relay takes over
when the first dies."""

import asyncio
import email
import email.policy
import importlib
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka.partitioner import murmur2

from tallystack import postgres
from tallystack.polling import eventually, settled
from tallystack.stack import Stack

pytestmark = pytest.mark.e2e
REPLICAS = ["ledger-2", "budget-2", "analytics-2", "notifier-2"]
MIN_HOUSEHOLDS = 6
MAX_HOUSEHOLDS = 16
PARTITIONS = 6  # ServiceSettings.kafka_topic_partitions
PASSWORD = "correct horse battery"
# The services' clock (UTC unless a household says otherwise), read once: spending is booked on this day,
# budgets hold from its month and reads name it, also in a run that passes midnight at a month's end.
TODAY = datetime.now(UTC).date().isoformat()
MONTH = TODAY[:7]


def _ready(url: str) -> dict[str, Any] | None:
    try:
        response = httpx.get(f"{url}/readyz", timeout=2)
    except httpx.HTTPError:
        return None
    return response.json() if response.status_code == 200 else None


def _holdings(stack: Stack, service: str) -> dict[str, set[str]]:
    """Replica → partitions its consumer holds (of the one consumer group of `service`)."""
    urls = {service: stack.service_url(service), f"{service}-2": stack.replica_url(f"{service}-2")}
    return {key: _partitions_of(url) for key, url in urls.items()}


def _partitions_of(url: str) -> set[str]:
    body = _ready(url) or {}
    return {p for parts in body.get("partitions", {}).values() for p in parts}


def _shared(stack: Stack, service: str) -> dict[str, set[str]] | None:
    held = _holdings(stack, service)
    parts = list(held.values())
    both_busy = all(parts)
    disjoint = not (parts[0] & parts[1])
    # Every partition of every topic the service reads (services read one to three topics).
    union = parts[0] | parts[1]
    complete = bool(union) and len(union) == PARTITIONS * len({p.split("/", 1)[0] for p in union})
    return held if both_busy and disjoint and complete else None


def _topics_read(service: str) -> int:
    """How many topics the service's consumers read, as its app declares them."""
    app = importlib.import_module(f"tally_{service}.main").create_app(run_background=False)
    return len({topic for consumer in app.state.consumers for topic in consumer.topics})


def _counter(url: str, name: str, **labels: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=30).text
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _partition(tenant_id: str) -> int:
    return (murmur2(tenant_id.encode()) & 0x7FFFFFFF) % PARTITIONS


def _household(client: httpx.Client, n: int) -> dict[str, Any]:
    mail = f"scale{n}@example.com"
    r = client.post("/api/auth/register", json={"email": mail, "password": PASSWORD, "display_name": f"H{n}"})
    assert r.status_code == 201, r.text
    tenant = r.json()["tenant_id"]
    token = client.post("/api/auth/login", json={"email": mail, "password": PASSWORD}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}

    def groceries() -> str | None:
        items = client.get("/api/ledger/categories", headers=auth).json()["items"]
        return next((c["id"] for c in items if c["name"] == "Groceries"), None)

    category = eventually(groceries, "default categories", 60.0)
    account = client.post(
        "/api/ledger/accounts",
        headers=auth,
        json={"name": "Main", "kind": "checking", "currency": "EUR", "opening_balance_minor": 0},
    ).json()["id"]
    eventually(
        lambda: (
            client.post(
                "/api/budget/budgets",
                headers=auth,
                json={
                    "category_id": category,
                    "amount_minor": 10_000,
                    "currency": "EUR",
                    "effective_from": TODAY,
                },
            ).status_code
            == 201
        ),
        "budget",
        60.0,
    )
    return {
        "email": mail,
        "tenant": tenant,
        "auth": auth,
        "token": token,
        "category": category,
        "account": account,
    }


def _expense(client: httpx.Client, base: str, h: dict[str, Any]) -> None:
    r = client.post(
        f"{base}/transactions",
        headers=h["auth"],
        json={
            "account_id": h["account"],
            "kind": "expense",
            "amount_minor": 2_000,
            "category_id": h["category"],
            "booked_on": TODAY,
        },
    )
    assert r.status_code == 201, r.text


async def _order_violations(stack: Stack, tenants: list[str]) -> list[str]:
    """For each household: the order the budget service applied ledger events in equals the order the
    ledger committed them (its outbox ids). Only the ledger's events: the budget service also reads
    auth.events, whose records come on another topic, in no set order against the ledger's."""
    ledger = await asyncpg.connect(
        postgres.asyncpg_dsn(postgres.database_url(stack.admin_url, "tally_ledger"))
    )
    budget = await asyncpg.connect(
        postgres.asyncpg_dsn(postgres.database_url(stack.admin_url, "tally_budget"))
    )
    problems = []
    try:
        for tenant in tenants:
            published = [
                r["event_id"]
                for r in await ledger.fetch("SELECT event_id FROM outbox WHERE key = $1 ORDER BY id", tenant)
            ]
            applied = [
                r["event_id"]
                for r in await budget.fetch(
                    "SELECT event_id FROM inbox WHERE tenant_id = $1::uuid ORDER BY handled_at, event_id",
                    tenant,
                )
            ]
            applied = [e for e in applied if e in set(published)]
            expected = [e for e in published if e in set(applied)]
            if applied != expected:
                problems.append(tenant)
    finally:
        await ledger.close()
        await budget.close()
    return problems


def test_replicas_share_the_work_apply_each_event_once_and_in_order(stack: Stack) -> None:
    for key in REPLICAS:
        stack.start_service(key)
    for key in REPLICAS:
        eventually(lambda key=key: _ready(stack.replica_url(key)), f"{key} ready", 120.0)
    for service in ("budget", "analytics", "notifier"):
        eventually(
            lambda service=service: _shared(stack, service), f"{service}'s partitions split in two", 120
        )

    # Households until each budget replica has some (a household's partition is fixed by its id).
    budget_holdings = _holdings(stack, "budget")
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        households: list[dict[str, Any]] = []
        while len(households) < MIN_HOUSEHOLDS or not all(
            any(f"ledger.events/{_partition(h['tenant'])}" in parts for h in households)
            for parts in budget_holdings.values()
        ):
            assert len(households) < MAX_HOUSEHOLDS, "the households' ids keep landing on one replica"
            households.append(_household(client, len(households)))
        for _ in range(3):  # 60 % of each budget, through the gateway (the first ledger replica)
            for h in households:
                _expense(client, "/api/ledger", h)

        # The first ledger replica dies; the second serves the writes and its relay takes over.
        published_before = _counter(stack.replica_url("ledger-2"), "tally_events_published_total")
        stack.stop_service("ledger", sig=9)
        for _ in range(3):  # up to 120 %: both alerts due
            for h in households:
                _expense(client, stack.replica_url("ledger-2"), h)
        eventually(
            lambda: (
                _counter(stack.replica_url("ledger-2"), "tally_events_published_total")
                >= published_before + 3 * len(households)
            ),
            "the second relay to publish",
            60.0,
        )
        stack.start_service("ledger")

        last_seen: list[tuple[int, int]] = []

        def all_counted() -> bool:
            last_seen.clear()
            for h in households:
                report = client.get(
                    "/api/analytics/reports/monthly", params={"month": MONTH}, headers=h["auth"]
                )
                budgets = client.get("/api/budget/budgets", params={"month": MONTH}, headers=h["auth"])
                totals = report.json()["totals"]
                last_seen.append(
                    (totals[0]["expense_minor"] if totals else 0, budgets.json()["items"][0]["spent_minor"])
                )
            return all(seen == (12_000, 12_000) for seen in last_seen)

        eventually(all_counted, lambda: f"every expense counted by analytics and budget: {last_seen}", 120)
        assert last_seen
        eventually(lambda: _ready(stack.service_url("ledger")), "the first ledger replica back", 120.0)

    # Exactly two e-mails (80 % and 100 %) per household, although two notifier replicas ran.
    def mails() -> Counter[str]:
        sent: Counter[str] = Counter()
        for path in stack.mail_dir.glob("*.eml"):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if "budget" in str(message["Subject"]):  # not the sign-up's address confirmation
                sent[str(message["To"])] += 1
        return sent

    eventually(lambda: all(mails()[h["email"]] >= 2 for h in households), "two e-mails per household", 90.0)
    settled(stack, [h["tenant"] for h in households])  # every alert read by a notifier, every mail due sent
    assert {h["email"]: mails()[h["email"]] for h in households} == {h["email"]: 2 for h in households}

    # Work was shared: both budget replicas handled households' events.
    assert (
        _counter(
            stack.replica_url("budget-2"), "tally_consumer_events_total", group="budget", outcome="handled"
        )
        > 0
    )

    assert asyncio.run(_order_violations(stack, [h["tenant"] for h in households])) == []
    for key in REPLICAS:
        stack.stop_service(key)
    # Leave the stack as the other tests found it: the first replicas hold every partition again.
    for service in ("ledger", "budget", "analytics", "notifier"):
        count = PARTITIONS * _topics_read(service)
        eventually(
            lambda service=service, count=count: len(_partitions_of(stack.service_url(service))) == count,
            f"{service} to take back every partition",
            120,
        )
