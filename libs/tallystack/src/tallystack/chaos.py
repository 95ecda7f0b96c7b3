"""Fault injection against a running local stack, and the checks that nothing was lost or doubled.

While writers record, amend and delete transactions and change budgets for several households through
the gateway, `ChaosRun` injects faults one after another: kill -9 of a service (the ledger takes its
relay with it; the others are consumers), kill -9 of the broker and a restart (the local broker keeps
nothing, so every relay re-publishes what some consumer had not applied yet), a database pause
(SIGSTOP of every PostgreSQL process), and duplicated, reordered deliveries (old `ledger.events`
records produced again, shuffled). Then it stops the writers, lets the system settle and checks:

- every write the gateway acknowledged is in the ledger's event store, in its acknowledged state;
- every account's balance equals its opening balance plus its transactions;
- the budget and analytics read models equal the same figures computed from the ledger's transactions;
- every budget alert produced exactly one email (by its event id), and no email was sent twice.

`python -m tallystack.chaos --faults 100` runs a longer round on a stack of its own and prints the
report; `tests/test_chaos.py` runs a short one in `make test`.

After a restart the local broker, Tansu 0.6, can wedge a partition (writes refused with `AlreadyExists`
at its end offset, readers missing its last records); a relay reports it and the stack restarts the
broker again (tallystack.stack): the report lists those restarts too. What the relay does when a
broker forgets is also tested on its own, deterministically, in `libs/tallykit/tests/test_settling.py`
and `test_outbox_and_consumer.py`.
"""

import argparse
import asyncio
import os
import random
import re
import signal
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from tallystack import postgres
from tallystack.measure import process_tree
from tallystack.polling import eventually, settled
from tallystack.stack import Ports, Stack

PASSWORD = "correct horse battery"
CONSUMERS = ("budget", "analytics", "notifier")
ALERT_TYPES = ("budget.BudgetThresholdReached", "budget.BudgetExceeded")


# -- the workload -----------------------------------------------------------------------------------


def today() -> date:
    """The day on the services' clock: the households here keep UTC, their default."""
    return datetime.now(UTC).date()


@dataclass
class Household:
    email: str
    tenant_id: str
    auth: dict[str, str]
    account_id: str
    category_id: str
    opening_minor: int
    # Transaction id → (version, amount, deleted) as last acknowledged; `uncertain` ids had a write whose
    # answer never came (timeout, broken connection), so only their presence is checked.
    acked: dict[str, tuple[int, int, bool]] = field(default_factory=dict)
    uncertain: set[str] = field(default_factory=set)


@dataclass
class WriteCounts:
    acknowledged: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)  # 4xx/5xx answers: nothing to check
    unanswered: Counter[str] = field(default_factory=Counter)


def create_household(client: httpx.Client, n: int, *, budget_minor: int) -> Household:
    email = f"chaos{n}-{random.randrange(10**9)}@example.com"
    profile = {"email": email, "password": PASSWORD, "display_name": f"C{n}"}
    r = client.post("/api/auth/register", json=profile)
    r.raise_for_status()
    tenant = r.json()["tenant_id"]
    token = client.post("/api/auth/login", json={"email": email, "password": PASSWORD}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}

    def groceries() -> str | None:
        items = client.get("/api/ledger/categories", headers=auth).json()["items"]
        return next((c["id"] for c in items if c["name"] == "Groceries"), None)

    category = eventually(groceries, "default categories", 60.0)
    opening = 100_000
    account = client.post(
        "/api/ledger/accounts",
        headers=auth,
        json={"name": "Main", "kind": "checking", "currency": "EUR", "opening_balance_minor": opening},
    ).json()["id"]
    eventually(
        lambda: set_budget(client, auth, category, budget_minor) == 201, "the household's budget", 60.0
    )
    return Household(email, tenant, auth, account, category, opening)


def set_budget(client: httpx.Client, auth: dict[str, str], category: str, amount_minor: int) -> int:
    r = client.post(
        "/api/budget/budgets",
        headers=auth,
        json={"category_id": category, "amount_minor": amount_minor, "currency": "EUR"},
    )
    return r.status_code


