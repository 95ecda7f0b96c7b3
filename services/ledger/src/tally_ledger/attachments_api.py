"""Routes of attachments: add a receipt or document to a transaction, list, download, delete."""

from typing import Annotated
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict

from tally_ledger import attachments
from tally_ledger.attachments import LocalStorage, Storage
from tally_ledger.settings import LedgerSettings
from tallykit.app import db_of, settings_of
from tallykit.errors import InvalidInput
from tallykit.tokens import CurrentPrincipal

router = APIRouter()


class AttachmentPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: UUID
    transaction_id: UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    created_by: str


class AttachmentsPublic(BaseModel):
    items: list[AttachmentPublic]




def storage_of(request: Request) -> Storage:
    """The app's attachment storage (the local directory of the settings unless a test set another)."""
    storage: Storage | None = getattr(request.app.state, "attachment_storage", None)
    if storage is None:
        storage = LocalStorage(settings_of(request, LedgerSettings).attachments_dir)
        request.app.state.attachment_storage = storage
    return storage


@router.post("/attachments", status_code=201, response_model=AttachmentPublic)
async def add_attachment(
    principal: CurrentPrincipal,
    request: Request,
    transaction_id: Annotated[UUID, Form()],
    file: Annotated[UploadFile, File()],
) -> AttachmentPublic:
    """Attach a JPEG, PNG or WebP image or a PDF (checked by its content) to a transaction."""
    principal.require_write()
    limit = settings_of(request, LedgerSettings).attachment_max_bytes
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise InvalidInput(f"a file of at most {limit // (1024 * 1024)} MiB, please")
    found = await attachments.add(
        db_of(request),
        storage_of(request),
        tenant_id=principal.tenant_id,
        actor=principal.actor,
        transaction_id=transaction_id,
        filename=file.filename or "",
        content=content,
        max_bytes=limit,
    )
    return AttachmentPublic.model_validate(found)


@router.get("/transactions/{transaction_id}/attachments", response_model=AttachmentsPublic)
async def list_attachments(
    transaction_id: UUID, principal: CurrentPrincipal, request: Request
) -> AttachmentsPublic:
    found = await attachments.list_for(db_of(request), principal.tenant_id, transaction_id)
    return AttachmentsPublic(items=[AttachmentPublic.model_validate(a) for a in found])


@router.get(
    "/attachments/{attachment_id}",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}, "image/webp": {}}}
    },
)
async def download_attachment(
    attachment_id: UUID, principal: CurrentPrincipal, request: Request, inline: bool = False
) -> StreamingResponse:
    """The file, streamed with its type; `inline=true` to show it in the browser rather than save it."""
    found = await attachments.get(db_of(request), principal.tenant_id, attachment_id)
    disposition = "inline" if inline else "attachment"
    # The plain name is ASCII only; the exact one goes in filename* (RFC 6266 / 5987).
    ascii_name = found.filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return StreamingResponse(
        storage_of(request).stream(attachments.key_of(principal.tenant_id, attachment_id)),
        media_type=found.content_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{ascii_name}"; '
            f"filename*=UTF-8''{quote(found.filename)}",
            "Content-Length": str(found.size),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private",
        },
    )


@router.delete("/attachments/{attachment_id}", status_code=204)
async def delete_attachment(attachment_id: UUID, principal: CurrentPrincipal, request: Request) -> None:
    principal.require_write()
    await attachments.remove(db_of(request), storage_of(request), principal.tenant_id, attachment_id)
