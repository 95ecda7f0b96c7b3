"""The budgets of a household history: the Actual export made by Actual's own code (tests/histories) is
read with the amounts Actual's budget sheet shows per category and month, and the migration hands them to
the budget service as events (ledger.BudgetsImported, one per category) carrying the migration's id;
importing again writes none, a later export adds only its new months, undo takes them out
(ledger.ImportedBudgetsRemoved) and a new import brings them back."""

import json
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from sqlalchemy import text

from tally_ledger.history import actual, budgets, write
from tally_ledger.history.model import History, HistoryAccount, HistoryBudget, HistoryCategory
from tally_ledger.repository import Context
from tallykit.contracts.ledger import AccountKind, BudgetMonth, CategoryKind
from tallystack.polling import finished

from .ledger_helpers import stored_envelopes

HISTORIES = Path(__file__).parent / "histories"
EXPORT = HISTORIES / "actual_household.zip"
FIGURES: dict[str, Any] = json.loads((HISTORIES / "actual_household.json").read_text())
LAST = "2025-04"  # the last month the fixture budgets anything in


def _month(text: str) -> date:
    return date(int(text[:4]), int(text[5:]), 1)


def _expected() -> dict[str, list[tuple[str, int]]]:
    """Actual's budgeted amount per category, from the first month above nothing to the last month."""
    found = {}
    for name, months in FIGURES["budgeted_minor"].items():
        first = min(m for m, amount in months.items() if amount)
        found[name] = [(m, amount) for m, amount in sorted(months.items()) if first <= m <= LAST]
    return found


async def _names(ledger: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, str]:
    listed = (await ledger.get("/categories", params={"include_archived": True}, headers=headers)).json()
    return {c["id"]: c["name"] for c in listed["items"]}


def _by_name(events: list[dict[str, Any]], names: dict[str, str]) -> dict[str, list[tuple[str, int]]]:
    return {names[e["data"]["category_id"]]: [(m["month"][:7], m["amount_minor"])
                                              for m in e["data"]["months"]] for e in events}


