"""Web Push against a real local HTTP endpoint standing in for the push service: the test holds the
browser's keys, decrypts the RFC 8291 (aes128gcm) body and checks the VAPID signature."""

import base64
import json
import os
from uuid import UUID

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from tally_notifier.dispatcher import Dispatcher
from tally_notifier.tables import push_subscriptions

from .receiver import receiver


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Browser:
    """What a browser keeps for a push subscription: a P-256 key pair and a 16-byte auth secret."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)

    def keys(self) -> dict[str, str]:
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"p256dh": b64(public), "auth": b64(self.auth)}

    def decrypt(self, body: bytes) -> dict[str, object]:
        plain = http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm")
        decoded: dict[str, object] = json.loads(plain)
        return decoded


async def test_push_is_encrypted_for_the_browser_and_signed_with_vapid(
    notifier, household, feed, token_minter
) -> None:
    client = await notifier(allow_private_targets=True, public_url="https://tally.example.org")
    home = household()
    ann, a = home.join("Ann")
    await feed(client, a)
    headers = token_minter.headers(ann, home.tenant_id)
    browser = Browser()
    with receiver() as push_service:
        key = (await client.get("/push/key", headers=headers)).json()["public_key"]
        assert len(unb64(key)) == 65  # an uncompressed P-256 point
        created = await client.post(
            "/push/subscriptions",
            headers=headers,
            json={
                "endpoint": push_service.url("/wpush/v2/abc"),
                "keys": browser.keys(),
                "expirationTime": None,
            },
        )
        assert created.status_code == 201, created.text
        assert (await client.get("/push/subscriptions", headers=headers)).json()[0][
            "endpoint_host"
        ] == "127.0.0.1"

        alert = home.alert(exceeded=True, spent=52000)
        await feed(client, alert, alert)
        dispatcher = Dispatcher(client.app.state.db, client.app.state.settings)
        assert await dispatcher.drain() == 2  # the e-mail and the push
        assert await dispatcher.drain() == 0

        [request] = push_service.requests
        assert request.path == "/wpush/v2/abc"
        assert request.headers["content-encoding"] == "aes128gcm"
        assert int(request.headers["ttl"]) > 0
        assert len(request.headers["topic"]) == 32
        shown = browser.decrypt(request.body)
        assert shown["title"] == "Groceries budget exceeded"
        assert (
            shown["body"]
            == "520.00 EUR spent of the 500.00 EUR Groceries budget for June 2025, 20.00 EUR over."
        )
        assert shown["url"] == "https://tally.example.org/#/budgets?month=2025-06"
        # tag (the browser replaces a shown notification with the same tag) and Topic (the push service
        # replaces an undelivered message with the same topic) are both the delivery id.
        assert UUID(str(shown["tag"])).hex == request.headers["topic"]

        scheme, _, params = request.headers["authorization"].partition(" ")
        assert scheme == "vapid"
        fields = dict(p.split("=", 1) for p in params.split(","))
        assert fields["k"] == key
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(fields["k"]))
        claims = jwt.decode(fields["t"], public, algorithms=["ES256"], audience=push_service.url(""))
        assert claims["sub"].startswith("mailto:")


async def test_expired_subscription_is_removed_on_410(notifier, household, feed, token_minter) -> None:
    client = await notifier(allow_private_targets=True)
    home = household()
    ann, a = home.join("Ann")
    await feed(client, a)
    headers = token_minter.headers(ann, home.tenant_id)
    with receiver() as push_service:
        push_service.statuses = [410]
        await client.post(
            "/push/subscriptions",
            headers=headers,
            json={"endpoint": push_service.url("/gone"), "keys": Browser().keys()},
        )
        await feed(client, home.alert())
        dispatcher = Dispatcher(client.app.state.db, client.app.state.settings)
        await dispatcher.drain()
        assert len(push_service.requests) == 1
    async with client.app.state.db.read() as s:
        assert (await s.execute(select(push_subscriptions))).all() == []
    assert (await client.get("/push/subscriptions", headers=headers)).json() == []


async def test_push_subscriptions_are_validated_and_scoped(notifier, household, feed, token_minter) -> None:
    client = await notifier()  # private targets not allowed: the default
    home, other = household(), household()
    ann, a = home.join("Ann")
    eve, e = other.join("Eve")
    await feed(client, a, e)
    headers = token_minter.headers(ann, home.tenant_id)
    keys = Browser().keys()
    for endpoint in (
        "http://127.0.0.1:9/x",
        "https://127.0.0.1/x",
        "https://10.0.0.1/x",
        "ftp://push.example/x",
    ):
        refused = await client.post(
            "/push/subscriptions", headers=headers, json={"endpoint": endpoint, "keys": keys}
        )
        assert refused.status_code == 422, endpoint
    bad_keys = await client.post(
        "/push/subscriptions",
        headers=headers,
        json={"endpoint": "https://push.example.org/x", "keys": {"p256dh": "x", "auth": "y"}},
    )
    assert bad_keys.status_code == 422
    not_a_point = await client.post(
        "/push/subscriptions",
        headers=headers,
        json={"endpoint": "https://push.example.org/x", "keys": {"p256dh": "B" * 87, "auth": "A" * 22}},
    )
    assert not_a_point.status_code == 422
    short_secret = await client.post(
        "/push/subscriptions",
        headers=headers,
        json={"endpoint": "https://push.example.org/x", "keys": {**keys, "auth": "A" * 20}},
    )
    assert short_secret.status_code == 422

    allowed = await notifier(allow_private_targets=True)
    await feed(allowed, a, e)
    created = await allowed.post(
        "/push/subscriptions", headers=headers, json={"endpoint": "http://127.0.0.1:9/x", "keys": keys}
    )
    sub_id = created.json()["id"]
    eve_h = token_minter.headers(eve, other.tenant_id)
    assert (await allowed.get("/push/subscriptions", headers=eve_h)).json() == []
    assert (await allowed.delete(f"/push/subscriptions/{sub_id}", headers=eve_h)).status_code == 404
    assert (await allowed.delete(f"/push/subscriptions/{sub_id}", headers=headers)).status_code == 204
