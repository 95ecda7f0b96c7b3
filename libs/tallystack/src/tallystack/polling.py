"""Waiting for what the system does asynchronously (events reaching a read model, a mail arriving), and
for a running stack to have nothing left in flight (before asserting that something did NOT happen).

Tests wait for conditions, never for time: a deadline only bounds how long a failure takes to show, so
deadlines are generous (a busy two-core machine starting a second stack beside this one is slow)."""

import asyncio
import concurrent.futures
import re
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError

from tallystack import postgres

if TYPE_CHECKING:
    from tallystack.stack import Stack

T = TypeVar("T")


def eventually(probe: Callable[[], T | None], what: str | Callable[[], str], timeout: float = 45.0) -> T:
    """Call `probe` until it returns something truthy, and return that; fail naming `what` after
    `timeout` seconds (`what` may be a function, to describe the last state seen)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := probe():
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what() if callable(what) else what}")


async def until(probe: Callable[[], Awaitable[T | None]], what: str, within_s: float = 60.0) -> T:
    """`eventually` for async code: await `probe` until it returns something truthy, and return that
    (`within_s` only bounds how long a failure takes to show)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if result := await probe():
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def finished(client: httpx.AsyncClient, path: str, headers: dict[str, str],
                   running: Iterable[str] = ("importing", "undoing")) -> dict[str, Any]:
    """The resource at `path` once its work that goes on after the answer (an import, an undo) is done:
    its `status` is none of `running`."""
    busy = set(running)

    async def done() -> dict[str, Any] | None:
        resource = dict((await client.get(path, headers=headers)).json())
        return None if resource["status"] in busy else resource

    return await until(done, f"{path} to finish")


# The services in the order events flow through them: each consumes only what those before it publish
# (auth → ledger → budget → analytics → notifier).
FLOW = ("auth", "ledger", "budget", "analytics", "notifier")
_LAG_LINE = re.compile(r'^tally_consumer_lag\{(?P<labels>[^}]*)\}')
_LABEL = re.compile(r'(\w+)="([^"]*)"')


def settled(stack: "Stack", tenants: Iterable[str] = (), timeout: float = 90.0) -> None:
    """Wait until nothing is in flight on the stack any more, so that what has not happened by now will
    not happen: for a negative assertion ("no second e-mail", "no duplicate alert") instead of a sleep.

    Settled means, checked service by service in the order events flow (so a pass that finds every stage
    empty saw the end of everything that was under way when it began):
    - every consumer group of the service has committed up to the end of every topic it reads (each
      record was applied, or found a duplicate by the inbox, or dead-lettered);
    - every row of its outbox is published, and its topics hold at least as many records as its outbox
      has rows published after the relay's settled mark (after a broker restart: the relay has
      re-published what the broker forgot);
    - at the end, the notifier has no delivery that is due and not yet sent (for `tenants` if given,
      else for anyone); a sent e-mail is in the SMTP sink before its delivery is marked sent.

    Work that time starts (the ledger's scheduler, a delivery backing off) is not waited for."""
    wanted = [str(t) for t in tenants]
    last: list[str] = ["nothing checked yet"]

    def probe() -> bool:
        try:
            busy = _run(_in_flight(stack, wanted))
        except (OSError, httpx.HTTPError, KafkaError, asyncpg.PostgresError) as exc:
            busy = f"{type(exc).__name__}: {exc}"  # a service restarting, say: look again
        last[0] = busy or ""
        return busy is None

    eventually(probe, lambda: f"the stack to settle; still in flight: {last[0]}", timeout)


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to its end in a thread of its own (a browser test may hold an event loop on this
    one)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


async def _in_flight(stack: "Stack", tenants: list[str]) -> str | None:
    """What is still under way, first found along the flow; None when nothing is."""
    broker = _Broker(f"127.0.0.1:{stack.ports.broker}")
    await broker.start()
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            for service in FLOW:
                groups = await _groups_and_topics(client, stack.service_url(service))
                if isinstance(groups, str):
                    return f"{service}: {groups}"
                for group, topics in groups.items():
                    if behind := await broker.behind(group, topics):
                        return behind
                dsn = postgres.asyncpg_dsn(postgres.database_url(stack.admin_url, f"tally_{service}"))
                connection = await asyncpg.connect(dsn)
                try:
                    if unsent := await _unpublished(connection, service, broker):
                        return unsent
                    if service == "notifier" and (due := await _deliveries_due(connection, tenants)):
                        return f"the notifier: {due} deliveries due, not sent yet"
                finally:
                    await connection.close()
    finally:
        await broker.stop()
    return None


