"""The dispatcher: sends due `deliveries` — e-mail over SMTP, Web Push, webhooks — with retries.

Each delivery is claimed with `SELECT … FOR UPDATE SKIP LOCKED` in its own transaction and stays locked
while it is sent, so two replicas never send the same row at the same time; the row exists once per
(event, channel, recipient, target) thanks to its unique key, so a redelivered event or a second
replica's consumer never makes a second one. Sent → `status = sent, sent_at`; a transient failure
(connection refused, timeout, SMTP 4xx, HTTP 408/429/5xx) keeps it `pending` with `attempts + 1` and
`next_attempt_at` pushed back exponentially with jitter (capped); a permanent failure (SMTP 5xx,
push subscription gone, webhook disabled), or `mail_max_attempts` failures, makes it `failed` with its
error: the dead-letter record, shown in the delivery log and left alone.

Honest limit: sending is at-least-once towards the SMTP server, the push service and the webhook
receiver. If the process dies (or the database connection drops) after the other side accepted the
message but before the row is marked sent, the lock is released with the row still pending and it is
sent once more. Each repeat is recognisably the same message: e-mail keeps its Message-ID (derived from
event and recipient), a push keeps its `Topic` header and notification `tag` (the delivery id: the push
service and the browser replace rather than add), a webhook keeps its `Tally-Delivery` id for the
receiver to drop. See docs/notifications.md.

Secrets (SMTP password, webhook secrets, VAPID key) are never logged; log lines carry event and
delivery ids.
"""

import asyncio
import contextlib
import json
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import aiosmtplib
import httpx
from pywebpush import WebPusher
from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from tally_notifier import keys, store, tables
from tally_notifier.domain import (
    Channel,
    DeliveryStatus,
    NotificationType,
    address_allowed,
    retry_delay_s,
    summary_message,
    webhook_signature,
)
from tally_notifier.fanout import message_id, push_payload
from tally_notifier.settings import NotifierSettings
from tally_notifier.templates import render_message
from tallykit.db import Database
from tallykit.logging import bound_context, get_logger
from tallykit.meters import NOTIFICATIONS_SENT
from tallykit.periodic import every

log = get_logger(__name__)


class PermanentFailure(Exception):
    """Sending this delivery can never work: record it as failed (dead letter), do not retry."""


def compose(delivery: RowMapping, mail_from: str) -> EmailMessage:
    """multipart/alternative: the plain-text part first, the HTML part preferred by capable clients."""
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = delivery["address"]
    message["Subject"] = delivery["subject"]
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = delivery["message_id"]
    message["X-Tally-Event-ID"] = str(delivery["event_id"])
    unsubscribe = (delivery.get("payload") or {}).get("unsubscribe")
    if unsubscribe:
        # RFC 8058 one-click: mail clients POST "List-Unsubscribe=One-Click" to the URL.
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(delivery["text_body"])
    message.add_alternative(delivery["html_body"], subtype="html")
    return message


