"""Zips that hold a history export, opened with suspicion: what every reader of a zipped export checks
before it reads a byte of it (Actual's, YNAB's).

- the zip must be one (a truncated file has no directory at its end);
- a few members only, and at most `max_bytes` once inflated, as the headers declare it;
- no member named outside the archive (absolute, `..`, a drive), no link, no encryption, and no member
  that claims to inflate at an implausible ratio;
- while inflating, what comes out is counted: a member is stopped as soon as it gives more than it
  declared or than the caller allows.
"""

import stat
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from tally_ledger.history.model import HistoryError

MAX_RATIO = 400  # text and SQLite files deflate well, but not a thousandfold
RATIO_FROM = 4 * 1024 * 1024  # below this a member is too small to be a bomb
_CHUNK = 1024 * 1024


def open_zip(file: Path) -> zipfile.ZipFile:
    """The zip, or HistoryError at "zip" when the file is not one (or is cut short)."""
    try:
        return zipfile.ZipFile(file)
    except zipfile.BadZipFile as exc:
        raise HistoryError("the file is not a zip, or it is truncated (no zip directory at its end)",
                           "zip") from exc


def checked(archive: zipfile.ZipFile, *, max_members: int, max_bytes: int,
            usual: str) -> list[zipfile.ZipInfo]:
    """The zip's members once each is checked and their declared total is within `max_bytes`; `usual`
    says what the app's export holds ("an Actual export holds 2") for the message of a zip of too many."""
    infos = archive.infolist()
    if len(infos) > max_members:
        raise HistoryError(f"the zip holds {len(infos)} files; {usual}", "zip")
    declared = 0
    for info in infos:
        check_member(info)
        declared += info.file_size
    if declared > max_bytes:
        raise HistoryError(f"the zip would inflate to {declared} bytes, more than the "
                           f"{max_bytes // 2**20} MiB allowed", "zip")
    return infos


def check_member(info: zipfile.ZipInfo) -> None:
    name = info.filename
    where = f"zip member {name!r}"
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or "\\" in name or "\x00" in name or ".." in parts or \
            (len(name) > 1 and name[1] == ":"):
        raise HistoryError("a path that leaves the archive (absolute, .. or a drive); refused", where)
    mode = info.external_attr >> 16
    if info.create_system == 3 and mode and stat.S_ISLNK(mode):
        raise HistoryError("a symbolic link; refused", where)
    if info.flag_bits & 0x1:
        raise HistoryError("encrypted; export the budget again without a password", where)
    if info.file_size >= RATIO_FROM and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise HistoryError(f"inflates {info.file_size // max(info.compress_size, 1)}-fold "
                           f"({info.compress_size} → {info.file_size} bytes): a compression bomb; refused",
                           where)


def inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, out: BinaryIO, limit: int) -> None:
    """Copy a member into `out`, stopping as soon as more comes out than it declared or than `limit`."""
    where = f"zip member {info.filename!r}"
    written = 0
    try:
        with archive.open(info) as member:
            while chunk := member.read(_CHUNK):
                written += len(chunk)
                if written > limit:
                    raise HistoryError(f"inflates past {limit} bytes: a compression bomb or too large",
                                       where)
                if written > info.file_size:
                    raise HistoryError("inflates to more than it declares; refused", where)
                out.write(chunk)
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, zlib.error) as exc:
        raise HistoryError(f"cannot be inflated, the zip is damaged or truncated ({exc})", where) from exc
    except NotImplementedError as exc:
        raise HistoryError(f"uses a compression this reader does not know ({exc})", where) from exc
    except RuntimeError as exc:  # zipfile says "encrypted" or "unsupported" this way
        raise HistoryError(f"cannot be read ({exc})", where) from exc
