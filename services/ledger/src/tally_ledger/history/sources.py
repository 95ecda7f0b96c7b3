"""Every app a household history can come from, and how a file is told to be one of theirs.

Each source is one module of this package with the same small interface (`Source`): adding an app is
one new module and one line in `SOURCES`. A reader is pure: a file on disk in, a `History` out, or a
`HistoryError` naming what is wrong and where; it never writes to the ledger.
"""

from pathlib import Path
from typing import Protocol

from tally_ledger.history import actual, beancount, firefly, generic_csv, gnucash, ynab
from tally_ledger.history.model import History, HistoryError

HEAD_BYTES = 64 * 1024  # what `looks_like` sees of a file


class NotAHistory(HistoryError):
    """No source app claims the file (it may be a bank statement instead)."""


class Source(Protocol):
    SOURCE: str  # what the person calls it: "Actual Budget export"
    APP: str  # a short key, part of the ids written (never change it once released)

    def looks_like(self, head: bytes, filename: str) -> bool:
        """Whether the file (its first HEAD_BYTES and its name) is this app's."""
        ...

    def read(self, file: Path, *, minor_digits: int) -> History:
        """The history in the file, amounts in minor units of a currency with `minor_digits` digits."""
        ...


# In the order asked: the more specific first (Actual takes any zip no one before it claimed).
SOURCES: tuple[Source, ...] = (gnucash, beancount, ynab, firefly, generic_csv, actual)


def source_of(file: Path, filename: str) -> Source:
    """The app whose export the file is; HistoryError when none is."""
    with file.open("rb") as stream:
        head = stream.read(HEAD_BYTES)
    for source in SOURCES:
        if source.looks_like(head, filename):
            return source
    raise NotAHistory("the file is not a history export this version reads; these are: "
                       + ", ".join(s.SOURCE for s in SOURCES))


def read(file: Path, filename: str, *, minor_digits: int) -> History:
    return source_of(file, filename).read(file, minor_digits=minor_digits)
