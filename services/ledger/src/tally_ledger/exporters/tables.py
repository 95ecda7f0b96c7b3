"""Transactions as a spreadsheet: CSV (UTF-8 with BOM, so spreadsheet programs read the accents) or
XLSX. Amounts are written from minor units as exact decimal text, never through a float.

Rows come from the database a page at a time and go out as they come (CSV), or into a file on disk
(XLSX, whose rows openpyxl writes to disk as they are added): an export holds a page, not the history."""

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

from openpyxl import Workbook
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import store, tables
from tallykit.money import minor_unit_digits

HEADERS = ("Date", "Account", "Type", "Amount", "Currency", "Category", "Payee", "Note", "Tags", "Status",
           "Transaction ID")


@dataclass(frozen=True)
class ExportFilter:
    account_id: UUID | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class ExportRow:
    booked_on: date
    account: str
    kind: str
    amount: Decimal  # signed as seen from `account`: money out is negative
    currency: str
    category: str
    payee: str
    note: str
    tags: str
    status: str
    id: UUID

    def cells(self) -> tuple[Any, ...]:
        return (self.booked_on, self.account, self.kind, self.amount, self.currency, self.category,
                self.payee, self.note, self.tags, self.status, str(self.id))


def to_decimal(amount_minor: int, currency: str) -> Decimal:
    return Decimal(amount_minor).scaleb(-minor_unit_digits(currency))


PAGE = 2_000


async def export_rows(session: AsyncSession, tenant_id: UUID,
                      where: ExportFilter) -> AsyncIterator[ExportRow]:
    """The household's live transactions matching the filter, oldest first."""
    t, a, c = tables.transactions.c, tables.accounts.c, tables.categories.c
    query = (
        select(t.booked_on, a.name, t.kind, t.amount_minor, t.currency, c.name, t.payee, t.note, t.tags,
               t.status, t.id, t.counter_account_id)
        .select_from(tables.transactions
                     .join(tables.accounts, and_(a.id == t.account_id, a.tenant_id == tenant_id))
                     .outerjoin(tables.categories, and_(c.id == t.category_id, c.tenant_id == tenant_id)))
        .where(t.tenant_id == tenant_id, ~t.deleted)
        .order_by(t.booked_on, t.recorded_at, t.id)
    )
    if where.account_id is not None:  # a transfer shows in both accounts, into the target as money in
        query = query.where(or_(t.account_id == where.account_id, t.counter_account_id == where.account_id))
    if where.date_from is not None:
        query = query.where(t.booked_on >= where.date_from)
    if where.date_to is not None:
        query = query.where(t.booked_on <= where.date_to)
    names = {r.id: r.name for r in await store.list_accounts(session, tenant_id, include_archived=True)} \
        if where.account_id is not None else {}
    found = await session.stream(query.execution_options(yield_per=PAGE))
    async for booked_on, account, kind, amount, currency, category, payee, note, tags, status, id_, counter \
            in found:
        incoming = kind == "income" or (counter is not None and counter == where.account_id)
        yield ExportRow(
            booked_on, names.get(counter, account) if incoming and counter else account, kind,
            to_decimal(amount if incoming else -amount, currency), currency, category or "", payee, note,
            " ".join(tags or ()), status, id_)


async def csv_chunks(rows: AsyncIterator[ExportRow]) -> AsyncIterator[bytes]:
    """The CSV file in pieces of a page of rows each."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    out.write("\ufeff")
    writer.writerow(HEADERS)
    written = 0
    async for row in rows:
        cells = row.cells()
        writer.writerow((cells[0].isoformat(), *cells[1:]))
        written += 1
        if written % PAGE == 0:
            yield out.getvalue().encode()
            out.seek(0)
            out.truncate()
    yield out.getvalue().encode()


async def write_xlsx(rows: AsyncIterator[ExportRow], path: Path) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Transactions")
    sheet.append(HEADERS)
    async for row in rows:
        sheet.append(row.cells())
    await asyncio.to_thread(workbook.save, path)  # zipping a large sheet takes seconds
