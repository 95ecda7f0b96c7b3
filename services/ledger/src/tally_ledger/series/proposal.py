"""A recurring series the ledger found, as an aggregate: what the household was told about it and what it
decided. Plain Python, no I/O.

The stream is the series (its id derived from the household and the series, `series_finding`). It begins
when the series is first told (found: no schedule stands for it, and it has not stopped); then a new price
and a stop are told once each (a stop again only after payments came back and stopped anew). A dismissed
proposal is told nothing more; an accepted one (it became a schedule) still hears of a new price or a
stop — the schedule may want changing or cancelling.
"""

from dataclasses import dataclass
from datetime import date
from typing import ClassVar
from uuid import UUID

from tally_ledger.domain import Aggregate, RuleViolation
from tally_ledger.series.detect import Series
from tallykit.contracts.ledger import (
    RecurringProposalAccepted,
    RecurringProposalDismissed,
    RecurringSeriesFound,
    RecurringSeriesPriceChanged,
    RecurringSeriesStopped,
    SeriesPeriod,
    TransactionKind,
)
from tallykit.events import EventPayload


@dataclass
class SeriesProposal(Aggregate):
    label: ClassVar[str] = "recurring proposal"

    amount_minor: int = 0  # the price last told
    price_on: date | None = None  # since when
    stopped_after: date | None = None  # the last payment before the stop last told
    dismissed: bool = False
    schedule_id: UUID | None = None

    @property
    def open(self) -> bool:
        """Still a proposal: told, neither dismissed nor accepted."""
        return self.exists and not self.dismissed and self.schedule_id is None

    def notice(self, series: Series, *, account_id: UUID, covered: bool) -> None:
        """Tell what is new about the series (`covered`: a schedule of the household stands for it)."""
        common = {"name": series.name, "payee": series.payee, "account_id": account_id,
                  "kind": TransactionKind.income if series.income else TransactionKind.expense,
                  "period": SeriesPeriod(series.period.name), "currency": series.currency}
        if not self.exists:
            if covered or series.stopped:
                return  # nothing to propose
            latest = series.price_changes[-1] if series.price_changes else None
            self._emit(RecurringSeriesFound(
                **common, amount_minor=series.amount_minor, occurrences=series.occurrences,
                first_on=series.first_on, last_on=series.last_on, next_on=series.next_on,
                previous_amount_minor=latest.old_minor if latest else None,
                price_changed_on=latest.on if latest else None))
            return
        if self.dismissed:
            return
        latest = series.price_changes[-1] if series.price_changes else None
        if (latest is not None and latest.new_minor != self.amount_minor
                and (self.price_on is None or latest.on > self.price_on)):
            self._emit(RecurringSeriesPriceChanged(**common, old_amount_minor=latest.old_minor,
                                                   new_amount_minor=latest.new_minor, changed_on=latest.on))
        if series.stopped and (self.stopped_after is None or series.last_on > self.stopped_after):
            self._emit(RecurringSeriesStopped(**common, amount_minor=series.amount_minor,
                                              last_on=series.last_on, missed=series.missed))

    def dismiss(self) -> None:
        self.require_open()
        self._emit(RecurringProposalDismissed())

    def accept(self, schedule_id: UUID) -> None:
        self.require_open()
        self._emit(RecurringProposalAccepted(schedule_id=schedule_id))

    def require_open(self) -> None:
        self.require_exists()
        if self.dismissed:
            raise RuleViolation("the proposal was dismissed")
        if self.schedule_id is not None:
            raise RuleViolation("the proposal was accepted already")

    def _apply(self, event: EventPayload) -> None:
        if isinstance(event, RecurringSeriesFound):
            self.amount_minor, self.price_on = event.amount_minor, event.price_changed_on
        elif isinstance(event, RecurringSeriesPriceChanged):
            self.amount_minor, self.price_on = event.new_amount_minor, event.changed_on
        elif isinstance(event, RecurringSeriesStopped):
            self.stopped_after = event.last_on
        elif isinstance(event, RecurringProposalDismissed):
            self.dismissed = True
        elif isinstance(event, RecurringProposalAccepted):
            self.schedule_id = event.schedule_id
        else:
            raise TypeError(f"a recurring proposal cannot apply {type(event).__name__}")
