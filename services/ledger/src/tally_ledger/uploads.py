"""The one way a file reaches the ledger: a multipart form with one file (a field named `file`) and a few
text fields. The size is checked before the body is read (Content-Length) and again on what arrived;
the file goes to disk in chunks, never whole into memory, and is deleted when the request is done."""

import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from tallykit.errors import InvalidInput

_CHUNK = 1024 * 1024
_FORM_OVERHEAD = 64 * 1024  # boundaries and text fields around the file


@dataclass(frozen=True)
class Upload:
    filename: str
    path: Path  # the file on disk (gone once the request is done)
    size: int
    fields: dict[str, str]  # the text fields asked for that were sent, stripped

    def read_bytes(self) -> bytes:
        """The whole file, for the formats that are read in memory (statements within their limit)."""
        return self.path.read_bytes()


def _too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"the file is larger than {limit // 2**20} MiB")


@asynccontextmanager
async def received(request: Request, limit: int, fields: tuple[str, ...] = (),
                   default_name: str = "upload") -> AsyncIterator[Upload]:
    """The request's file on disk within `limit` bytes (413 above it, 415 when not a multipart form,
    422 without a file or with an empty one)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit + _FORM_OVERHEAD:
        raise _too_large(limit)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise HTTPException(415, "upload the file as multipart/form-data, in a field named file")
    with tempfile.TemporaryDirectory(prefix="tally-upload-") as folder:
        path = Path(folder) / "file"
        async with request.form(max_files=1, max_fields=len(fields) + 1) as form:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise InvalidInput("the form has no file (a field named file)")
            size = await run_in_threadpool(_copy, upload, path, limit)
            values = {name: value.strip() for name in fields if isinstance(value := form.get(name), str)}
            filename = os.path.basename(upload.filename or "") or default_name
        if size > limit:
            raise _too_large(limit)
        if size == 0 or _blank(path):
            raise InvalidInput("the file is empty")
        yield Upload(filename=filename, path=path, size=size, fields=values)


def _copy(upload: UploadFile, path: Path, limit: int) -> int:
    """Copy the spooled upload to `path`, stopping one chunk past `limit`; the bytes copied."""
    upload.file.seek(0)
    size = 0
    with path.open("wb") as out:
        while size <= limit and (chunk := upload.file.read(_CHUNK)):
            out.write(chunk)
            size += len(chunk)
    return size


def _blank(path: Path) -> bool:
    """Only white space (a file is checked at its start: a statement of blanks is small)."""
    with path.open("rb") as file:
        head = file.read(_CHUNK)
        return not head.strip() and not file.read(1)



