"""The ledger's read-model queries (their tables are in `tables`).

Every query takes the tenant it may look at.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Select,
    Subquery,
    Table,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
    text,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import totals
from tally_ledger.query import Cursor, Filters
from tally_ledger.rates import Rate, RateTable
from tally_ledger.tables import (
    LIVE,
    NEWEST,
    SEARCH_TEXT,
    accounts,
    categories,
    exchange_rates,
    households,
    payees,
    recurring,
    transaction_splits,
    transactions,
)
from tallykit.money import minor_unit_digits


@dataclass(frozen=True)
class AccountRow:
    id: UUID
    name: str
    kind: str
    currency: str
    balance_minor: int
    version: int
    archived: bool


@dataclass(frozen=True)
class CategoryRow:
    id: UUID
    name: str
    group: str
    kind: str
    archived: bool
    merged_into: UUID | None


@dataclass(frozen=True)
class SplitRow:
    category_id: UUID
    amount_minor: int
    note: str


@dataclass(frozen=True)
class TransactionRow:
    id: UUID
    account_id: UUID
    kind: str
    amount_minor: int
    currency: str
    category_id: UUID | None
    category_name: str | None
    payee: str
    booked_on: date
    note: str
    recorded_at: datetime
    counter_account_id: UUID | None
    tags: list[str]
    status: str
    version: int
    counter_amount_minor: int | None = None
    splits: list[SplitRow] = field(default_factory=list)

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.booked_on, self.recorded_at, self.id)


@dataclass(frozen=True)
class Totals:
    currency: str
    count: int
    income_minor: int
    expense_minor: int
    transfer_minor: int


@dataclass(frozen=True)
class PayeeRow:
    name: str
    usage_count: int


_ACCOUNT_COLUMNS = (accounts.c.id, accounts.c.name, accounts.c.kind, accounts.c.currency,
                    accounts.c.balance_minor, accounts.c.version, accounts.c.archived)


async def list_accounts(session: AsyncSession, tenant_id: UUID, *,
                        include_archived: bool = False) -> list[AccountRow]:
    query = select(*_ACCOUNT_COLUMNS).where(accounts.c.tenant_id == tenant_id)
    if not include_archived:
        query = query.where(~accounts.c.archived)
    rows = await session.execute(query.order_by(accounts.c.name, accounts.c.id))
    return [AccountRow(*row) for row in rows]


async def get_account(session: AsyncSession, tenant_id: UUID, account_id: UUID) -> AccountRow | None:
    row = (await session.execute(
        select(*_ACCOUNT_COLUMNS).where(accounts.c.tenant_id == tenant_id, accounts.c.id == account_id)
    )).first()
    return AccountRow(*row) if row else None


def _signed_amount() -> ColumnElement[Any]:
    """The transaction's effect on `account_id`: income adds, expense and transfer (out) take away."""
    return case((transactions.c.kind == "income", transactions.c.amount_minor),
                else_=-transactions.c.amount_minor)


async def balances_as_of(session: AsyncSession, tenant_id: UUID, as_of: date,
                         account_ids: list[UUID] | None = None,
                         statuses: Sequence[str] | None = None) -> dict[UUID, int]:
    """Each account's balance at the end of `as_of`: its opening balance plus everything booked by then
    (with `statuses`, only the transactions in those cleared states: a cleared balance)."""
    opening = select(accounts.c.id, accounts.c.opening_balance_minor).where(accounts.c.tenant_id == tenant_id)
    if account_ids is not None:
        opening = opening.where(accounts.c.id.in_(account_ids))
    balances = {row.id: int(row.opening_balance_minor) for row in await session.execute(opening)}
    if not balances:
        return balances
    live = and_(transactions.c.tenant_id == tenant_id, LIVE, transactions.c.booked_on <= as_of)
    if statuses is not None:
        live = and_(live, transactions.c.status.in_(list(statuses)))
    outflows = (select(transactions.c.account_id, func.sum(_signed_amount()))
                .where(live, transactions.c.account_id.in_(list(balances)))
                .group_by(transactions.c.account_id))
    arrived = func.coalesce(transactions.c.counter_amount_minor, transactions.c.amount_minor)
    inflows = (select(transactions.c.counter_account_id, func.sum(arrived))
               .where(live, transactions.c.counter_account_id.in_(list(balances)))
               .group_by(transactions.c.counter_account_id))
    for query in (outflows, inflows):
        for account_id, delta in await session.execute(query):
            balances[account_id] += int(delta)
    return balances


