"""Routes for shared expenses between members: share an expense (`PUT /transactions/{id}/sharing`) or
stop (`DELETE`), record a settle-up (`POST /settlements`), and see who owes whom (`GET /shared`) and a
member's share of the spending per category (`GET /shared/spending`). Roles apply: a viewer sees, only
members who may write record."""

from datetime import date
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import repository, sharing_store
from tally_ledger.commands import domain_errors_as_problems
from tally_ledger.repository import Context
from tally_ledger.sharing import Settlement, Sharing, balances, sharing_id, who_pays_whom
from tallykit.app import db_of, settings_of
from tallykit.contracts.ledger import MemberPart, SplitMethod
from tallykit.errors import NotFound
from tallykit.money import CurrencyCode, MinorUnits
from tallykit.tokens import CurrentPrincipal, Principal

router = APIRouter()

class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SharingRequest(_Request):
    paid_by: UUID
    method: SplitMethod
    # Equally and for one: each member with weight 1 (or left out: 1); by shares: whole-number shares;
    # exactly: each member's amount in minor units, adding up to the expense.
    parts: list[MemberPart] = Field(min_length=1, max_length=50)


class MemberAmountPublic(BaseModel):
    user_id: UUID
    weight: int
    amount_minor: int


class SharingPublic(BaseModel):
    transaction_id: UUID
    paid_by: UUID
    method: SplitMethod
    amount_minor: int
    currency: str
    booked_on: date
    payee: str
    category_id: UUID | None
    parts: list[MemberAmountPublic]


class SettlementRequest(_Request):
    from_user_id: UUID
    to_user_id: UUID
    amount_minor: MinorUnits = Field(gt=0)
    currency: CurrencyCode
    booked_on: date
    note: str = Field(default="", max_length=200)


class SettlementPublic(BaseModel):
    id: UUID
    from_user_id: UUID
    to_user_id: UUID
    amount_minor: int
    currency: str
    booked_on: date
    note: str


class MemberPublic(BaseModel):
    user_id: UUID
    display_name: str
    active: bool


class MemberBalancePublic(BaseModel):
    user_id: UUID
    currency: str
    balance_minor: int  # positive: the others owe them; negative: they owe


class PaymentPublic(BaseModel):
    from_user_id: UUID
    to_user_id: UUID
    amount_minor: int
    currency: str


class SharedPublic(BaseModel):
    members: list[MemberPublic]
    balances: list[MemberBalancePublic]
    settle_up: list[PaymentPublic]  # the fewest payments that bring every balance to zero
    expenses: list[SharingPublic]  # the newest shared expenses
    settlements: list[SettlementPublic]  # the newest settle-ups


class CategoryShareItem(BaseModel):
    category_id: UUID | None
    currency: str
    amount_minor: int


class SpendingSharePublic(BaseModel):
    user_id: UUID
    month: str
    items: list[CategoryShareItem]


def _public(row: sharing_store.SharedRow) -> SharingPublic:
    owed = row.expense.owed()
    return SharingPublic(
        transaction_id=row.expense.transaction_id, paid_by=row.expense.paid_by,
        method=SplitMethod(row.method), amount_minor=row.expense.amount_minor, currency=row.expense.currency,
        booked_on=row.booked_on, payee=row.payee, category_id=row.category_id,
        parts=[MemberAmountPublic(user_id=p.user_id, weight=p.weight, amount_minor=owed[p.user_id])
               for p in row.expense.parts])


async def _members(session: AsyncSession, principal: Principal) -> set[UUID]:
    """The household's members; the caller is one (their token says so), also in a household whose
    members joined before the ledger kept them."""
    known = {m.user_id for m in await sharing_store.members(session, principal.tenant_id)}
    return known | {principal.user_id}


@router.put("/transactions/{transaction_id}/sharing", response_model=SharingPublic)
async def share_expense(transaction_id: UUID, body: SharingRequest, principal: CurrentPrincipal,
                        request: Request) -> SharingPublic:
    """Record who paid an expense and how it divides between members (again: the new sharing replaces the
    old). Each member's amount follows the expense's amount if it is changed later."""
    principal.require_write()
    ctx = Context.of(principal)
    async with db_of(request).transaction() as session:
        with domain_errors_as_problems():
            transaction = await repository.load_transaction(session, ctx, transaction_id)
            transaction.require_exists()
            if transaction.deleted:
                raise NotFound(f"transaction {transaction_id} is deleted")
            sharing = await repository.load(session, ctx, Sharing, sharing_id(transaction_id))
            sharing.share(transaction.current, transaction_id, paid_by=body.paid_by, method=body.method,
                          parts=body.parts, members=await _members(session, principal))
        await repository.save(session, settings_of(request), ctx, sharing)
        row = await sharing_store.sharing_of(session, principal.tenant_id, transaction_id)
    assert row is not None
    return _public(row)


