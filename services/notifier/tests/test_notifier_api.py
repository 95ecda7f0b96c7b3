"""The in-app feed over HTTP: listing, marking read, tenant isolation, bad input."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest


async def _home_with_alerts(client, household, feed):
    home = household()
    ann, ann_joined = home.join("Ann")
    bob, bob_joined = home.join("Bob")
    older, newer = home.alert(category="Fuel"), home.alert(category="Groceries", exceeded=True, spent=51000)
    older = older.model_copy(update={"occurred_at": datetime.now(UTC) - timedelta(hours=1)})
    await feed(client, ann_joined, bob_joined, older, newer)
    return home, ann, bob


async def test_notifier_lists_newest_first_and_marks_read(notifier, household, feed, token_minter) -> None:
    client = await notifier()
    home, ann, _ = await _home_with_alerts(client, household, feed)
    headers = token_minter.headers(ann, home.tenant_id)

    listed = await client.get("/notifications", headers=headers)
    assert listed.status_code == 200
    body = listed.json()
    assert body["unread"] == 2
    assert [n["title"] for n in body["items"]] == ["Groceries budget exceeded", "Fuel budget: 80% used"]
    assert [n["type"] for n in body["items"]] == ["budget.exceeded", "budget.threshold_reached"]
    assert set(body["items"][0]) == {"id", "type", "title", "body", "created_at", "read", "link"}
    assert body["items"][0]["read"] is False
    assert body["items"][0]["body"] == (
        "510.00 EUR spent of the 500.00 EUR Groceries budget for June 2025, 10.00 EUR over."
    )

    first = body["items"][0]["id"]
    for _ in range(2):  # marking twice is fine
        assert (await client.post(f"/notifications/{first}/read", headers=headers)).status_code == 204
    after = (await client.get("/notifications", headers=headers)).json()
    assert after["unread"] == 1
    assert [n["read"] for n in after["items"]] == [True, False]

    limited = (await client.get("/notifications?limit=1", headers=headers)).json()
    assert [n["id"] for n in limited["items"]] == [first]
    assert limited["unread"] == 1


async def test_notifier_feed_is_per_person_and_per_tenant(notifier, household, feed, token_minter) -> None:
    client = await notifier()
    home, ann, bob = await _home_with_alerts(client, household, feed)
    ann_headers = token_minter.headers(ann, home.tenant_id)
    anns = (await client.get("/notifications", headers=ann_headers)).json()["items"]

    # Bob (same household) has his own copies; he cannot mark Ann's.
    bob_headers = token_minter.headers(bob, home.tenant_id, role="viewer")
    bobs = (await client.get("/notifications", headers=bob_headers)).json()
    assert bobs["unread"] == 2
    assert {n["id"] for n in bobs["items"]}.isdisjoint({n["id"] for n in anns})
    response = await client.post(f"/notifications/{anns[0]['id']}/read", headers=bob_headers)
    assert response.status_code == 404
    response = await client.post(f"/notifications/{bobs['items'][0]['id']}/read", headers=bob_headers)
    assert response.status_code == 204

    # Another tenant, even with Ann's user id in the token, sees nothing and finds nothing.
    for intruder in (token_minter.headers(uuid4(), uuid4()), token_minter.headers(ann, uuid4())):
        assert (await client.get("/notifications", headers=intruder)).json() == {"items": [], "unread": 0}
        response = await client.post(f"/notifications/{anns[0]['id']}/read", headers=intruder)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/notifications", headers=ann_headers)).json()["unread"] == 2


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/notifications?limit=0", 422),
        ("GET", "/notifications?limit=201", 422),
        ("GET", "/notifications?limit=many", 422),
        ("POST", "/notifications/not-a-uuid/read", 422),
        ("POST", f"/notifications/{uuid4()}/read", 404),
        ("GET", "/notifications/whatever", 404),
    ],
)
async def test_notifier_bad_input_gets_a_problem_and_changes_nothing(
    notifier, household, feed, token_minter, method, path, status
) -> None:
    client = await notifier()
    home, ann, _ = await _home_with_alerts(client, household, feed)
    headers = token_minter.headers(ann, home.tenant_id)
    response = await client.request(method, path, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status
    assert (await client.get("/notifications", headers=headers)).json()["unread"] == 2


async def test_notifier_feed_needs_a_valid_token(notifier) -> None:
    client = await notifier()
    for headers in ({}, {"Authorization": "Bearer nonsense"}):
        response = await client.get("/notifications", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
    response = await client.post(f"/notifications/{uuid4()}/read")
    assert response.status_code == 401
