"""A local SMTP sink: accepts every message and keeps it where a person (or a test) can read it."""

import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


@dataclass
class MailSink:
    """aiosmtpd handler: every message is kept in memory and, if a folder is given, as an .eml file."""

    folder: Path | None = None
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / f"{len(list(self.folder.glob('*.eml'))) + 1:05d}.eml").write_bytes(raw)
        return "250 Message accepted for delivery"


def start_smtp_sink(port: int, folder: Path | None = None) -> tuple[Controller, MailSink]:
    sink = MailSink(folder)
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, sink