async def net_worth(session: AsyncSession, tenant_id: UUID, as_of: date) -> dict[str, int]:
    """The sum of every account's balance as of a day, per currency (no conversion between them)."""
    currencies = dict((await session.execute(
        select(accounts.c.id, accounts.c.currency).where(accounts.c.tenant_id == tenant_id))).all())
    totals: dict[str, int] = defaultdict(int)
    for account_id, balance in (await balances_as_of(session, tenant_id, as_of)).items():
        totals[currencies[account_id]] += balance
    return dict(sorted(totals.items()))


_CATEGORY_COLUMNS = (categories.c.id, categories.c.name, categories.c.group_name, categories.c.kind,
                     categories.c.archived, categories.c.merged_into)


async def list_categories(session: AsyncSession, tenant_id: UUID, *,
                          include_archived: bool = False) -> list[CategoryRow]:
    query = select(*_CATEGORY_COLUMNS).where(categories.c.tenant_id == tenant_id)
    if not include_archived:
        query = query.where(~categories.c.archived)
    rows = await session.execute(
        query.order_by(categories.c.kind, categories.c.group_name, categories.c.name))
    return [CategoryRow(*row) for row in rows]


async def get_payee(session: AsyncSession, tenant_id: UUID, name: str) -> PayeeRow | None:
    row = (await session.execute(select(payees.c.name, payees.c.usage_count).where(
        payees.c.tenant_id == tenant_id, payees.c.key == name.lower(),
        payees.c.merged_into.is_(None)))).first()
    return PayeeRow(*row) if row else None


async def get_category(session: AsyncSession, tenant_id: UUID, category_id: UUID) -> CategoryRow | None:
    row = (await session.execute(
        select(*_CATEGORY_COLUMNS).where(categories.c.tenant_id == tenant_id, categories.c.id == category_id)
    )).first()
    return CategoryRow(*row) if row else None


async def category_merges(session: AsyncSession, tenant_id: UUID) -> dict[UUID, UUID]:
    """Merged category → the category its history now counts for (following merges of merges)."""
    rows = await session.execute(select(categories.c.id, categories.c.merged_into).where(
        categories.c.tenant_id == tenant_id, categories.c.merged_into.is_not(None)))
    direct: dict[UUID, UUID] = dict(rows.all())
    resolved = {}
    for source in direct:
        target, seen = direct[source], {source}
        while target in direct and target not in seen:
            seen.add(target)
            target = direct[target]
        resolved[source] = target
    return resolved


async def payee_merges(session: AsyncSession, tenant_id: UUID) -> dict[str, str]:
    """Merged payee name (lower case) → the name it now goes by."""
    rows = await session.execute(select(payees.c.key, payees.c.merged_into).where(
        payees.c.tenant_id == tenant_id, payees.c.merged_into.is_not(None)))
    return resolve_payee_merges(dict(rows.all()))


def resolve_payee_merges(direct: dict[str, str]) -> dict[str, str]:
    """Merged payee (lower case) → its target's name, following merges of merges."""
    resolved = {}
    for source, target in direct.items():
        seen = {source}
        while target.lower() in direct and target.lower() not in seen:
            seen.add(target.lower())
            target = direct[target.lower()]
        resolved[source] = target
    return resolved


