"""Preferences over HTTP (defaults, changes, validation, isolation), digest-only, and the one-click
unsubscribe link of e-mails."""

from urllib.parse import parse_qs, urlsplit

import pytest


async def _home(client, household, feed):  # type: ignore[no-untyped-def]
    home = household()
    ann, a = home.join("Ann")
    bob, b = home.join("Bob")
    await feed(client, home.created(), a, b)
    return home, ann, bob


async def test_defaults_then_changes_are_kept_per_person(
    notifier, household, feed, rows, token_minter
) -> None:
    client = await notifier()
    home, ann, bob = await _home(client, household, feed)
    ann_h, bob_h = token_minter.headers(ann, home.tenant_id), token_minter.headers(bob, home.tenant_id)
    prefs = (await client.get("/preferences", headers=ann_h)).json()
    by_type = {t["type"]: t for t in prefs["types"]}
    assert by_type["budget.exceeded"]["channels"] == {
        "email": True,
        "push": True,
        "in_app": True,
        "webhook": True,
    }
    assert by_type["spending.unusual"]["channels"]["email"] is False
    assert by_type["security.new_sign_in"]["locked"] == ["email"]
    assert (prefs["quiet_hours"], prefs["digest_only"], prefs["time_zone"]) == (None, False, "UTC")

    changed = await client.patch(
        "/preferences",
        headers=ann_h,
        json={
            "channels": {"budget.threshold_reached": {"email": False, "in_app": False}},
            "quiet_hours": {"start": "22:00", "end": "07:00"},
        },
    )
    assert changed.status_code == 200, changed.text
    after = {t["type"]: t for t in changed.json()["types"]}
    assert after["budget.threshold_reached"]["channels"]["email"] is False
    assert changed.json()["quiet_hours"] == {"start": "22:00", "end": "07:00"}
    # Bob's are untouched.
    assert {t["type"]: t for t in (await client.get("/preferences", headers=bob_h)).json()["types"]}[
        "budget.threshold_reached"
    ]["channels"]["email"] is True

    await feed(client, home.alert())
    found = await rows(client)
    assert [n["user_id"] for n in found["notifications"]] == [bob]
    assert [d["recipient"] for d in found["deliveries"]] == [bob]

    cleared = await client.patch("/preferences", headers=ann_h, json={"clear_quiet_hours": True})
    assert cleared.json()["quiet_hours"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"channels": {"security.new_sign_in": {"email": False}}},  # locked
        {"channels": {"no.such.type": {"email": False}}},
        {"channels": {"budget.exceeded": {"carrier_pigeon": True}}},
        {"channels": {"summary": {"email": False}}},  # not configurable
        {"quiet_hours": {"start": "22:00", "end": "22:00"}},
        {"quiet_hours": {"start": "25:00", "end": "07:00"}},
        {"quiet_hours": {"start": "22:00"}},
        {"quiet_hours": {"start": "22:00", "end": "07:00"}, "clear_quiet_hours": True},
        {"digest_only": "sometimes"},
        {"tenant_id": "00000000-0000-0000-0000-000000000000"},
    ],
)
async def test_bad_preferences_are_refused_and_change_nothing(
    notifier, household, feed, token_minter, body
) -> None:  # type: ignore[no-untyped-def]
    client = await notifier()
    home, ann, _ = await _home(client, household, feed)
    headers = token_minter.headers(ann, home.tenant_id)
    before = (await client.get("/preferences", headers=headers)).json()
    refused = await client.patch("/preferences", headers=headers, json=body)
    assert refused.status_code in (400, 422), refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await client.get("/preferences", headers=headers)).json() == before


async def test_viewer_may_set_own_preferences_and_nobody_needs_more_than_a_token(
    notifier, household, feed, token_minter
) -> None:
    client = await notifier()
    home, ann, _ = await _home(client, household, feed)
    viewer = token_minter.headers(ann, home.tenant_id, role="viewer")
    assert (await client.patch("/preferences", headers=viewer, json={"digest_only": True})).status_code == 200
    assert (await client.get("/preferences")).status_code == 401


