"""The ledger's HTTP routes: schema in → handler → schema out."""

from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import commands, store
from tally_ledger.query import Cursor, Filters, QueryError, parse
from tally_ledger.repository import Context
from tally_ledger.schemas import (
    AccountCreate,
    AccountPublic,
    AccountsPublic,
    AccountUpdate,
    BalancePublic,
    CategoriesPublic,
    CategoryCreate,
    CategoryMerge,
    CategoryPublic,
    CategoryUpdate,
    ConvertedPublic,
    ConvertedTotalsPublic,
    CurrencyTotal,
    HistoryEntryPublic,
    HistoryPublic,
    NetWorthPublic,
    PayeeMerge,
    PayeePublic,
    PayeesPublic,
    TagPublic,
    TagsPublic,
    TotalsListPublic,
    TotalsPublic,
    TransactionChangePublic,
    TransactionCreate,
    TransactionPublic,
    TransactionsPublic,
    TransactionUpdate,
    TransferCreate,
    VersionSeen,
)
from tallykit.app import db_of, settings_of
from tallykit.contracts.ledger import ClearedState, EntryKind
from tallykit.errors import InvalidInput, NotFound
from tallykit.money import MAX_MINOR_UNITS, CurrencyCode
from tallykit.tokens import CurrentPrincipal, Principal

router = APIRouter()




def _writer(principal: Principal) -> Context:
    principal.require_write()
    return Context.of(principal)


def _today() -> date:
    return datetime.now(UTC).date()


# --- accounts ----------------------------------------------------------------------------------------

@router.post("/accounts", status_code=201, response_model=AccountPublic)
async def open_account(body: AccountCreate, principal: CurrentPrincipal, request: Request) -> AccountPublic:
    row = await commands.open_account(db_of(request), settings_of(request), _writer(principal),
                                      name=body.name, kind=body.kind, currency=body.currency,
                                      opening_balance_minor=body.opening_balance_minor)
    return AccountPublic.model_validate(row)


@router.get("/accounts", response_model=AccountsPublic)
async def list_accounts(principal: CurrentPrincipal, request: Request,
                        include_archived: bool = False) -> AccountsPublic:
    async with db_of(request).read() as session:
        rows = await store.list_accounts(session, principal.tenant_id, include_archived=include_archived)
    return AccountsPublic(items=[AccountPublic.model_validate(r) for r in rows])


@router.get("/accounts/{account_id}", response_model=AccountPublic)
async def get_account(account_id: UUID, principal: CurrentPrincipal, request: Request) -> AccountPublic:
    async with db_of(request).read() as session:
        row = await store.get_account(session, principal.tenant_id, account_id)
    if row is None:
        raise NotFound(f"account {account_id} does not exist")
    return AccountPublic.model_validate(row)


@router.patch("/accounts/{account_id}", response_model=AccountPublic)
async def rename_account(account_id: UUID, body: AccountUpdate, principal: CurrentPrincipal,
                         request: Request) -> AccountPublic:
    row = await commands.rename_account(db_of(request), settings_of(request), _writer(principal), account_id,
                                        name=body.name, expected_version=body.expected_version)
    return AccountPublic.model_validate(row)


@router.post("/accounts/{account_id}/archive", response_model=AccountPublic)
async def archive_account(account_id: UUID, body: VersionSeen, principal: CurrentPrincipal,
                          request: Request) -> AccountPublic:
    """Archive an account: it keeps its history and balance, takes no new transactions."""
    row = await commands.archive_account(db_of(request), settings_of(request), _writer(principal), account_id,
                                         expected_version=body.expected_version)
    return AccountPublic.model_validate(row)


@router.post("/accounts/{account_id}/reopen", response_model=AccountPublic)
async def reopen_account(account_id: UUID, body: VersionSeen, principal: CurrentPrincipal,
                         request: Request) -> AccountPublic:
    row = await commands.reopen_account(db_of(request), settings_of(request), _writer(principal), account_id,
                                        expected_version=body.expected_version)
    return AccountPublic.model_validate(row)


@router.get("/accounts/{account_id}/balance", response_model=BalancePublic)
async def account_balance(account_id: UUID, principal: CurrentPrincipal, request: Request,
                          as_of: date | None = None) -> BalancePublic:
    """The balance at the end of a day (today when not given), from the transactions booked by then."""
    day = as_of or _today()
    async with db_of(request).read() as session:
        account = await store.get_account(session, principal.tenant_id, account_id)
        if account is None:
            raise NotFound(f"account {account_id} does not exist")
        balances = await store.balances_as_of(session, principal.tenant_id, day, [account_id])
    return BalancePublic(account_id=account_id, currency=account.currency, as_of=day,
                         balance_minor=balances[account_id])


