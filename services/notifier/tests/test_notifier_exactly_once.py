"""Exactly once to the person, tried the hard ways: two replicas handling the same event and sending at
once, a crash between the SMTP server's acceptance and the record of it, digests from two schedulers."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tally_notifier import dispatcher as dispatcher_module
from tally_notifier.consumers import build_consumer
from tally_notifier.digest import DigestScheduler
from tally_notifier.dispatcher import Dispatcher
from tally_notifier.tables import deliveries, digests, recipients
from tallykit.db import Database


def replica_db(client) -> Database:  # type: ignore[no-untyped-def]
    """A second replica: its own connection pool on the same database."""
    return Database.from_settings(client.app.state.settings)


async def test_two_replicas_and_a_redelivered_event_send_one_email(
    notifier, household, feed, rows, smtp_sink
) -> None:
    port, sink = smtp_sink
    client = await notifier(smtp_port=port)
    home = household()
    for name in ("Ann", "Bob"):
        await feed(client, home.join(name)[1])
    alert = home.alert(exceeded=True)
    settings = client.app.state.settings
    first_db, second_db = client.app.state.db, replica_db(client)
    try:
        first, second = build_consumer(first_db, settings), build_consumer(second_db, settings)
        # Both replicas get the same record (a rebalance hands the partition over mid-batch), twice.
        handled = await asyncio.gather(*(c.handle(alert.to_json()) for c in (first, second, first, second)))
        assert sorted(handled) == [False, False, False, True]
        senders = [Dispatcher(first_db, settings), Dispatcher(second_db, settings)]
        attempted = await asyncio.gather(*(s.drain() for s in senders * 2))
        assert sum(attempted) == 2
    finally:
        await second_db.dispose()
    assert sorted(m["To"] for m in sink.messages) == sorted(m[1] for m in home.members)
    assert len({m["Message-ID"] for m in sink.messages}) == 2


async def test_crash_after_smtp_accepted_resends_the_same_message(
    notifier, household, feed, rows, smtp_sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documented limit: the SMTP server took the message, then the process died before the row was
    marked sent (simulated by failing the record). The row is still pending, so it is sent again — with
    the same Message-ID and content, which receiving systems use to drop the copy. The person's
    mailbox, deduplicated by Message-ID as mail clients do, holds one message."""
    port, sink = smtp_sink
    client = await notifier(smtp_port=port)
    home = household()
    await feed(client, home.join("Ann")[1], home.alert())
    real_update = dispatcher_module.store.update_delivery

    async def crash(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ConnectionResetError("process killed before recording the send")

    monkeypatch.setattr(dispatcher_module.store, "update_delivery", crash)
    with pytest.raises(ConnectionResetError):
        await Dispatcher(client.app.state.db, client.app.state.settings).drain()
    assert len(sink.messages) == 1
    [delivery] = (await rows(client))["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("pending", 0)  # the transaction never committed

    monkeypatch.setattr(dispatcher_module.store, "update_delivery", real_update)
    assert await Dispatcher(client.app.state.db, client.app.state.settings).drain() == 1
    first, second = sink.messages
    assert first["Message-ID"] == second["Message-ID"]
    assert first.get_body(("plain",)).get_content() == second.get_body(("plain",)).get_content()
    assert len({m["Message-ID"] for m in sink.messages}) == 1
    [delivery] = (await rows(client))["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("sent", 1)


async def test_digest_once_per_person_and_period_across_schedulers(
    notifier, household, feed, smtp_sink
) -> None:
    port, sink = smtp_sink
    client = await notifier(smtp_port=port, public_url="https://tally.example.org")
    home = household()
    _ann, a = home.join("Ann")
    await feed(client, home.created(), a, home.alert(period="2026-11", spent=45000, budget=50000))
    # Ann has been with us a while: she joined before the periods in question.
    async with client.app.state.db.transaction() as s:
        await s.execute(recipients.update().values(created_at=datetime(2026, 1, 1, tzinfo=UTC)))
    settings = client.app.state.settings
    other_db = replica_db(client)
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # a Tuesday: last week's and November's are both due
    try:
        schedulers = [DigestScheduler(client.app.state.db, settings), DigestScheduler(other_db, settings)]
        queued = await asyncio.gather(*(s.tick(now) for s in schedulers * 2))
        assert sum(queued) == 2
        assert await schedulers[0].tick(now + timedelta(hours=1)) == 0
    finally:
        await other_db.dispose()
    async with client.app.state.db.read() as s:
        assert sorted((await s.execute(select(digests.c.kind, digests.c.period))).all()) == [
            ("monthly", "2026-11"),
            ("weekly", "2026-W48"),
        ]
        assert (
            await s.scalar(
                select(func.count()).select_from(deliveries).where(deliveries.c.type.like("digest.%"))
            )
            == 2
        )
    await Dispatcher(client.app.state.db, settings).drain()
    monthly = next(m for m in sink.messages if m["Subject"].startswith("Your month"))
    assert monthly["Subject"] == "Your month in Tally: 01 Nov - 30 Nov 2026"
    text = monthly.get_body(("plain",)).get_content()
    assert "Groceries: 450.00 EUR" in text
    assert "Groceries: 450.00 EUR of 500.00 EUR" in text
    assert "List-Unsubscribe" in monthly
    assert monthly["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
