"""The learned categoriser in the service: its tables, the worker that trains it, the per-process cache
of trained ones, and the plan an import follows to categorise its rows (docs/categorisation.md).

**Counting what changed.** The worker follows the event store by position (`categoriser_cursor`, one row;
a replica that finds it locked leaves the counting to the one holding it) and adds up, per household, the
events that change what the categoriser learns from: a transaction recorded with a category, a category
changed by an amendment (a person's correction, a rule applied, an undo), a categorised transaction
deleted or restored. One grouped query per 10,000 events; nothing on the path of a write.

**Training.** A household is due when it has `categoriser_retrain_after` such changes since its last
training, any change at all while it has no model yet (or only a payee history), or any change once it
made none for `categoriser_quiet_s` (its last corrections are learnt when it stops, not twenty later). A
replica claims it with a lease (`training_since`, 15 minutes, `FOR UPDATE SKIP LOCKED`), reads its
newest categorised transactions, trains outside any database transaction — in a `spawn` process pool,
since training holds the interpreter lock for seconds (featurising is Python; a thread would stall every
request of the replica meanwhile), whose process stops when no training came for `worker_pool_idle_s` —
and stores the result with the next version. Changes that came in during training stay counted. A
household erased meanwhile stores nothing (the update finds no row).

**Suggesting.** A trained categoriser is cached per process with its version; a request reads the
household's current version (one primary-key lookup) and loads the stored one only when it moved.
"""

import asyncio
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Literal
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import tables
from tally_ledger.categoriser.features import Example, warm
from tally_ledger.categoriser.model import MIN_EXAMPLES, Categoriser, Suggestion, train_to_bytes
from tally_ledger.domain import Category, StatementEntry
from tally_ledger.importers.rows import StatementRow
from tally_ledger.repository import Context, load
from tally_ledger.settings import LedgerSettings
from tallykit.contracts.ledger import CategorisedBy
from tallykit.db import Database
from tallykit.logging import get_logger
from tallykit.periodic import every
from tallykit.tables import uuid_column
from tallykit.workers import WorkerPool

log = get_logger(__name__)

DEFAULT_ACCEPT_ABOVE_PCT = 90
LEASE_MINUTES = 15
_LEASE_OVER = f"now() - interval '{LEASE_MINUTES} minutes'"
COUNT_BATCH = 10_000
CACHED_MODELS = 32

metadata = MetaData()

