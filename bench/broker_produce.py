"""Benchmark: what the local broker (Tansu, in memory) costs per produce request and per record, as
the outbox relay publishes to it.

    uv run python bench/broker_produce.py [--records 5000]

It starts the Tansu broker of the local stack on a free port and publishes `--records` records the
size of an import's `ledger.TransactionRecorded` envelope through `tallykit.outbox.publish` (the
relay's own code, with `single_record_batches` as the local stack sets it) into a fresh topic of six
partitions for each row of the table:

- one household (every record on one partition, as an import), 1 record per produce request: the
  relay before (`kafka_records_per_request` = 1), then 10, 100 and 500 (now) per request;
- six households (one per partition), 1 record of each per request (before), and 500 (now);
- one household again, 1 and 500 per request, with three readers tailing the partition as budget,
  analytics and the notifier do during an import (fetches cost the broker more as its log grows).

After each row the partitions' end offsets must count every record and a reader must find every record
in order (the broker's end offset after a batch of several records is wrong unless the request ends
with a batch of one: tallykit.outbox.publish). Prints a table and writes bench/results/
broker_produce.{json,md}.
"""

import argparse
import asyncio
import json
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

from aiokafka import AIOKafkaConsumer, TopicPartition

from tallykit import kafka, outbox
from tallykit.settings import ServiceSettings
from tallystack.broker import free_port, start_tansu
from tallystack.measure import sharing

RESULTS = Path(__file__).parent / "results"
PARTITIONS = 6


def envelope(tenant: str, n: int) -> dict[str, Any]:
    """About the size of an imported row's TransactionRecorded envelope (some 900 bytes of JSON)."""
    return {
        "id": str(uuid4()), "type": "ledger.TransactionRecorded", "schema_version": 1, "tenant_id": tenant,
        "stream_id": str(uuid4()), "stream_version": 1, "occurred_at": "2026-12-07T14:50:00.123456Z",
        "recorded_at": "2026-12-07T14:50:00.123456Z", "causation_id": None,
        "correlation_id": str(uuid4()), "actor": str(uuid4()),
        "data": {"transaction_id": str(uuid4()), "account_id": str(uuid4()), "kind": "expense",
                 "amount_minor": -1234 - n, "currency": "EUR", "booked_on": "2024-03-01",
                 "payee": "REWE Markt GmbH", "description": f"Ref {n:06d} REWE Markt Gm 03/2024 Lastschrift",
                 "category_id": str(uuid4()), "tags": [], "splits": [], "status": "cleared",
                 "import_batch_id": str(uuid4()), "import_row": n, "categorised_by": "model",
                 "notes": None, "counter_account_id": None},
    }


def rows(count: int, households: int, topic: str) -> list[outbox.OutboxRow]:
    tenants = [str(uuid4()) for _ in range(households)]
    return [outbox.OutboxRow(n + 1, topic, tenants[n % households], envelope(tenants[n % households], n))
            for n in range(count)]


async def _tail(settings: ServiceSettings, topic: str, stop: asyncio.Event) -> int:
    """A reader fetching every partition of `topic` from the start until `stop`; records read."""
    client = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers,
                              max_poll_records=settings.kafka_max_poll_records,
                              max_partition_fetch_bytes=settings.kafka_max_partition_fetch_bytes)
    await client.start()
    read = 0
    try:
        client.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
        while not stop.is_set():
            read += sum(len(r) for r in (await client.getmany(timeout_ms=100)).values())
    finally:
        await client.stop()
    return read


async def _read_back(settings: ServiceSettings, topic: str, expected: int) -> list[list[int]]:
    """Every record of the topic, as the outbox ids (headers) per partition in offset order."""
    client = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers,
                              auto_offset_reset="earliest")
    await client.start()
    found: list[list[int]] = [[] for _ in range(PARTITIONS)]
    try:
        client.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
        async with asyncio.timeout(120):
            while sum(map(len, found)) < expected:
                for tp, records in (await client.getmany(timeout_ms=500)).items():
                    found[tp.partition] += [int(dict(r.headers)["tally-position"]) for r in records]
    finally:
        await client.stop()
    return found


