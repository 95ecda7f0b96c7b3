"""Recurring transactions and bills as an aggregate, in plain Python (no I/O, no clock: "today" is an
argument).

The stream is the schedule: it holds the schedule (RecurringScheduled, the whole of it each time),
its cancellation, and what happened to each occurrence: skipped, fell due (RecurringTransactionDue,
with the transaction posted for it), reminded (BillDueSoon), paid (BillPaid). Because those are
events of the one stream, whatever the scheduler decides is appended at the version it saw: two
schedulers that both decided the same occurrence cannot both append it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, ClassVar
from uuid import UUID, uuid5

from tally_ledger import due_dates
from tally_ledger.domain import Aggregate, DoesNotExist, RuleViolation
from tallykit.contracts.ledger import (
    BillDueSoon,
    BillPaid,
    RecurringCancelled,
    RecurringOccurrenceSkipped,
    RecurringScheduled,
    RecurringTransactionDue,
    TransactionKind,
)
from tallykit.events import EventPayload

# A payment booked this many days before or after a bill's due date can be the payment of it.
PAYMENT_WINDOW_DAYS = 7
# A scheduler that was down for a long time posts at most this many missed occurrences of one schedule
# per run (the next run goes on), so one unit of work stays small.
MAX_DUE_PER_RUN = 100

SCHEDULE_FIELDS = (
    "name",
    "account_id",
    "kind",
    "amount_minor",
    "currency",
    "category_id",
    "payee",
    "note",
    "cadence",
    "interval",
    "day_of_month",
    "starts_on",
    "ends_on",
    "count",
    "is_bill",
    "auto_post",
    "remind_days_before",
    "tolerance_pct",
)


def occurrence_transaction_id(schedule_id: UUID, due_on: date) -> UUID:
    """The id of the transaction auto-posted for an occurrence: the same occurrence, the same id, so a
    second posting would clash with the first in the event store instead of doubling it."""
    return uuid5(schedule_id, f"occurrence:{due_on.isoformat()}")


def spec_of(event: RecurringScheduled) -> due_dates.Spec:
    return due_dates.Spec(
        cadence=event.cadence,
        starts_on=event.starts_on,
        interval=event.interval,
        day_of_month=event.day_of_month,
        ends_on=event.ends_on,
        count=event.count,
    )


def shift(day: date, days: int) -> date:
    """`day` moved by `days`, held within the calendar (date.min to date.max)."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def within_tolerance(bill_amount: int, paid_amount: int, tolerance_pct: int) -> bool:
    """Whether a payment's amount is close enough to the bill's (integer arithmetic, no rounding)."""
    return abs(paid_amount - bill_amount) * 100 <= bill_amount * tolerance_pct


@dataclass(frozen=True)
class Occurrence:
    """One occurrence as the upcoming list shows it."""

    schedule_id: UUID
    name: str
    due_on: date
    status: str  # upcoming | due | posted | skipped | paid
    amount_minor: int
    currency: str
    account_id: UUID
    kind: TransactionKind
    is_bill: bool
    transaction_id: UUID | None