async def test_digest_only_keeps_email_and_push_for_the_digest_but_not_security(
    notifier, household, feed, rows, token_minter
) -> None:
    from uuid import uuid4

    from tallykit.contracts.auth import PasswordChanged

    client = await notifier()
    home, ann, _ = await _home(client, household, feed)
    await client.patch(
        "/preferences", headers=token_minter.headers(ann, home.tenant_id), json={"digest_only": True}
    )
    await feed(
        client,
        home.alert(),
        home.event(PasswordChanged(user_id=ann)),
        home.event(PasswordChanged(user_id=uuid4())),
    )
    found = await rows(client)
    mine = [d for d in found["deliveries"] if d["recipient"] == ann]
    assert [d["type"] for d in mine] == ["security.password_changed"]
    assert len([n for n in found["notifications"] if n["user_id"] == ann]) == 2  # the feed has both


async def test_one_click_unsubscribe_switches_off_that_type_only(
    notifier, household, feed, rows, token_minter
) -> None:
    client = await notifier(public_url="https://tally.example.org")
    home, ann, bob = await _home(client, household, feed)
    await feed(client, home.alert())
    mail = next(d for d in (await rows(client))["deliveries"] if d["recipient"] == ann)
    link = mail["payload"]["unsubscribe"]
    assert link in mail["text_body"]
    assert link.replace("&", "&amp;") in mail["html_body"]
    path = urlsplit(link)
    assert path.path == "/api/notifier/unsubscribe"
    token = parse_qs(path.query)["token"][0]

    page = await client.get("/unsubscribe", params={"token": token})  # a link scanner: nothing changes
    assert page.status_code == 200
    assert 'method="post"' in page.text
    headers = token_minter.headers(ann, home.tenant_id)

    def email_on(prefs, kind):  # type: ignore[no-untyped-def]
        return {t["type"]: t for t in prefs["types"]}[kind]["channels"]["email"]

    assert email_on((await client.get("/preferences", headers=headers)).json(), "budget.threshold_reached")

    # RFC 8058: the mail client posts List-Unsubscribe=One-Click to the URL.
    done = await client.post("/unsubscribe", params={"token": token}, data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert "Unsubscribed" in done.text
    prefs = (await client.get("/preferences", headers=headers)).json()
    assert not email_on(prefs, "budget.threshold_reached")
    assert email_on(prefs, "budget.exceeded")
    assert email_on(
        (await client.get("/preferences", headers=token_minter.headers(bob, home.tenant_id))).json(),
        "budget.threshold_reached",
    )

    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    assert (await client.post("/unsubscribe", data={"token": forged})).status_code == 422
    assert (await client.post("/unsubscribe")).status_code == 422


async def test_a_person_is_written_to_as_they_said_from_the_event_that_makes_them_a_recipient(
    notifier, household, feed, rows, token_minter
) -> None:  # type: ignore[no-untyped-def]
    """Issue #16: the events that make someone a recipient say how to write to them (the first event of
    a thing sets all of it): sign-up's UserRegistered their time zone as well as their language, and
    MemberJoined both, for a household that may be the only one the notifier knows them in: the one
    auth founds for a person who left their last household (whose recipient row went with it)."""
    from uuid import uuid4

    from tallykit.contracts.auth import MemberJoined, MemberLeft, TenantCreated, UserRegistered

    client = await notifier()
    ada, email = uuid4(), f"ada-{uuid4().hex[:8]}@example.org"
    said = {"locale": "de-DE", "time_zone": "Asia/Tokyo"}

    async def sign_up_events_then_alert(home, first: bool) -> None:  # type: ignore[no-untyped-def]
        created = TenantCreated(
            name=home.name, owner_user_id=ada, base_currency="EUR", time_zone="Asia/Tokyo"
        )
        joined = MemberJoined(user_id=ada, email=email, display_name="Ada", role="owner", **said)
        registered = UserRegistered(user_id=ada, email=email, display_name="Ada", **said)
        events = [home.event(registered, ada)] if first else []
        await feed(client, *events, home.event(created, home.tenant_id), home.event(joined, home.tenant_id))
        prefs = (await client.get("/preferences", headers=token_minter.headers(ada, home.tenant_id))).json()
        assert prefs["time_zone"] == "Asia/Tokyo"
        alert = home.alert()
        await feed(client, alert)
        (title,) = [n["title"] for n in (await rows(client))["notifications"] if n["event_id"] == alert.id]
        assert title == "Budget „Groceries“: 80 % verbraucht"  # in her language

    first = household(name="Adas Haushalt")
    await sign_up_events_then_alert(first, first=True)
    # She leaves her only household (her recipient row there goes), and auth founds her a new one.
    await feed(client, first.event(MemberLeft(user_id=ada), first.tenant_id))
    await sign_up_events_then_alert(household(name="Adas neuer Haushalt"), first=False)