async def list_payees(session: AsyncSession, tenant_id: UUID) -> list[PayeeRow]:
    rows = await session.execute(
        select(payees.c.name, payees.c.usage_count)
        .where(payees.c.tenant_id == tenant_id, payees.c.merged_into.is_(None), payees.c.usage_count > 0)
        .order_by(payees.c.usage_count.desc(), payees.c.name)
    )
    return [PayeeRow(*row) for row in rows]


async def list_tags(session: AsyncSession, tenant_id: UUID) -> list[tuple[str, int]]:
    tag = func.unnest(transactions.c.tags).label("tag")
    inner = select(tag).where(transactions.c.tenant_id == tenant_id, LIVE).subquery()
    rows = await session.execute(
        select(inner.c.tag, func.count()).group_by(inner.c.tag).order_by(func.count().desc(), inner.c.tag))
    return [(name, int(n)) for name, n in rows]


def _transactions_query(tenant_id: UUID) -> Any:
    joined = transactions.outerjoin(
        categories, and_(categories.c.id == transactions.c.category_id, categories.c.tenant_id == tenant_id)
    )
    return (
        select(transactions.c.id, transactions.c.account_id, transactions.c.kind, transactions.c.amount_minor,
               transactions.c.currency, transactions.c.category_id, categories.c.name, transactions.c.payee,
               transactions.c.booked_on, transactions.c.note, transactions.c.recorded_at,
               transactions.c.counter_account_id, transactions.c.tags, transactions.c.status,
               transactions.c.version, transactions.c.counter_amount_minor)
        .select_from(joined)
        .where(transactions.c.tenant_id == tenant_id, LIVE)
    )


def _ilike_any(column: Any, values: tuple[str, ...]) -> ColumnElement[bool]:
    return or_(*(func.lower(column) == v.lower() for v in values))