@router.get("/net-worth", response_model=NetWorthPublic)
async def net_worth(principal: CurrentPrincipal, request: Request, as_of: date | None = None,
                    currency: CurrencyCode | None = None) -> NetWorthPublic:
    """Every account's balance (archived ones too) summed per currency, at the end of a day; and all
    of it in `currency` (the household's base currency by default) at the rates of that day."""
    day = as_of or _today()
    async with db_of(request).read() as session:
        totals = await store.net_worth(session, principal.tenant_id, day)
        target = currency or await store.base_currency(session, principal.tenant_id)
        converted = await store.net_worth_in(session, principal.tenant_id, day, target) if target else None
    return NetWorthPublic(as_of=day,
                          totals=[CurrencyTotal(currency=c, amount_minor=a) for c, a in totals.items()],
                          converted=ConvertedPublic.model_validate(converted) if converted else None)


# --- categories, payees, tags ------------------------------------------------------------------------

@router.get("/categories", response_model=CategoriesPublic)
async def list_categories(principal: CurrentPrincipal, request: Request,
                          include_archived: bool = False) -> CategoriesPublic:
    async with db_of(request).read() as session:
        rows = await store.list_categories(session, principal.tenant_id, include_archived=include_archived)
    return CategoriesPublic(items=[CategoryPublic.model_validate(r) for r in rows])


@router.post("/categories", status_code=201, response_model=CategoryPublic)
async def create_category(body: CategoryCreate, principal: CurrentPrincipal,
                          request: Request) -> CategoryPublic:
    row = await commands.create_category(db_of(request), settings_of(request), _writer(principal),
                                         name=body.name, group=body.group, kind=body.kind)
    return CategoryPublic.model_validate(row)


@router.patch("/categories/{category_id}", response_model=CategoryPublic)
async def rename_category(category_id: UUID, body: CategoryUpdate, principal: CurrentPrincipal,
                          request: Request) -> CategoryPublic:
    """A new name, a new group, or both."""
    row = await commands.rename_category(db_of(request), settings_of(request), _writer(principal),
                                         category_id, name=body.name, group=body.group)
    return CategoryPublic.model_validate(row)


@router.post("/categories/{category_id}/archive", response_model=CategoryPublic)
async def archive_category(category_id: UUID, principal: CurrentPrincipal,
                           request: Request) -> CategoryPublic:
    row = await commands.archive_category(db_of(request), settings_of(request), _writer(principal),
                                          category_id)
    return CategoryPublic.model_validate(row)


@router.post("/categories/{category_id}/merge", response_model=CategoryPublic)
async def merge_category(category_id: UUID, body: CategoryMerge, principal: CurrentPrincipal,
                         request: Request) -> CategoryPublic:
    """Move the category's whole history into another of the same kind; returns the target."""
    row = await commands.merge_category(db_of(request), settings_of(request), _writer(principal), category_id,
                                        into_category_id=body.into_category_id)
    return CategoryPublic.model_validate(row)


@router.get("/payees", response_model=PayeesPublic)
async def list_payees(principal: CurrentPrincipal, request: Request) -> PayeesPublic:
    """The payees the household's transactions name, most used first."""
    async with db_of(request).read() as session:
        rows = await store.list_payees(session, principal.tenant_id)
    return PayeesPublic(items=[PayeePublic.model_validate(r) for r in rows])


@router.post("/payees/merge", response_model=PayeePublic)
async def merge_payee(body: PayeeMerge, principal: CurrentPrincipal, request: Request) -> PayeePublic:
    row = await commands.merge_payee(db_of(request), settings_of(request), _writer(principal), name=body.name,
                                     into_name=body.into_name)
    return PayeePublic.model_validate(row)


@router.get("/tags", response_model=TagsPublic)
async def list_tags(principal: CurrentPrincipal, request: Request) -> TagsPublic:
    async with db_of(request).read() as session:
        rows = await store.list_tags(session, principal.tenant_id)
    return TagsPublic(items=[TagPublic(name=n, usage_count=c) for n, c in rows])


# --- transactions ------------------------------------------------------------------------------------

