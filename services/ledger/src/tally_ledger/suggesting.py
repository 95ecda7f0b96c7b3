"""Categories suggested for entries that are not recorded through an import: the entry form's payee being
typed, and the household's uncategorised transactions (the bulk categorisation's proposals). The order is
an import's (docs/categorisation.md): the household's rules first — a rule's category is certain — then
its categoriser on the payee and note as the rules left them. An import has its own path (`Plan.
categorise`), which decides while it records."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import categorising, commands
from tally_ledger.categoriser.features import Example
from tally_ledger.categorising import Plan
from tally_ledger.domain import DomainError
from tally_ledger.repository import Context
from tally_ledger.rules import RuleBook
from tallykit.contracts.ledger import CategorisedBy, EntryKind, TransactionState

Source = Literal["rule", "payee history", "model"]
# Up to this many rows are scored on the event loop (about a millisecond for one): handing one row to a
# thread and back cost more than scoring it (5 ms against 1.7 ms at the median on a busy machine), and
# one row is what the entry form asks for while the payee is typed.
IN_LOOP = 3


@dataclass(frozen=True)
class Entry:
    """What is known of an entry: an expense or income of a positive amount on one of the accounts."""

    account_id: UUID
    income: bool
    amount_minor: int
    currency: str
    booked_on: date
    payee: str
    note: str = ""


@dataclass(frozen=True)
class Proposal:
    category_id: str
    confidence: float  # 0..1; a rule's category is certain
    source: Source

    @property
    def categorised_by(self) -> CategorisedBy:
        """How an accepted proposal is marked on its event."""
        return CategorisedBy.rule if self.source == "rule" else CategorisedBy.suggestion


async def household(session: AsyncSession, ctx: Context) -> tuple[Plan, RuleBook]:
    """What suggesting needs of the household: its categoriser (with the threshold) and its rules."""
    return await categorising.plan(session, ctx), await commands.load_rulebook(session, ctx)


async def propose(plan: Plan, book: RuleBook, entries: Sequence[Entry], *, top: int) -> list[list[Proposal]]:
    """Up to `top` proposals per entry, the likeliest first (none when nothing fits)."""
    found: list[list[Proposal]] = [[] for _ in entries]
    open_rows: list[int] = []
    examples: list[Example] = []
    for n, entry in enumerate(entries):
        payee, note = entry.payee, entry.note
        if book.rules:
            state = TransactionState(
                account_id=entry.account_id, kind=EntryKind.income if entry.income else EntryKind.expense,
                amount_minor=entry.amount_minor, currency=entry.currency, booked_on=entry.booked_on,
                payee=payee, note=note)
            try:
                ruled, _ = book.apply(state)
            except (DomainError, ValueError):
                ruled = state  # a rule that cannot apply to this entry: the categoriser still may
            if ruled.category_id is not None:
                found[n] = [Proposal(str(ruled.category_id), 1.0, "rule")]
                continue
            payee, note = ruled.payee, ruled.note
        open_rows.append(n)
        signed = entry.amount_minor if entry.income else -entry.amount_minor
        examples.append(Example(payee, note, signed, str(entry.account_id), entry.booked_on))
    if examples and plan.categoriser is not None:
        if plan.categoriser.linear is not None and len(examples) > IN_LOOP:
            # Featurising and scoring hold the interpreter for milliseconds: many rows go to a thread.
            suggested = await asyncio.to_thread(plan.suggest, examples, top=top)
        else:
            suggested = plan.suggest(examples, top=top)
        for n, row in zip(open_rows, suggested, strict=True):
            found[n] = [Proposal(s.category, s.confidence, s.source) for s in row]
    return found
