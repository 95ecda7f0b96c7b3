"""Routes of the learned categoriser: a suggestion for an entry being typed, the household's categoriser
(what it learnt from, the threshold for accepting suggestions), and categorising the uncategorised in
bulk (proposals, and one change applying the chosen ones)."""

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from tally_ledger import bulk_categorising, categorising, store, suggesting
from tally_ledger.repository import Context
from tally_ledger.suggesting import Entry, Proposal
from tallykit.app import settings_of
from tallykit.contracts.ledger import CategorisedBy, EntryKind
from tallykit.db import Database
from tallykit.errors import InvalidInput, NotFound
from tallykit.money import MAX_MINOR_UNITS
from tallykit.tokens import CurrentPrincipal

router = APIRouter()


class SuggestionPublic(BaseModel):
    category_id: UUID
    category_name: str
    confidence: float  # 0..1; a rule's category is certain (1)
    source: Literal["rule", "payee history", "model"]


class SuggestionsPublic(BaseModel):
    items: list[SuggestionPublic]  # the likeliest first, at most three; none when nothing fits
    accept_above_pct: int


class CategoriserPublic(BaseModel):
    accept_above_pct: int
    method: Literal["payee history", "model"] | None  # None: nothing learnt yet
    version: int
    examples: int  # categorised transactions it learnt from
    categories: int
    trained_at: datetime | None
    training_seconds: float | None
    changes_since_training: int


class CategoriserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accept_above_pct: int = Field(ge=50, le=100)


def _public(state: categorising.State) -> CategoriserPublic:
    return CategoriserPublic(accept_above_pct=state.accept_above_pct, method=state.method,
                             version=state.version, examples=state.examples, categories=state.categories,
                             trained_at=state.trained_at, training_seconds=state.training_seconds,
                             changes_since_training=state.changes)


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def readable(value: str, name: str, *, required: bool = False) -> str:
    """Text a person typed, stripped; NUL characters are refused (no text of the ledger may hold one), as
    is an empty value where one is needed."""
    if "\x00" in value:
        raise InvalidInput(f"the {name} may not contain the NUL character (U+0000)")
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"give the {name}: it is empty")
    return value


def _named(names: Mapping[str, str], found: list[Proposal]) -> list[SuggestionPublic]:
    return [SuggestionPublic(category_id=UUID(p.category_id), category_name=names.get(p.category_id, ""),
                             confidence=round(p.confidence, 4), source=p.source) for p in found]


@router.get("/categories/suggest", response_model=SuggestionsPublic)
async def suggest_category(
    principal: CurrentPrincipal,
    request: Request,
    account_id: UUID,
    amount_minor: Annotated[int, Query(ge=-MAX_MINOR_UNITS, le=MAX_MINOR_UNITS,
                                       description="negative: money out (an expense); positive: money in")],
    payee: Annotated[str, Query(min_length=1, max_length=200)],
    note: Annotated[str, Query(max_length=1000)] = "",
    booked_on: date | None = None,
) -> SuggestionsPublic:
    """Categories for an entry being typed, as an import would suggest them: payee merges first, then the
    household's rules, then its categoriser (cached in memory; training never happens here)."""
    payee = readable(payee, "payee", required=True)
    note = readable(note, "note")
    async with _db(request).read() as session:
        account = await store.get_account(session, principal.tenant_id, account_id)
        if account is None:
            raise NotFound(f"account {account_id} does not exist")
        plan, book = await suggesting.household(session, Context.of(principal))
        merged = await store.payee_merges(session, principal.tenant_id)
    threshold = round(plan.accept_above * 100)
    if amount_minor == 0:
        return SuggestionsPublic(items=[], accept_above_pct=threshold)
    entry = Entry(account_id, amount_minor > 0, abs(amount_minor), account.currency,
                  booked_on or datetime.now(UTC).date(), merged.get(payee.lower(), payee), note)
    [found] = await suggesting.propose(plan, book, [entry], top=3)
    return SuggestionsPublic(items=_named(plan.usable.names, found), accept_above_pct=threshold)