class Writer(threading.Thread):
    """One household's writes until stopped: mostly expenses, some amendments, deletions and budget
    changes. Faults make some fail; only what the gateway acknowledged is expected to last."""

    def __init__(self, url: str, household: Household, counts: WriteCounts, seed: int) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.household = household
        self.counts = counts
        self.random = random.Random(seed)
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=5.0) as client:
            while not self.stop.is_set():
                roll = self.random.random()
                live = [t for t, (_, _, deleted) in self.household.acked.items() if not deleted]
                if roll < 0.12 and live:
                    self._write_amend(client, self.random.choice(live))
                elif roll < 0.2 and live:
                    self._write_delete(client, self.random.choice(live))
                elif roll < 0.23:
                    self._write_budget(client)
                else:
                    self._write_expense(client)
                self.stop.wait(self.random.uniform(0.05, 0.25))

    def _call(self, what: str, send: Callable[[], httpx.Response]) -> httpx.Response | None:
        try:
            response = send()
        except httpx.HTTPError:
            self.counts.unanswered[what] += 1
            return None
        if response.is_success:
            self.counts.acknowledged[what] += 1
            return response
        self.counts.refused[what] += 1
        return response

    def _write_expense(self, client: httpx.Client) -> None:
        """Sent again with the same id while the answer is lost or a 5xx, as a client should."""
        h = self.household
        amount = self.random.randrange(100, 2_500)
        chosen_id = str(uuid.UUID(int=self.random.getrandbits(128), version=4))
        body = {
            "id": chosen_id,
            "account_id": h.account_id,
            "kind": "expense",
            "amount_minor": amount,
            "category_id": h.category_id,
            "booked_on": today().isoformat(),
        }
        for attempt in range(3):
            r = self._call("record", lambda: client.post("/api/ledger/transactions", headers=h.auth,
                                                         json=body))
            if r is not None and r.is_success:
                h.acked[chosen_id] = (r.json()["version"], amount, False)
                return
            if r is not None and r.status_code < 500 and not (attempt and r.status_code == 409):
                return  # refused; a 409 on a repeat is the first attempt still being recorded
        h.uncertain.add(chosen_id)

    def _write_amend(self, client: httpx.Client, txn: str) -> None:
        h = self.household
        version, _, _ = h.acked[txn]
        amount = self.random.randrange(100, 2_500)
        r = self._call(
            "amend",
            lambda: client.patch(
                f"/api/ledger/transactions/{txn}",
                headers=h.auth,
                json={"expected_version": version, "amount_minor": amount},
            ),
        )
        if r is None or r.status_code >= 500:
            h.uncertain.add(txn)
        elif r.is_success:
            h.acked[txn] = (r.json()["version"], amount, False)

    def _write_delete(self, client: httpx.Client, txn: str) -> None:
        h = self.household
        version, amount, _ = h.acked[txn]
        r = self._call(
            "delete",
            lambda: client.delete(
                f"/api/ledger/transactions/{txn}", headers=h.auth, params={"expected_version": version}
            ),
        )
        if r is None or r.status_code >= 500:
            h.uncertain.add(txn)
        elif r.is_success:
            h.acked[txn] = (r.json()["version"], amount, True)

    def _write_budget(self, client: httpx.Client) -> None:
        h = self.household
        amount = self.random.choice([15_000, 25_000, 40_000])
        self._call(
            "budget",
            lambda: client.post(
                "/api/budget/budgets",
                headers=h.auth,
                json={"category_id": h.category_id, "amount_minor": amount, "currency": "EUR"},
            ),
        )


# -- the faults -------------------------------------------------------------------------------------


def _postgres_pids(stack: Stack) -> list[int]:
    """The postmaster (first line of postmaster.pid) and every process it started."""
    pid_file = stack.data_dir / "postgres" / "postmaster.pid"
    return process_tree(int(pid_file.read_text().splitlines()[0]))


def wait_service_ready(stack: Stack, name: str, timeout_s: float = 90.0) -> None:
    url = stack.url if name == "gateway" else stack.service_url(name)

    def ready() -> bool:
        try:
            return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    eventually(ready, f"{name} ready again", timeout_s)


def kill_service(stack: Stack, name: str) -> str:
    """Kill -9 and start again; the next fault waits until it serves, so writes go on in between."""
    stack.stop_service(name, sig=signal.SIGKILL)
    started = time.monotonic()
    stack.start_service(name)
    wait_service_ready(stack, name)
    return f"kill -9 {name}, restarted and ready in {time.monotonic() - started:.1f}s"