@router.get("/transactions/{transaction_id}/sharing", response_model=SharingPublic)
async def get_sharing(transaction_id: UUID, principal: CurrentPrincipal, request: Request) -> SharingPublic:
    async with db_of(request).read() as session:
        row = await sharing_store.sharing_of(session, principal.tenant_id, transaction_id)
    if row is None:
        raise NotFound(f"transaction {transaction_id} is not a shared expense")
    return _public(row)


@router.delete("/transactions/{transaction_id}/sharing", status_code=204)
async def unshare_expense(transaction_id: UUID, principal: CurrentPrincipal, request: Request) -> Response:
    """The expense counts for the household as a whole again."""
    principal.require_write()
    ctx = Context.of(principal)
    async with db_of(request).transaction() as session:
        sharing = await repository.load(session, ctx, Sharing, sharing_id(transaction_id))
        if not sharing.active:
            raise NotFound(f"transaction {transaction_id} is not a shared expense")
        sharing.unshare()
        await repository.save(session, settings_of(request), ctx, sharing)
    return Response(status_code=204)


@router.post("/settlements", status_code=201, response_model=SettlementPublic)
async def settle_up(body: SettlementRequest, principal: CurrentPrincipal,
                    request: Request) -> SettlementPublic:
    """One member paid another back, outside the household's accounts: it counts against what one owes
    the other in that currency."""
    principal.require_write()
    ctx = Context.of(principal)
    settlement = Settlement(uuid4())
    async with db_of(request).transaction() as session:
        with domain_errors_as_problems():
            settlement.settle(from_user_id=body.from_user_id, to_user_id=body.to_user_id,
                              amount_minor=body.amount_minor, currency=body.currency,
                              booked_on=body.booked_on, note=body.note,
                              members=await _members(session, principal))
        await repository.save(session, settings_of(request), ctx, settlement)
    return SettlementPublic(id=settlement.id, **body.model_dump())


@router.get("/shared", response_model=SharedPublic)
async def shared(principal: CurrentPrincipal, request: Request,
                 limit: Annotated[int, Query(ge=1, le=200)] = 50) -> SharedPublic:
    """Who owes whom, per currency, with the payments that would settle it, and the newest shared
    expenses and settle-ups behind the figures."""
    tenant = principal.tenant_id
    async with db_of(request).read() as session:
        members = await sharing_store.members(session, tenant)
        expenses = await sharing_store.shared_expenses(session, tenant)
        settled = await sharing_store.settled(session, tenant)
    net = balances((row.expense for row in expenses), (s for _, s in settled))
    return SharedPublic(
        members=[MemberPublic(user_id=m.user_id, display_name=m.display_name, active=m.active)
                 for m in members],
        balances=[MemberBalancePublic(user_id=member, currency=currency, balance_minor=amount)
                  for currency, figures in sorted(net.items()) for member, amount in figures.items()],
        settle_up=[PaymentPublic(**p.__dict__) for p in who_pays_whom(net)],
        expenses=[_public(row) for row in expenses[:limit]],
        settlements=[SettlementPublic(id=i, **s.model_dump()) for i, s in settled[:limit]])


@router.get("/shared/spending", response_model=SpendingSharePublic)
async def spending_share(
    principal: CurrentPrincipal, request: Request, user_id: UUID,
    month: Annotated[str, Query(pattern=r"^(19|20|21)\d{2}-(0[1-9]|1[0-2])$")],
) -> SpendingSharePublic:
    """One member's share of the month's shared expenses, per category (what the expenses cost them,
    whoever paid). Someone who is not a member of the household is a 404."""
    async with db_of(request).read() as session:
        if user_id not in await _members(session, principal):
            raise NotFound(f"{user_id} is not a member of this household")
        expenses = await sharing_store.shared_expenses(session, principal.tenant_id, month=month)
    totals: dict[tuple[UUID | None, str], int] = {}
    for row in expenses:
        owed = row.expense.owed().get(user_id, 0)
        if owed:
            key = (row.category_id, row.expense.currency)
            totals[key] = totals.get(key, 0) + owed
    return SpendingSharePublic(user_id=user_id, month=month, items=[
        CategoryShareItem(category_id=category, currency=currency, amount_minor=amount)
        for (category, currency), amount in sorted(totals.items(), key=lambda kv: (-kv[1], str(kv[0])))])
