"""The dispatcher's e-mail against a real SMTP server (aiosmtpd) and a real PostgreSQL."""

import asyncio
import logging

from tally_notifier.dispatcher import Dispatcher
from tallystack.broker import free_port
from tallystack.smtp import start_smtp_sink


def dispatcher_of(client) -> Dispatcher:
    return Dispatcher(client.app.state.db, client.app.state.settings)


async def test_notifier_one_email_per_alert_even_when_handled_twice(
    notifier, household, feed, rows, smtp_sink
) -> None:
    port, sink = smtp_sink
    client = await notifier(smtp_port=port, public_url="https://tally.example.org")
    home = household()
    ann, joined = home.join("Ann")
    alert = home.alert()
    await feed(client, home.created(), joined, alert, alert)
    dispatcher = dispatcher_of(client)
    assert await dispatcher.drain() == 1
    assert await dispatcher.drain() == 0
    await feed(client, alert)
    assert await dispatcher.drain() == 0

    assert len(sink.messages) == 1
    message = sink.messages[0]
    assert message["To"] == home.members[0][1]
    assert message["From"] == "Tally <no-reply@tally.local>"
    assert message["Subject"] == "Groceries budget: 80% used"
    assert message["Message-ID"] == f"<{alert.id}.{ann}@tally.local>"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = "https://tally.example.org/#/budgets?month=2025-06"
    assert link in text
    assert f'href="{link}"' in html
    assert "412.50 EUR" in text
    [delivery] = (await rows(client))["deliveries"]
    assert (delivery["status"], delivery["attempts"], delivery["last_error"]) == ("sent", 1, None)
    assert delivery["sent_at"] is not None


async def test_notifier_smtp_down_then_up_delivers_once_after_retry(notifier, household, feed, rows) -> None:
    port = free_port()  # nothing listens here yet
    # A backoff of 1.5-3 s: long enough that the immediate second drain cannot find it due on a busy
    # machine (0.3 s gave 0.15 s), short enough to wait for.
    client = await notifier(smtp_port=port, mail_backoff_base_s=3, smtp_timeout_s=2)
    home = household()
    _, joined = home.join("Ann")
    await feed(client, joined, home.alert(exceeded=True, spent=52000))
    dispatcher = dispatcher_of(client)

    assert await dispatcher.drain() == 1
    [delivery] = (await rows(client))["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("pending", 1)
    assert delivery["last_error"]
    assert delivery["next_attempt_at"] > delivery["created_at"]
    assert await dispatcher.drain() == 0  # not due yet: backing off

    controller, sink = start_smtp_sink(port)
    try:
        async with asyncio.timeout(30):  # until the retry falls due and goes out
            while not await dispatcher.drain():
                await asyncio.sleep(0.1)
        assert await dispatcher.drain() == 0  # recorded as sent: never due again
    finally:
        controller.stop()
    assert [m["Subject"] for m in sink.messages] == ["Groceries budget exceeded"]
    [delivery] = (await rows(client))["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("sent", 2)


async def test_notifier_gives_up_after_max_attempts_and_never_logs_the_password(
    notifier, household, feed, rows, smtp_sink, caplog
) -> None:
    port, sink = smtp_sink  # the sink offers no AUTH over plain text: every login attempt fails
    client = await notifier(
        smtp_port=port,
        smtp_username="tally",
        smtp_password="hunter2-very-secret",
        mail_max_attempts=2,
        mail_backoff_base_s=0.05,
    )
    home = household()
    _, joined = home.join("Ann")
    alert = home.alert()
    await feed(client, joined, alert)
    dispatcher = dispatcher_of(client)
    root = logging.getLogger()
    root.addHandler(caplog.handler)  # the app's logging set-up replaced the root handlers
    try:
        assert await dispatcher.drain() == 1
        await asyncio.sleep(0.1)
        assert await dispatcher.drain() == 1
        await asyncio.sleep(0.1)
        assert await dispatcher.drain() == 0
    finally:
        root.removeHandler(caplog.handler)
    [delivery] = (await rows(client))["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("failed", 2)
    assert "AUTH" in delivery["last_error"]
    assert sink.messages == []
    logged = " ".join(str(r.msg) for r in caplog.records)
    assert "email_failed_giving_up" in logged
    assert str(alert.id) in logged
    assert "hunter2" not in logged
    assert "hunter2" not in caplog.text


async def test_notifier_two_dispatchers_never_send_the_same_delivery(
    notifier, household, feed, rows, smtp_sink
) -> None:
    port, sink = smtp_sink
    client = await notifier(smtp_port=port)
    home = household()
    for name in ("Ann", "Bob", "Cid"):
        await feed(client, home.join(name)[1])
    await feed(client, *[home.alert(category=c) for c in ("Groceries", "Fuel", "Rent")])
    first, second = dispatcher_of(client), dispatcher_of(client)
    attempted = await asyncio.gather(first.drain(), second.drain(), first.drain(), second.drain())
    assert sum(attempted) == 9
    assert attempted[0] > 0
    assert attempted[1] > 0
    ids = [m["Message-ID"] for m in sink.messages]
    assert len(ids) == 9
    assert len(set(ids)) == 9
    assert {d["status"] for d in (await rows(client))["deliveries"]} == {"sent"}


async def test_notifier_counts_each_delivery_once_per_channel(notifier, household, feed, smtp_sink) -> None:
    from prometheus_client import REGISTRY

    def sent(channel: str) -> float:
        return REGISTRY.get_sample_value("tally_notifications_sent_total", {"channel": channel}) or 0.0

    port, _ = smtp_sink
    client = await notifier(smtp_port=port)
    home = household()
    _, joined = home.join("Ann")
    alert = home.alert()
    before = sent("email"), sent("in_app")
    await feed(client, home.created(), joined, alert, alert)
    await dispatcher_of(client).drain()
    assert (sent("email") - before[0], sent("in_app") - before[1]) == (1.0, 1.0)