async def _import(ledger: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await ledger.post("/histories", files={"file": ("budget.zip", EXPORT.read_bytes())},
                                 data={"currency": "EUR"}, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json()["migration"])


def test_the_reader_gives_what_actual_budgeted_on_its_live_expense_categories() -> None:
    history = actual.read(EXPORT)
    names = {c.source_id: c.name for c in history.categories}
    months = {names[category]: [(m.month.strftime("%Y-%m"), m.amount_minor) for m in found]
              for category, found in budgets.months_of(history.budgets).items()}
    assert months == _expected()
    # Snacks was budgeted, then deleted into Groceries: Actual's sheet counts its rows nowhere, and
    # neither does the reader. Travel's carryover flag made empty rows up to months ahead: read, but
    # they are months the person had not budgeted yet.
    assert "Snacks" not in {names.get(b.category_id) for b in history.budgets}
    assert max(b.month for b in history.budgets) > _month(LAST)
    # Envelope budgeting keeps what is left in the category: every month carries over.
    assert all(b.rollover for b in history.budgets)
    assert history.skipped == {}


def test_months_run_from_the_first_budgeted_to_the_last_month_budgeted_anywhere() -> None:
    def b(category: str, month: str, amount: int, rollover: bool = False) -> HistoryBudget:
        return HistoryBudget(category, _month(month), amount, rollover)

    found = budgets.months_of([
        b("food", "2024-11", 0), b("food", "2024-12", 300, True), b("food", "2025-02", 0),
        b("food", "2025-03", 350), b("fun", "2025-02", 40), b("fun", "2025-04", 0), b("fun", "2025-09", 0),
        b("none", "2025-01", 0),
    ])
    assert found == {
        # Nothing before the first amount; January without a row is budgeted nothing, keeping December's
        # rollover; after March (the last amount of any category) nothing.
        "food": [BudgetMonth(month=date(2024, 12, 1), amount_minor=300, rollover=True),
                 BudgetMonth(month=date(2025, 1, 1), amount_minor=0, rollover=True),
                 BudgetMonth(month=date(2025, 2, 1), amount_minor=0, rollover=False),
                 BudgetMonth(month=date(2025, 3, 1), amount_minor=350, rollover=False)],
        "fun": [BudgetMonth(month=date(2025, 2, 1), amount_minor=40),
                BudgetMonth(month=date(2025, 3, 1), amount_minor=0)],
    }
    assert budgets.months_of([b("food", "2025-01", 0)]) == {}
    with pytest.raises(ValueError, match="more than 1200 months"):
        budgets.months_of([b("food", "1900-01", 10), b("food", "2001-01", 10)])


async def test_the_migration_hands_actual_s_budgets_to_the_budget_service(
    ledger: httpx.AsyncClient, household: Callable[[], Any],
    give_defaults: Callable[[Any], Awaitable[dict[str, dict[str, Any]]]],
) -> None:
    home = household()
    await give_defaults(home)
    migration = await _import(ledger, home.headers)
    assert migration["counts"]["budgets_new"] == 5
    names = await _names(ledger, home.headers)
    events = await stored_envelopes(ledger, home.tenant_id, "ledger.BudgetsImported")
    assert _by_name(events, names) == _expected()
    for event in events:
        assert event["correlation_id"] == migration["id"]
        assert event["data"]["migration_id"] == migration["id"]
        assert (event["data"]["currency"], event["data"]["source"]) == ("EUR", "Actual Budget export")
        assert event["stream_version"] == 1
        assert all(m["rollover"] for m in event["data"]["months"])
    app: Any = ledger.app  # type: ignore[attr-defined]
    async with app.state.db.read() as session:
        published = (await session.execute(text(
            "SELECT count(*) FROM outbox JOIN event_store USING (event_id) WHERE topic LIKE '%ledger.events' "
            "AND type = 'ledger.BudgetsImported' AND tenant_id = :t"), {"t": home.tenant_id})).scalar_one()
    assert published == 5

    again = await _import(ledger, home.headers)
    assert again["counts"]["budgets_new"] == 0
    assert len(await stored_envelopes(ledger, home.tenant_id, "ledger.BudgetsImported")) == 5


async def test_undo_takes_the_budget_months_out_and_a_new_import_brings_them_back(
    ledger: httpx.AsyncClient, household: Callable[[], Any],
) -> None:
    home, other = household(), household()
    theirs = await _import(ledger, other.headers)
    migration = await _import(ledger, home.headers)
    assert (await ledger.post(f"/histories/{migration['id']}/undo", headers=home.headers)).status_code == 202
    undone = await finished(ledger, f"/histories/{migration['id']}", home.headers, running=("undoing",))
    assert (undone["status"], undone["counts"]["budgets_undone"]) == ("undone", 5)
    names = await _names(ledger, home.headers)
    removed = await stored_envelopes(ledger, home.tenant_id, "ledger.ImportedBudgetsRemoved")
    assert {names[e["data"]["category_id"]]: [m[:7] for m in e["data"]["months"]] for e in removed} == {
        name: [m for m, _ in months] for name, months in _expected().items()}
    assert {e["data"]["migration_id"] for e in removed} == {migration["id"]}
    assert len({e["correlation_id"] for e in removed} - {migration["id"]}) == 1  # the undo's own id
    # Run again (an undo taken up after it stopped), nothing is left to take out.
    app: Any = ledger.app  # type: ignore[attr-defined]
    ctx = Context(tenant_id=home.tenant_id, actor=str(home.owner_id), correlation_id=UUID(int=1))
    async with app.state.db.transaction() as session:
        assert await budgets.take_out(session, app.state.settings, ctx, UUID(migration["id"])) == 0
    # The other household's budgets are its own, untouched.
    assert await stored_envelopes(ledger, other.tenant_id, "ledger.ImportedBudgetsRemoved") == []
    assert len(await stored_envelopes(ledger, other.tenant_id, "ledger.BudgetsImported")) == 5
    assert theirs["counts"]["budgets_new"] == 5

    back = await _import(ledger, home.headers)
    assert back["counts"]["budgets_new"] == 5
    events = await stored_envelopes(ledger, home.tenant_id, "ledger.BudgetsImported")
    assert _by_name(events[5:], names) == _expected()
    assert {e["stream_version"] for e in events[5:]} == {3}


async def test_a_later_export_adds_its_new_months_and_each_undo_takes_out_its_own(
    ledger: httpx.AsyncClient, household: Callable[[], Any],
) -> None:
    app: Any = ledger.app  # type: ignore[attr-defined]
    db, settings = app.state.db, app.state.settings
    home = household()
    ctx = Context(tenant_id=home.tenant_id, actor=str(home.owner_id))

    def history(*amounts: int) -> History:
        return History(
            source="test", name="Budget", app="test",
            accounts=[HistoryAccount("a", "Wallet", AccountKind.cash, 0, closed=False)],
            categories=[HistoryCategory("f", "Food", "Daily", CategoryKind.expense),
                        HistoryCategory("p", "Pay", "Income", CategoryKind.income)],
            budgets=[HistoryBudget("f", date(2025, n, 1), amount) for n, amount in enumerate(amounts, 1)]
            + [HistoryBudget("p", date(2025, 1, 1), 999)])

    first = await write.migrate(db, settings, ctx, history(300, 300), filename="early", currency="EUR")
    later = await write.migrate(db, settings, ctx, history(300, 300, 320, 0), filename="late", currency="EUR")
    assert (first.counts["budgets_new"], later.counts["budgets_new"]) == (1, 1)
    imported = await stored_envelopes(ledger, home.tenant_id, "ledger.BudgetsImported")
    assert [[(m["month"], m["amount_minor"]) for m in e["data"]["months"]] for e in imported] == [
        [("2025-01-01", 300), ("2025-02-01", 300)], [("2025-03-01", 320)]]
    assert [e["correlation_id"] for e in imported] == [str(first.id), str(later.id)]

    await write.undo(db, settings, ctx, first.id)
    [removed] = await stored_envelopes(ledger, home.tenant_id, "ledger.ImportedBudgetsRemoved")
    assert (removed["data"]["months"], removed["stream_version"]) == (["2025-01-01", "2025-02-01"], 3)
    # The first months come again with a third import; the later export's months are still there.
    third = await write.migrate(db, settings, ctx, history(300, 300, 320, 0), filename="again",
                                currency="EUR")
    assert third.counts["budgets_new"] == 1
    last = (await stored_envelopes(ledger, home.tenant_id, "ledger.BudgetsImported"))[-1]
    assert [m["month"] for m in last["data"]["months"]] == ["2025-01-01", "2025-02-01"]
