"""The whole notifier running: events from a real Kafka-protocol broker to an email at a real SMTP server."""

import asyncio

from prometheus_client import REGISTRY

from tallykit import kafka


async def test_notifier_from_kafka_events_to_email(
    notifier, household, smtp_sink, token_minter, rows
) -> None:
    port, sink = smtp_sink
    # No poll in the test's time: a queued mail is sent because its commit wakes the dispatcher.
    client = await notifier(run_background=True, smtp_port=port, mail_poll_interval_s=3600)
    settings = client.app.state.settings
    home = household(name="Kafka House")
    ann, joined = home.join("Ann")
    first, second = home.alert(category="Groceries"), home.alert(category="Fuel", exceeded=True, spent=50000)

    auth_topic, budget_topic = settings.topic("auth.events"), settings.topic("budget.events")
    await kafka.ensure_topics(settings, [auth_topic, budget_topic])
    producer = kafka.producer(settings)
    await producer.start()
    try:
        key = str(home.tenant_id).encode()
        for envelope in (home.created(), joined):
            await producer.send_and_wait(auth_topic, envelope.to_json(), key=key)
        # The first alert twice (a redelivery), then the second: same key, same partition, in order.
        for envelope in (first, first, second):
            await producer.send_and_wait(budget_topic, envelope.to_json(), key=key)
    finally:
        await producer.stop()

    duplicates = {"group": client.app.state.consumers[0].group_id, "outcome": "duplicate"}

    async def done() -> bool:
        """Both mails out, the redelivered copy taken, and no delivery left to send: a third would be here."""
        taken = REGISTRY.get_sample_value("tally_consumer_events_total", duplicates)
        deliveries = (await rows(client))["deliveries"]
        return bool(taken) and len(sink.messages) >= 2 and all(d["status"] == "sent" for d in deliveries)

    async with asyncio.timeout(60):
        while not await done():
            await asyncio.sleep(0.1)
    subjects = sorted(m["Subject"] for m in sink.messages)
    assert subjects == ["Fuel budget exceeded", "Groceries budget: 80% used"]
    assert {m["To"] for m in sink.messages} == {home.members[0][1]}
    assert all("Kafka House" in m.get_body(("plain",)).get_content() for m in sink.messages)

    listed = (await client.get("/notifications", headers=token_minter.headers(ann, home.tenant_id))).json()
    assert listed["unread"] == 2
    assert {n["title"] for n in listed["items"]} == {"Fuel budget exceeded", "Groceries budget: 80% used"}