# One row per household that has categorised anything: its setting, what changed since the last
# training, and what that training gave.
categorisers = Table(
    "categorisers",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    # Suggestions at or above this confidence are recorded when an import is confirmed.
    Column("accept_above_pct", SmallInteger, nullable=False, server_default=str(DEFAULT_ACCEPT_ABOVE_PCT)),
    Column("changes", Integer, nullable=False, server_default="0"),
    Column("changed_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False, server_default="0"),  # of the stored categoriser; 0: none
    Column("method", String(20)),
    Column("examples", Integer, nullable=False, server_default="0"),
    Column("categories", Integer, nullable=False, server_default="0"),
    Column("trained_at", DateTime(timezone=True)),
    Column("training_seconds", Float),
    Column("training_since", DateTime(timezone=True)),  # a replica's lease while it trains
)

# The trained categoriser itself (`Categoriser.to_bytes`: arrays and JSON, never pickle).
categoriser_models = Table(
    "categoriser_models",
    metadata,
    uuid_column("tenant_id", primary_key=True),
    Column("version", Integer, nullable=False),
    Column("model", LargeBinary, nullable=False),
)

# How far the worker has counted the event store (one row, id 1).
categoriser_cursor = Table(
    "categoriser_cursor",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("position", BigInteger, nullable=False),
)

TENANT_TABLES = (categoriser_models, categorisers)


def _now() -> datetime:
    return datetime.now(UTC)


# --- settings and state --------------------------------------------------------------------------------

@dataclass(frozen=True)
class State:
    accept_above_pct: int = DEFAULT_ACCEPT_ABOVE_PCT
    changes: int = 0
    version: int = 0
    method: str | None = None
    examples: int = 0
    categories: int = 0
    trained_at: datetime | None = None
    training_seconds: float | None = None


_STATE_COLUMNS = [categorisers.c[name] for name in State.__dataclass_fields__]


async def state(session: AsyncSession, tenant_id: UUID) -> State:
    row = (await session.execute(select(*_STATE_COLUMNS).where(categorisers.c.tenant_id == tenant_id))
           ).first()
    return State(*row) if row else State()


async def set_accept_above(session: AsyncSession, tenant_id: UUID, pct: int) -> State:
    new = pg_insert(categorisers).values(tenant_id=tenant_id, accept_above_pct=pct)
    await session.execute(new.on_conflict_do_update(index_elements=[categorisers.c.tenant_id],
                                                    set_={"accept_above_pct": pct}))
    return await state(session, tenant_id)


# --- counting what changed -------------------------------------------------------------------------------

_COUNT = text("""
WITH batch AS (
    SELECT position, tenant_id, type, envelope -> 'data' AS data FROM event_store
    WHERE position > :cursor ORDER BY position LIMIT :limit
)
SELECT tenant_id, max(position) AS last, count(*) FILTER (WHERE
       (type = 'ledger.TransactionRecorded' AND data ->> 'category_id' IS NOT NULL)
    OR (type = 'ledger.TransactionAmended'
        AND (data -> 'before' ->> 'category_id') IS DISTINCT FROM (data -> 'after' ->> 'category_id'))
    OR (type = 'ledger.TransactionDeleted' AND data -> 'before' ->> 'category_id' IS NOT NULL)
    OR (type = 'ledger.TransactionRestored' AND data -> 'after' ->> 'category_id' IS NOT NULL)
) AS changes, count(*) AS events
FROM batch GROUP BY tenant_id
""")


async def count_changes(db: Database) -> int:
    """Add the event store's new events that change what households' categorisers learn from to their
    counts; returns how many events were read (0 also when another replica is counting)."""
    read = 0
    while True:
        async with db.transaction() as session:
            cursor = (await session.execute(select(categoriser_cursor.c.position).where(
                categoriser_cursor.c.id == 1).with_for_update(skip_locked=True))).scalar()
            if cursor is None:
                return read
            rows = (await session.execute(_COUNT, {"cursor": cursor, "limit": COUNT_BATCH})).all()
            if not rows:
                return read
            changed = [{"tenant_id": tenant, "changes": changes, "changed_at": _now()}
                       for tenant, _, changes, _ in rows if changes]
            if changed:
                new = pg_insert(categorisers).values(changed)
                await session.execute(new.on_conflict_do_update(
                    index_elements=[categorisers.c.tenant_id],
                    set_={"changes": categorisers.c.changes + new.excluded.changes,
                          "changed_at": new.excluded.changed_at}))
            events = int(sum(n for *_, n in rows))
            await session.execute(update(categoriser_cursor).where(categoriser_cursor.c.id == 1)
                                  .values(position=max(last for _, last, _, _ in rows)))
            read += events
        if events < COUNT_BATCH:
            return read


# --- the examples ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Usable:
    """The household's categories new entries may use (category id → is it an income category), and
    where merged ones went."""

    kinds: dict[str, bool]
    merged: dict[str, str]
    names: dict[str, str]

    def resolve(self, category: str) -> str:
        seen = {category}
        while category in self.merged and self.merged[category] not in seen:
            category = self.merged[category]
            seen.add(category)
        return category


async def usable_categories(session: AsyncSession, tenant_id: UUID) -> Usable:
    c = tables.categories.c
    rows = await session.execute(select(c.id, c.name, c.kind, c.archived, c.merged_into)
                                 .where(c.tenant_id == tenant_id))
    kinds, merged, names = {}, {}, {}
    for category_id, name, kind, archived, merged_into in rows:
        names[str(category_id)] = name
        if merged_into is not None:
            merged[str(category_id)] = str(merged_into)
        elif not archived:
            kinds[str(category_id)] = kind == "income"
    return Usable(kinds, merged, names)


async def load_examples(session: AsyncSession, tenant_id: UUID,
                        limit: int) -> tuple[list[Example], list[str]]:
    """The household's newest categorised, live expenses and incomes (oldest first), and their categories
    (a merged category counts as the one it went into). Split transactions are left out."""
    usable = await usable_categories(session, tenant_id)
    t = tables.transactions.c
    rows = (await session.execute(
        select(t.payee, t.note, t.kind, t.amount_minor, t.account_id, t.booked_on, t.category_id)
        .where(t.tenant_id == tenant_id, ~t.deleted, t.category_id.is_not(None),
               t.kind.in_(("expense", "income")))
        .order_by(t.booked_on.desc(), t.recorded_at.desc(), t.id.desc()).limit(limit))).all()
    examples, labels = [], []
    for payee, note, kind, amount, account_id, booked_on, category_id in reversed(rows):
        examples.append(Example(payee, note, amount if kind == "income" else -amount, str(account_id),
                                booked_on))
        labels.append(usable.resolve(str(category_id)))
    return examples, labels


# --- training ---------------------------------------------------------------------------------------------

class Trainer:
    """The background worker: counts changes, then trains each household that is due, one at a time."""

    def __init__(self, db: Database, settings: LedgerSettings) -> None:
        self.db, self.settings = db, settings
        self._workers = WorkerPool(settings.categoriser_processes, settings.worker_pool_idle_s)

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await every(self.settings.categoriser_interval_s, self.run_once, stop,
                        failed="categoriser_run_failed")
        finally:
            # A training under way is simply not stored (its household is still counted as due).
            self._workers.close()

    async def run_once(self) -> int:
        """Count, then train every household that is due; returns how many were trained."""
        await count_changes(self.db)
        trained = 0
        while (claimed := await self._claim()) is not None:
            tenant_id, changes = claimed
            try:
                await self.train(tenant_id, changes)
                trained += 1
            except Exception:
                # Its lease stays: it is tried again once the lease runs out, not at every run.
                log.exception("categoriser_training_failed", tenant_id=str(tenant_id))
        return trained

    async def _claim(self) -> tuple[UUID, int] | None:
        c = categorisers.c
        due = (select(c.tenant_id).where(
            c.changes > 0,
            (c.changes >= self.settings.categoriser_retrain_after) | c.method.is_distinct_from("model")
            | (c.changed_at < func.now() - timedelta(seconds=self.settings.categoriser_quiet_s)),
            c.training_since.is_(None) | (c.training_since < text(_LEASE_OVER)))
            .order_by(c.changed_at).limit(1).with_for_update(skip_locked=True).scalar_subquery())
        async with self.db.transaction() as session:
            row = (await session.execute(update(categorisers).where(c.tenant_id == due)
                                         .values(training_since=text("now()"))
                                         .returning(c.tenant_id, c.changes))).first()
        return (row[0], row[1]) if row else None

    async def train(self, tenant_id: UUID, changes: int = 0) -> int | None:
        """Train the household's categoriser now and store it; returns its version (None: it has nothing
        to learn from, or was erased meanwhile). `changes` of its count are settled by it."""
        async with self.db.read() as session:
            examples, labels = await load_examples(session, tenant_id, self.settings.categoriser_max_examples)
        c = categorisers.c
        if not examples:
            async with self.db.transaction() as session:
                await session.execute(update(categorisers).where(c.tenant_id == tenant_id).values(
                    changes=text(f"greatest(changes - {int(changes)}, 0)"), training_since=None))
            return None
        model_kind: Literal["logistic"] = "logistic"
        if self.settings.categoriser_processes == 0 or len(examples) < MIN_EXAMPLES:
            data = await asyncio.to_thread(train_to_bytes, examples, labels, model_kind)
        else:
            data = await self._workers.run(train_to_bytes, examples, labels, model_kind)
        trained = Categoriser.from_bytes(data)
        async with self.db.transaction() as session:
            version: int | None = (await session.execute(update(categorisers).where(
                    c.tenant_id == tenant_id).values(
                version=c.version + 1, changes=text(f"greatest(changes - {int(changes)}, 0)"),
                method=trained.method, examples=trained.examples, categories=len(trained.classes),
                trained_at=_now(), training_seconds=trained.seconds, training_since=None,
            ).returning(c.version))).scalar()
            if version is None:
                return None  # erased while it trained
            new = pg_insert(categoriser_models).values(tenant_id=tenant_id, version=version, model=data)
            await session.execute(new.on_conflict_do_update(
                index_elements=[categoriser_models.c.tenant_id],
                set_={"version": version, "model": data}))
        MODELS.put(tenant_id, version, trained)
        if trained.linear is not None:
            # Suggestions are coming: the process imports scikit-learn's hashing now (seconds, once), not
            # on the first one's request.
            await asyncio.to_thread(warm)
        log.info("categoriser_trained", tenant_id=str(tenant_id), version=version, method=trained.method,
                 examples=trained.examples, seconds=round(trained.seconds, 2), bytes=len(data))
        return int(version)


# --- the cache of trained categorisers --------------------------------------------------------------------

class Models:
    """Trained categorisers by household, with their version, the most recently used kept."""

    def __init__(self, size: int = CACHED_MODELS) -> None:
        self.size = size
        self._kept: OrderedDict[UUID, tuple[int, Categoriser]] = OrderedDict()

    def put(self, tenant_id: UUID, version: int, categoriser: Categoriser) -> None:
        self._kept[tenant_id] = (version, categoriser)
        self._kept.move_to_end(tenant_id)
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)

    async def current(self, session: AsyncSession, tenant_id: UUID, version: int) -> Categoriser | None:
        """The household's categoriser of this version (None: it has none)."""
        if version == 0:
            return None
        kept = self._kept.get(tenant_id)
        if kept is not None and kept[0] == version:
            self._kept.move_to_end(tenant_id)
            return kept[1]
        m = categoriser_models.c
        data = (await session.execute(select(m.model).where(m.tenant_id == tenant_id, m.version == version))
                ).scalar()
        if data is None:
            return None  # a newer one replaced it just now; the next request finds that
        categoriser = await asyncio.to_thread(Categoriser.from_bytes, data)
        self.put(tenant_id, version, categoriser)
        return categoriser


