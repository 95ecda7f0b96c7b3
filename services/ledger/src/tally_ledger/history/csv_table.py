"""A CSV export read as a header and rows, for the readers of apps that export their history as CSV
(`firefly.py`, `generic_csv.py`): the encoding told from the bytes (UTF-8 with or without BOM, UTF-16,
else Windows-1252 or Latin-1), the delimiter from the header line, quoted cells across lines kept whole,
and every row numbered by the line it starts on, so that a reader can name it."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tally_ledger.history.model import HistoryError
from tally_ledger.importers.values import detect_encoding

DELIMITERS = ",;\t"
MAX_CELL = 128 * 1024  # csv's own default: a longer cell is no export's, and is refused


@dataclass(frozen=True)
class Header:
    names: tuple[str, ...]  # as written, stripped
    delimiter: str

    @property
    def keys(self) -> tuple[str, ...]:
        """The names in lower case, for matching."""
        return tuple(name.lower() for name in self.names)


def header_of(head: bytes) -> Header | None:
    """The header of a CSV from its first bytes (its first line that is not blank); None when the bytes
    are no text."""
    text = head.decode(detect_encoding(head), errors="replace").removeprefix("\ufeff")
    if "\x00" in text:
        return None
    line = next((line for line in text.splitlines() if line.strip()), "")
    return _header(line) if line else None


def _header(line: str) -> Header:
    """The header line read with the delimiter that splits it into the most columns."""
    best = Header((), ",")
    for delimiter in DELIMITERS:
        try:
            cells = next(csv.reader([line], delimiter=delimiter), [])
        except csv.Error:
            continue
        if len(cells) > len(best.names):
            best = Header(tuple(cell.strip() for cell in cells), delimiter)
    return best


@dataclass(frozen=True)
class Table:
    header: Header
    rows: list[tuple[int, list[str]]]  # (the line the row starts on, its cells), blank lines left out
    encoding: str

    def column(self, *names: str) -> int | None:
        """The index of the first of these header names (in lower case) the file has."""
        keys = self.header.keys
        for name in names:
            if name in keys:
                return keys.index(name)
        return None


def read(file: Path, *, delimiter: str | None = None) -> Table:
    """The whole table; HistoryError naming the line when it cannot be read."""
    with file.open("rb") as stream:
        head = stream.read(64 * 1024)
    encoding = detect_encoding(head)
    try:
        return _read(file, encoding, delimiter)
    except UnicodeDecodeError as exc:
        if not encoding.startswith("utf-8"):
            raise HistoryError(f"is not {encoding} text ({exc.reason})", "file") from exc
    # Text that is UTF-8 in its first 64 KiB and not further on was written by Windows.
    return _read(file, "windows-1252", delimiter)


def _read(file: Path, encoding: str, delimiter: str | None) -> Table:
    with file.open(encoding=encoding, newline="") as text:
        return _table(text, encoding, delimiter)


def _table(text: io.TextIOBase, encoding: str, delimiter: str | None) -> Table:
    lines = _Lines(text)
    first = ""
    while not first.strip():
        first = next(lines, "")
        if not first:
            raise HistoryError("the file is empty", "file")
    first = first.removeprefix("\ufeff").rstrip("\r\n")
    header = _header(first)
    if delimiter is not None and delimiter != header.delimiter:
        names = next(csv.reader([first], delimiter=delimiter), [])
        header = Header(tuple(name.strip() for name in names), delimiter)
    rows: list[tuple[int, list[str]]] = []
    reader = csv.reader(lines, delimiter=header.delimiter, strict=False)
    start = lines.number + 1
    try:
        for cells in reader:
            if any(cell.strip() for cell in cells):
                rows.append((start, cells))
            start = lines.number + 1
    except csv.Error as exc:
        raise HistoryError(f"cannot be read as CSV ({exc})", f"line {start}") from exc
    return Table(header, rows, encoding)


class _Lines(Iterator[str]):
    """The file's lines, counted, each at most MAX_CELL characters (a line without end is refused)."""

    def __init__(self, text: io.TextIOBase) -> None:
        self.text = text
        self.number = 0

    def __next__(self) -> str:
        line = self.text.readline(MAX_CELL + 1)
        if not line:
            raise StopIteration
        self.number += 1
        if len(line) > MAX_CELL and not line.endswith("\n"):
            raise HistoryError(f"is longer than {MAX_CELL // 1024} KiB: no export writes such lines",
                               f"line {self.number}")
        return line
