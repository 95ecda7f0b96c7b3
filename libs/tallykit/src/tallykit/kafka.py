"""Kafka clients built from settings, and explicit topic creation (never rely on auto-creation)."""

from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from tallykit.logging import get_logger
from tallykit.settings import ServiceSettings

log = get_logger(__name__)

TOPIC_ALREADY_EXISTS = 36


def producer(settings: ServiceSettings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"{settings.service_name}-producer",
        enable_idempotence=settings.kafka_enable_idempotence,
        acks="all",
        # Lingering lets records share a batch. For the local broker the relay builds each request's
        # batches itself (tallykit.outbox.publish), ready at once: a linger would only wait.
        linger_ms=0 if settings.kafka_single_record_batches else 5,
    )


def consumer(settings: ServiceSettings, group_id: str) -> AIOKafkaConsumer:
    """A group member with manual commits; the caller subscribes it (with a rebalance listener)."""
    return AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"{settings.service_name}-consumer",
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        # A poll's records of a partition are applied in one transaction (tallykit.consumer): more per
        # poll, fewer transactions and fetches for a burst.
        max_poll_records=settings.kafka_max_poll_records,
        max_partition_fetch_bytes=settings.kafka_max_partition_fetch_bytes,
    )


async def ensure_topics(settings: ServiceSettings, topics: Iterable[str]) -> None:
    """Create the topics that do not exist yet, with the configured partitions."""
    wanted = sorted(set(topics))
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t not in existing]
        if not missing:
            return
        response = await admin.create_topics(
            [NewTopic(t, settings.kafka_topic_partitions, settings.kafka_replication_factor) for t in missing]
        )
        for topic, code, *_ in getattr(response, "topic_errors", getattr(response, "topic_error_codes", [])):
            if code not in (0, TOPIC_ALREADY_EXISTS):
                raise RuntimeError(f"could not create topic {topic}: error code {code}")
        log.info("topics_created", topics=missing)
    finally:
        await admin.close()


async def end_offsets(settings: ServiceSettings, topics: Iterable[str]) -> dict[TopicPartition, int]:
    """The next offset of every partition of these topics (topics the broker does not know: none)."""
    client = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await client.start()
    try:
        partitions: list[TopicPartition] = []
        for topic in topics:
            for p in client.partitions_for_topic(topic) or await _fetch_partitions(client, topic):
                partitions.append(TopicPartition(topic, p))
        return dict(await client.end_offsets(partitions)) if partitions else {}
    finally:
        await client.stop()


async def committed_offsets(
    settings: ServiceSettings, group: str, partitions: Iterable[TopicPartition]
) -> dict[TopicPartition, int | None]:
    """A consumer group's committed offsets (None: nothing committed), read without joining the group."""
    client = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, group_id=group, enable_auto_commit=False
    )
    await client.start()
    try:
        return {tp: await client.committed(tp) for tp in partitions}
    finally:
        await client.stop()


def report_wedged(settings: ServiceSettings, partition: TopicPartition) -> None:
    """Say that the broker keeps refusing writes to a partition; where the local stack asks for it
    (`kafka_wedge_report_file`), also to the stack, which restarts its broker (tallystack.stack)."""
    log.error("broker_partition_wedged", topic=partition.topic, partition=partition.partition)
    if (report := settings.kafka_wedge_report_file) is not None:
        written = report.with_name(report.name + ".part")
        written.write_text(f"{partition.topic}/{partition.partition}\n")
        written.replace(report)  # whole, so the stack never reads half of it


async def _fetch_partitions(client: AIOKafkaConsumer, topic: str) -> set[int]:
    await client._client.force_metadata_update()
    return client.partitions_for_topic(topic) or set()
