"""A burst (an import flagging every row) becomes a handful of messages and one summary per channel, not
one e-mail per row, while every event is still handled exactly once.

2,000 events (the issue's 10,000 with `TALLY_TEST_BURST=10000`: the same behaviour, five times the
minutes — about 90 s on a quiet machine, over the 300 s limit on a busy one), handed to the notifier's
consumer 200 at a time as Kafka delivers them (max_poll_records), so they go through the same batched
path as in production."""

import os
import time
from datetime import date
from uuid import uuid4

from aiokafka import ConsumerRecord
from sqlalchemy import func, select

from tally_notifier.dispatcher import Dispatcher
from tally_notifier.tables import deliveries, notifications, rate_windows
from tallykit.contracts.analytics import UnusualSpendingDetected

BURST = int(os.environ.get("TALLY_TEST_BURST", "2000"))
POLL = 200  # tallykit.kafka.consumer: max_poll_records


async def test_a_burst_of_alerts_becomes_five_messages_and_one_summary(
    notifier, household, feed, token_minter, smtp_sink
) -> None:
    port, sink = smtp_sink
    client = await notifier(smtp_port=port, rate_limit_per_window=5, rate_window_s=3600)
    home = household()
    ann, a = home.join("Ann")
    await feed(client, a)
    headers = token_minter.headers(ann, home.tenant_id)
    await client.patch(
        "/preferences", headers=headers, json={"channels": {"spending.unusual": {"email": True}}}
    )
    account = uuid4()
    events = [
        home.event(
            UnusualSpendingDetected(
                transaction_id=uuid4(),
                account_id=account,
                payee=f"Shop {i}",
                amount_minor=10_000 + i,
                typical_minor=1_000,
                currency="EUR",
                booked_on=date(2026, 11, 1),
                reason="ten times the usual",
            )
        )
        for i in range(BURST)
    ]
    consumer = client.app.state.consumers[0]  # the one consumer of the notifier's topics
    started = time.perf_counter()
    for start in range(0, BURST, POLL):
        records = [
            ConsumerRecord("analytics.events", 0, n, 0, 0, None, e.to_json(), None, 0, 0, [])
            for n, e in enumerate(events[start : start + POLL], start=start)
        ]
        assert await consumer.handle_together(records) or all(
            [await consumer.handle(r.value) for r in records]
        )
    elapsed = time.perf_counter() - started
    print(f"\n{BURST} events handled in {elapsed:.1f} s ({BURST / elapsed:.0f}/s)")
    assert consumer.handled == BURST

    async with client.app.state.db.read() as s:
        in_app = (await s.execute(select(notifications.c.type, notifications.c.title))).all()
        window = (
            (await s.execute(select(rate_windows).where(rate_windows.c.channel == "email"))).mappings().one()
        )
        queued = await s.scalar(select(func.count()).select_from(deliveries))
    assert len(in_app) == 6  # five alerts and one summary that keeps counting
    assert ("summary", f"{BURST - 5:,} more notifications") in in_app
    assert (window["sent"], window["held"], window["counts"]) == (
        BURST,
        BURST - 5,
        {"spending.unusual": BURST - 5},
    )
    assert queued == 6

    # The summary waits for its window to end; bring that moment forward instead of waiting an hour.
    async with client.app.state.db.transaction() as s:
        await s.execute(
            deliveries.update().where(deliveries.c.type == "summary").values(next_attempt_at=func.now())
        )
    dispatcher = Dispatcher(client.app.state.db, client.app.state.settings)
    assert await dispatcher.drain() == 6
    assert await dispatcher.drain() == 0
    subjects = [m["Subject"] for m in sink.messages]
    assert len(subjects) == 6
    assert subjects.count(f"{BURST - 5:,} more notifications") == 1
    summary = next(m for m in sink.messages if m["Subject"] == f"{BURST - 5:,} more notifications")
    assert f"{BURST - 5:,} x unusual spending" in summary.get_body(("plain",)).get_content()
