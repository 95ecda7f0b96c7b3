"""The import preview's balance check: a statement that carries the bank's closing balance (OFX LEDGERBAL,
CAMT CLBD, MT940 :62F:) says what the account held at the end of that day; Tally's balance then, once the
preview's new rows are recorded, should be the same. When it is not, rows are missing (or were recorded by
hand meanwhile), or the account's opening balance is off: the preview says so before anything is recorded,
and the person can reconcile against the statement right after the import."""

import asyncio
from collections.abc import Mapping, Sequence
from datetime import date
from uuid import UUID

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import store
from tally_ledger.importers import StatementError, StatementFormat, camt, mt940, ofx
from tally_ledger.importers.balances import ClosingBalance
from tally_ledger.importers.rows import StatementRow

_READERS = {StatementFormat.ofx: ofx.closing_balances, StatementFormat.mt940: mt940.closing_balances,
            StatementFormat.camt052: camt.closing_balances, StatementFormat.camt053: camt.closing_balances,
            StatementFormat.camt054: camt.closing_balances}


class BalanceCheckPublic(BaseModel):
    account_id: UUID
    on: date  # the statement's closing day
    bank_balance_minor: int  # what the bank says the account held at the end of `on`
    tally_balance_minor: int  # what Tally's will be then, once this import's new rows are recorded
    difference_minor: int  # bank minus Tally: 0 when the statement adds up


def closing_balances(statement_format: StatementFormat, data: bytes) -> list[ClosingBalance]:
    """The closing balances the file carries; none for formats without them (CSV, QIF) or a file whose
    balances cannot be read (its rows were read already: the balance is only a check)."""
    reader = _READERS.get(statement_format)
    if reader is None:
        return []
    try:
        return reader(data)
    except StatementError:
        return []


def _balance_for(key: str | None, balances: Sequence[ClosingBalance]) -> ClosingBalance | None:
    if key is None:  # every row goes to one account: the file's one balance, if it has only one
        return balances[0] if len(balances) == 1 else None
    return next((b for b in balances if b.account_key == key), None)


async def checks(session: AsyncSession, tenant_id: UUID, statement_format: StatementFormat, data: bytes,
                 targets: Mapping[str | None, UUID],
                 new_rows: Mapping[UUID, Sequence[StatementRow]]) -> list[BalanceCheckPublic]:
    """For each account of the batch whose bank balance the file carries: the bank's balance against
    Tally's at the end of that day, counting the rows this import would add (`new_rows`, by account)."""
    balances = await asyncio.to_thread(closing_balances, statement_format, data)
    found = []
    for key, account_id in targets.items():
        balance = _balance_for(key, balances)
        if balance is None:
            continue
        now = await store.balances_as_of(session, tenant_id, balance.on, [account_id])
        if account_id not in now:
            continue
        tally = now[account_id] + sum(r.amount_minor for r in new_rows.get(account_id, ())
                                      if r.booked_on <= balance.on)
        found.append(BalanceCheckPublic(account_id=account_id, on=balance.on,
                                        bank_balance_minor=balance.amount_minor, tally_balance_minor=tally,
                                        difference_minor=balance.amount_minor - tally))
    return found