async def case(settings: ServiceSettings, label: str, count: int, households: int, per_request: int,
               readers: int = 0) -> dict[str, Any]:
    topic = f"bench.{uuid4().hex[:8]}"
    await kafka.ensure_topics(settings, [topic])
    batch = rows(count, households, topic)
    producer = kafka.producer(settings)
    await producer.start()
    stop = asyncio.Event()
    tails = [asyncio.create_task(_tail(settings, topic, stop)) for _ in range(readers)]
    # publish sends one record set per partition with records left, all of them, then waits: a round
    # is one produce request (one broker), as many as the busiest partition's record sets.
    sets: dict[int, int] = {}
    send_batch = producer.send_batch

    async def counted(record_set: Any, topic: str, *, partition: int) -> Any:
        sets[partition] = sets.get(partition, 0) + 1
        return await send_batch(record_set, topic, partition=partition)

    producer.send_batch = counted
    try:
        await producer.partitions_for(topic)
        requests = 0
        started = time.perf_counter()
        # As the relay does: its batches of `relay_batch_size` rows, each published and then the next.
        for first in range(0, count, settings.relay_batch_size):
            chunk = batch[first:first + settings.relay_batch_size]
            sets.clear()
            await outbox.publish(producer, chunk, single_record_batches=True, records_per_request=per_request,
                                 record_set_bytes=settings.kafka_record_set_bytes)
            requests += max(sets.values())
        seconds = time.perf_counter() - started
    finally:
        stop.set()
        read_by_tails = sum(await asyncio.gather(*tails))
        await producer.stop()
    ends = await kafka.end_offsets(settings, [topic])
    assert sum(ends.values()) == count, f"{label}: the end offsets count {sum(ends.values())} of {count}"
    found = await _read_back(settings, topic, count)
    assert all(ids == sorted(ids) for ids in found), f"{label}: a partition out of order"
    assert sorted(i for ids in found for i in ids) == [r.id for r in batch], f"{label}: records missing"
    print(f"  {label}: {seconds:.2f} s, {count / seconds:,.0f} records/s, {requests:,} requests")
    return {"label": label, "records": count, "households": households, "per_request": per_request,
            "readers": readers, "read_by_readers": read_by_tails, "seconds": seconds,
            "records_per_s": count / seconds, "requests": requests,
            "ms_per_request": 1000 * seconds / requests, "us_per_record": 1e6 * seconds / count}


CASES = [
    ("one household, 1 record per request (before)", 1, 1, 0),
    ("one household, 10 records per request", 1, 10, 0),
    ("one household, 100 records per request", 1, 100, 0),
    ("**one household, 500 records per request (now)**", 1, 500, 0),
    ("six households, 1 record of each per request (before)", 6, 1, 0),
    ("**six households, up to 500 of each per request (now)**", 6, 500, 0),
    ("one household, 3 readers tailing, 1 record per request (before)", 1, 1, 3),
    ("**one household, 3 readers tailing, 500 records per request (now)**", 1, 500, 3),
]


async def measure(count: int) -> dict[str, Any]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="tally-broker-bench-") as folder:
        broker = start_tansu(port, Path(folder) / "tansu.log")
        try:
            settings = ServiceSettings(kafka_bootstrap_servers=f"127.0.0.1:{port}",
                                       kafka_single_record_batches=True)
            load_before = os.getloadavg()[0]
            cases = [await case(settings, label, count, households, per_request, readers)
                     for label, households, per_request, readers in CASES]
            return {"records": count, "record_bytes": len(json.dumps(envelope(str(uuid4()), 0))),
                    "load_before": load_before, "load_after": os.getloadavg()[0], "cases": cases}
        finally:
            broker.terminate()
            broker.wait(timeout=10)


def report(result: dict[str, Any]) -> str:
    load = max(result["load_before"], result["load_after"])
    lines = [
        f"# Local broker: produce requests and records ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"{result['records']:,} records of {result['record_bytes']} bytes (an import's TransactionRecorded "
        f"envelope) per row, published by `tallykit.outbox.publish` into a fresh topic of {PARTITIONS} "
        "partitions of the local broker (Tansu 0.6, memory store) in the relay's batches of 500 rows, "
        f"on {platform.machine()} ({os.cpu_count()} cores, load average {result['load_before']:.1f} "
        f"before and {result['load_after']:.1f} after: {sharing(load)}), Python "
        f"{platform.python_version()}. Every row checked after: end offsets count every record, a "
        "reader finds each partition's records in order.",
        "",
        "| publishing | seconds | records/s | produce requests | ms per request | µs per record |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for c in result["cases"]:
        lines.append(f"| {c['label']} | {c['seconds']:.2f} | {c['records_per_s']:,.0f} | {c['requests']:,} | "
                     f"{c['ms_per_request']:.2f} | {c['us_per_record']:.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=5_000)
    args = parser.parse_args()
    result = asyncio.run(measure(args.records))
    text = report(result)
    print()
    print(text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "broker_produce.md").write_text(text)
    (RESULTS / "broker_produce.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