def restart_broker(stack: Stack) -> str:
    stack.restart_broker(outage_s=0.5)  # the fault itself: a short outage, not a wait for anything
    return "kill -9 broker, restarted empty"


def pause_database(stack: Stack, seconds: float) -> str:
    pids = _postgres_pids(stack)
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        time.sleep(seconds)
    finally:
        for pid in pids:
            os.kill(pid, signal.SIGCONT)
    return f"SIGSTOP PostgreSQL ({len(pids)} processes) for {seconds:.1f}s"


async def _redeliver(bootstrap: str, topic: str, how_many: int, rng: random.Random) -> int:
    """Produce up to `how_many` of the topic's recent records again, in shuffled order."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    records: list[tuple[bytes | None, bytes | None]] = []
    try:
        await consumer.topics()  # fetches the cluster's metadata, so the partitions are known
        partitions = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or set())]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        for tp in partitions:
            consumer.seek(tp, max(0, ends[tp] - how_many))
        deadline = time.monotonic() + 30  # only bounds a broker that stopped answering: reads end at `ends`
        while time.monotonic() < deadline and len(records) < how_many:
            batch = await consumer.getmany(timeout_ms=500)
            for messages in batch.values():
                records.extend((m.key, m.value) for m in messages)
            positions = [await consumer.position(tp) for tp in partitions]
            if all(at >= ends[tp] for at, tp in zip(positions, partitions, strict=True)):
                break
    finally:
        await consumer.stop()
    records = rng.sample(records, min(how_many, len(records)))  # a random pick, in random order
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(topic, value, key=key)  # one record per batch: see tallykit.outbox
    finally:
        await producer.stop()
    return len(records)


def redeliver(stack: Stack, rng: random.Random) -> str | None:
    """None when nothing could be re-delivered (e.g. just after a broker restart): no fault happened."""
    try:
        count = asyncio.run(_redeliver(f"127.0.0.1:{stack.ports.broker}", "ledger.events", 40, rng))
    except KafkaError:
        return None
    return f"re-delivered {count} ledger.events records, shuffled" if count else None


# -- the checks -------------------------------------------------------------------------------------


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    figures: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


async def _fetch(stack: Stack, database: str, query: str, *args: Any) -> list[asyncpg.Record]:
    dsn = postgres.asyncpg_dsn(postgres.database_url(stack.admin_url, database))
    connection = await asyncpg.connect(dsn)
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


def check(stack: Stack, households: list[Household]) -> Findings:
    found = Findings()
    month = today().isoformat()[:7]
    with httpx.Client(base_url=stack.url, timeout=10) as client:
        for h in households:
            _check_household(stack, client, h, month, found)
    _check_mail(stack, households, found)
    return found


def _check_household(stack: Stack, client: httpx.Client, h: Household, month: str, found: Findings) -> None:
    streams = {
        str(r["stream_id"]): r["version"]
        for r in asyncio.run(
            _fetch(
                stack,
                "tally_ledger",
                "SELECT stream_id, max(stream_version) AS version FROM event_store "
                "WHERE tenant_id = $1::uuid GROUP BY stream_id",
                h.tenant_id,
            )
        )
    }
    missing = [t for t in h.acked if t not in streams]
    if missing:
        found.problems.append(f"{h.email}: {len(missing)} acknowledged transactions not in the event store")
    behind = [t for t, (v, _, _) in h.acked.items() if t not in h.uncertain and streams.get(t, 0) < v]
    if behind:
        found.problems.append(f"{h.email}: {len(behind)} acknowledged changes missing from the event store")

    items = _all_transactions(client, h)
    live = {t["id"]: t["amount_minor"] for t in items}
    phantoms = [t for t in live if t not in h.acked and t not in h.uncertain]
    if phantoms:
        found.problems.append(f"{h.email}: {len(phantoms)} transactions no write of ours made (doubled?)")
    for txn, (_, amount, deleted) in h.acked.items():
        if txn in h.uncertain:
            continue
        if deleted and txn in live:
            found.problems.append(f"{h.email}: deleted transaction {txn} still listed")
        elif not deleted and live.get(txn) != amount:
            found.problems.append(f"{h.email}: transaction {txn} is {live.get(txn)}, acknowledged {amount}")
    account = client.get(f"/api/ledger/accounts/{h.account_id}", headers=h.auth).json()
    expected_balance = h.opening_minor - sum(live.values())
    if account["balance_minor"] != expected_balance:
        found.problems.append(
            f"{h.email}: balance {account['balance_minor']} ≠ opening - transactions {expected_balance}"
        )
    spent_this_month = sum(t["amount_minor"] for t in items if t["booked_on"].startswith(month))

    budgets = client.get("/api/budget/budgets", headers=h.auth, params={"month": month}).json()["items"]
    spent = next((b["spent_minor"] for b in budgets if b["category_id"] == h.category_id), None)
    if spent != spent_this_month:
        found.problems.append(f"{h.email}: budget says spent {spent}, the ledger {spent_this_month}")
    report = client.get("/api/analytics/reports/monthly", headers=h.auth, params={"month": month}).json()
    expenses = _report_expenses(report)
    if expenses != spent_this_month:
        found.problems.append(f"{h.email}: analytics says expenses {expenses}, the ledger {spent_this_month}")
    found.figures["transactions checked"] = found.figures.get("transactions checked", 0) + len(h.acked)


def _report_expenses(report: dict[str, Any]) -> int | None:
    for key in ("expense_minor", "expenses_minor"):
        if key in report:
            return int(report[key])
    totals = report.get("totals")
    if isinstance(totals, list):
        return sum(int(t.get("expense_minor", 0)) for t in totals)
    return None


def _all_transactions(client: httpx.Client, h: Household) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"account_id": h.account_id, "limit": "200", **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/ledger/transactions", headers=h.auth, params=params).json()
        items.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return items


def _check_mail(stack: Stack, households: list[Household], found: Findings) -> None:
    assert stack.mail is not None
    tenants = [h.tenant_id for h in households]
    alerts = asyncio.run(
        _fetch(
            stack,
            "tally_budget",
            "SELECT event_id::text FROM outbox "
            "WHERE key = ANY($1::text[]) AND envelope->>'type' = ANY($2::text[])",
            tenants,
            list(ALERT_TYPES),
        )
    )
    messages = list(stack.mail.messages)
    by_id = Counter(str(m["Message-ID"]) for m in messages)
    doubled = [mid for mid, n in by_id.items() if n > 1]
    if doubled:
        found.problems.append(f"{len(doubled)} emails sent more than once")
    mailed = Counter(str(m["X-Tally-Event-ID"]) for m in messages if m["X-Tally-Event-ID"])
    for row in alerts:
        if mailed[row["event_id"]] != 1:
            found.problems.append(f"budget alert {row['event_id']} mailed {mailed[row['event_id']]} times")
    found.figures["budget alerts"] = len(alerts)
    found.figures["emails"] = len(messages)


# -- the run ----------------------------------------------------------------------------------------


@dataclass
class ChaosReport:
    faults: list[str]
    counts: WriteCounts
    findings: Findings
    seconds: float
    # Where something was found: what the consumers said about their groups, from the services' logs.
    consumer_log: list[str] = field(default_factory=list)

    def render(self) -> str:
        lines = ["# Chaos run", "", f"{len(self.faults)} faults in {self.seconds:.0f} s:", ""]
        lines += [f"{i + 1}. {fault}" for i, fault in enumerate(self.faults)]
        lines += ["", "| write | acknowledged | refused | unanswered |", "|---|---:|---:|---:|"]
        for what in sorted(set(self.counts.acknowledged) | set(self.counts.refused)):
            lines.append(
                f"| {what} | {self.counts.acknowledged[what]} | {self.counts.refused[what]} "
                f"| {self.counts.unanswered[what]} |"
            )
        lines += ["", *(f"- {k}: {v}" for k, v in self.findings.figures.items()), ""]
        if self.findings.ok:
            lines.append("Found: nothing lost, nothing doubled, every read model agrees with the ledger.")
        else:
            lines += ["Found:", *(f"- {p}" for p in self.findings.problems)]
        if self.consumer_log:
            lines += ["", "What the consumers said (services' logs):", "", "```", *self.consumer_log, "```"]
        return "\n".join(lines) + "\n"


_CONSUMER_SAYS = re.compile(
    r"consumer_(?:started|group_|failed|loop_)|kafka_client_stop|broker_partition_wedged"
    r"|BrokerForgot|JoinGroup|coordinator dead"
)


def consumer_log(logs: Path, services: Sequence[str] = ("ledger", *CONSUMERS), limit: int = 60) -> list[str]:
    """The last lines where each service's consumer started, gave up, failed or rejoined its group."""
    said: list[str] = []
    for name in services:
        path = logs / f"{name}.log"
        if path.exists():
            lines = [f"{name}: {line[:200]}" for line in path.read_text(errors="replace").splitlines()
                     if line.startswith("20") and _CONSUMER_SAYS.search(line)]
            said += lines[-limit // len(services):]
    return said


class ChaosRun:
    def __init__(
        self,
        stack: Stack,
        *,
        households: int = 3,
        faults: int = 20,
        seed: int | None = None,
        settle_s: float = 120.0,
        progress: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.stack = stack
        self.household_count = households
        self.fault_count = faults
        self.random = random.Random(seed)
        self.settle_s = settle_s
        self.progress = progress

    def _next_fault(self, n: int) -> Callable[[], str | None]:
        stack, rng = self.stack, self.random
        # Every kind at least once in the first rounds, then at random.
        kinds: list[Callable[[], str | None]] = [
            lambda: kill_service(stack, "ledger"),
            lambda: redeliver(stack, rng),
            lambda: kill_service(stack, rng.choice(CONSUMERS)),
            lambda: pause_database(stack, rng.uniform(0.5, 2.0)),
            lambda: restart_broker(stack),
        ]
        return kinds[n] if n < len(kinds) else rng.choice(kinds)

    def run(self) -> ChaosReport:
        started = time.monotonic()
        counts = WriteCounts()
        with httpx.Client(base_url=self.stack.url, timeout=10) as client:
            households = [
                create_household(client, n, budget_minor=25_000) for n in range(self.household_count)
            ]
        writers = [Writer(self.stack.url, h, counts, self.random.randrange(2**32)) for h in households]
        for writer in writers:
            writer.start()
        faults: list[str] = []
        attempts = 0
        try:
            # Only faults that really happened count; an injector that could not act is tried again.
            while len(faults) < self.fault_count and attempts < 3 * self.fault_count:
                time.sleep(self.random.uniform(0.5, 1.5))
                fault = self._next_fault(attempts)()
                attempts += 1
                if fault is not None:
                    faults.append(fault)
                    self.progress(f"  fault {len(faults)}/{self.fault_count}: {fault}")
        finally:
            for writer in writers:
                writer.stop.set()
            for writer in writers:
                writer.join(timeout=30)
        for name in ("gateway", "auth", "ledger", *CONSUMERS):
            wait_service_ready(self.stack, name, 90)
        self.progress("  settling…")
        settling = time.monotonic()
        # First nothing in flight: every relay published (re-published, after a broker restart), every
        # consumer at the end of its topics, every mail due sent. What the checks find then is the outcome,
        # not a moment on the way to it (a redelivered event still on its way would count twice later).
        try:
            settled(self.stack, [h.tenant_id for h in households], timeout=self.settle_s)
            unsettled = None
        except AssertionError as exc:
            unsettled = str(exc)
        findings = check(self.stack, households)
        # Only what time starts can change it now: a mail whose attempt failed, sent after its backoff.
        while not findings.ok and time.monotonic() - settling < self.settle_s:
            self.progress(f"  still waiting: {len(findings.problems)} differences, {findings.problems[0]}")
            time.sleep(3)
            findings = check(self.stack, households)
        if unsettled is not None:
            findings.problems.append(unsettled)
        findings.figures["seconds to settle"] = round(time.monotonic() - settling)
        findings.figures["broker restarts for a wedged partition"] = len(self.stack.broker_restarts)
        said = [] if findings.ok else consumer_log(self.stack.logs)
        return ChaosReport(faults, counts, findings, time.monotonic() - started, said)


def main() -> None:
    parser = argparse.ArgumentParser(description="Inject faults into a local Tally stack and check it.")
    parser.add_argument("--faults", type=int, default=50)
    parser.add_argument("--households", type=int, default=4)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--report", type=Path, default=Path("bench/results/chaos.md"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tally-chaos-") as folder:
        stack = Stack(Path(folder), Ports.free(), progress=print)
        try:
            stack.start()
            report = ChaosRun(
                stack,
                households=args.households,
                faults=args.faults,
                seed=args.seed,
                progress=print,
            ).run()
        finally:
            stack.stop()
    text = report.render()
    print(text)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(text)
    raise SystemExit(0 if report.findings.ok else 1)


if __name__ == "__main__":
    main()
