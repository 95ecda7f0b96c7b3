"""Rules: saving them in order, previewing what one would change, applying one to existing
transactions (as TransactionAmended events, so each change shows in the transaction's history and can
be undone like any edit)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import repository, store, tables
from tally_ledger.domain import Account, Category, DomainError, Refs, differences
from tally_ledger.repository import Context, load
from tally_ledger.rules import AccountCondition, AmountCondition, DateCondition, RuleBook, RuleSpec
from tallykit.contracts.ledger import Split, TransactionState
from tallykit.db import Database
from tallykit.errors import Conflict, InvalidInput, NotFound
from tallykit.logging import get_logger
from tallykit.settings import ServiceSettings

log = get_logger(__name__)

MAX_RULES = 200
# A preview or an application looks at the household's newest transactions, up to this many.
MAX_SCAN = 50_000
PREVIEW_ITEMS = 100
APPLY_CHUNK = 500


@dataclass(frozen=True)
class RuleRow:
    id: UUID
    position: int
    spec: RuleSpec
    version: int


@dataclass(frozen=True)
class PreviewItem:
    transaction_id: UUID
    booked_on: Any
    payee: str
    amount_minor: int
    currency: str
    changes: dict[str, list[Any]]


@dataclass(frozen=True)
class Preview:
    scanned: int
    matched: int
    changed: int
    items: list[PreviewItem]


async def _check_refs(session: AsyncSession, ctx: Context, spec: RuleSpec) -> None:
    """The accounts a rule names and the category it sets must be the household's (else 404); the
    category must still be in use."""
    for condition in spec.conditions:
        if isinstance(condition, AccountCondition):
            account = await load(session, ctx, Account, condition.account_id)
            if not account.exists:
                raise NotFound(f"account {condition.account_id} does not exist")
    if spec.actions.category_id is not None:
        category = await load(session, ctx, Category, spec.actions.category_id)
        if not category.exists:
            raise NotFound(f"category {spec.actions.category_id} does not exist")
        if category.archived:
            raise InvalidInput(f"category {category.name!r} is archived")


async def list_rules(db: Database, tenant_id: UUID) -> list[RuleRow]:
    async with db.read() as session:
        return await _rules(session, tenant_id)


async def _rules(session: AsyncSession, tenant_id: UUID) -> list[RuleRow]:
    r = tables.rules.c
    rows = await session.execute(
        select(r.id, r.position, r.spec, r.version).where(r.tenant_id == tenant_id).order_by(r.position, r.id)
    )
    return [RuleRow(i, p, RuleSpec.model_validate(spec), v) for i, p, spec, v in rows]


async def _rule(
    session: AsyncSession, tenant_id: UUID, rule_id: UUID, *, for_update: bool = False
) -> RuleRow:
    r = tables.rules.c
    query = select(r.id, r.position, r.spec, r.version).where(r.tenant_id == tenant_id, r.id == rule_id)
    row = (await session.execute(query.with_for_update() if for_update else query)).first()
    if row is None:
        raise NotFound(f"rule {rule_id} does not exist")
    return RuleRow(row.id, row.position, RuleSpec.model_validate(row.spec), row.version)


async def get_rule(db: Database, tenant_id: UUID, rule_id: UUID) -> RuleRow:
    async with db.read() as session:
        return await _rule(session, tenant_id, rule_id)


async def create_rule(db: Database, ctx: Context, spec: RuleSpec) -> RuleRow:
    """A new rule goes last."""
    async with db.transaction() as session:
        await _check_refs(session, ctx, spec)
        r = tables.rules.c
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"rules:{ctx.tenant_id}"))))
        count, last = (
            await session.execute(
                select(func.count(), func.max(r.position)).where(r.tenant_id == ctx.tenant_id)
            )
        ).one()
        if count >= MAX_RULES:
            raise Conflict(f"a household has at most {MAX_RULES} rules")
        rule_id = uuid4()
        await session.execute(
            tables.rules.insert().values(
                id=rule_id,
                tenant_id=ctx.tenant_id,
                position=(last or 0) + 1,
                spec=spec.model_dump(mode="json"),
                version=1,
                updated_at=datetime.now(UTC),
            )
        )
        return await _rule(session, ctx.tenant_id, rule_id)


async def update_rule(
    db: Database, ctx: Context, rule_id: UUID, spec: RuleSpec, *, expected_version: int
) -> RuleRow:
    async with db.transaction() as session:
        rule = await _rule(session, ctx.tenant_id, rule_id, for_update=True)
        if rule.version != expected_version:
            raise Conflict(f"rule {rule_id} is at version {rule.version}, not {expected_version}; reload")
        await _check_refs(session, ctx, spec)
        await session.execute(
            update(tables.rules)
            .where(tables.rules.c.id == rule_id)
            .values(spec=spec.model_dump(mode="json"), version=rule.version + 1, updated_at=datetime.now(UTC))
        )
        return await _rule(session, ctx.tenant_id, rule_id)


async def delete_rule(db: Database, ctx: Context, rule_id: UUID) -> None:
    async with db.transaction() as session:
        await _rule(session, ctx.tenant_id, rule_id)
        await session.execute(
            delete(tables.rules).where(
                tables.rules.c.tenant_id == ctx.tenant_id, tables.rules.c.id == rule_id
            )
        )


async def reorder(db: Database, ctx: Context, ids: Sequence[UUID]) -> list[RuleRow]:
    """Put the household's rules in the given order (every rule, each once)."""
    async with db.transaction() as session:
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"rules:{ctx.tenant_id}"))))
        current = await _rules(session, ctx.tenant_id)
        if sorted(map(str, ids)) != sorted(str(r.id) for r in current):
            raise InvalidInput("give every rule of the household once, in the new order")
        for position, rule_id in enumerate(ids, start=1):
            await session.execute(
                update(tables.rules)
                .where(tables.rules.c.tenant_id == ctx.tenant_id, tables.rules.c.id == rule_id)
                .values(position=position, updated_at=datetime.now(UTC))
            )
        return await _rules(session, ctx.tenant_id)


