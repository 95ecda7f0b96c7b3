"""Webhooks against a real local receiver that verifies the signature: delivery, retries with backoff,
the delivery log, disabling after repeated failure, refusing private addresses, and isolation."""

import asyncio
import json
import time

from tally_notifier.dispatcher import Dispatcher
from tally_notifier.domain import verify_webhook_signature

from .receiver import receiver


async def test_signed_delivery_retried_until_it_succeeds_and_logged(
    notifier, household, feed, token_minter
) -> None:
    client = await notifier(
        allow_private_targets=True, mail_backoff_base_s=0.2, public_url="https://t.example"
    )
    home = household()
    ann, a = home.join("Ann")
    await feed(client, a)
    headers = token_minter.headers(ann, home.tenant_id)
    with receiver() as hook_server:
        hook_server.statuses = [503, 500]
        created = await client.post(
            "/webhooks",
            headers=headers,
            json={
                "url": hook_server.url("/tally"),
                "event_types": ["budget.exceeded", "bill.due_soon"],
                "description": "home automation",
            },
        )
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]
        hook_id = created.json()["id"]
        assert secret.startswith("whsec_")
        assert "secret" not in (await client.get(f"/webhooks/{hook_id}", headers=headers)).json()

        exceeded = home.alert(exceeded=True, spent=52000)
        await feed(client, home.alert(), exceeded, exceeded)  # 80 % is not one of its types
        dispatcher = Dispatcher(client.app.state.db, client.app.state.settings)
        async with asyncio.timeout(30):  # two backoffs (jittered) on a busy machine: a generous bound
            while len(hook_server.requests) < 3:
                await dispatcher.drain()
                await asyncio.sleep(0.1)
        assert [r.path for r in hook_server.requests] == ["/tally"] * 3
        ids = {r.headers["tally-delivery"] for r in hook_server.requests}
        assert len(ids) == 1  # the same delivery, three attempts
        for request in hook_server.requests:
            assert verify_webhook_signature(
                secret, request.headers["tally-signature"], request.body, int(time.time())
            )
            assert not verify_webhook_signature(
                "whsec_wrong", request.headers["tally-signature"], request.body, int(time.time())
            )
        body = json.loads(hook_server.requests[-1].body)
        assert body["type"] == "budget.exceeded"
        assert body["event_id"] == str(exceeded.id)
        assert body["data"]["spent_minor"] == 52000
        assert body["link"] == "https://t.example/#/budgets?month=2025-06"

    log = (await client.get(f"/webhooks/{hook_id}/deliveries", headers=headers)).json()["items"]
    assert [(d["status"], d["attempts"], d["event_id"]) for d in log] == [("sent", 3, str(exceeded.id))]
    hook = (await client.get(f"/webhooks/{hook_id}", headers=headers)).json()
    assert (hook["enabled"], hook["consecutive_failures"]) == (True, 0)


async def test_a_failing_webhook_is_disabled_after_n_failures(
    notifier, household, feed, token_minter
) -> None:
    client = await notifier(
        allow_private_targets=True,
        mail_backoff_base_s=0.05,
        mail_backoff_cap_s=0.05,
        webhook_disable_after_failures=3,
    )
    home = household()
    ann, a = home.join("Ann")
    await feed(client, a)
    headers = token_minter.headers(ann, home.tenant_id)
    with receiver() as hook_server:
        hook_server.statuses = [500] * 10
        hook_id = (
            await client.post(
                "/webhooks",
                headers=headers,
                json={"url": hook_server.url("/x"), "event_types": ["budget.exceeded"]},
            )
        ).json()["id"]
        await feed(client, home.alert(exceeded=True), home.alert(exceeded=True, category="Fuel"))
        dispatcher = Dispatcher(client.app.state.db, client.app.state.settings)

        async def given_up() -> bool:
            """Disabled, and every delivery to it recorded as failed: nothing more will be sent."""
            hook = (await client.get(f"/webhooks/{hook_id}", headers=headers)).json()
            log = (await client.get(f"/webhooks/{hook_id}/deliveries", headers=headers)).json()["items"]
            return not hook["enabled"] and bool(log) and all(d["status"] == "failed" for d in log)

        async with asyncio.timeout(30):
            while not await given_up():
                await dispatcher.drain()
                await asyncio.sleep(0.06)
        assert len(hook_server.requests) == 3
    hook = (await client.get(f"/webhooks/{hook_id}", headers=headers)).json()
    assert hook["enabled"] is False
    assert hook["disabled_reason"].startswith("disabled after 3 failed deliveries in a row")
    log = (await client.get(f"/webhooks/{hook_id}/deliveries", headers=headers)).json()["items"]
    assert {d["status"] for d in log} == {"failed"}  # the dead-letter record, with the reason
    assert any("removed or disabled" in d["last_error"] for d in log)
    # Switched on again by hand: counting starts afresh.
    again = await client.patch(f"/webhooks/{hook_id}", headers=headers, json={"enabled": True})
    assert (
        again.json()["enabled"],
        again.json()["consecutive_failures"],
        again.json()["disabled_reason"],
    ) == (True, 0, None)


async def test_webhooks_refuse_private_addresses_bad_input_viewers_and_other_households(
    notifier, household, feed, token_minter
) -> None:
    client = await notifier()
    home, other = household(), household()
    ann, a = home.join("Ann")
    eve, e = other.join("Eve")
    await feed(client, a, e)
    headers = token_minter.headers(ann, home.tenant_id)
    for url in (
        "http://127.0.0.1:8005/",
        "https://localhost/x",
        "https://169.254.169.254/latest",
        "https://[::1]/",
        "https://10.0.0.8/hook",
        "file:///etc/passwd",
        "not a url",
    ):
        refused = await client.post(
            "/webhooks", headers=headers, json={"url": url, "event_types": ["budget.exceeded"]}
        )
        assert refused.status_code == 422, url
    for body in (
        {"url": "https://93.184.216.34/", "event_types": []},
        {"url": "https://93.184.216.34/", "event_types": ["summary"]},
        {"url": "https://93.184.216.34/", "event_types": ["nope"]},
        {"url": "https://93.184.216.34/", "event_types": ["budget.exceeded"], "secret": "mine"},
    ):
        assert (await client.post("/webhooks", headers=headers, json=body)).status_code == 422, body
    viewer = token_minter.headers(ann, home.tenant_id, role="viewer")
    assert (
        await client.post(
            "/webhooks",
            headers=viewer,
            json={"url": "https://93.184.216.34/", "event_types": ["budget.exceeded"]},
        )
    ).status_code == 403
    assert (await client.get("/webhooks", headers=headers)).json() == []

    ok = await client.post(
        "/webhooks",
        headers=headers,
        json={"url": "https://93.184.216.34/hook", "event_types": ["budget.exceeded"]},
    )
    assert ok.status_code == 201, ok.text
    hook_id = ok.json()["id"]
    eve_h = token_minter.headers(eve, other.tenant_id)
    assert (await client.get("/webhooks", headers=eve_h)).json() == []
    for method, path in (
        ("GET", f"/webhooks/{hook_id}"),
        ("GET", f"/webhooks/{hook_id}/deliveries"),
        ("DELETE", f"/webhooks/{hook_id}"),
    ):
        assert (await client.request(method, path, headers=eve_h)).status_code == 404
    assert (
        await client.patch(f"/webhooks/{hook_id}", headers=eve_h, json={"enabled": False})
    ).status_code == 404
    assert (await client.delete(f"/webhooks/{hook_id}", headers=headers)).status_code == 204
    assert (await client.get(f"/webhooks/{hook_id}", headers=headers)).status_code == 404
