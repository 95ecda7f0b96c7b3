"""Mail auth asks for (email verification, password reset) reaches a real SMTP server (aiosmtpd) once."""

from datetime import UTC, datetime
from uuid import uuid4

from tally_notifier.dispatcher import Dispatcher
from tallykit.contracts import registry
from tallykit.contracts.auth import EmailVerificationRequested, PasswordResetRequested
from tallykit.events import Envelope


def account_mail(kind: type[EmailVerificationRequested | PasswordResetRequested], path: str) -> Envelope:
    user_id = uuid4()
    payload = kind(
        user_id=user_id,
        email="ada@example.org",
        display_name="Ada",
        path=path,
        expires_at=datetime(2030, 1, 2, 3, 4, tzinfo=UTC),
    )
    return registry.envelope(
        payload, tenant_id=uuid4(), stream_id=user_id, stream_version=1, actor=str(user_id)
    )


async def test_notifier_sends_the_verification_link_once(notifier, feed, rows, smtp_sink) -> None:
    port, sink = smtp_sink
    client = await notifier(smtp_port=port, public_url="https://tally.example.org/")
    path = "/#/verify?token=" + "s3cr3t-" * 6
    link = "https://tally.example.org" + path
    event = account_mail(EmailVerificationRequested, path)
    # Before auth's UserRegistered is seen (the address comes with the event), and delivered twice.
    assert await feed(client, event, event) == [True, False]
    dispatcher = Dispatcher(client.app.state.db, client.app.state.settings)
    assert await dispatcher.drain() == 1
    assert await dispatcher.drain() == 0

    [message] = sink.messages
    assert message["To"] == "ada@example.org"
    assert message["Subject"] == "Confirm your email address for Tally"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert link in text
    assert f'href="{link}"' in html
    assert "02 January 2030 at 03:04 UTC" in text
    found = await rows(client)
    assert found["notifications"] == []  # mail only: nothing for the in-app feed
    assert [d["status"] for d in found["deliveries"]] == ["sent"]


async def test_notifier_sends_the_password_reset_link(notifier, feed, smtp_sink) -> None:
    port, sink = smtp_sink
    client = await notifier(smtp_port=port, public_url="https://tally.example.org")
    link = "https://tally.example.org/#/reset?token=" + "r" * 43
    await feed(client, account_mail(PasswordResetRequested, link.removeprefix("https://tally.example.org")))
    assert await Dispatcher(client.app.state.db, client.app.state.settings).drain() == 1
    [message] = sink.messages
    assert message["Subject"] == "Reset your Tally password"
    assert link in message.get_body(("plain",)).get_content()
    assert "ignore this email" in message.get_body(("html",)).get_content()
