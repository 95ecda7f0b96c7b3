"""Receipts and documents on a transaction: type checked by content (magic bytes, never the name or the
client's Content-Type), size-limited, stored under a key of ids only (tenant/attachment), described in
the `attachments` table.

Storage is an interface (`Storage`); the local directory is the implementation here. An S3-compatible
one would implement the same three methods; none is included.
"""

import asyncio
import hashlib
import os
import re
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from uuid import UUID, uuid4

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import store, tables
from tallykit.db import Database
from tallykit.errors import Conflict, InvalidInput, NotFound
from tallykit.logging import get_logger

log = get_logger(__name__)

MAX_PER_TRANSACTION = 20
CHUNK = 64 * 1024


def sniff(head: bytes) -> str | None:
    """The content type the bytes are, of those accepted (None: not an accepted type)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


_EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp", "application/pdf": ".pdf"}
_UNSAFE = re.compile(r"[^\w.\- ()]+")


def safe_filename(name: str, content_type: str) -> str:
    """A filename fit for a Content-Disposition header: no path, no control or quote characters, the
    extension of what the file really is."""
    base = unicodedata.normalize("NFC", Path(name.replace("\\", "/")).name)
    stem = _UNSAFE.sub("_", Path(base).stem).strip(" ._")[:100] or "attachment"
    return stem + _EXTENSIONS[content_type]


class Storage(Protocol):
    async def put(self, key: str, content: bytes) -> None: ...

    def stream(self, key: str) -> AsyncIterator[bytes]: ...

    async def delete(self, key: str) -> None: ...


class LocalStorage:
    """Files in a directory; a key is `<tenant id>/<attachment id>` (ids only, so no user text reaches a
    path). Written to a temporary name and renamed, so a reader never sees half a file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        tenant, name = key.split("/")
        UUID(tenant), UUID(name)  # keys are ids only; anything else is a bug, not a path to follow
        return self.root / tenant / name

    async def put(self, key: str, content: bytes) -> None:
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            temporary = path.with_suffix(".part")
            temporary.write_bytes(content)
            os.replace(temporary, path)

        await asyncio.to_thread(write)

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        path = self._path(key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError as exc:
            raise NotFound("the attachment's file is missing") from exc
        try:
            while chunk := await asyncio.to_thread(handle.read, CHUNK):
                yield chunk
        finally:
            handle.close()

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)


@dataclass(frozen=True)
class Attachment:
    id: UUID
    transaction_id: UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime
    created_by: str


def key_of(tenant_id: UUID, attachment_id: UUID) -> str:
    return f"{tenant_id}/{attachment_id}"


_COLUMNS = [tables.attachments.c[name] for name in Attachment.__dataclass_fields__]


async def _live_transaction(session: AsyncSession, tenant_id: UUID, transaction_id: UUID) -> None:
    """Attachments belong to a transaction of the household that is not deleted (a deleted one keeps
    them hidden, so an undo of the deletion brings them back)."""
    if await store.get_transaction(session, tenant_id, transaction_id) is None:
        raise NotFound(f"transaction {transaction_id} does not exist")


async def add(
    db: Database,
    storage: Storage,
    *,
    tenant_id: UUID,
    actor: str,
    transaction_id: UUID,
    filename: str,
    content: bytes,
    max_bytes: int,
) -> Attachment:
    if not content:
        raise InvalidInput("the file is empty")
    if len(content) > max_bytes:
        raise InvalidInput(f"a file of at most {max_bytes // (1024 * 1024)} MiB, please")
    content_type = sniff(content[:16])
    if content_type is None:
        raise InvalidInput("only JPEG, PNG, WebP images and PDF documents can be attached")
    attachment_id = uuid4()
    async with db.transaction() as session:
        await _live_transaction(session, tenant_id, transaction_id)
        a = tables.attachments.c
        count = len(
            (
                await session.execute(
                    select(a.id)
                    .where(a.tenant_id == tenant_id, a.transaction_id == transaction_id)
                    .with_for_update()
                )
            ).all()
        )
        if count >= MAX_PER_TRANSACTION:
            raise Conflict(f"a transaction has at most {MAX_PER_TRANSACTION} attachments")
        # The file first: a crash after it leaves an orphan file, never a row without its file.
        await storage.put(key_of(tenant_id, attachment_id), content)
        await session.execute(
            tables.attachments.insert().values(
                id=attachment_id,
                tenant_id=tenant_id,
                transaction_id=transaction_id,
                filename=safe_filename(filename or "attachment", content_type),
                content_type=content_type,
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
                created_at=datetime.now(UTC),
                created_by=actor,
            )
        )
        found = await _get(session, tenant_id, attachment_id)
    log.info("attachment_added", attachment_id=str(attachment_id), size=len(content))
    return found


async def _get(session: AsyncSession, tenant_id: UUID, attachment_id: UUID) -> Attachment:
    a = tables.attachments.c
    row = (
        await session.execute(select(*_COLUMNS).where(a.tenant_id == tenant_id, a.id == attachment_id))
    ).first()
    if row is None:
        raise NotFound(f"attachment {attachment_id} does not exist")
    attachment = Attachment(*row)
    await _live_transaction(session, tenant_id, attachment.transaction_id)
    return attachment


async def get(db: Database, tenant_id: UUID, attachment_id: UUID) -> Attachment:
    async with db.read() as session:
        return await _get(session, tenant_id, attachment_id)


async def list_for(db: Database, tenant_id: UUID, transaction_id: UUID) -> list[Attachment]:
    async with db.read() as session:
        await _live_transaction(session, tenant_id, transaction_id)
        a = tables.attachments.c
        rows = await session.execute(
            select(*_COLUMNS)
            .where(a.tenant_id == tenant_id, a.transaction_id == transaction_id)
            .order_by(a.created_at, a.id)
        )
        return [Attachment(*row) for row in rows]


async def remove(db: Database, storage: Storage, tenant_id: UUID, attachment_id: UUID) -> None:
    async with db.transaction() as session:
        await _get(session, tenant_id, attachment_id)
        await session.execute(
            delete(tables.attachments).where(
                tables.attachments.c.tenant_id == tenant_id, tables.attachments.c.id == attachment_id
            )
        )
    await storage.delete(key_of(tenant_id, attachment_id))


async def keys_of_households(session: AsyncSession, tenant_ids: list[UUID]) -> list[str]:
    a = tables.attachments.c
    rows = await session.execute(select(a.tenant_id, a.id).where(a.tenant_id.in_(tenant_ids)))
    return [key_of(t, i) for t, i in rows]
