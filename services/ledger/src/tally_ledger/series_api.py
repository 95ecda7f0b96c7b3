"""Routes of the recurring series found in the history: the open proposals, accept (one click: the series
becomes a schedule), dismiss. Registered before the schedules' routes: `/recurring/proposals` is no
schedule id."""

from datetime import UTC, date, datetime
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel

from tally_ledger import due_dates, series_finding
from tally_ledger.repository import Context
from tally_ledger.schemas import RecurringPublic
from tally_ledger.series.detect import Series
from tally_ledger.settings import LedgerSettings
from tallykit.app import db_of, settings_of
from tallykit.contracts.ledger import SeriesPeriod, TransactionKind
from tallykit.tokens import CurrentPrincipal

router = APIRouter()


class SeriesPriceChangePublic(BaseModel):
    old_minor: int
    new_minor: int
    on: date


class SeriesProposalPublic(BaseModel):
    id: UUID
    name: str
    payee: str
    account_id: UUID
    kind: TransactionKind
    period: SeriesPeriod
    amount_minor: int
    currency: str
    amount_varies: bool
    occurrences: int
    first_on: date
    last_on: date
    next_on: date
    price_changes: list[SeriesPriceChangePublic]
    category_id: UUID | None
    version: int

    @classmethod
    def of(cls, proposal: series_finding.Proposal) -> "SeriesProposalPublic":
        s: Series = proposal.series
        return cls(id=proposal.id, name=s.name, payee=s.payee, account_id=UUID(s.account),
                   kind=TransactionKind.income if s.income else TransactionKind.expense,
                   period=SeriesPeriod(s.period.name), amount_minor=s.amount_minor, currency=s.currency,
                   amount_varies=s.amount_varies, occurrences=s.occurrences, first_on=s.first_on,
                   last_on=s.last_on, next_on=s.next_on,
                   price_changes=[SeriesPriceChangePublic(old_minor=c.old_minor, new_minor=c.new_minor,
                                                          on=c.on) for c in s.price_changes],
                   category_id=UUID(s.category) if s.category else None, version=proposal.version)


class SeriesProposalsPublic(BaseModel):
    items: list[SeriesProposalPublic]
    detected_at: datetime | None  # when the household's history was last looked at (None: not yet)


class SeriesProposalDismissed(BaseModel):
    id: UUID
    dismissed: bool
    version: int



def _today(request: Request) -> date:
    return due_dates.today_in(datetime.now(UTC), settings_of(request, LedgerSettings).scheduler_timezone)


@router.get("/recurring/proposals", response_model=SeriesProposalsPublic)
async def list_proposals(principal: CurrentPrincipal, request: Request) -> SeriesProposalsPublic:
    """Recurring payments and incomes found in the household's transactions that no schedule stands for
    and nobody dismissed, most payments first. Found in the background after transactions change."""
    found, detected_at = await series_finding.proposals(db_of(request), Context.of(principal))
    return SeriesProposalsPublic(items=[SeriesProposalPublic.of(p) for p in found], detected_at=detected_at)


@router.post("/recurring/proposals/{proposal_id}/accept", status_code=201, response_model=RecurringPublic)
async def accept_proposal(proposal_id: UUID, principal: CurrentPrincipal,
                          request: Request) -> RecurringPublic:
    """Make the proposal a schedule: a bill (expenses; reminded of, matched to its payments) or an
    income, every week/month/quarter/year from its next expected payment, never posted automatically."""
    principal.require_write()
    settings = settings_of(request, LedgerSettings)
    row = await series_finding.accept(db_of(request), settings, Context.of(principal), proposal_id,
                                      today=_today(request))
    return RecurringPublic.of(row)


@router.post("/recurring/proposals/{proposal_id}/dismiss", response_model=SeriesProposalDismissed)
async def dismiss_proposal(proposal_id: UUID, principal: CurrentPrincipal,
                           request: Request) -> SeriesProposalDismissed:
    """Not a schedule, thanks: the series is not proposed again, nor told of."""
    principal.require_write()
    proposal = await series_finding.dismiss(db_of(request), settings_of(request, LedgerSettings),
                                            Context.of(principal), proposal_id)
    return SeriesProposalDismissed(id=proposal.id, dismissed=proposal.dismissed, version=proposal.version)
