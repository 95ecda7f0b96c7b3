"""Routes of the learned categoriser: a suggestion for an entry being typed, and the household's
categoriser (what it learnt from, the threshold for accepting suggestions on import)."""

import asyncio
from datetime import UTC, date, datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from tally_ledger import categorising, handlers, store
from tally_ledger.categoriser.features import Example
from tally_ledger.domain import DomainError
from tally_ledger.repository import Context
from tallykit.contracts.ledger import EntryKind, TransactionState
from tallykit.db import Database
from tallykit.errors import NotFound
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


@router.get("/categories/suggest", response_model=SuggestionsPublic)
async def suggest_category(
    principal: CurrentPrincipal,
    request: Request,
    account_id: UUID,
    amount_minor: Annotated[int, Query(ge=-MAX_MINOR_UNITS, le=MAX_MINOR_UNITS,
                                       description="negative: money out (an expense); positive: money in")],
    payee: Annotated[str, Query(max_length=200)] = "",
    note: Annotated[str, Query(max_length=1000)] = "",
    booked_on: date | None = None,
) -> SuggestionsPublic:
    """Categories for an entry being typed, as an import would suggest them: payee merges first, then the
    household's rules, then its categoriser (cached in memory; training never happens here)."""
    ctx = Context.of(principal)
    day = booked_on or datetime.now(UTC).date()
    async with _db(request).read() as session:
        account = await store.get_account(session, principal.tenant_id, account_id)
        if account is None:
            raise NotFound(f"account {account_id} does not exist")
        plan = await categorising.plan(session, ctx)
        merged = await store.payee_merges(session, principal.tenant_id)
        payee = merged.get(payee.lower(), payee)
        book = await handlers.load_rulebook(session, ctx)
    names = plan.usable.names
    threshold = round(plan.accept_above * 100)
    if amount_minor == 0:
        return SuggestionsPublic(items=[], accept_above_pct=threshold)
    kind = EntryKind.income if amount_minor > 0 else EntryKind.expense
    ruled = None
    if book.rules:
        try:
            ruled, _ = book.apply(TransactionState(
                account_id=account_id, kind=kind, amount_minor=abs(amount_minor), currency=account.currency,
                booked_on=day, payee=payee, note=note))
        except (DomainError, ValueError):
            ruled = None  # a rule that cannot apply to this entry: the categoriser still may
    if ruled is not None:
        if ruled.category_id is not None:
            return SuggestionsPublic(items=[SuggestionPublic(
                category_id=ruled.category_id, category_name=names.get(str(ruled.category_id), ""),
                confidence=1.0, source="rule")], accept_above_pct=threshold)
        payee, note = ruled.payee, ruled.note
    example = Example(payee, note, amount_minor, str(account_id), day)
    if plan.categoriser is not None and plan.categoriser.linear is not None:
        [found] = await asyncio.to_thread(plan.suggest, [example], top=3)
    else:
        [found] = plan.suggest([example], top=3)
    return SuggestionsPublic(items=[SuggestionPublic(category_id=UUID(s.category), category_name=names.get(
        s.category, ""), confidence=round(s.confidence, 4), source=s.source) for s in found],
        accept_above_pct=threshold)


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