async def _recorded_before(request: Request, response: Response, principal: Principal,
                           transaction_id: UUID | None, account_id: UUID, kind: str,
                           amount_minor: int) -> TransactionPublic | None:
    """A repeated create (same client-chosen id): the transaction it made the first time, answered 200."""
    if transaction_id is None:
        return None
    row = await commands.already_recorded(db_of(request), _writer(principal), transaction_id,
                                          account_id=account_id, kind=kind, amount_minor=amount_minor)
    if row is None:
        return None
    response.status_code = 200
    return TransactionPublic.model_validate(row)


@router.post("/transactions", status_code=201, response_model=TransactionPublic,
             responses={200: {"model": TransactionPublic, "description": "Sent again with the same `id`: "
                              "the transaction recorded the first time"}})
async def record_transaction(body: TransactionCreate, principal: CurrentPrincipal,
                             request: Request, response: Response) -> TransactionPublic:
    if again := await _recorded_before(request, response, principal, body.id, body.account_id,
                                       body.kind.value, body.amount_minor):
        return again
    row = await commands.record_transaction(
        db_of(request), settings_of(request), _writer(principal), transaction_id=body.id,
        account_id=body.account_id, kind=body.kind,
        amount_minor=body.amount_minor, booked_on=body.booked_on or _today(),
        currency=body.currency, category_id=body.category_id, payee=body.payee, note=body.note,
        splits=body.splits, tags=body.tags, status=body.status,
    )
    return TransactionPublic.model_validate(row)


@router.post("/transfers", status_code=201, response_model=TransactionPublic,
             responses={200: {"model": TransactionPublic, "description": "Sent again with the same `id`: "
                              "the transfer recorded the first time"}})
async def record_transfer(body: TransferCreate, principal: CurrentPrincipal,
                          request: Request, response: Response) -> TransactionPublic:
    """Move money between two of the household's accounts (one transaction of kind `transfer`)."""
    if again := await _recorded_before(request, response, principal, body.id, body.from_account_id,
                                       "transfer", body.amount_minor):
        return again
    row = await commands.record_transfer(
        db_of(request), settings_of(request), _writer(principal), transaction_id=body.id,
        from_account_id=body.from_account_id,
        to_account_id=body.to_account_id, amount_minor=body.amount_minor,
        booked_on=body.booked_on or _today(), payee=body.payee, note=body.note, tags=body.tags,
        status=body.status, counter_amount_minor=body.counter_amount_minor,
    )
    return TransactionPublic.model_validate(row)


async def search_filters(
    q: Annotated[str, Query(max_length=500, description="e.g. `groceries amount>20 tag:trip`")] = "",
    account_id: UUID | None = None,
    category_id: UUID | None = None,
    payee: Annotated[str | None, Query(max_length=200)] = None,
    tag: Annotated[list[str] | None, Query(max_length=20)] = None,
    kind: Annotated[list[EntryKind] | None, Query(max_length=3)] = None,
    status: Annotated[list[ClearedState] | None, Query(max_length=3)] = None,
    from_date: date | None = None,
    to_date: date | None = None,
    min_amount_minor: Annotated[int | None, Query(ge=0, le=MAX_MINOR_UNITS)] = None,
    max_amount_minor: Annotated[int | None, Query(ge=0, le=MAX_MINOR_UNITS)] = None,
) -> Filters:
    """The search filters of a request: the query language `q` and the named filters, all at once."""
    try:
        filters = parse(q) & Filters(
            account_ids=(account_id,) if account_id else (),
            category_ids=(category_id,) if category_id else (),
            payees=(payee,) if payee else (), tags=tuple(t.lower() for t in tag or ()),
            kinds=tuple(kind or ()), statuses=tuple(status or ()), after=from_date,
            before=to_date + timedelta(days=1) if to_date else None,
            amounts_minor=tuple((op, v) for op, v in ((">=", min_amount_minor), ("<=", max_amount_minor))
                                if v is not None),
        )
    except QueryError as exc:
        raise InvalidInput(str(exc)) from exc
    return filters


async def _require_accounts(session: AsyncSession, principal: Principal, filters: Filters) -> None:
    """A search naming an account of another household (or none) is a 404, not an empty page."""
    for account_id in filters.account_ids:
        if await store.get_account(session, principal.tenant_id, account_id) is None:
            raise NotFound(f"account {account_id} does not exist")


SearchFilters = Annotated[Filters, Depends(search_filters)]


