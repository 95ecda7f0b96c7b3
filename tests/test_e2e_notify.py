"""Notifications through the whole stack, only through the gateway: live server-sent events (streamed
through the gateway unbuffered, the token checked there first), the security e-mail of a new device,
preferences, and the public unsubscribe link."""

import email
import email.policy
import json
import queue
import signal
import threading
import time
from typing import Any

import httpx
import pytest

from tallystack.polling import eventually, settled
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

    def next(self, name: str, timeout: float = 60.0) -> tuple[str | None, Any]:
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


def test_notifier_killed_between_send_and_record_sends_the_same_message_once_more(stack: Stack) -> None:
    """kill -9 of the notifier after the SMTP server took a message but before the notifier heard back
    (so before it could record the send). The honest limit (docs/notifications.md): the message goes
    out once more after the restart, as the same message — same Message-ID, same content — so mail
    systems that deduplicate by Message-ID show it once; and never a third time."""
    assert stack.mail is not None
    sink = stack.mail
    address = f"killed.{time.monotonic_ns()}@example.com"
    original = sink.handle_DATA
    killed = threading.Event()

    async def accept_then_kill(server: Any, session: Any, envelope: Any) -> str:
        answer = await original(server, session, envelope)
        if address in envelope.rcpt_tos and not killed.is_set():
            stack.stop_service("notifier", sig=signal.SIGKILL)  # before the notifier reads the 250
            killed.set()
        return answer

    sink.handle_DATA = accept_then_kill  # type: ignore[method-assign]
    try:
        with httpx.Client(base_url=stack.url, timeout=15) as client:
            r = client.post(
                "/api/auth/register", json={"email": address, "password": PASSWORD, "display_name": "Kim"}
            )
            assert r.status_code == 201, r.text
            tenant = r.json()["tenant_id"]
        assert killed.wait(90), "the verification e-mail never reached the SMTP server"
    finally:
        sink.handle_DATA = original  # type: ignore[method-assign]
    stack.start_service("notifier")

    def copies() -> list[Any]:
        return [m for m in list(sink.messages) if address in str(m["To"])]

    eventually(lambda: len(copies()) >= 2, "the unrecorded e-mail sent again after the restart", 90.0)
    # Its delivery is recorded as sent now (the row stays due until then): a third copy would be here.
    settled(stack, [tenant])
    sent = copies()
    assert len(sent) == 2
    assert len({str(m["Message-ID"]) for m in sent}) == 1
    assert len({str(m["Subject"]) for m in sent}) == 1
    bodies = {m.get_body(("plain",)).get_content() for m in sent}
    assert len(bodies) == 1
