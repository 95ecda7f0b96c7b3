"""The ledger's HTTP routes: schema in → handler → schema out."""

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Request

from tally_ledger import handlers, store
from tally_ledger.handlers import Context
from tally_ledger.schemas import (
    AccountCreate,
    AccountPublic,
    AccountsPublic,
    AccountUpdate,
    CategoriesPublic,
    CategoryPublic,
    TransactionCreate,
    TransactionPublic,
    TransactionsPublic,
)
from tallykit.app import wake_relay
from tallykit.db import Database
from tallykit.errors import NotFound
from tallykit.settings import ServiceSettings
from tallykit.tokens import CurrentPrincipal

router = APIRouter()


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _settings(request: Request) -> ServiceSettings:
    settings: ServiceSettings = request.app.state.settings
    return settings


@router.post("/accounts", status_code=201, response_model=AccountPublic)
async def open_account(body: AccountCreate, principal: CurrentPrincipal, request: Request) -> AccountPublic:
    principal.require_write()
    row = await handlers.open_account(_db(request), _settings(request), Context.of(principal), name=body.name,
                                      kind=body.kind, currency=body.currency,
                                      opening_balance_minor=body.opening_balance_minor)
    wake_relay(request)
    return AccountPublic.model_validate(row)


@router.get("/accounts", response_model=AccountsPublic)
async def list_accounts(principal: CurrentPrincipal, request: Request) -> AccountsPublic:
    async with _db(request).read() as session:
        rows = await store.list_accounts(session, principal.tenant_id)
    return AccountsPublic(items=[AccountPublic.model_validate(r) for r in rows])


@router.get("/accounts/{account_id}", response_model=AccountPublic)
async def get_account(account_id: UUID, principal: CurrentPrincipal, request: Request) -> AccountPublic:
    async with _db(request).read() as session:
        row = await store.get_account(session, principal.tenant_id, account_id)
    if row is None:
        raise NotFound(f"account {account_id} does not exist")
    return AccountPublic.model_validate(row)


@router.patch("/accounts/{account_id}", response_model=AccountPublic)
async def rename_account(account_id: UUID, body: AccountUpdate, principal: CurrentPrincipal,
                         request: Request) -> AccountPublic:
    principal.require_write()
    row = await handlers.rename_account(_db(request), _settings(request), Context.of(principal), account_id,
                                        name=body.name, expected_version=body.expected_version)
    wake_relay(request)
    return AccountPublic.model_validate(row)


@router.get("/categories", response_model=CategoriesPublic)
async def list_categories(principal: CurrentPrincipal, request: Request) -> CategoriesPublic:
    async with _db(request).read() as session:
        rows = await store.list_categories(session, principal.tenant_id)
    return CategoriesPublic(items=[CategoryPublic.model_validate(r) for r in rows])


@router.post("/transactions", status_code=201, response_model=TransactionPublic)
async def record_transaction(body: TransactionCreate, principal: CurrentPrincipal,
                             request: Request) -> TransactionPublic:
    principal.require_write()
    row = await handlers.record_transaction(
        _db(request), _settings(request), Context.of(principal), account_id=body.account_id, kind=body.kind,
        amount_minor=body.amount_minor, booked_on=body.booked_on or datetime.now(UTC).date(),
        currency=body.currency, category_id=body.category_id, payee=body.payee, note=body.note,
    )
    wake_relay(request)
    return TransactionPublic.model_validate(row)


@router.get("/transactions", response_model=TransactionsPublic)
async def list_transactions(principal: CurrentPrincipal, request: Request, account_id: UUID | None = None,
                            limit: Annotated[int, Query(ge=1, le=500)] = 50) -> TransactionsPublic:
    async with _db(request).read() as session:
        tenant = principal.tenant_id
        if account_id is not None and await store.get_account(session, tenant, account_id) is None:
            raise NotFound(f"account {account_id} does not exist")
        rows = await store.list_transactions(session, tenant, account_id=account_id, limit=limit)
    return TransactionsPublic(items=[TransactionPublic.model_validate(r) for r in rows])