@router.get("/transactions", response_model=TransactionsPublic)
async def search_transactions(
    principal: CurrentPrincipal,
    request: Request,
    filters: SearchFilters,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> TransactionsPublic:
    """Newest first, a page at a time: pass `next_cursor` back as `cursor` for the next page.
    The totals of everything that matches come from `GET /transactions/totals` with the same filters."""
    try:
        after = Cursor.decode(cursor) if cursor else None
    except QueryError as exc:
        raise InvalidInput(str(exc)) from exc
    async with db_of(request).read() as session:
        await _require_accounts(session, principal, filters)
        rows = await store.search_transactions(session, principal.tenant_id, filters, after=after,
                                               limit=limit + 1)
    page = rows[:limit]
    return TransactionsPublic(
        items=[TransactionPublic.model_validate(r) for r in page],
        next_cursor=page[-1].cursor.encode() if len(rows) > limit else None,
    )


@router.get("/transactions/totals", response_model=TotalsListPublic)
async def search_totals(principal: CurrentPrincipal, request: Request, filters: SearchFilters,
                        in_currency: CurrencyCode | None = None) -> TotalsListPublic:
    """Count and sums of every transaction the filters match, per currency (transfers apart); with
    `in_currency`, income and expense also in that currency, each day's at that day's rate."""
    async with db_of(request).read() as session:
        await _require_accounts(session, principal, filters)
        totals = await store.search_totals(session, principal.tenant_id, filters)
        converted = (await store.totals_in(session, principal.tenant_id, filters, in_currency)
                     if in_currency else None)
    return TotalsListPublic(items=[TotalsPublic.model_validate(t) for t in totals],
                            converted=ConvertedTotalsPublic.model_validate(converted) if converted else None)


@router.get("/transactions/{transaction_id}", response_model=TransactionPublic)
async def get_transaction(transaction_id: UUID, principal: CurrentPrincipal,
                          request: Request) -> TransactionPublic:
    async with db_of(request).read() as session:
        row = await store.get_transaction(session, principal.tenant_id, transaction_id)
    if row is None:
        raise NotFound(f"transaction {transaction_id} does not exist")
    return TransactionPublic.model_validate(row)


@router.patch("/transactions/{transaction_id}", response_model=TransactionPublic)
async def amend_transaction(transaction_id: UUID, body: TransactionUpdate, principal: CurrentPrincipal,
                            request: Request) -> TransactionPublic:
    """Edit some fields, provided the transaction is still at `expected_version` (else 409). A reconciled
    transaction's amount, date, account or kind change only with `confirm_reconciled` (else 409)."""
    row = await commands.amend_transaction(db_of(request), settings_of(request), _writer(principal),
                                           transaction_id, body.changes(),
                                           expected_version=body.expected_version,
                                           confirm_reconciled=body.confirm_reconciled)
    return TransactionPublic.model_validate(row)


def _change(outcome: commands.Outcome) -> TransactionChangePublic:
    return TransactionChangePublic(
        id=outcome.id, version=outcome.version, deleted=outcome.row is None,
        transaction=TransactionPublic.model_validate(outcome.row) if outcome.row else None)


@router.delete("/transactions/{transaction_id}", response_model=TransactionChangePublic)
async def delete_transaction(transaction_id: UUID, principal: CurrentPrincipal, request: Request,
                             expected_version: Annotated[int, Query(ge=1)],
                             confirm_reconciled: bool = False) -> TransactionChangePublic:
    """Delete (undoable); a reconciled transaction only with `confirm_reconciled` (else 409)."""
    outcome = await commands.delete_transaction(db_of(request), settings_of(request), _writer(principal),
                                                transaction_id, expected_version=expected_version,
                                                confirm_reconciled=confirm_reconciled)
    return _change(outcome)


@router.post("/transactions/{transaction_id}/undo", response_model=TransactionChangePublic)
async def undo_transaction(transaction_id: UUID, body: VersionSeen, principal: CurrentPrincipal,
                           request: Request) -> TransactionChangePublic:
    """Revert the last change not yet undone: an edit goes back, a deletion comes back, a new entry goes."""
    outcome = await commands.undo_transaction(db_of(request), settings_of(request), _writer(principal),
                                              transaction_id, expected_version=body.expected_version)
    return _change(outcome)


@router.get("/transactions/{transaction_id}/history", response_model=HistoryPublic)
async def transaction_history(transaction_id: UUID, principal: CurrentPrincipal,
                              request: Request) -> HistoryPublic:
    """Every change, oldest first: who made it, when, and each field's old and new value."""
    entries = await commands.transaction_history(db_of(request), Context.of(principal), transaction_id)
    return HistoryPublic(items=[HistoryEntryPublic.model_validate(e) for e in entries])
