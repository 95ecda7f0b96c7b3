"""Open a GnuCash book and save it again as SQLite and as XML, with GnuCash's own engine (Debian's
python3-gnucash 4.13, under the system Python), the way GnuCash's File → Save As does: a new session
begun on the target, the book swapped into it, marked as changed, saved (XML gzip-compressed, GnuCash's
default). Called by make_gnucash.py.

    /usr/bin/python3 gnucash_save_as.py SOURCE.gnucash TARGET-SQLITE.gnucash TARGET-XML.gnucash
"""

import sys
from pathlib import Path

from gnucash import Session, SessionOpenMode


def save_as(old: Session, target: str) -> None:
    new = Session()  # begun without loading, as GnuCash does: loading would store an empty book first
    new.begin(target, SessionOpenMode.SESSION_NEW_OVERWRITE)
    new.swap_data(old)
    # A session saves only a changed book, and the bindings have no qof_book_mark_session_dirty: an edit
    # undone marks it.
    root = new.get_book().get_root_account()
    description = root.GetDescription()
    for text in ("changed", description):
        root.BeginEdit()
        root.SetDescription(text)
        root.CommitEdit()
    new.save()
    new.swap_data(old)
    new.end()


def main() -> None:
    source, sqlite, xml = (Path(arg).resolve() for arg in sys.argv[1:4])
    old = Session(f"sqlite3://{source}", SessionOpenMode.SESSION_READ_ONLY)
    save_as(old, f"sqlite3://{sqlite}")
    save_as(old, f"xml://{xml}")
    old.end()


if __name__ == "__main__":
    main()
