"""The consumer against a real PostgreSQL: fan-out of budget alerts in the inbox transaction."""

from uuid import uuid4

from tally_notifier import reactions
from tallykit.contracts import registry


async def test_notifier_alert_fans_out_to_every_member_once(notifier, household, feed, rows) -> None:
    client = await notifier()
    home = household()
    ann, ann_joined = home.join("Ann")
    bob, bob_joined = home.join("Bob")
    alert = home.alert()
    assert await feed(client, home.created(), ann_joined, bob_joined, alert) == [True, True, True, True]
    assert await feed(client, alert) == [False]  # redelivered: no second effect

    found = await rows(client)
    assert sorted(n["user_id"] for n in found["notifications"]) == sorted([ann, bob])
    for n in found["notifications"]:
        assert (n["tenant_id"], n["event_id"], n["read"]) == (home.tenant_id, alert.id, False)
        assert n["type"] == "budget.threshold_reached"
        assert n["title"] == "Groceries budget: 80% used"
        assert n["body"] == "412.50 EUR spent of the 500.00 EUR Groceries budget for June 2025 (80% reached)."
    deliveries = found["deliveries"]
    assert sorted(d["recipient"] for d in deliveries) == sorted([ann, bob])
    assert {d["address"] for d in deliveries} == {m[1] for m in home.members}
    assert {(d["status"], d["attempts"], d["channel"]) for d in deliveries} == {("pending", 0, "email")}
    assert all("The Smiths" in d["text_body"] for d in deliveries)


async def test_notifier_same_alert_without_the_inbox_still_queues_nothing_twice(
    notifier, household, feed, rows
) -> None:
    client = await notifier()
    home = household()
    _, joined = home.join("Ann")
    alert = home.alert(exceeded=True, spent=60000)
    await feed(client, joined, alert)
    payload = registry.payload(alert)
    async with client.app.state.db.transaction() as session:  # as if the inbox row were lost
        await reactions.household_alert(session, alert, payload, client.app.state.settings)
    found = await rows(client)
    assert len(found["notifications"]) == 1
    assert len(found["deliveries"]) == 1
    assert found["notifications"][0]["title"] == "Groceries budget exceeded"
    assert found["deliveries"][0]["subject"] == "Groceries budget exceeded"


async def test_notifier_alert_before_anyone_registered_is_held_then_delivered(
    notifier, household, feed, rows
) -> None:
    client = await notifier()
    home = household()
    alert = home.alert()
    await feed(client, alert)  # budget.events overtook auth.events
    assert await rows(client) == {"notifications": [], "deliveries": []}

    ann, joined = home.join("Ann")
    await feed(client, joined)
    found = await rows(client)
    assert [(n["user_id"], n["event_id"]) for n in found["notifications"]] == [(ann, alert.id)]
    assert [(d["recipient"], d["event_id"]) for d in found["deliveries"]] == [(ann, alert.id)]
    assert "your household" in found["deliveries"][0]["text_body"]  # TenantCreated not seen yet

    _, bob_joined = home.join("Bob")  # a later member is not told about old alerts
    await feed(client, bob_joined)
    assert len((await rows(client))["notifications"]) == 1


async def test_notifier_alert_reaches_only_its_own_tenant(notifier, household, feed, rows) -> None:
    client = await notifier()
    mine, theirs = household(), household(name="Others")
    ann, ann_joined = mine.join("Ann")
    _, eve_joined = theirs.join("Eve")
    await feed(client, ann_joined, eve_joined, mine.alert())
    found = await rows(client)
    assert [n["user_id"] for n in found["notifications"]] == [ann]
    assert [d["recipient"] for d in found["deliveries"]] == [ann]
    assert {d["tenant_id"] for d in found["deliveries"]} == {mine.tenant_id}


async def test_notifier_reregistration_updates_the_address(notifier, household, feed, rows) -> None:
    client = await notifier()
    home = household()
    _, joined = home.join("Ann")
    new_address = {**joined.data, "email": "ann@new.example.org"}
    changed = joined.model_copy(update={"id": uuid4(), "data": new_address})
    await feed(client, joined, changed, home.alert())
    assert [d["address"] for d in (await rows(client))["deliveries"]] == ["ann@new.example.org"]