@dataclass
class Recurring(Aggregate):
    label: ClassVar[str] = "recurring transaction"

    scheduled: RecurringScheduled | None = None
    cancelled: bool = False
    next_due_on: date | None = None
    due: dict[date, UUID | None] = field(default_factory=dict)
    reminded: set[date] = field(default_factory=set)
    skipped: set[date] = field(default_factory=set)
    paid: dict[date, UUID | None] = field(default_factory=dict)

    # --- reading ------------------------------------------------------------------------------------
    @property
    def current(self) -> RecurringScheduled:
        if self.scheduled is None:
            raise DoesNotExist(f"recurring transaction {self.id} does not exist")
        return self.scheduled

    @property
    def spec(self) -> due_dates.Spec:
        return spec_of(self.current)

    @property
    def active(self) -> bool:
        return self.exists and not self.cancelled and self.next_due_on is not None

    def _next_after(self, day: date) -> date | None:
        if day >= date.max:
            return None
        return due_dates.next_on_or_after(self.spec, shift(day, 1), excluding=self.skipped)

    def next_reminder(self) -> date | None:
        """The first occurrence not yet due that still needs its reminder (bills only)."""
        if not self.active or not self.current.is_bill or self.next_due_on is None:
            return None
        handled = self.reminded | self.skipped | set(self.paid)
        return due_dates.next_on_or_after(self.spec, self.next_due_on, excluding=handled)

    def wake_on(self) -> date | None:
        """The first day the scheduler has something to do for this schedule (None: never again)."""
        if not self.active or self.next_due_on is None:
            return None
        reminder = self.next_reminder()
        if reminder is None:
            return self.next_due_on
        return min(self.next_due_on, shift(reminder, -self.current.remind_days_before))

    def status_of(self, day: date) -> str:
        if day in self.skipped:
            return "skipped"
        if day in self.paid:
            return "paid"
        if day in self.due:
            return "posted" if self.due[day] is not None else "due"
        return "upcoming"

    def occurrences_between(self, first: date, last: date) -> list[Occurrence]:
        """The schedule's occurrences in a date range, each with what became of it. A cancelled schedule
        keeps the occurrences that already happened; a changed one shows its current dates."""
        if not self.exists:
            return []
        event = self.current
        days = set(due_dates.between(self.spec, first, last)) | {
            d for d in (set(self.due) | self.skipped | set(self.paid)) if first <= d <= last
        }
        if self.cancelled:
            days = {d for d in days if d in self.due or d in self.paid or d in self.skipped}
        elif self.next_due_on is None:  # done: only what happened
            days = {d for d in days if self.status_of(d) != "upcoming"}
        else:  # occurrences before the schedule's first pending one never fell due: not shown
            days = {d for d in days if d >= self.next_due_on or self.status_of(d) != "upcoming"}
        return [
            Occurrence(
                self.id,
                event.name,
                d,
                self.status_of(d),
                event.amount_minor,
                event.currency,
                event.account_id,
                event.kind,
                event.is_bill,
                self.due.get(d) or self.paid.get(d),
            )
            for d in sorted(days)
        ]

    # --- commands -----------------------------------------------------------------------------------
    @classmethod
    def create(cls, schedule_id: UUID, values: dict[str, Any], *, today: date) -> "Recurring":
        recurring = cls(schedule_id)
        recurring._schedule(values, today=today)
        return recurring

    def change(self, values: dict[str, Any], *, today: date, expected_version: int) -> None:
        """Replace the schedule (the whole of it). What already happened to occurrences stays."""
        self.require_version(expected_version)
        self._require_not_cancelled()
        self._schedule(self.current.model_dump(include=set(SCHEDULE_FIELDS)) | values, today=today)

    def _schedule(self, values: dict[str, Any], *, today: date) -> None:
        """Occurrences before today never fall due: a schedule set up today from last January does not
        post a year of past rent. One that falls today falls due at the scheduler's next run."""
        try:
            spec = due_dates.Spec(
                cadence=values["cadence"],
                starts_on=values["starts_on"],
                interval=values.get("interval", 1),
                day_of_month=values.get("day_of_month"),
                ends_on=values.get("ends_on"),
                count=values.get("count"),
            )
        except due_dates.ScheduleError as exc:
            raise RuleViolation(str(exc)) from exc
        if values.get("auto_post") and values.get("kind") is None:
            raise RuleViolation("an automatically posted schedule needs a kind")
        handled = set(self.due) | self.skipped
        start = max(today, values["starts_on"])
        if self.due:
            start = max(start, shift(max(self.due), 1))
        next_due = due_dates.next_on_or_after(spec, start, excluding=handled)
        event = RecurringScheduled.model_validate({**values, "next_due_on": next_due})
        if self.scheduled is not None and event == self.scheduled:
            return
        self._emit(event)

    def cancel(self, *, expected_version: int | None) -> None:
        self.require_version(expected_version)
        self._require_not_cancelled()
        self._emit(RecurringCancelled())

    def skip(self, due_on: date) -> None:
        """Skip one future occurrence (one that has not fallen due yet)."""
        self.require_exists()
        self._require_not_cancelled()
        if not due_dates.is_occurrence(self.spec, due_on):
            raise RuleViolation(f"{due_on} is not an occurrence of {self.current.name!r}")
        if due_on in self.skipped:
            raise RuleViolation(f"the occurrence of {due_on} is already skipped")
        if due_on in self.due or (self.next_due_on is not None and due_on < self.next_due_on):
            raise RuleViolation(f"the occurrence of {due_on} has already fallen due")
        if self.next_due_on is None:
            raise RuleViolation(f"{self.current.name!r} has no occurrences left")
        self._emit(RecurringOccurrenceSkipped(due_on=due_on))

    def mark_paid(self, due_on: date, *, transaction_id: UUID | None, amount_minor: int) -> None:
        self.require_exists()
        if not self.current.is_bill:
            raise RuleViolation(f"{self.current.name!r} is not a bill")
        if not due_dates.is_occurrence(self.spec, due_on) and due_on not in self.due:
            raise RuleViolation(f"{due_on} is not an occurrence of {self.current.name!r}")
        if due_on in self.paid:
            raise RuleViolation(f"the bill of {due_on} is already paid")
        if due_on in self.skipped:
            raise RuleViolation(f"the occurrence of {due_on} was skipped")
        self._emit(BillPaid(due_on=due_on, transaction_id=transaction_id, amount_minor=amount_minor))

    def payable_occurrence(self, booked_on: date, amount_minor: int, kind: TransactionKind) -> date | None:
        """The unpaid occurrence a transaction (on the bill's account) would pay: same kind, amount within
        the tolerance, booked within the window of the due date; the nearest one when several."""
        if not self.exists or self.cancelled or not self.current.is_bill:
            return None
        event = self.current
        if kind != event.kind or not within_tolerance(event.amount_minor, amount_minor, event.tolerance_pct):
            return None
        window = PAYMENT_WINDOW_DAYS
        candidates = [
            d
            for d in due_dates.between(self.spec, shift(booked_on, -window), shift(booked_on, window))
            if d not in self.paid
            and d not in self.skipped
            and (d in self.due or (self.next_due_on is not None and d >= self.next_due_on))
        ]
        return min(candidates, key=lambda d: (abs((d - booked_on).days), d)) if candidates else None

    def fall_due(self, today: date, post: Callable[[date], UUID | None]) -> list[date]:
        """Every occurrence due by `today` not handled yet falls due, oldest first (at most
        MAX_DUE_PER_RUN); `post` records the transaction of an auto-posted one and returns its id (None
        when it could not be posted: the occurrence is then a reminder only). Returns the days."""
        if not self.active:
            return []
        event, fell = self.current, list[date]()
        while self.next_due_on is not None and self.next_due_on <= today and len(fell) < MAX_DUE_PER_RUN:
            day = self.next_due_on
            transaction_id = post(day) if event.auto_post else None
            self._emit(
                RecurringTransactionDue(
                    name=event.name,
                    due_on=day,
                    account_id=event.account_id,
                    kind=event.kind,
                    amount_minor=event.amount_minor,
                    currency=event.currency,
                    payee=event.payee,
                    transaction_id=transaction_id,
                )
            )
            if transaction_id is not None and event.is_bill:
                self._emit(
                    BillPaid(due_on=day, transaction_id=transaction_id, amount_minor=event.amount_minor)
                )
            fell.append(day)
        return fell

    def remind(self, today: date) -> list[date]:
        """A BillDueSoon for each unpaid bill occurrence from today to `remind_days_before` days ahead
        that has not been reminded of. A reminder whose day passed while nobody ran is not sent late."""
        if not self.active or not self.current.is_bill:
            return []
        event, sent = self.current, list[date]()
        handled = self.reminded | self.skipped | set(self.paid)
        for day in due_dates.between(self.spec, today, shift(today, event.remind_days_before)):
            if day in handled or (self.next_due_on is not None and day < self.next_due_on):
                continue
            self._emit(
                BillDueSoon(
                    name=event.name,
                    due_on=day,
                    days_ahead=(day - today).days,
                    account_id=event.account_id,
                    amount_minor=event.amount_minor,
                    currency=event.currency,
                    payee=event.payee,
                )
            )
            sent.append(day)
        return sent

    def _require_not_cancelled(self) -> None:
        if self.cancelled:
            raise RuleViolation(f"{self.current.name!r} is cancelled")

    def _apply(self, event: EventPayload) -> None:
        if isinstance(event, RecurringScheduled):
            self.scheduled, self.next_due_on = event, event.next_due_on
        elif isinstance(event, RecurringCancelled):
            self.cancelled = True
        elif isinstance(event, RecurringOccurrenceSkipped):
            self.skipped.add(event.due_on)
            if event.due_on == self.next_due_on:
                self.next_due_on = self._next_after(event.due_on)
        elif isinstance(event, RecurringTransactionDue):
            self.due[event.due_on] = event.transaction_id
            self.next_due_on = self._next_after(event.due_on)
        elif isinstance(event, BillDueSoon):
            self.reminded.add(event.due_on)
        elif isinstance(event, BillPaid):
            self.paid[event.due_on] = event.transaction_id
        else:
            raise TypeError(f"a recurring transaction cannot apply {type(event).__name__}")