@router.get("/categoriser", response_model=CategoriserPublic)
async def get_categoriser(principal: CurrentPrincipal, request: Request) -> CategoriserPublic:
    """The household's categoriser: how it suggests, what it learnt from, and the threshold at which an
    import accepts its suggestions."""
    async with _db(request).read() as session:
        return _public(await categorising.state(session, principal.tenant_id))


@router.patch("/categoriser", response_model=CategoriserPublic)
async def change_categoriser(body: CategoriserChange, principal: CurrentPrincipal,
                             request: Request) -> CategoriserPublic:
    """Set the confidence (50-100 %) from which an import records the categoriser's suggestions."""
    principal.require_write()
    async with _db(request).transaction() as session:
        changed = await categorising.set_accept_above(session, principal.tenant_id, body.accept_above_pct)
    return _public(changed)


# --- categorising the uncategorised in bulk -----------------------------------------------------------------

class ProposalPublic(BaseModel):
    transaction_id: UUID
    version: int  # send it back as expected_version: a transaction changed since is not overwritten
    account_id: UUID
    kind: EntryKind
    amount_minor: int
    currency: str
    booked_on: date
    payee: str
    note: str
    suggestions: list[SuggestionPublic]  # likeliest first, at most three; none when nothing fits


class ProposalsPublic(BaseModel):
    items: list[ProposalPublic]  # the newest first
    uncategorised: int  # every uncategorised expense and income the filters match
    accept_above_pct: int


class CategorisationChoice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transaction_id: UUID
    category_id: UUID
    expected_version: Annotated[StrictInt, Field(ge=1)] | None = None


class CategorisationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: Annotated[list[CategorisationChoice],
                     Field(min_length=1, max_length=bulk_categorising.MAX_CHOICES)]


class CategorisationPublic(BaseModel):
    id: UUID  # the change's id (its events' correlation id): undo it as a bulk change
    changed: int
    categorised_by: dict[CategorisedBy, int]


@router.get("/categorisations/proposals", response_model=ProposalsPublic)
async def categorisation_proposals(
    principal: CurrentPrincipal,
    request: Request,
    account_id: UUID | None = None,
    from_date: date | None = None,
    to_date: date | None = None,
    payee: Annotated[str | None, Query(min_length=1, max_length=200,
                                       description="a part of the payee, in any case")] = None,
    limit: Annotated[int, Query(ge=1, le=bulk_categorising.MAX_PROPOSALS)] = 100,
) -> ProposalsPublic:
    """The household's newest uncategorised expenses and incomes (within the filters), each with the
    categories its rules and categoriser propose; changes nothing."""
    if from_date and to_date and from_date > to_date:
        raise InvalidInput("from_date is after to_date")
    wanted = readable(payee, "payee", required=True) if payee is not None else None
    filters = bulk_categorising.Filters(account_id, from_date, to_date, wanted)
    found = await bulk_categorising.proposals(_db(request), Context.of(principal), filters, limit=limit)
    return ProposalsPublic(
        items=[ProposalPublic(transaction_id=row.id, version=row.version, account_id=row.account_id,
                              kind=EntryKind(row.kind), amount_minor=row.amount_minor, currency=row.currency,
                              booked_on=row.booked_on, payee=row.payee, note=row.note,
                              suggestions=_named(found.names, proposals))
               for row, proposals in found.items],
        uncategorised=found.uncategorised, accept_above_pct=found.accept_above_pct)


@router.post("/categorisations", status_code=201, response_model=CategorisationPublic)
async def categorise(body: CategorisationCreate, principal: CurrentPrincipal,
                     request: Request) -> CategorisationPublic:
    """Give uncategorised transactions the chosen categories as one change (undo it as any bulk change:
    `POST /transactions/bulk/{id}/undo`); all or nothing. Each event says whether the category was the
    proposal (`suggestion`, or `rule`) or another the person chose (`person`)."""
    principal.require_write()
    settings = settings_of(request)
    applied = await bulk_categorising.apply(
        _db(request), settings, Context.of(principal),
        [bulk_categorising.Choice(c.transaction_id, c.category_id, c.expected_version) for c in body.items])
    return CategorisationPublic(id=applied.id, changed=applied.changed, categorised_by=applied.categorised_by)
