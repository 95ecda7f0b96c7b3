"""Routes of editing many transactions at once: one change to the chosen transactions (or to every one a
search matches), and its undo."""

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator

from tally_ledger import bulk_editing
from tally_ledger.api import search_filters
from tally_ledger.categoriser_api import readable
from tally_ledger.repository import Context
from tally_ledger.schemas import PayeeName
from tallykit.app import db_of, settings_of
from tallykit.contracts.ledger import ClearedState, EntryKind, Tag
from tallykit.money import MAX_MINOR_UNITS
from tallykit.tokens import CurrentPrincipal

router = APIRouter()


class BulkSearch(BaseModel):
    """The filters of `GET /transactions`, with the same meaning."""

    model_config = ConfigDict(extra="forbid")

    q: Annotated[str, Field(max_length=500)] = ""
    account_id: UUID | None = None
    category_id: UUID | None = None
    payee: Annotated[str | None, Field(max_length=200)] = None
    tag: Annotated[list[str] | None, Field(max_length=20)] = None
    kind: Annotated[list[EntryKind] | None, Field(max_length=3)] = None
    status: Annotated[list[ClearedState] | None, Field(max_length=3)] = None
    from_date: date | None = None
    to_date: date | None = None
    min_amount_minor: Annotated[int | None, Field(ge=0, le=MAX_MINOR_UNITS)] = None
    max_amount_minor: Annotated[int | None, Field(ge=0, le=MAX_MINOR_UNITS)] = None


class BulkEditCreate(BaseModel):
    """Which transactions (`ids`, or every one `search` matches) and what to do to each: any of
    `category_id`, `add_tags`/`remove_tags`, `payee`, `status` (cleared or uncleared), `account_id` (one of
    the same currency); or `delete` alone."""

    model_config = ConfigDict(extra="forbid")

    ids: Annotated[list[UUID], Field(min_length=1, max_length=bulk_editing.MAX_TRANSACTIONS)] | None = None
    search: BulkSearch | None = None
    # With `search`: how many matches the person was shown; another count now is a 409, not a change.
    expected_count: Annotated[StrictInt, Field(ge=0)] | None = None
    category_id: UUID | None = None
    add_tags: Annotated[list[Tag], Field(max_length=20)] = []
    remove_tags: Annotated[list[Tag], Field(max_length=20)] = []
    payee: PayeeName | None = None
    status: ClearedState | None = None
    account_id: UUID | None = None
    delete: bool = False

    @model_validator(mode="after")
    def _one_selection(self) -> "BulkEditCreate":
        if (self.ids is None) == (self.search is None):
            raise ValueError("name the transactions either by ids or by a search")
        if self.expected_count is not None and self.search is None:
            raise ValueError("expected_count goes with a search")
        return self


class BulkEditPublic(BaseModel):
    id: UUID  # the change's id (its events' correlation id, each history entry's change_id): undo names it
    matched: int
    changed: int  # the rest were as asked already


class BulkEditUndonePublic(BaseModel):
    id: UUID
    undone: int
    kept: list[UUID]  # changed since: left as they are now


@router.post("/transactions/bulk", status_code=201, response_model=BulkEditPublic)
async def edit_in_bulk(body: BulkEditCreate, principal: CurrentPrincipal, request: Request) -> BulkEditPublic:
    """Change many transactions as one change, all or nothing (at most 10,000; a search matching more is
    refused): undo it with `POST /transactions/bulk/{id}/undo`. Another household's ids are 404; a rule of
    the ledger refusing one transaction (a reconciled one deleted or moved, a transfer given a category, a
    move to an account in another currency) refuses the change, naming that transaction."""
    principal.require_write()
    settings = settings_of(request)
    filters = None
    if body.search is not None:
        s = body.search
        filters = await search_filters(
            q=s.q, account_id=s.account_id, category_id=s.category_id, payee=s.payee, tag=s.tag, kind=s.kind,
            status=s.status, from_date=s.from_date, to_date=s.to_date, min_amount_minor=s.min_amount_minor,
            max_amount_minor=s.max_amount_minor)
    edit = bulk_editing.Edit(
        category_id=body.category_id, add_tags=tuple(body.add_tags), remove_tags=tuple(body.remove_tags),
        payee=readable(body.payee, "payee") if body.payee is not None else None, status=body.status,
        account_id=body.account_id, delete=body.delete)
    edited = await bulk_editing.apply(db_of(request), settings, Context.of(principal), edit, ids=body.ids,
                                      filters=filters, expected_count=body.expected_count)
    return BulkEditPublic(id=edited.id, matched=edited.matched, changed=edited.changed)


@router.post("/transactions/bulk/{change_id}/undo", response_model=BulkEditUndonePublic)
async def undo_bulk_edit(change_id: UUID, principal: CurrentPrincipal,
                         request: Request) -> BulkEditUndonePublic:
    """Undo a bulk change: each of its transactions goes back (a deleted one comes back), except those
    changed since, which keep what they have now (named in `kept`)."""
    principal.require_write()
    settings = settings_of(request)
    undone = await bulk_editing.undo(db_of(request), settings, Context.of(principal), change_id)
    return BulkEditUndonePublic(id=undone.id, undone=undone.undone, kept=undone.kept)
