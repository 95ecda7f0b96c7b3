"""Transactions as a spreadsheet: CSV (UTF-8 with BOM, so spreadsheet programs read the accents) or
XLSX. Amounts are written from minor units as exact decimal text, never through a float."""

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from openpyxl import Workbook
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import store
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


async def export_rows(session: AsyncSession, tenant_id: UUID, where: ExportFilter) -> list[ExportRow]:
    """The household's live transactions matching the filter, oldest first."""
    t, a, c = store.transactions.c, store.accounts.c, store.categories.c
    query = (
        select(t.booked_on, a.name, t.kind, t.amount_minor, t.currency, c.name, t.payee, t.note, t.tags,
               t.status, t.id, t.counter_account_id)
        .select_from(store.transactions
                     .join(store.accounts, and_(a.id == t.account_id, a.tenant_id == tenant_id))
                     .outerjoin(store.categories, and_(c.id == t.category_id, c.tenant_id == tenant_id)))
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
    rows = []
    for booked_on, account, kind, amount, currency, category, payee, note, tags, status, id_, counter in \
            await session.execute(query):
        incoming = kind == "income" or (counter is not None and counter == where.account_id)
        rows.append(ExportRow(
            booked_on, names.get(counter, account) if incoming and counter else account, kind,
            to_decimal(amount if incoming else -amount, currency), currency, category or "", payee, note,
            " ".join(tags or ()), status, id_))
    return rows


def to_csv(rows: Sequence[ExportRow]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in rows:
        cells = row.cells()
        writer.writerow((cells[0].isoformat(), *cells[1:]))
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(rows: Sequence[ExportRow]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Transactions")
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row.cells())
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