def _escape_like(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def filter_conditions(session: AsyncSession, tenant_id: UUID, filters: Filters,
                            source: Table = transactions) -> list[ColumnElement[bool]]:
    """The WHERE conditions of a search, every one tenant-scoped (also inside subqueries), on `source`:
    the transactions, or their sums (`totals`, for filters `sums_answer`). Categories named by a word or
    a filter are looked up first, so that the planner sees their ids (and can use the category index)."""
    t = source.c
    conditions: list[ColumnElement[bool]] = []
    for word in filters.words:
        pattern = f"%{_escape_like(word)}%"
        named = await _category_ids(session, tenant_id, categories.c.name.ilike(pattern, escape="\\"))
        conditions.append(or_(SEARCH_TEXT.ilike(pattern, escape="\\"), t.category_id.in_(named)))
    if filters.after:
        conditions.append(t.booked_on >= filters.after)
    if filters.before:
        conditions.append(t.booked_on < filters.before)
    if filters.amounts:
        # Major units in the row's currency: 20 is 2000 cents but 20 yen.
        currencies = (await session.execute(
            select(accounts.c.currency).where(accounts.c.tenant_id == tenant_id).distinct())).scalars()
        scale = case({c: 10 ** minor_unit_digits(c) for c in currencies} or {"": 1}, value=t.currency,
                     else_=100)
        for op, value in filters.amounts:
            conditions.append(_compare(t.amount_minor, op, literal(value) * scale))
    for op, minor in filters.amounts_minor:
        conditions.append(_compare(t.amount_minor, op, literal(minor)))
    if filters.category_ids or filters.category_names:
        named = await _category_ids(session, tenant_id, or_(
            categories.c.id.in_(filters.category_ids) if filters.category_ids else false(),
            _ilike_any(categories.c.name, filters.category_names) if filters.category_names else false()))
        split_of = select(transaction_splits.c.transaction_id).where(
            transaction_splits.c.tenant_id == tenant_id, transaction_splits.c.category_id.in_(named))
        conditions.append(or_(t.category_id.in_(named), t.id.in_(split_of)))
    if filters.payees:
        conditions.append(_ilike_any(t.payee, filters.payees))
    if filters.tags:
        # `tags <> '{}'` lets the (partial) tag indexes answer.
        conditions.append(and_(t.tags != text("'{}'"), t.tags.overlap(list(filters.tags))))
    if filters.kinds:
        conditions.append(t.kind.in_([k.value for k in filters.kinds]))
    if filters.statuses:
        conditions.append(t.status.in_([s.value for s in filters.statuses]))
    return conditions


async def _category_ids(session: AsyncSession, tenant_id: UUID, named: ColumnElement[bool]) -> list[UUID]:
    return list((await session.execute(
        select(categories.c.id).where(categories.c.tenant_id == tenant_id, named))).scalars())


def _compare(column: ColumnElement[Any], op: str, value: Any) -> ColumnElement[bool]:
    comparisons: dict[str, ColumnElement[bool]] = {
        ">": column > value, ">=": column >= value, "<": column < value, "<=": column <= value,
        "=": column == value}
    return comparisons[op]


async def _filtered_accounts(session: AsyncSession, tenant_id: UUID, filters: Filters) -> list[UUID] | None:
    """The household's accounts the filters name (by id or name), or None when they name none."""
    if not (filters.account_ids or filters.account_names):
        return None
    named = select(accounts.c.id).where(accounts.c.tenant_id == tenant_id, or_(
        accounts.c.id.in_(filters.account_ids) if filters.account_ids else false(),
        _ilike_any(accounts.c.name, filters.account_names) if filters.account_names else false()))
    return list((await session.execute(named)).scalars())


async def search_transactions(session: AsyncSession, tenant_id: UUID, filters: Filters, *,
                              after: Cursor | None = None, limit: int = 50) -> list[TransactionRow]:
    """A page of the filtered transactions, newest first (booking day, then when recorded, then id),
    continuing after the row a keyset cursor names.

    An account's transactions are those booked on it plus the transfers into it: two index-ordered
    walks (one per side, each stopping after a page), merged, rather than one walk testing both sides."""
    t = transactions.c
    conditions = await filter_conditions(session, tenant_id, filters)
    if after is not None:
        conditions.append(tuple_(t.booked_on, t.recorded_at, t.id)
                          < tuple_(literal(after.booked_on), literal(after.recorded_at), literal(after.id)))
    account_ids = await _filtered_accounts(session, tenant_id, filters)
    if account_ids is not None and not account_ids:
        return []
    sides: list[ColumnElement[bool]] = [true()] if account_ids is None else [
        t.account_id.in_(account_ids), t.counter_account_id.in_(account_ids)]
    # The page's ids first, then their rows: an index holding every column the filters name (the tagged
    # transactions' holds tags and kind) answers the first part without reading a row.
    page = union_all(*(select(t.id).where(t.tenant_id == tenant_id, LIVE, side, *conditions)
                       .order_by(*NEWEST).limit(limit) for side in sides)).subquery()
    query = _transactions_query(tenant_id).where(t.id.in_(select(page.c.id)))
    rows = [TransactionRow(*row) for row in await session.execute(query.order_by(*NEWEST).limit(limit))]
    return await _with_splits(session, tenant_id, rows)


def sums_answer(filters: Filters) -> bool:
    """Whether the sums (`totals`) answer totals for these filters: by account, day, kind, status and
    tag only (a word, an amount, a category or a payee needs each transaction)."""
    return not (filters.words or filters.amounts or filters.amounts_minor or filters.category_ids
                or filters.category_names or filters.payees)


async def _matching(session: AsyncSession, tenant_id: UUID, filters: Filters) -> Subquery:
    """(currency, kind, booked_on, entries, amount_minor) of everything the filters match: groups of the
    sums (compacted and changes not yet compacted) when they answer, else one row per transaction."""
    account_ids = await _filtered_accounts(session, tenant_id, filters)

    async def parts(source: Table, entries: ColumnElement[int],
                    *live: ColumnElement[bool]) -> list[Select[Any]]:
        c = source.c
        conditions = await filter_conditions(session, tenant_id, filters, source)
        rows = (select(c.currency, c.kind, c.booked_on, entries.label("entries"), c.amount_minor)
                .where(c.tenant_id == tenant_id, *live, *conditions))
        if account_ids is None:
            return [rows]
        # An account's own side and the transfers arriving in it apart, rather than one OR: each side
        # reads its own index (the account's covers kind, amount and currency: no row is read).
        return [rows.where(c.account_id.in_(account_ids)),
                rows.where(c.counter_account_id.in_(account_ids), c.account_id.not_in(account_ids))]

    if sums_answer(filters):
        sums, changes = totals.transaction_sums, totals.transaction_sum_changes
        return union_all(*await parts(sums, sums.c.entries),
                         *await parts(changes, changes.c.entries)).subquery()
    return union_all(*await parts(transactions, literal(1), LIVE)).subquery()


async def search_totals(session: AsyncSession, tenant_id: UUID, filters: Filters) -> list[Totals]:
    """Count and sums of the whole filtered set, per currency."""
    m = (await _matching(session, tenant_id, filters)).c

    def total(kind: str) -> Any:
        return func.coalesce(func.sum(case((m.kind == kind, m.amount_minor), else_=0)), 0)

    query = (select(m.currency, func.sum(m.entries), total("income"), total("expense"), total("transfer"))
             .group_by(m.currency).having(func.sum(m.entries) != 0).order_by(m.currency))
    return [Totals(c, int(n), int(i), int(e), int(x)) for c, n, i, e, x in await session.execute(query)]


async def list_transactions(session: AsyncSession, tenant_id: UUID, *, account_id: UUID | None = None,
                            limit: int = 50) -> list[TransactionRow]:
    """Newest first: by booking date, then by when they were recorded."""
    filters = Filters(account_ids=(account_id,)) if account_id is not None else Filters()
    return await search_transactions(session, tenant_id, filters, limit=limit)


async def account_transactions(session: AsyncSession, tenant_id: UUID, account_id: UUID, *, up_to: date,
                               statuses: Sequence[str], limit: int | None = None) -> list[TransactionRow]:
    """The live transactions into or out of an account booked by `up_to` in those cleared states,
    oldest first."""
    t = transactions.c
    rows = (await session.execute(
        _transactions_query(tenant_id)
        .where(or_(t.account_id == account_id, t.counter_account_id == account_id), t.booked_on <= up_to,
               t.status.in_(list(statuses)))
        .order_by(t.booked_on, t.recorded_at, t.id).limit(limit))).all()
    return await _with_splits(session, tenant_id, [TransactionRow(*row) for row in rows])


async def get_transaction(session: AsyncSession, tenant_id: UUID, transaction_id: UUID, *,
                          splits: bool = True) -> TransactionRow | None:
    """A transaction's row; `splits=False` when the caller knows it has none (a round trip fewer)."""
    row = (await session.execute(
        _transactions_query(tenant_id).where(transactions.c.id == transaction_id)
    )).first()
    if row is None:
        return None
    found = TransactionRow(*row)
    return (await _with_splits(session, tenant_id, [found]))[0] if splits else found


async def _with_splits(session: AsyncSession, tenant_id: UUID,
                       rows: list[TransactionRow]) -> list[TransactionRow]:
    if not rows:
        return rows
    s = transaction_splits.c
    found = await session.execute(
        select(s.transaction_id, s.category_id, s.amount_minor, s.note)
        .where(s.tenant_id == tenant_id, s.transaction_id.in_([r.id for r in rows]))
        .order_by(s.transaction_id, s.position))
    by_transaction: dict[UUID, list[SplitRow]] = defaultdict(list)
    for transaction_id, *split in found:
        by_transaction[transaction_id].append(SplitRow(*split))
    return [TransactionRow(**{**r.__dict__, "splits": by_transaction[r.id]}) if r.id in by_transaction else r
            for r in rows]


@dataclass(frozen=True)
class RecurringRow:
    id: UUID
    schedule: dict[str, Any]
    cancelled: bool
    next_due_on: date | None
    version: int


_RECURRING_COLUMNS = (recurring.c.id, recurring.c.schedule, recurring.c.cancelled, recurring.c.next_due_on,
                      recurring.c.version)


async def list_recurring(session: AsyncSession, tenant_id: UUID, *,
                         include_cancelled: bool = True) -> list[RecurringRow]:
    query = select(*_RECURRING_COLUMNS).where(recurring.c.tenant_id == tenant_id)
    if not include_cancelled:
        query = query.where(~recurring.c.cancelled)
    rows = await session.execute(query.order_by(recurring.c.cancelled, recurring.c.next_due_on.nulls_last(),
                                                recurring.c.name, recurring.c.id))
    return [RecurringRow(*row) for row in rows]


async def get_recurring(session: AsyncSession, tenant_id: UUID, schedule_id: UUID) -> RecurringRow | None:
    row = (await session.execute(select(*_RECURRING_COLUMNS).where(
        recurring.c.tenant_id == tenant_id, recurring.c.id == schedule_id))).first()
    return RecurringRow(*row) if row else None


# --- currencies ----------------------------------------------------------------------------------------

async def base_currency(session: AsyncSession, tenant_id: UUID) -> str | None:
    return (await session.execute(select(households.c.base_currency)
                                  .where(households.c.tenant_id == tenant_id))).scalar()


async def rate_table(session: AsyncSession, tenant_id: UUID, up_to: date) -> RateTable:
    """The household's rates up to a day (every pair: households keep a handful of currencies)."""
    r = exchange_rates.c
    rows = await session.execute(select(r.on, r.base, r.quote, r.rate)
                                 .where(r.tenant_id == tenant_id, r.on <= up_to))
    return RateTable(Rate(on, base, quote, Decimal(rate)) for on, base, quote, rate in rows)


@dataclass(frozen=True)
class Converted:
    currency: str
    amount_minor: int
    missing_rates: list[str]


async def net_worth_in(session: AsyncSession, tenant_id: UUID, as_of: date, currency: str) -> Converted:
    """Net worth in one currency: each currency's total at the rate of the day (`missing_rates`: the
    currencies without a rate by then, left out)."""
    table = await rate_table(session, tenant_id, as_of)
    total, missing = 0, []
    for code, amount in (await net_worth(session, tenant_id, as_of)).items():
        converted = table.convert(amount, code, currency, as_of)
        if converted is None:
            missing.append(code)
        else:
            total += converted
    return Converted(currency, total, missing)


@dataclass(frozen=True)
class ConvertedTotals:
    currency: str
    income_minor: int
    expense_minor: int
    missing_rates: list[str]


async def totals_in(session: AsyncSession, tenant_id: UUID, filters: Filters,
                    currency: str) -> ConvertedTotals:
    """Income and expense of the filtered set in one currency, each day's sums at that day's rate."""
    m = (await _matching(session, tenant_id, filters)).c
    rows = (await session.execute(
        select(m.currency, m.kind, m.booked_on, func.sum(m.amount_minor))
        .where(m.kind.in_(("income", "expense")))
        .group_by(m.currency, m.kind, m.booked_on))).all()
    table = await rate_table(session, tenant_id, max((r[2] for r in rows), default=date.min))
    sums = {"income": 0, "expense": 0}
    missing: set[str] = set()
    for code, kind, day, amount in rows:
        converted = table.convert(int(amount), code, currency, day)
        if converted is None:
            missing.add(code)
        else:
            sums[kind] += converted
    return ConvertedTotals(currency, sums["income"], sums["expense"], sorted(missing))
