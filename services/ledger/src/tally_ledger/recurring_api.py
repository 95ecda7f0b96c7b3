"""Routes of recurring transactions and bills: schedules, the upcoming list, skip, paid, cancel."""

from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from fastapi import APIRouter, Request

from tally_ledger import due_dates, recurring_commands, store
from tally_ledger.repository import Context
from tally_ledger.schemas import (
    BillPayment,
    OccurrencePublic,
    OccurrenceSkip,
    OccurrencesPublic,
    RecurringCreate,
    RecurringListPublic,
    RecurringPublic,
    RecurringUpdate,
    VersionSeen,
)
from tally_ledger.settings import LedgerSettings
from tallykit.app import db_of, settings_of
from tallykit.errors import NotFound
from tallykit.tokens import CurrentPrincipal, Principal

router = APIRouter()




def _writer(principal: Principal) -> Context:
    principal.require_write()
    return Context.of(principal)


def _today(request: Request) -> date:
    return due_dates.today_in(datetime.now(UTC), settings_of(request, LedgerSettings).scheduler_timezone)


@router.post("/recurring", status_code=201, response_model=RecurringPublic)
async def create_recurring(
    body: RecurringCreate, principal: CurrentPrincipal, request: Request
) -> RecurringPublic:
    """Set up a recurring transaction or bill. Occurrences before today never fall due."""
    row = await recurring_commands.create(
        db_of(request), settings_of(request, LedgerSettings), _writer(principal), body.model_dump(),
        today=_today(request),
    )
    return RecurringPublic.of(row)


@router.get("/recurring", response_model=RecurringListPublic)
async def list_recurring(
    principal: CurrentPrincipal, request: Request, include_cancelled: bool = False
) -> RecurringListPublic:
    async with db_of(request).read() as session:
        rows = await store.list_recurring(session, principal.tenant_id, include_cancelled=include_cancelled)
    return RecurringListPublic(items=[RecurringPublic.of(r) for r in rows])


@router.get("/recurring/upcoming", response_model=OccurrencesPublic)
async def upcoming(
    principal: CurrentPrincipal, request: Request, from_date: date | None = None, to_date: date | None = None
) -> OccurrencesPublic:
    """Occurrences of every schedule from `from_date` (today) to `to_date` (60 days on), with their status:
    upcoming, due (reminder only), posted, paid or skipped."""
    first = from_date or _today(request)
    last = to_date or min(first, date.max - timedelta(days=60)) + timedelta(days=60)
    found = await recurring_commands.upcoming(db_of(request), Context.of(principal), first, last)
    return OccurrencesPublic(items=[OccurrencePublic.model_validate(o) for o in found])


@router.get("/recurring/{schedule_id}", response_model=RecurringPublic)
async def get_recurring(schedule_id: UUID, principal: CurrentPrincipal, request: Request) -> RecurringPublic:
    async with db_of(request).read() as session:
        row = await store.get_recurring(session, principal.tenant_id, schedule_id)
    if row is None:
        raise NotFound(f"recurring transaction {schedule_id} does not exist")
    return RecurringPublic.of(row)


@router.put("/recurring/{schedule_id}", response_model=RecurringPublic)
async def change_recurring(
    schedule_id: UUID, body: RecurringUpdate, principal: CurrentPrincipal, request: Request
) -> RecurringPublic:
    """Replace the schedule, provided it is still at `expected_version` (else 409)."""
    row = await recurring_commands.change(
        db_of(request),
        settings_of(request, LedgerSettings),
        _writer(principal),
        schedule_id,
        body.model_dump(exclude={"expected_version"}),
        expected_version=body.expected_version,
        today=_today(request),
    )
    return RecurringPublic.of(row)


@router.post("/recurring/{schedule_id}/cancel", response_model=RecurringPublic)
async def cancel_recurring(
    schedule_id: UUID, body: VersionSeen, principal: CurrentPrincipal, request: Request
) -> RecurringPublic:
    row = await recurring_commands.cancel(
        db_of(request),
        settings_of(request, LedgerSettings),
        _writer(principal),
        schedule_id,
        expected_version=body.expected_version,
    )
    return RecurringPublic.of(row)


@router.post("/recurring/{schedule_id}/skip", response_model=RecurringPublic)
async def skip_occurrence(
    schedule_id: UUID, body: OccurrenceSkip, principal: CurrentPrincipal, request: Request
) -> RecurringPublic:
    """Skip one occurrence that has not fallen due yet."""
    row = await recurring_commands.skip(
        db_of(request), settings_of(request, LedgerSettings), _writer(principal), schedule_id, body.due_on
    )
    return RecurringPublic.of(row)


@router.post("/recurring/{schedule_id}/paid", response_model=RecurringPublic)
async def mark_paid(
    schedule_id: UUID, body: BillPayment, principal: CurrentPrincipal, request: Request
) -> RecurringPublic:
    """Mark one occurrence of a bill paid (by one of the household's transactions, or without one)."""
    row = await recurring_commands.mark_paid(
        db_of(request), settings_of(request, LedgerSettings), _writer(principal), schedule_id, body.due_on,
        body.transaction_id,
    )
    return RecurringPublic.of(row)
