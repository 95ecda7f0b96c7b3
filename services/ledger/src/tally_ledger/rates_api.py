"""Routes of exchange rates: list, enter by hand, import a CSV of rates, delete; the household's base
currency. Rates are the household's own figures (no rate is fetched from anywhere)."""

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, File, Query, Request, UploadFile
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import rates, store, tables
from tallykit.app import db_of
from tallykit.errors import InvalidInput, NotFound
from tallykit.money import CurrencyCode
from tallykit.tokens import CurrentPrincipal

router = APIRouter()

MAX_RATES_FILE = 5 * 1024 * 1024


class RateIn(BaseModel):
    """1 `base` = `rate` `quote` on a day. The rate is a decimal string (or number), e.g. "1.0842"."""

    model_config = ConfigDict(extra="forbid")

    on: date
    base: CurrencyCode
    quote: CurrencyCode
    rate: Annotated[str, Field(min_length=1, max_length=40)]

    @field_validator("rate", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        return str(value) if isinstance(value, int | float | Decimal) else value


class RatePublic(BaseModel):
    on: date
    base: str
    quote: str
    rate: str
    source: str


class RatesPublic(BaseModel):
    items: list[RatePublic]
    base_currency: str | None


class RatesImported(BaseModel):
    imported: int



async def _upsert(session: AsyncSession, tenant_id: UUID, found: list[rates.Rate], source: str) -> None:
    r = tables.exchange_rates
    now = datetime.now(UTC)
    for start in range(0, len(found), 1000):
        statement = pg_insert(r).values(
            [
                {
                    "tenant_id": tenant_id,
                    "base": x.base,
                    "quote": x.quote,
                    "on": x.on,
                    "rate": x.rate,
                    "source": source,
                    "updated_at": now,
                }
                for x in found[start : start + 1000]
            ]
        )
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[r.c.tenant_id, r.c.base, r.c.quote, r.c.on],
                set_={
                    "rate": statement.excluded.rate,
                    "source": statement.excluded.source,
                    "updated_at": now,
                },
            )
        )


def _public(on: date, base: str, quote: str, rate: Decimal, source: str) -> RatePublic:
    return RatePublic(on=on, base=base, quote=quote, rate=format(rate.normalize(), "f"), source=source)


@router.get("/rates", response_model=RatesPublic)
async def list_rates(
    principal: CurrentPrincipal,
    request: Request,
    currency: Annotated[str | None, Query(min_length=3, max_length=3)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> RatesPublic:
    """The household's rates, newest first (only those of one currency, when given)."""
    r = tables.exchange_rates.c
    query = select(r.on, r.base, r.quote, r.rate, r.source).where(r.tenant_id == principal.tenant_id)
    if currency:
        query = query.where((r.base == currency.upper()) | (r.quote == currency.upper()))
    async with db_of(request).read() as session:
        rows = await session.execute(query.order_by(r.on.desc(), r.base, r.quote).limit(limit))
        base = await store.base_currency(session, principal.tenant_id)
    return RatesPublic(items=[_public(*row) for row in rows], base_currency=base)


@router.post("/rates", status_code=201, response_model=RatePublic)
async def enter_rate(body: RateIn, principal: CurrentPrincipal, request: Request) -> RatePublic:
    """Enter (or correct) the rate of a day."""
    principal.require_write()
    try:
        rate = rates.Rate(body.on, body.base, body.quote, rates.parse_number(body.rate))
    except rates.RateError as exc:
        raise InvalidInput(str(exc)) from exc
    async with db_of(request).transaction() as session:
        await _upsert(session, principal.tenant_id, [rate], "manual")
    return _public(rate.on, rate.base, rate.quote, rate.rate, "manual")


@router.post("/rates/import", response_model=RatesImported)
async def import_rates(
    principal: CurrentPrincipal, request: Request, file: Annotated[UploadFile, File()]
) -> RatesImported:
    """A CSV of rates with a header (date, base, quote, rate; comma, semicolon or tab). All or nothing:
    a bad line is named and nothing is saved."""
    principal.require_write()
    content = await file.read(MAX_RATES_FILE + 1)
    if len(content) > MAX_RATES_FILE:
        raise InvalidInput(f"a rates file of at most {MAX_RATES_FILE // (1024 * 1024)} MiB, please")
    try:
        found = rates.parse_csv(content)
    except rates.RateError as exc:
        raise InvalidInput(f"the file cannot be imported: {exc}", where=exc.where) from exc
    async with db_of(request).transaction() as session:
        await _upsert(session, principal.tenant_id, found, "csv")
    return RatesImported(imported=len(found))


@router.delete("/rates/{base}/{quote}/{on}", status_code=204)
async def delete_rate(base: str, quote: str, on: date, principal: CurrentPrincipal, request: Request) -> None:
    principal.require_write()
    r = tables.exchange_rates.c
    async with db_of(request).transaction() as session:
        result = await session.execute(
            delete(tables.exchange_rates).where(
                r.tenant_id == principal.tenant_id,
                r.base == base.upper(),
                r.quote == quote.upper(),
                r.on == on,
            )
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise NotFound(f"no {base}/{quote} rate on {on}")