class _Broker:
    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self.client = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)

    async def start(self) -> None:
        await self.client.start()

    async def stop(self) -> None:
        await self.client.stop()

    async def partitions(self, topic: str) -> list[TopicPartition]:
        known = self.client.partitions_for_topic(topic)
        if not known:
            await self.client.topics()  # refreshes the cluster's metadata
            known = self.client.partitions_for_topic(topic) or set()
        return [TopicPartition(topic, p) for p in sorted(known)]

    async def records(self, topic: str) -> int:
        """How many records the topic's log holds (the local broker counts one offset per record)."""
        partitions = await self.partitions(topic)
        return sum((await self.client.end_offsets(partitions)).values()) if partitions else 0

    async def behind(self, group: str, topics: set[str]) -> str | None:
        """Where the group's committed offset is short of a partition's end, if anywhere."""
        partitions = [tp for topic in sorted(topics) for tp in await self.partitions(topic)]
        if not partitions:
            return None
        ends = await self.client.end_offsets(partitions)
        # A client naming the group without subscribing reads its committed offsets, joining nothing.
        reader = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=group, enable_auto_commit=False)
        await reader.start()
        try:
            for tp in partitions:
                committed = await reader.committed(tp) or 0
                if committed < ends[tp]:
                    return f"group {group} committed {committed} of {ends[tp]} on {tp.topic}/{tp.partition}"
        finally:
            await reader.stop()
        return None


async def _unpublished(connection: asyncpg.Connection, service: str, broker: _Broker) -> str | None:
    """Rows not published yet, or fewer records in a topic than the rows its relay would send again were
    the broker to forget now (those after its settled mark, tallykit.settling): then the broker forgot
    and the relay has not noticed yet."""
    if not await connection.fetchval("SELECT to_regclass('outbox') IS NOT NULL"):
        return None
    by_topic = await connection.fetch(
        "SELECT topic, count(*) FILTER (WHERE published_at IS NULL) AS unpublished,"
        " count(*) FILTER (WHERE m.settled_through IS NULL OR published_at > m.settled_through) AS unsettled"
        " FROM outbox LEFT JOIN relay_marks m USING (topic) GROUP BY topic"
    )
    for row in by_topic:
        if row["unpublished"]:
            return f"{service}'s outbox: {row['unpublished']} rows for {row['topic']} not published"
        if (in_log := await broker.records(row["topic"])) < row["unsettled"]:
            return f"{row['topic']} holds {in_log} records of {service}'s {row['unsettled']} unsettled rows"
    return None


async def _deliveries_due(connection: asyncpg.Connection, tenants: list[str]) -> int:
    due: int = await connection.fetchval(
        "SELECT count(*) FROM deliveries WHERE status = 'pending' AND next_attempt_at <= now()"
        " AND (cardinality($1::uuid[]) = 0 OR tenant_id = ANY($1::uuid[]))",
        tenants,
    )
    return due


async def _groups_and_topics(client: httpx.AsyncClient, url: str) -> dict[str, set[str]] | str:
    """The service's consumer groups (its readiness answer names them) → the topics each reads (the
    labels of its lag gauge, measured for every topic its consumers read, held or not); or why the
    service cannot tell yet."""
    ready = await client.get(f"{url}/readyz")
    if ready.status_code != 200:
        return f"not ready ({ready.status_code})"
    groups: dict[str, set[str]] = {group: set() for group in ready.json().get("partitions", {})}
    if not groups:
        return groups
    for line in (await client.get(f"{url}/metrics")).text.splitlines():
        if found := _LAG_LINE.match(line):
            labels = dict(_LABEL.findall(found["labels"]))
            if labels.get("group") in groups:
                groups[labels["group"]].add(labels["topic"])
    missing = sorted(group for group, topics in groups.items() if not topics)
    return f"no lag measured yet for {', '.join(missing)}" if missing else groups