def state_of_row(row: store.TransactionRow) -> TransactionState:
    return TransactionState(
        account_id=row.account_id,
        kind=row.kind,
        amount_minor=row.amount_minor,
        currency=row.currency,
        booked_on=row.booked_on,
        category_id=row.category_id,
        counter_account_id=row.counter_account_id,
        payee=row.payee,
        note=row.note,
        tags=tuple(row.tags),
        status=row.status,
        splits=tuple(
            Split(category_id=s.category_id, amount_minor=s.amount_minor, note=s.note) for s in row.splits
        ),
    )


async def _candidates(session: AsyncSession, tenant_id: UUID, spec: RuleSpec) -> list[store.TransactionRow]:
    """The newest live transactions a rule might match; with "all", its account, amount and date
    conditions narrow the scan in SQL (the text ones are checked in Python, as on entry)."""
    t = tables.transactions.c
    narrowing: list[ColumnElement[bool]] = []
    if spec.match == "all":
        for c in spec.conditions:
            if isinstance(c, AccountCondition):
                narrowing.append((t.account_id == c.account_id) | (t.counter_account_id == c.account_id))
            elif isinstance(c, AmountCondition):
                if c.min_minor is not None:
                    narrowing.append(t.amount_minor >= c.min_minor)
                if c.max_minor is not None:
                    narrowing.append(t.amount_minor <= c.max_minor)
            elif isinstance(c, DateCondition):
                if c.from_date is not None:
                    narrowing.append(t.booked_on >= c.from_date)
                if c.to_date is not None:
                    narrowing.append(t.booked_on <= c.to_date)
    query = (
        store._transactions_query(tenant_id)
        .where(*narrowing)
        .order_by(t.booked_on.desc(), t.recorded_at.desc(), t.id.desc())
        .limit(MAX_SCAN)
    )
    rows = [store.TransactionRow(*row) for row in await session.execute(query)]
    return await store._with_splits(session, tenant_id, rows)


