"""The transaction search: its filters, and the short query language a person types, in plain Python.

    groceries amount>20 after:2026-01-01 tag:trip

Words (or "quoted phrases") must all appear in the payee, the note or the category's name. Filters:

- `amount>20`, `amount>=20`, `amount<100.50`, `amount<=5`, `amount=12.34` (or `amount:12.34`): the
  amount in the account's currency units (a decimal point or comma)
- `after:2026-01-01`: booked on or after that day (`after:2026-01`: from that month on)
- `before:2026-02-01`: booked before that day (`before:2026-02`: before that month)
- `on:2026-01-15`, `on:2026-01`: booked on that day, in that month
- `tag:trip`; `category:groceries` (`cat:`), `payee:"corner shop"`, `account:checking`: by name, any case
- `type:expense` (`income`, `transfer`), `status:cleared` (`uncleared`, `reconciled`)

Anything else with a colon is an error naming the unknown filter, so typos do not silently match nothing.
"""

import base64
import binascii
import re
import shlex
from dataclasses import dataclass, fields, replace
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TypeVar
from uuid import UUID

from tallykit.contracts.ledger import ClearedState, EntryKind


class QueryError(ValueError):
    """A query the language does not understand; the message says where."""


AMOUNT_OPS = (">=", "<=", ">", "<", "=")
E = TypeVar("E", EntryKind, ClearedState)


@dataclass(frozen=True)
class Filters:
    """All given filters hold at once (several values of the same filter: any of them)."""

    words: tuple[str, ...] = ()
    after: date | None = None  # on or after
    before: date | None = None  # strictly before
    amounts: tuple[tuple[str, Decimal], ...] = ()  # (operator, amount in major units)
    amounts_minor: tuple[tuple[str, int], ...] = ()  # (operator, amount in minor units)
    account_ids: tuple[UUID, ...] = ()
    account_names: tuple[str, ...] = ()
    category_ids: tuple[UUID, ...] = ()
    category_names: tuple[str, ...] = ()
    payees: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    kinds: tuple[EntryKind, ...] = ()
    statuses: tuple[ClearedState, ...] = ()

    def __and__(self, other: "Filters") -> "Filters":
        """Both sets of filters at once: lists join, date bounds take the narrower."""
        merged = {f.name: getattr(self, f.name) + getattr(other, f.name)
                  for f in fields(self) if isinstance(getattr(self, f.name), tuple)}
        after = max((d for d in (self.after, other.after) if d), default=None)
        before = min((d for d in (self.before, other.before) if d), default=None)
        return replace(self, after=after, before=before, **merged)


_AMOUNT = re.compile(r"^amount(>=|<=|>|<|=|:)(\d+(?:[.,]\d+)?)$", re.IGNORECASE)
_KEYS = {
    "after": "after", "before": "before", "on": "on", "tag": "tags", "category": "category_names",
    "cat": "category_names", "payee": "payees", "account": "account_names", "type": "kinds",
    "kind": "kinds", "status": "statuses", "is": "statuses",
}


def parse(query: str) -> Filters:
    """Parse the query language into filters; raises QueryError naming what it cannot read."""
    try:
        tokens = shlex.split(query)
    except ValueError as exc:
        raise QueryError(f"cannot read the query: {exc}") from exc
    filters = Filters()
    for token in tokens:
        filters = filters & _parse_token(token)
    return filters


def _parse_token(token: str) -> Filters:
    if amount := _AMOUNT.match(token):
        op = "=" if amount[1] == ":" else amount[1]
        try:
            number = Decimal(amount[2].replace(",", "."))
        except InvalidOperation as exc:  # pragma: no cover - the pattern only lets numbers through
            raise QueryError(f"{token!r}: not an amount") from exc
        return Filters(amounts=((op, number),))
    if token.lower().startswith("amount") and token[6:7] in ("<", ">", "=", ":"):
        raise QueryError(f"{token!r}: write an amount as amount>20, amount<=12.50 or amount=3")
    key, sep, value = token.partition(":")
    return _parse_filter(token, key, sep, value)


def _parse_filter(token: str, key: str, sep: str, value: str) -> Filters:
    if not sep or not key.isalpha():
        return Filters(words=(token,))
    field = _KEYS.get(key.lower())
    if field is None:
        raise QueryError(f"unknown filter {key + ':'!r}; known: amount, {', '.join(k + ':' for k in _KEYS)}")
    if not value:
        raise QueryError(f"{token!r}: the filter needs a value")
    if field in ("after", "before", "on"):
        first, following = _day_or_month(value, token)
        if field == "after":
            return Filters(after=first)
        if field == "before":
            return Filters(before=first)
        return Filters(after=first, before=following)
    if field == "kinds":
        return Filters(kinds=(_choice(EntryKind, value, token),))
    if field == "statuses":
        return Filters(statuses=(_choice(ClearedState, value, token),))
    if field == "tags":
        return Filters(tags=(value.lower(),))
    if field == "payees":
        return Filters(payees=(value,))
    if field == "account_names":
        return Filters(account_names=(value,))
    return Filters(category_names=(value,))


def _choice(enum: type[E], value: str, token: str) -> E:
    try:
        return enum(value.lower())
    except ValueError:
        raise QueryError(f"{token!r}: choose one of {', '.join(e.value for e in enum)}") from None


def _day_or_month(value: str, token: str) -> tuple[date, date]:
    """A day (YYYY-MM-DD) or a month (YYYY-MM): its first day and the day after it ends."""
    try:
        if len(value) == 7:
            first = datetime.strptime(value, "%Y-%m").date()
            following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
            return first, following
        day = date.fromisoformat(value)
    except ValueError:
        raise QueryError(f"{token!r}: write a date as YYYY-MM-DD or a month as YYYY-MM") from None
    return day, day + timedelta(days=1)


# --- keyset cursors: the sort key of the last row of a page -------------------------------------------

@dataclass(frozen=True)
class Cursor:
    booked_on: date
    recorded_at: datetime
    id: UUID

    def encode(self) -> str:
        raw = f"{self.booked_on.isoformat()}|{self.recorded_at.isoformat()}|{self.id}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "Cursor":
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
            booked_on, recorded_at, row_id = raw.split("|")
            cursor = cls(date.fromisoformat(booked_on), datetime.fromisoformat(recorded_at), UUID(row_id))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise QueryError("the cursor is not one this service gave out") from None
        if cursor.recorded_at.tzinfo is None:
            raise QueryError("the cursor is not one this service gave out")
        return cursor
