"""The mailer: sends the queued `email_deliveries` over SMTP, with retries and backoff.

Each delivery is claimed with `SELECT … FOR UPDATE SKIP LOCKED` in its own transaction and stays
locked while it is sent, so two replicas never send the same row at the same time. Sent → `status =
sent, sent_at`; an SMTP failure keeps it `pending` with `attempts + 1` and `next_attempt_at` pushed
back exponentially (capped); after `mail_max_attempts` failures it is `failed` and left alone.

Honest limit: delivery to the SMTP server is at-least-once, not exactly-once. If the process dies
(or the database connection drops) after the server accepted a message but before the row is marked
sent, the row is still pending and the message is sent once more. Every message of a given alert to
a given person carries the same Message-ID (derived from the event id and the recipient), which lets
mail servers and clients recognise and drop the repeat.

The SMTP password is handed to aiosmtplib and never logged; log lines carry the event and delivery ids.
"""

import asyncio
import contextlib
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

import aiosmtplib
from sqlalchemy import func
from sqlalchemy.engine import RowMapping

from tally_notifier import store
from tally_notifier.domain import DeliveryStatus, backoff_delay_s
from tally_notifier.settings import NotifierSettings
from tallykit.db import Database
from tallykit.logging import bound_context, get_logger
from tallykit.meters import NOTIFICATIONS_SENT

log = get_logger(__name__)


def compose(delivery: RowMapping, mail_from: str) -> EmailMessage:
    """multipart/alternative: the plain-text part first, the HTML part preferred by capable clients."""
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = delivery["address"]
    message["Subject"] = delivery["subject"]
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = delivery["message_id"]
    message["X-Tally-Event-ID"] = str(delivery["event_id"])
    message.set_content(delivery["text_body"])
    message.add_alternative(delivery["html_body"], subtype="html")
    return message


class Mailer:
    def __init__(self, db: Database, settings: NotifierSettings) -> None:
        self.db = db
        self.settings = settings

    async def run(self, stop: asyncio.Event) -> None:
        log.info("mailer_started", smtp_host=self.settings.smtp_host, smtp_port=self.settings.smtp_port)
        while not stop.is_set():
            try:
                await self.drain(stop)
            except Exception:
                log.exception("mailer_failed")  # the database, most likely; try again next round
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.settings.mail_poll_interval_s)

    async def drain(self, stop: asyncio.Event | None = None) -> int:
        """Attempt the due deliveries, up to a batch; returns how many were attempted."""
        attempted = 0
        while attempted < self.settings.mail_batch_size and not (stop and stop.is_set()):
            if not await self.deliver_one():
                break
            attempted += 1
        return attempted

    async def deliver_one(self) -> bool:
        """Claim one due delivery and try to send it. False when nothing is due."""
        async with self.db.transaction() as session:
            delivery = await store.claim_due_delivery(session)
            if delivery is None:
                return False
            attempts = delivery["attempts"] + 1
            with bound_context(
                event_id=str(delivery["event_id"]),
                delivery_id=str(delivery["id"]),
                tenant_id=str(delivery["tenant_id"]),
            ):
                try:
                    await self._send(compose(delivery, self.settings.mail_from))
                except Exception as exc:
                    changes = self._failed(attempts, f"{type(exc).__name__}: {exc}"[:1000])
                else:
                    changes = {"status": DeliveryStatus.sent.value, "sent_at": func.now(), "last_error": None}
                    log.info("email_sent", recipient=str(delivery["recipient"]), attempts=attempts)
                    NOTIFICATIONS_SENT.labels("email").inc()
                await store.update_delivery(session, delivery["id"], attempts=attempts, **changes)
        return True

    def _failed(self, attempts: int, error: str) -> dict[str, Any]:
        if attempts >= self.settings.mail_max_attempts:
            log.error("email_failed_giving_up", attempts=attempts, error=error)
            return {"status": DeliveryStatus.failed.value, "last_error": error}
        delay = backoff_delay_s(attempts, self.settings.mail_backoff_base_s, self.settings.mail_backoff_cap_s)
        log.warning("email_send_failed_will_retry", attempts=attempts, retry_in_s=delay, error=error)
        return {"last_error": error, "next_attempt_at": func.now() + timedelta(seconds=delay)}

    async def _send(self, message: EmailMessage) -> None:
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