async def check_target(url: str, allow_private: bool) -> None:
    """Refuse URLs whose host resolves to a private, loopback or link-local address (unless allowed), so
    a webhook cannot be aimed at the notifier's own network. Checked when sending too, as DNS can change
    (a rebinding between this check and the connection remains possible: see docs)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PermanentFailure("not an http(s) URL")
    try:
        found = await asyncio.get_running_loop().getaddrinfo(parts.hostname, parts.port or 443)
    except (OSError, UnicodeError) as exc:  # UnicodeError: a label too long or empty for IDNA
        raise ConnectionError(f"cannot resolve {parts.hostname}") from exc
    except ValueError as exc:  # a port out of range
        raise PermanentFailure(f"not a usable address: {exc}") from exc
    for *_, sockaddr in found:
        if not address_allowed(str(sockaddr[0]), allow_private):
            raise PermanentFailure(f"{parts.hostname} resolves to a private or reserved address")


class Dispatcher:
    def __init__(self, db: Database, settings: NotifierSettings) -> None:
        self.db = db
        self.settings = settings
        # Set when a delivery due now is queued in this process (`store.add_delivery`): sent at once, not
        # at the next poll; the poll remains for retries that come due and for other replicas' rows.
        self.wakeup = asyncio.Event()
        db.on_commit(store.DELIVERIES_DUE, self.wakeup.set)

    async def run(self, stop: asyncio.Event) -> None:
        log.info("dispatcher_started", smtp_host=self.settings.smtp_host, smtp_port=self.settings.smtp_port)
        await every(self.settings.mail_poll_interval_s, lambda: self.drain(stop), stop,
                    failed="dispatcher_failed", wakeup=self.wakeup)

    async def drain(self, stop: asyncio.Event | None = None) -> int:
        """Attempt the due deliveries, up to a batch; returns how many were attempted."""
        tried: set[UUID] = set()
        while len(tried) < self.settings.mail_batch_size and not (stop and stop.is_set()):
            if not await self.deliver_one(tried):
                break
        return len(tried)

    async def deliver_one(self, tried: set[UUID] | None = None) -> bool:
        """Claim one due delivery (not in `tried`) and try to send it. False when nothing is due."""
        async with self.db.transaction() as session:
            delivery = await store.claim_due_delivery(session, tried or ())
            if delivery is None:
                return False
            if tried is not None:
                tried.add(delivery["id"])
            attempts = delivery["attempts"] + 1
            channel = Channel(delivery["channel"])
            with bound_context(
                event_id=str(delivery["event_id"]),
                delivery_id=str(delivery["id"]),
                tenant_id=str(delivery["tenant_id"]),
                channel=channel.value,
            ):
                changes: dict[str, Any]
                try:
                    extra = await self._send(session, channel, delivery)
                except PermanentFailure as exc:
                    log.error(f"{channel.value}_failed_permanently", error=str(exc)[:300])
                    changes = {"status": DeliveryStatus.failed.value, "last_error": str(exc)[:1000]}
                    await self._after_failure(session, channel, delivery, permanent=True)
                except Exception as exc:
                    changes = self._failed(channel, attempts, f"{type(exc).__name__}: {exc}"[:1000])
                    await self._after_failure(session, channel, delivery, permanent=False)
                else:
                    changes = {
                        "status": DeliveryStatus.sent.value,
                        "sent_at": func.now(),
                        "last_error": None,
                        **extra,
                    }
                    log.info(f"{channel.value}_sent", recipient=str(delivery["recipient"]), attempts=attempts)
                    NOTIFICATIONS_SENT.labels(channel.value).inc()
                await store.update_delivery(session, delivery["id"], attempts=attempts, **changes)
        return True

    def _failed(self, channel: Channel, attempts: int, error: str) -> dict[str, Any]:
        if attempts >= self.settings.mail_max_attempts:
            log.error(f"{channel.value}_failed_giving_up", attempts=attempts, error=error)
            return {"status": DeliveryStatus.failed.value, "last_error": error}
        delay = retry_delay_s(attempts, self.settings.mail_backoff_base_s, self.settings.mail_backoff_cap_s)
        log.warning(
            f"{channel.value}_send_failed_will_retry",
            attempts=attempts,
            retry_in_s=round(delay, 2),
            error=error,
        )
        return {"last_error": error, "next_attempt_at": func.now() + timedelta(seconds=delay)}

    async def _send(self, session: AsyncSession, channel: Channel, delivery: RowMapping) -> dict[str, Any]:
        if channel is Channel.email:
            return await self._email(session, delivery)
        if channel is Channel.push:
            await self._push_delivery(session, delivery)
            return {}
        if channel is Channel.webhook:
            await self._webhook(session, delivery)
            return {}
        raise PermanentFailure(f"unknown channel {channel}")

    # --- e-mail ---------------------------------------------------------------------------------------------

    async def _email(self, session: AsyncSession, delivery: RowMapping) -> dict[str, Any]:
        extra: dict[str, Any] = {}
        if delivery["type"] == NotificationType.summary.value and delivery["subject"] is None:
            extra = await self._summary_email(session, delivery)
            delivery = {**delivery, **extra}  # type: ignore[assignment]
        if not delivery["address"]:
            raise PermanentFailure("the recipient is gone")
        try:
            await self._smtp(compose(delivery, self.settings.mail_from))
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600 and not isinstance(exc, aiosmtplib.SMTPAuthenticationError):
                raise PermanentFailure(f"SMTP {exc.code}: {exc.message}") from exc
            raise
        return extra

    async def _summary_email(self, session: AsyncSession, delivery: RowMapping) -> dict[str, Any]:
        """The rate limit's summary is written when it is sent, with the window's final count."""
        person = await store.recipient(session, delivery["tenant_id"], delivery["recipient"])
        if person is None:
            raise PermanentFailure("the recipient is gone")
        held, counts = await self._held(session, delivery)
        message = summary_message(held, counts, person["locale"])
        household = await store.household_name(session, delivery["tenant_id"]) or "your household"
        email = render_message(
            message,
            display_name=person["display_name"],
            household=household,
            public_url=self.settings.public_url,
            unsubscribe_url=None,
            locale=person["locale"],
        )
        return {
            "address": person["email"],
            "subject": email.subject,
            "text_body": email.text,
            "html_body": email.html,
            "message_id": message_id(delivery["event_id"], delivery["recipient"], self.settings.mail_from),
        }

    async def _held(self, session: AsyncSession, delivery: RowMapping) -> tuple[int, dict[str, int]]:
        window = datetime.fromisoformat(delivery["payload"]["window_start"])
        row = (
            await session.execute(
                select(tables.rate_windows.c.held, tables.rate_windows.c.counts).where(
                    tables.rate_windows.c.tenant_id == delivery["tenant_id"],
                    tables.rate_windows.c.user_id == delivery["recipient"],
                    tables.rate_windows.c.channel == delivery["payload"]["rate_channel"],
                    tables.rate_windows.c.window_start == window,
                )
            )
        ).first()
        if row is None:
            raise PermanentFailure("the summarised notifications are gone")
        return int(row.held), dict(row.counts)

    async def _smtp(self, message: EmailMessage) -> None:
        password = self.settings.smtp_password
        await aiosmtplib.send(
            message,
            hostname=self.settings.smtp_host,
            port=self.settings.smtp_port,
            username=self.settings.smtp_username,
            password=password.get_secret_value() if password else None,
            start_tls=self.settings.smtp_starttls,
            timeout=self.settings.smtp_timeout_s,
        )

    # --- Web Push -------------------------------------------------------------------------------------------

    async def _push_delivery(self, session: AsyncSession, delivery: RowMapping) -> None:
        if delivery["type"] == NotificationType.summary.value:
            held, counts = await self._held(session, delivery)
            person = await store.recipient(session, delivery["tenant_id"], delivery["recipient"])
            locale = person["locale"] if person is not None else None
            payload = push_payload(
                summary_message(held, counts, locale), delivery["id"], self.settings.public_url
            )
            subscriptions = await session.execute(
                select(tables.push_subscriptions).where(
                    tables.push_subscriptions.c.tenant_id == delivery["tenant_id"],
                    tables.push_subscriptions.c.user_id == delivery["recipient"],
                )
            )
            for each in subscriptions.mappings().all():
                with contextlib.suppress(PermanentFailure):  # a gone device does not stop the others
                    await self._push(session, each, payload, delivery["id"])
            return
        subscription = (
            (
                await session.execute(
                    select(tables.push_subscriptions).where(
                        tables.push_subscriptions.c.id == UUID(delivery["target_key"])
                    )
                )
            )
            .mappings()
            .first()
        )
        if subscription is None:
            raise PermanentFailure("the push subscription was removed")
        await self._push(session, subscription, delivery["payload"], delivery["id"])

    async def _push(
        self, session: AsyncSession, subscription: RowMapping, payload: dict[str, Any], delivery_id: UUID
    ) -> None:
        endpoint: str = subscription["endpoint"]
        await check_target(endpoint, self.settings.allow_private_targets)
        the_keys = await keys.load(session, self.settings)
        encoded = WebPusher(
            {"endpoint": endpoint, "keys": {"p256dh": subscription["p256dh"], "auth": subscription["auth"]}}
        ).encode(json.dumps(payload).encode(), "aes128gcm")
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(endpoint))
        vapid_headers = the_keys.vapid.sign(
            {"sub": self.settings.vapid_subject, "aud": origin, "exp": int(time.time()) + 12 * 3600}
        )
        headers = {
            "TTL": str(self.settings.push_ttl_s),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            # The same delivery sent twice replaces itself at the push service (RFC 8030 §5.4).
            "Topic": delivery_id.hex,
            "Urgency": "normal",
            **vapid_headers,
        }
        async with httpx.AsyncClient(timeout=self.settings.push_timeout_s, trust_env=False) as client:
            response = await client.post(endpoint, content=encoded["body"], headers=headers)
        if response.status_code in (404, 410):
            # The browser unsubscribed or the subscription expired: forget it for good.
            await session.execute(
                delete(tables.push_subscriptions).where(tables.push_subscriptions.c.id == subscription["id"])
            )
            log.info("push_subscription_expired_removed", subscription_id=str(subscription["id"]))
            raise PermanentFailure(f"push service answered {response.status_code}: subscription gone")
        if response.status_code in (408, 429) or response.status_code >= 500:
            raise ConnectionError(f"push service answered {response.status_code}")
        if response.status_code >= 400:
            raise PermanentFailure(f"push service answered {response.status_code}")
        await session.execute(
            update(tables.push_subscriptions)
            .where(tables.push_subscriptions.c.id == subscription["id"])
            .values(last_success_at=func.now())
        )

    # --- webhooks -------------------------------------------------------------------------------------------

    async def _webhook(self, session: AsyncSession, delivery: RowMapping) -> None:
        hook = (
            (
                await session.execute(
                    select(tables.webhooks).where(tables.webhooks.c.id == UUID(delivery["target_key"]))
                )
            )
            .mappings()
            .first()
        )
        if hook is None or not hook["enabled"]:
            raise PermanentFailure("the webhook was removed or disabled")
        await check_target(hook["url"], self.settings.allow_private_targets)
        body = json.dumps(delivery["payload"], separators=(",", ":"), sort_keys=True).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Tally-Webhooks/1",
            "Tally-Delivery": str(delivery["id"]),
            "Tally-Event": delivery["type"],
            "Tally-Signature": webhook_signature(hook["secret"], int(time.time()), body),
        }
        async with httpx.AsyncClient(timeout=self.settings.webhook_timeout_s, trust_env=False) as client:
            response = await client.post(hook["url"], content=body, headers=headers, follow_redirects=False)
        if not 200 <= response.status_code < 300:
            raise ConnectionError(f"the receiver answered {response.status_code}")
        await session.execute(
            update(tables.webhooks).where(tables.webhooks.c.id == hook["id"]).values(consecutive_failures=0)
        )

    async def _after_failure(
        self, session: AsyncSession, channel: Channel, delivery: RowMapping, *, permanent: bool
    ) -> None:
        """A webhook that keeps failing is switched off, with the reason, after N failed attempts in a row."""
        if channel is not Channel.webhook or not delivery["target_key"]:
            return
        t = tables.webhooks
        failures = await session.scalar(
            update(t)
            .where(t.c.id == UUID(delivery["target_key"]), t.c.enabled)
            .values(consecutive_failures=t.c.consecutive_failures + 1)
            .returning(t.c.consecutive_failures)
        )
        if failures is not None and failures >= self.settings.webhook_disable_after_failures:
            await session.execute(
                update(t)
                .where(t.c.id == UUID(delivery["target_key"]))
                .values(
                    enabled=False,
                    disabled_reason=f"disabled after {failures} failed deliveries in a row "
                    f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
                )
            )
            log.warning("webhook_disabled", webhook_id=delivery["target_key"], failures=failures)

