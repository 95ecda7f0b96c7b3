"""Budgets from household histories imported from other apps: plain rules, no database.

A history budgets a category month by month; a Tally budget is an amount from a period on, until the
next version. So the months become the versions of a monthly budget: one where the first month starts
and one wherever the amount or rollover changes from the month before. A month budgeted nothing after
amounts is a version of 0: the month reads as the other app showed it (nothing budgeted, any spending
over budget), never as the amount before or some smallest amount; and when it is the last month, the
budget stays at nothing from then on, as any Tally budget keeps its last amount, until the person sets
one. The months run up to the last month the history budgeted anything in (the ledger sends no months
after it), so a history exported before its current month was budgeted keeps its last amounts.

What the person set by hand wins: no month from their budget's first own version on is imported, and
an import never writes a version in place of one that is there; undoing an import takes out only the
versions it wrote that nobody has set by hand since.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from tally_budget.domain import AmountVersion


@dataclass(frozen=True)
class ImportedMonth:
    month: date  # its first day
    amount_minor: int
    rollover: bool
    import_id: UUID  # the history import (the ledger's migration) that brought it


@dataclass(frozen=True)
class Wanted:
    version: AmountVersion
    import_id: UUID


def versions_of(months: Iterable[ImportedMonth], before: date | None = None) -> dict[date, Wanted]:
    """The versions the months make, of the months before `before` (the person's first own version)."""
    found: dict[date, Wanted] = {}
    last: AmountVersion | None = None
    for m in sorted(months, key=lambda m: m.month):
        if before is not None and m.month >= before:
            break
        if last is None and m.amount_minor == 0:
            continue  # nothing budgeted yet
        if last is None or (last.amount_minor, last.rollover) != (m.amount_minor, m.rollover):
            last = AmountVersion(m.month, m.amount_minor, m.rollover)
            found[m.month] = Wanted(last, m.import_id)
    return found


@dataclass(frozen=True)
class Changes:
    add: tuple[Wanted, ...]
    remove: tuple[date, ...]

    def __bool__(self) -> bool:
        return bool(self.add or self.remove)


def changes(
    wanted: Mapping[date, Wanted],
    imported: Mapping[date, AmountVersion],
    taken: Iterable[date],
    *,
    removing: bool,
) -> Changes:
    """What to write so that the budget shows the months. `imported`: its versions an import wrote and
    nobody changed since; `taken`: the dates of all its versions. An import only adds where no version
    is (each version has its own month's amount, so the months it adds read right beside those there);
    taking months out also removes the imported versions they no longer make."""
    remove: tuple[date, ...] = ()
    if removing:
        remove = tuple(sorted(d for d, v in imported.items() if d not in wanted or wanted[d].version != v))
    occupied = set(taken) - set(remove)
    return Changes(tuple(w for d, w in sorted(wanted.items()) if d not in occupied), remove)
