"""Notifications through the whole stack, only through the gateway: live server-sent events (streamed
through the gateway unbuffered, the token checked there first), the security e-mail of a new device,
preferences, and the public unsubscribe link."""

import email
import email.policy
import json
import queue
import threading
import time
from typing import Any

import httpx
import pytest

from tallystack.polling import eventually
from tallystack.stack import Stack

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 "
    "Mobile Safari/604.1"
)


def sign_in(client: httpx.Client, address: str, user_agent: str | None = None) -> dict[str, str]:
    headers = {"User-Agent": user_agent} if user_agent else {}
    r = client.post("/api/auth/login", json={"email": address, "password": PASSWORD}, headers=headers)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


class Stream:
    """Reads an SSE response in a thread: events arrive on `events` as (name, id, data) as they come."""

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.events: queue.Queue[tuple[str, str | None, Any]] = queue.Queue()
        self.status: int | None = None
        self.content_type = ""
        self._client = httpx.Client(timeout=httpx.Timeout(10, read=None))
        self._thread = threading.Thread(target=self._read, args=(url, headers), daemon=True)
        self._thread.start()

    def _read(self, url: str, headers: dict[str, str]) -> None:
        try:
            with self._client.stream(
                "GET", url, headers={"Accept": "text/event-stream", **headers}
            ) as response:
                self.status, self.content_type = (
                    response.status_code,
                    response.headers.get("content-type", ""),
                )
                name, event_id, data = "message", None, []
                for line in response.iter_lines():
                    if line == "":
                        if data:
                            self.events.put((name, event_id, json.loads("\n".join(data))))
                        name, event_id, data = "message", None, []
                    elif line.startswith("event: "):
                        name = line[7:]
                    elif line.startswith("id: "):
                        event_id = line[4:]
                    elif line.startswith("data: "):
                        data.append(line[6:])
        except httpx.HTTPError:
            pass  # closed by the test

    def next(self, name: str, timeout: float = 45.0) -> tuple[str | None, Any]:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                got, event_id, data = self.events.get(timeout=left)
            except queue.Empty:
                break
            if got == name:
                return event_id, data
        raise AssertionError(f"no {name} event within {timeout} s")

    def close(self) -> None:
        self._client.close()


def test_live_notification_over_sse_through_the_gateway(stack: Stack) -> None:
    address = "sse.ann@example.com"
    with httpx.Client(base_url=stack.url, timeout=15) as client:
        r = client.post(
            "/api/auth/register", json={"email": address, "password": PASSWORD, "display_name": "Ann"}
        )
        assert r.status_code == 201, r.text
        auth = sign_in(client, address)  # the first device: learned, not reported

        # The gateway checks the token before anything reaches the notifier.
        assert client.get("/api/notifier/stream", headers={"Accept": "text/event-stream"}).status_code == 401
        bad = client.get(
            "/api/notifier/stream", headers={"Accept": "text/event-stream", "Authorization": "Bearer nope"}
        )
        assert bad.status_code == 401

        stream = Stream(f"{stack.url}/api/notifier/stream", auth)
        try:
            _, first = stream.next("unread")
            assert stream.status == 200
            assert stream.content_type.startswith("text/event-stream")
            assert first == {"unread": 0}
            started = time.monotonic()
            sign_in(client, address, user_agent=PHONE)  # a new device: a security notification
            event_id, shown = stream.next("notification")
            latency = time.monotonic() - started
            print(f"\nsign-in → notification on the open stream: {latency:.2f} s")
            assert shown["title"] == "New sign-in to your Tally account"
            assert shown["type"] == "security.new_sign_in"
            assert shown["read"] is False
            assert stream.next("unread")[1] == {"unread": 1}

            # Marking it read in another tab updates this one.
            assert (
                client.post(f"/api/notifier/notifications/{shown['id']}/read", headers=auth).status_code
                == 204
            )
            assert stream.next("unread")[1] == {"unread": 0}
        finally:
            stream.close()

        # A reconnecting browser sends Last-Event-ID and gets what came after it.
        resumed = Stream(
            f"{stack.url}/api/notifier/stream", {**auth, "Last-Event-ID": str(int(event_id or 1) - 1)}
        )
        try:
            assert resumed.next("notification")[1]["id"] == shown["id"]
        finally:
            resumed.close()

        def security_mail() -> Any:
            for path in sorted(stack.mail_dir.glob("*.eml")):
                message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
                if message["To"] == address and message["Subject"] == "New sign-in to your Tally account":
                    return message
            return None

        mail = eventually(security_mail, "the new-device e-mail")
        assert "List-Unsubscribe" not in mail  # security mail cannot be switched off
        assert f"{stack.url}/#/security" in mail.get_body(("plain",)).get_content()

        prefs = client.get("/api/notifier/preferences", headers=auth)
        assert prefs.status_code == 200
        changed = client.patch(
            "/api/notifier/preferences",
            headers=auth,
            json={"quiet_hours": {"start": "22:00", "end": "07:00"}},
        )
        assert changed.status_code == 200
        assert changed.json()["quiet_hours"] == {
            "start": "22:00",
            "end": "07:00",
        }

        # The unsubscribe link is public (no token), and a forged one changes nothing.
        page = client.get("/api/notifier/unsubscribe", params={"token": "forged.token"})
        assert page.status_code == 200
        assert "Unsubscribe" in page.text
        forged = client.post("/api/notifier/unsubscribe", data={"token": "forged.token"})
        assert forged.status_code == 422
        assert forged.headers["content-type"] == "application/problem+json"
