"""The read model and the reports over a fixed household, against figures computed by hand: transfers,
refunds, splits, an amendment, a deletion and a restore, a payee merge, tags, a second currency. Then
the same events in reverse order with duplicates (another tenant) give the same report, and a rebuild
from the journal gives the same figures."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import pytest

from tally_analytics import projections, reports, store
from tally_analytics.domain import today_in
from tallykit.contracts.auth import (
    HouseholdSettingsChanged,
    MemberJoined,
    TenantCreated,
    UserDeleted,
    UserRegistered,
)
from tallykit.contracts.budget import BudgetRemoved, BudgetSet

if TYPE_CHECKING:
    from conftest import Analytics, Deliver, HouseholdEvents


def lines(report: dict[str, Any], key: str) -> list[tuple[str, str, int]]:
    return [(x["side"], x["label"], x["amount_minor"]) for x in report[key]]


async def test_march_report_hand_computed(
    analytics: Analytics, household_events: HouseholdEvents, deliver_all: Deliver
) -> None:
    await deliver_all(analytics, household_events, analytics.tenant)
    march = await analytics.get("/reports/summary", period="2025-03")
    assert march["currency"] == "EUR"
    assert march["currencies"] == ["EUR", "USD"]
    # Income 300,000.00; spending: rent 120,000 + groceries (8,000 - 1,500 refund + 6,000 split part +
    # 2,000 restored) 14,500 + dining (4,000 split part via merged Snacks + 3,500 amended) 7,500.
    assert march["totals"] == {
        "income_minor": 300_000,
        "expense_minor": 142_000,
        "net_minor": 158_000,
        "savings_rate": 0.5267,
    }
    assert lines(march, "by_category") == [
        ("expense", "Rent", 120_000),
        ("expense", "Groceries", 14_500),
        ("expense", "Dining", 7_500),
        ("income", "Salary", 300_000),
    ]
    assert lines(march, "by_group") == [
        ("expense", "Housing", 120_000),
        ("expense", "Everyday", 22_000),
        ("income", "Income", 300_000),
    ]
    # Aldi was merged into Lidl: 8,000 - 1,500 + 2,000.
    assert lines(march, "by_payee") == [
        ("expense", "Landlord", 120_000),
        ("expense", "Costco", 10_000),
        ("expense", "Lidl", 8_500),
        ("expense", "Pizzeria", 3_500),
        ("income", "ACME", 300_000),
    ]
    assert lines(march, "by_tag") == [("expense", "food", 18_000), ("expense", "trip", 10_000)]
    assert march["vs_previous"]["period"]["label"] == "2025-02"
    assert march["vs_previous"]["totals"]["expense_minor"] == 5_000
    assert march["vs_previous"]["expense_change_pct"] == 2740.0
    assert march["vs_last_year"]["period"]["label"] == "2024-03"
    assert march["vs_last_year"]["totals"] == {
        "income_minor": 0,
        "expense_minor": 4_000,
        "net_minor": -4_000,
        "savings_rate": None,
    }
    assert [(c["label"], c["change_minor"]) for c in march["top_changes"]] == [
        ("Rent", 120_000),
        ("Groceries", 9_500),
        ("Dining", 7_500),
    ]
    usd = await analytics.get("/reports/summary", period="2025-03", currency="USD")
    assert usd["totals"]["expense_minor"] == 2_000

    quarter = await analytics.get("/reports/cash-flow", period="2025-Q1", granularity="month")
    assert quarter["granularity"] == "month"
    assert [(p["income_minor"], p["expense_minor"]) for p in quarter["points"]] == [
        (0, 0),
        (300_000, 5_000),
        (300_000, 142_000),
    ]
    weeks = await analytics.get("/reports/cash-flow", period="2025-03", granularity="week")
    assert [(p["start"], p["income_minor"], p["expense_minor"]) for p in weeks["points"]] == [
        ("2025-03-01", 300_000, 120_000),  # Saturday and Sunday: the week is clipped to the month
        ("2025-03-03", 0, 6_500),  # groceries less the refund
        ("2025-03-10", 0, 10_000),  # the split
        ("2025-03-17", 0, 5_500),  # amended dining and the restored groceries
        ("2025-03-24", 0, 0),
        ("2025-03-31", 0, 0),
    ]
    # Net worth: openings 600,000; -4,000 (Mar 2024); Feb +295,000; March +158,000 (the transfer moves
    # 50,000 between own accounts and changes nothing).
    worth = await analytics.get("/reports/net-worth", period="2025-Q1", granularity="month")
    assert [p["net_worth_minor"] for p in worth["points"]] == [596_000, 891_000, 1_049_000]
    by_account = {a["name"]: a["balances_minor"] for a in worth["accounts"]}
    assert by_account == {"Checking": [96_000, 391_000, 499_000], "Savings": [500_000, 500_000, 550_000]}

    custom = await analytics.get("/reports/summary", **{"from": "2025-03-05", "to": "2025-03-06"})
    assert custom["totals"]["expense_minor"] == 6_500  # 8,000 less the 1,500 refund
    assert custom["vs_previous"]["period"]["end"] == "2025-03-04"
    monthly = await analytics.get("/reports/monthly", month="2025-03")
    assert {t["currency"]: t["expense_minor"] for t in monthly["totals"]} == {"EUR": 143_500, "USD": 2_000}


async def test_order_and_duplicates_do_not_change_figures_and_rebuild_is_equal(
    analytics: Analytics,
    household_events: HouseholdEvents,
    deliver_all: Deliver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events = household_events
    await deliver_all(analytics, events, analytics.tenant)
    other = uuid4()
    envelopes = [analytics.envelope(p, s, v, tenant=other) for p, s, v in events]
    delivered = [await analytics.deliver(e) for e in reversed(envelopes)]  # every event before its cause
    redelivered = [await analytics.deliver(e) for e in envelopes[::3]]  # the same envelopes again
    assert all(delivered)
    assert not any(redelivered)
    paths = [
        ("/reports/summary", {"period": "2025-03"}),
        ("/reports/summary", {"period": "2025"}),
        ("/reports/cash-flow", {"period": "2025-03", "granularity": "week"}),
        ("/reports/net-worth", {"period": "2025-Q1", "granularity": "month"}),
    ]
    before = [await analytics.get(p, **q) for p, q in paths]
    assert [await analytics.get(p, other, **q) for p, q in paths] == before

    # A rebuild reads the journal a page at a time: pages of 4 put boundaries between events of every kind.
    monkeypatch.setattr(projections, "REBUILD_PAGE", 4)
    rebuilt = await analytics.client.post("/rebuild", headers=analytics.auth())
    assert rebuilt.status_code == 200
    assert rebuilt.json()["events_applied"] == len(events)
    assert [await analytics.get(p, **q) for p, q in paths] == before
    viewer = await analytics.client.post(
        "/rebuild", headers=analytics.headers(uuid4(), analytics.tenant, "viewer")
    )
    assert viewer.status_code == 403


async def test_household_settings_and_deletion(
    analytics: Analytics, household_events: HouseholdEvents, deliver_all: Deliver
) -> None:
    await deliver_all(analytics, household_events, analytics.tenant)
    settings = HouseholdSettingsChanged(name="Home", base_currency="USD", time_zone="America/New_York")
    await analytics.deliver(analytics.envelope(settings, analytics.tenant))
    report = await analytics.get("/reports/summary", period="2025-03")
    assert report["currency"] == "USD"
    assert report["totals"]["expense_minor"] == 2_000
    await analytics.deliver(
        analytics.envelope(UserDeleted(user_id=uuid4(), deleted_household_ids=(analytics.tenant,)), uuid4())
    )
    report = await analytics.get("/reports/summary", period="2025-03")
    assert report["totals"]["expense_minor"] == 0
    assert report["by_category"] == []
    # The household's events that arrive after its erasure (from the ledger's topic, which nothing
    # orders against auth's) change nothing: they used to bring its rows back.
    late = [(payload, uuid4(), version) for payload, _, version in household_events]
    await deliver_all(analytics, late, analytics.tenant)
    report = await analytics.get("/reports/summary", period="2025-03")
    assert report["totals"]["expense_minor"] == 0
    assert report["by_category"] == []


async def test_a_new_household_reports_in_its_settings_from_its_creation(analytics: Analytics) -> None:
    """Issue #16: the events a new household is created with (sign-up's UserRegistered, TenantCreated,
    MemberJoined; TenantCreated carries every setting) give its reports its currency and time zone at
    once, even when ledger events about it came first (another topic); the HouseholdSettingsChanged that
    follows wins, and nothing brings the first settings back."""
    tenant, owner, email = analytics.tenant, uuid4(), "ada@example.org"
    # The ledger's default categories (its reaction to TenantCreated) overtook auth's events.
    await analytics.category("Groceries")
    created = TenantCreated(
        name="Ada's household", owner_user_id=owner, base_currency="USD", time_zone="Asia/Tokyo"
    )
    for payload, stream, version in (
        (UserRegistered(user_id=owner, email=email, display_name="Ada"), owner, 1),
        (created, tenant, 1),
        (MemberJoined(user_id=owner, email=email, display_name="Ada", role="owner"), tenant, 2),
    ):
        await analytics.deliver(analytics.envelope(payload, stream, version))  # some are not for analytics

    async def context() -> reports.Context:
        db = analytics.client.app.state.db  # type: ignore[attr-defined]
        async with db.read() as session:
            return await reports.context(session, tenant, None)

    assert (await analytics.get("/reports/summary"))["currency"] == "USD"
    before = today_in("Asia/Tokyo")
    ctx = await context()
    assert (ctx.currency, ctx.time_zone) == ("USD", "Asia/Tokyo")
    assert ctx.today in {before, today_in("Asia/Tokyo")}  # "today" is the household's

    changed = HouseholdSettingsChanged(name="Home", base_currency="EUR", time_zone="Europe/Berlin")
    assert await analytics.deliver(analytics.envelope(changed, tenant, 3))
    # A creation event seen again (another id: the inbox lets it through) does not undo the change.
    assert await analytics.deliver(analytics.envelope(created, tenant, 1))
    assert (await analytics.get("/reports/summary"))["currency"] == "EUR"
    ctx = await context()
    assert (ctx.currency, ctx.time_zone) == ("EUR", "Europe/Berlin")


async def test_isolation_and_validation(
    analytics: Analytics, household_events: HouseholdEvents, deliver_all: Deliver
) -> None:
    await deliver_all(analytics, household_events, analytics.tenant)
    stranger = await analytics.get("/reports/summary", uuid4(), period="2025-03")
    assert stranger["totals"]["expense_minor"] == 0
    assert stranger["by_payee"] == []
    for params in (
        {"period": "2025-13"},
        {"period": "2025-Q5"},
        {"from": "2025-03-10", "to": "2025-03-01"},
        {"from": "2025-03-10"},
        {"period": "2025", "from": "2025-01-01", "to": "2025-01-02"},
        {"from": "2020-01-01", "to": "2025-01-01"},
        {"currency": "eur"},
    ):
        response = await analytics.client.get("/reports/summary", params=params, headers=analytics.auth())
        assert response.status_code in (400, 422), (params, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    too_fine = await analytics.client.get(
        "/reports/cash-flow",
        params={"from": "2022-01-01", "to": "2024-12-31", "granularity": "day"},
        headers=analytics.auth(),
    )
    assert too_fine.status_code in (400, 422)
    assert (await analytics.client.get("/reports/summary")).status_code == 401


async def test_budgets_set_changed_and_removed(analytics: Analytics) -> None:
    """The monthly category budgets forecasts judge: the newest version wins, a removal stays removed
    even when an older set arrives after it; group and weekly budgets are the budget service's."""
    food, budget, weekly = uuid4(), uuid4(), uuid4()

    def budget_set(amount: int, **kw: Any) -> BudgetSet:
        return BudgetSet(category_id=food, category_name="Food", amount_minor=amount, currency="EUR", **kw)

    async def budgets() -> list[tuple[UUID, str, int]]:
        async with analytics.client.app.state.db.read() as session:  # type: ignore[attr-defined]
            return await store.budget_list(session, analytics.tenant)

    await analytics.deliver(analytics.envelope(budget_set(40_000), budget, 1))
    await analytics.deliver(analytics.envelope(budget_set(45_000), budget, 3))
    await analytics.deliver(analytics.envelope(budget_set(41_000), budget, 2))  # older, late
    await analytics.deliver(analytics.envelope(budget_set(9_000, period_kind="week"), weekly, 1))
    assert await budgets() == [(food, "EUR", 45_000)]
    await analytics.deliver(
        analytics.envelope(BudgetRemoved(category_id=food, category_name="Food"), budget, 5)
    )
    await analytics.deliver(analytics.envelope(budget_set(47_000), budget, 4))  # older than the removal
    assert await budgets() == []