MODELS = Models()


# --- what an import does with suggestions ------------------------------------------------------------------

@dataclass
class Plan:
    """How an import categorises the rows its rules left open: the person's choices per row (`where` →
    category, None: leave it), then — when `accept` — suggestions at or above the household's threshold."""

    categoriser: Categoriser | None
    usable: Usable
    accept_above: float
    accept: bool = True
    choices: Mapping[str, str | None] = field(default_factory=dict)
    categories: Mapping[str, Category] = field(default_factory=dict)  # what recording needs of them

    def suggest(self, examples: Sequence[Example], *, top: int = 1) -> list[list[Suggestion]]:
        if self.categoriser is None:
            return [[] for _ in examples]
        found = self.categoriser.suggest(examples, self._usable_now(), top=top)
        return [[replace(s, category=self.usable.resolve(s.category)) for s in row] for row in found]

    def _usable_now(self) -> dict[str, bool]:
        # A category merged since training counts as the one it went into.
        kinds = dict(self.usable.kinds)
        for merged in self.usable.merged:
            target = self.usable.resolve(merged)
            if target in self.usable.kinds:
                kinds[merged] = self.usable.kinds[target]
        return kinds

    def categorise(self, account_id: UUID, rows: Sequence[StatementRow],
                   entries: Sequence[StatementEntry], chosen_by: Sequence[CategorisedBy | None],
                   ) -> tuple[list[StatementEntry], list[CategorisedBy | None]]:
        """The entries with the categories chosen or accepted, and who chose each (`chosen_by`: who chose
        the entries' categories so far)."""
        out, by = list(entries), list(chosen_by)
        open_rows: list[int] = []
        for n, row in enumerate(rows):
            if row.where in self.choices:
                chosen = self.choices[row.where]
                out[n] = replace(out[n], category=self.categories[chosen] if chosen else None, splits=(),
                                 split_categories=())
                by[n] = CategorisedBy.person if chosen else None
            elif out[n].category is None and not out[n].splits and self.accept:
                open_rows.append(n)
        if open_rows and self.categoriser is not None:
            examples = [example_of(account_id, rows[n], out[n]) for n in open_rows]
            for n, found in zip(open_rows, self.suggest(examples), strict=True):
                best = found[0] if found else None
                if best and best.confidence >= self.accept_above and best.category in self.categories:
                    out[n] = replace(out[n], category=self.categories[best.category])
                    by[n] = CategorisedBy.suggestion
        return out, by


def example_of(account_id: UUID, row: StatementRow, entry: StatementEntry) -> Example:
    """What the categoriser reads of a statement row, after payee merges and rules."""
    return Example(entry.payee, entry.note, row.amount_minor, str(account_id), row.booked_on)


async def plan(session: AsyncSession, ctx: Context, *, choices: Mapping[str, str | None] | None = None,
               accept: bool = True, for_recording: bool = False) -> Plan:
    """The household's plan; `for_recording` also loads the categories it may record."""
    current = await state(session, ctx.tenant_id)
    usable = await usable_categories(session, ctx.tenant_id)
    categoriser = await MODELS.current(session, ctx.tenant_id, current.version)
    categories: dict[str, Category] = {}
    if for_recording:
        wanted = {c for c in (choices or {}).values() if c}
        if accept and categoriser is not None:
            wanted |= {c for c in usable.kinds}
        for category_id in sorted(wanted):
            categories[category_id] = await load(session, ctx, Category, UUID(category_id))
    return Plan(categoriser, usable, current.accept_above_pct / 100, accept, dict(choices or {}), categories)