async def _book(session: AsyncSession, ctx: Context, spec: RuleSpec) -> RuleBook:
    ids = {spec.actions.category_id} if spec.actions.category_id else set()
    return RuleBook([], {i: await load(session, ctx, Category, i) for i in ids})


async def preview(db: Database, ctx: Context, spec: RuleSpec) -> Preview:
    """What the rule would change on existing transactions, changing nothing."""
    async with db.read() as session:
        await _check_refs(session, ctx, spec)
        book = await _book(session, ctx, spec)
        rows = await _candidates(session, ctx.tenant_id, spec)
    matched, items = 0, list[PreviewItem]()
    changed = 0
    for row in rows:
        before = state_of_row(row)
        if not book.matches(spec, before):
            continue
        matched += 1
        after, _ = book.apply(before, fill_only=False, only=spec)
        if after != before:
            changed += 1
            if len(items) < PREVIEW_ITEMS:
                items.append(
                    PreviewItem(
                        row.id,
                        row.booked_on,
                        row.payee,
                        row.amount_minor,
                        row.currency,
                        differences(before, after),
                    )
                )
    return Preview(len(rows), matched, changed, items)


async def apply(db: Database, settings: ServiceSettings, ctx: Context, rule_id: UUID) -> int:
    """Apply one saved rule to the existing transactions it matches: one TransactionAmended per
    transaction it changes, in chunks. Returns how many changed."""
    async with db.read() as session:
        spec = (await _rule(session, ctx.tenant_id, rule_id)).spec
        book = await _book(session, ctx, spec)
        ids = [
            row.id
            for row in await _candidates(session, ctx.tenant_id, spec)
            if book.apply(before := state_of_row(row), fill_only=False, only=spec)[0] != before
        ]
    ctx = Context(tenant_id=ctx.tenant_id, actor=ctx.actor, correlation_id=rule_id)
    changed = 0
    for start in range(0, len(ids), APPLY_CHUNK):
        async with db.transaction() as session:
            transactions = [
                t
                for t in await repository.load_transactions(session, ctx, ids[start : start + APPLY_CHUNK])
                if t.exists and not t.deleted
            ]
            refs = await refs_of(session, ctx,
                                 [t.current for t in transactions] + list(book.categories.keys()))
            amended = []
            for transaction in transactions:
                # Decided again on the transaction's current state: it may have changed since the scan.
                after, _ = book.apply(transaction.current, fill_only=False, only=spec)
                changes = {
                    k: getattr(after, k)
                    for k in ("category_id", "payee", "note", "tags")
                    if getattr(after, k) != getattr(transaction.current, k)
                }
                if not changes:
                    continue
                try:
                    transaction.amend(changes, refs, expected_version=None)
                except DomainError as exc:
                    log.info("rule_not_applied", transaction_id=str(transaction.id), reason=str(exc))
                    continue
                amended.append(transaction)
            await repository.save(session, settings, ctx, *amended)
            changed += len(amended)
    log.info("rule_applied", rule_id=str(rule_id), changed=changed)
    return changed


async def refs_of(session: AsyncSession, ctx: Context, items: Sequence[TransactionState | UUID]) -> Refs:
    """The accounts and categories of many states (and extra category ids), each loaded once."""
    accounts: set[UUID] = set()
    categories: set[UUID] = set()
    for item in items:
        if isinstance(item, UUID):
            categories.add(item)
            continue
        accounts |= {item.account_id} | ({item.counter_account_id} if item.counter_account_id else set())
        categories |= {s.category_id for s in item.splits} | (
            {item.category_id} if item.category_id else set()
        )
    return Refs(
        {i: await load(session, ctx, Account, i) for i in accounts},
        {i: await load(session, ctx, Category, i) for i in categories},
    )
