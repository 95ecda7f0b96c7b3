"""The categories a statement file itself gives its rows: a Quicken or other app's QIF keeps each
row's category (`L` lines, `Food:Groceries`) and the parts of split rows (`S`/`$`). Those are the
person's own choices in the app the file comes from, so they are kept: matched to the household's
categories by name, and the ones it lacks created when the import is confirmed.

Matching, for a row of a kind (money out: expense, in: income): a category of that kind whose group and
name are the path's last two segments (`Food:Groceries` → group Food, name Groceries), else whose name is
the whole path, else whose name is the last segment. A category created for the file takes the path's
last segment as its name, the segments before as its group (else "Imported"), and the kind of most of
the money booked on it. A row whose category is of the other kind only (a refund in a QIF) keeps none
from the file: the rules and the categoriser may still give it one."""

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from uuid import UUID, uuid5

from sqlalchemy.ext.asyncio import AsyncSession

from tally_ledger import repository, store
from tally_ledger.domain import Category
from tally_ledger.importers.rows import StatementRow
from tally_ledger.repository import Context
from tallykit.contracts.ledger import CategoryKind, Split
from tallykit.settings import ServiceSettings

GROUP_OF_NEW = "Imported"


def _kind(amount_minor: int) -> CategoryKind:
    return CategoryKind.income if amount_minor > 0 else CategoryKind.expense


def _segments(path: str) -> list[str]:
    return [part.strip() for part in path.split(":") if part.strip()]


def _named(rows: Iterable[StatementRow]) -> dict[str, int]:
    """Every category path the rows name (their own or their parts'), with the money booked on it."""
    money: dict[str, int] = defaultdict(int)
    for row in rows:
        for part in row.splits:
            if part.category.strip():
                money[part.category.strip()] += part.amount_minor
        if row.category.strip():  # a split row's own category is kept for when its parts cannot be
            money[row.category.strip()] += row.amount_minor
    return dict(money)


@dataclass(frozen=True)
class FileCategories:
    """The household's categories for the paths a file names, per kind."""

    found: dict[tuple[str, CategoryKind], Category]

    def of(self, path: str, amount_minor: int) -> Category | None:
        return self.found.get((path.strip(), _kind(amount_minor)))

    def splits(self, row: StatementRow) -> tuple[tuple[Split, ...], tuple[Category, ...]] | None:
        """A split row's parts on their categories, when every part has one of the row's kind."""
        if len(row.splits) < 2:
            return None
        parts = [(part, self.of(part.category, row.amount_minor)) for part in row.splits]
        if any(c is None or (p.amount_minor > 0) != (row.amount_minor > 0) or p.amount_minor == 0
               for p, c in parts):
            return None
        return (tuple(Split(category_id=c.id, amount_minor=abs(p.amount_minor), note=p.memo[:200])
                      for p, c in parts if c is not None),
                tuple(c for _, c in parts if c is not None))


def _match(path: str, kind: CategoryKind, existing: Sequence[store.CategoryRow]) -> UUID | None:
    segments = _segments(path)
    if not segments:
        return None
    usable = [c for c in existing if c.kind == kind.value and not c.archived and c.merged_into is None]
    name, group = segments[-1].lower(), (segments[-2].lower() if len(segments) > 1 else None)
    keys: list[Callable[[store.CategoryRow], bool]] = [
        lambda c: group is not None and c.group.lower() == group and c.name.lower() == name,
        lambda c: c.name.lower() == path.strip().lower(),
        lambda c: c.name.lower() == name]
    for wanted in keys:
        found = [c.id for c in usable if wanted(c)]
        if len(found) == 1:
            return found[0]
    return None


async def resolve(session: AsyncSession, ctx: Context, rows: Sequence[StatementRow], *,
                  settings: ServiceSettings | None = None) -> FileCategories:
    """The categories for the paths the rows name. With `settings` (at confirm), the missing ones are
    created in this session's transaction; without (a preview), only those the household has."""
    named = _named(rows)
    if not named:
        return FileCategories({})
    existing = await store.list_categories(session, ctx.tenant_id)
    found: dict[tuple[str, CategoryKind], Category] = {}
    created: list[Category] = []
    for path, money in named.items():
        kinds = [_kind(money)] + [k for k in CategoryKind if k != _kind(money)]
        for kind in kinds:
            match = _match(path, kind, existing)
            if match is not None:
                found[(path, kind)] = await repository.load(session, ctx, Category, match)
        if settings is not None and (path, kinds[0]) not in found:
            segments = _segments(path)
            if not segments:
                continue
            # The same id for the same path in the household: an import confirmed again after a failure
            # finds the category the first attempt created.
            category_id = uuid5(ctx.tenant_id, f"statement-category:{kinds[0].value}:{path.lower()}")
            category = await repository.load(session, ctx, Category, category_id)
            if not category.exists:
                group = (":".join(segments[:-1]) or GROUP_OF_NEW)[:100]
                category = Category.create(category_id, name=segments[-1][:100], group=group, kind=kinds[0])
                created.append(category)
            found[(path, kinds[0])] = category
    if created:
        assert settings is not None
        await repository.save(session, settings, ctx, *created)
    return FileCategories(found)
