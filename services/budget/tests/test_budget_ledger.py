"""Every ledger event that moves money, handed to the budget consumer: spent stays right, alerts re-arm."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from sqlalchemy import text

from tallykit.contracts.auth import (
    HouseholdSettingsChanged,
    MemberJoined,
    TenantCreated,
    UserDeleted,
    UserRegistered,
    WeekStart,
)
from tallykit.contracts.ledger import (
    AccountKind,
    AccountOpened,
    CategoryMerged,
    CategoryRenamed,
    EntryKind,
    Split,
    TransactionAmended,
    TransactionDeleted,
    TransactionKind,
    TransactionRecorded,
    TransactionRestored,
    TransactionState,
    TransferRecorded,
)

if TYPE_CHECKING:
    from conftest import Budget


def _state(category: UUID | None, amount: int, day: date, **extra: Any) -> TransactionState:
    return TransactionState(
        account_id=extra.pop("account_id", uuid4()),
        kind=extra.pop("kind", EntryKind.expense),
        amount_minor=amount,
        currency="EUR",
        booked_on=day,
        category_id=category,
        **extra,
    )


async def _spent(budget: Budget, **params: str) -> list[int]:
    items = (await budget.client.get("/budgets", params=params, headers=budget.auth())).json()["items"]
    return [i["spent_minor"] for i in items]


def _alerts(events: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    return [
        (e["type"].removeprefix("budget."), e["data"]["threshold_percent"], e["data"]["spent_minor"])
        for e in events
        if "threshold_percent" in e["data"]
    ]


async def test_amend_delete_restore_and_transfers(budget: Budget) -> None:
    food = await budget.category("Food")
    await budget.set(food, 10_000)
    today = budget.today()
    tx = uuid4()
    recorded = _state(food, 5_000, today)
    assert await budget.deliver(
        budget.event(
            TransactionRecorded(
                account_id=recorded.account_id,
                kind=TransactionKind.expense,
                amount_minor=5_000,
                currency="EUR",
                category_id=food,
                booked_on=today,
            ),
            tx,
        )
    )
    assert await _spent(budget) == [5_000]
    amended = recorded.model_copy(update={"amount_minor": 8_500})
    assert await budget.deliver(budget.event(TransactionAmended(before=recorded, after=amended), tx, 2))
    assert await _spent(budget) == [8_500]
    assert await budget.deliver(budget.event(TransactionDeleted(before=amended), tx, 3))
    assert await _spent(budget) == [0]
    assert await budget.deliver(budget.event(TransactionRestored(after=amended), tx, 4))
    assert await _spent(budget) == [8_500]
    # Moved to last month: this month's spending drops, last month's grows.
    moved = amended.model_copy(update={"booked_on": today.replace(day=1) - timedelta(days=1)})
    assert await budget.deliver(budget.event(TransactionAmended(before=amended, after=moved), tx, 5))
    assert await _spent(budget) == [0]
    # A transfer between own accounts is never spending.
    transfer = TransferRecorded(
        from_account_id=uuid4(), to_account_id=uuid4(), amount_minor=9_999, currency="EUR", booked_on=today
    )
    assert await budget.deliver(budget.event(transfer))
    assert await _spent(budget) == [0]
    # 80 fired at 8,500 (the amendment), re-armed by the deletion, fired again on the restore (a new
    # crossing), re-armed when the amendment moved it to last month, and nothing else.
    assert _alerts(await budget.published()) == [
        ("BudgetThresholdReached", 80, 8_500),
        ("BudgetThresholdReached", 80, 8_500),
    ]


async def test_splits_count_each_part_on_its_category(budget: Budget) -> None:
    food, home = await budget.category("Food"), await budget.category("Home")
    await budget.set(food, 10_000)
    await budget.set(home, 10_000)
    split = TransactionRecorded(
        account_id=uuid4(),
        kind=TransactionKind.expense,
        amount_minor=7_000,
        currency="EUR",
        booked_on=budget.today(),
        splits=(Split(category_id=food, amount_minor=2_500), Split(category_id=home, amount_minor=4_500)),
    )
    assert await budget.deliver(budget.event(split))
    items = (await budget.client.get("/budgets", headers=budget.auth())).json()["items"]
    assert {i["category_name"]: i["spent_minor"] for i in items} == {"Food": 2_500, "Home": 4_500}


async def test_refund_rearms_and_crossing_again_alerts_again(budget: Budget) -> None:
    food = await budget.category("Food")
    await budget.set(food, 10_000)
    await budget.spend(food, 8_500)  # 85 %: 80
    await budget.spend(food, 2_000)  # 105 %: 100
    refund = await budget.spend(food, 3_000, kind="income")  # 75 %: both re-arm, nothing fires
    assert await budget.deliver(refund) is False
    await budget.spend(food, 600)  # 81 %: 80 again
    await budget.spend(food, 2_000)  # 101 %: 100 again
    await budget.spend(food, 100)  # still over: nothing
    assert _alerts(await budget.published()) == [
        ("BudgetThresholdReached", 80, 8_500),
        ("BudgetExceeded", 100, 10_500),
        ("BudgetThresholdReached", 80, 8_100),
        ("BudgetExceeded", 100, 10_100),
    ]
    listed = (await budget.client.get("/alerts", headers=budget.auth())).json()["items"]
    assert [(a["type"], a["threshold"], a["spent_minor"]) for a in listed] == [
        ("budget.BudgetThresholdReached", 80, 8_500),
        ("budget.BudgetExceeded", 100, 10_500),
        ("budget.BudgetThresholdReached", 80, 8_100),
        ("budget.BudgetExceeded", 100, 10_100),
    ]


async def test_a_merge_moves_spending_to_the_target_in_any_order(budget: Budget) -> None:
    market, groceries = await budget.category("Market"), await budget.category("Groceries")
    await budget.set(groceries, 10_000)
    await budget.spend(market, 3_000)
    await budget.spend(groceries, 1_000)
    assert await budget.deliver(budget.event(CategoryMerged(into_category_id=groceries), market, 2))
    assert await _spent(budget) == [4_000]
    await budget.spend(market, 500)  # a late event still on the merged category counts on the target
    assert await _spent(budget) == [4_500]


async def test_a_renamed_group_moves_a_category_between_group_budgets(budget: Budget) -> None:
    fuel = await budget.category("Fuel", group="Car")
    await budget.category("Tyres", group="Car")
    response = await budget.client.post(
        "/budgets",
        headers=budget.auth(),
        json={"group": "Car", "amount_minor": 10_000, "currency": "EUR", "pace_alerts": False},
    )
    assert response.status_code == 201, response.text
    await budget.spend(fuel, 2_000)
    assert await _spent(budget) == [2_000]
    assert await budget.deliver(budget.event(CategoryRenamed(name="Fuel", group="Travel"), fuel, 2))
    assert await _spent(budget) == [0]
    # An older rename arriving late does not undo the newer one.
    assert await budget.deliver(budget.event(CategoryRenamed(name="Petrol", group="Car"), fuel, 1))
    assert await _spent(budget) == [0]


async def test_household_settings_and_deleted_households(budget: Budget) -> None:
    settings = HouseholdSettingsChanged(
        name="Home", base_currency="CHF", time_zone="Europe/Zurich", week_start=WeekStart.sunday
    )
    assert await budget.deliver(budget.event(settings, budget.tenant))
    food = await budget.category("Food")
    response = await budget.client.post(
        "/budgets",
        headers=budget.auth(),
        json={"category_id": str(food), "amount_minor": 7_000, "period": "week"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["currency"] == "CHF"  # the household's
    assert date.fromisoformat(body["period_start"]).weekday() == 6  # weeks start on Sunday here
    await budget.spend(food, 100, currency="CHF")
    account = uuid4()
    opened = AccountOpened(
        name="Savings", kind=AccountKind.savings, currency="CHF", opening_balance_minor=500
    )
    assert await budget.deliver(budget.event(opened, account))
    goal = await budget.client.post(
        "/goals",
        headers=budget.auth(),
        json={"name": "Bike", "target_minor": 1_000, "account_id": str(account)},
    )
    assert goal.status_code == 201, goal.text

    deleted = UserDeleted(user_id=budget.user, deleted_household_ids=(budget.tenant,))
    assert await budget.deliver(budget.event(deleted, budget.user))
    # Its ledger events that arrive after the erasure (another topic) change nothing.
    assert await budget.deliver(budget.event(opened, uuid4()))
    await budget.spend(food, 100, currency="CHF")
    async with budget.db.read() as session:
        for table in ("flows", "accounts", "account_flows", "alert_states"):
            held = await session.execute(text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t"),
                                         {"t": budget.tenant})
            assert held.scalar() == 0, table
    assert (await budget.client.get("/budgets", headers=budget.auth())).json()["items"] == []
    assert (await budget.client.get("/goals", headers=budget.auth())).json()["items"] == []
    assert (await budget.client.get("/alerts", headers=budget.auth())).json()["items"] == []
    again = await budget.client.post(
        "/budgets",
        headers=budget.auth(),
        json={"category_id": str(food), "amount_minor": 7_000, "currency": "CHF"},
    )
    assert again.status_code == 404  # the category is forgotten too


async def test_a_new_household_has_its_settings_from_its_creation(budget: Budget) -> None:
    """Issue #16: the events a new household is created with (sign-up's UserRegistered, TenantCreated,
    MemberJoined; TenantCreated carries every setting) are enough for a budget without a currency, in
    weeks that start on the household's day. The HouseholdSettingsChanged that follows (when a household
    is founded with settings, or changed) wins over them, and nothing brings the first ones back."""
    owner = budget.user
    email = "ada@example.org"
    created = TenantCreated(
        name="Ada's household",
        owner_user_id=owner,
        base_currency="CHF",
        time_zone="Europe/Zurich",
        week_start=WeekStart.sunday,
    )
    for payload, stream, version in (
        (UserRegistered(user_id=owner, email=email, display_name="Ada"), owner, 1),
        (created, budget.tenant, 1),
        (MemberJoined(user_id=owner, email=email, display_name="Ada", role="owner"), budget.tenant, 2),
    ):
        await budget.deliver(budget.event(payload, stream, version))
    food = await budget.category("Food")
    response = await budget.client.post(
        "/budgets",
        headers=budget.auth(),
        json={"category_id": str(food), "amount_minor": 7_000, "period": "week", "pace_alerts": False},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["currency"] == "CHF"  # the household's, from TenantCreated
    assert date.fromisoformat(body["period_start"]).weekday() == 6  # its weeks start on Sunday

    changed = HouseholdSettingsChanged(
        name="Home", base_currency="EUR", time_zone="Europe/Zurich", week_start=WeekStart.monday
    )
    assert await budget.deliver(budget.event(changed, budget.tenant, 3))
    # A creation event seen again (another id: the inbox lets it through) does not undo the change.
    assert await budget.deliver(budget.event(created, budget.tenant, 1))
    rent = await budget.category("Rent")
    response = await budget.client.post(
        "/budgets",
        headers=budget.auth(),
        json={"category_id": str(rent), "amount_minor": 9_000, "period": "week", "pace_alerts": False},
    )
    assert response.status_code == 201, response.text
    assert response.json()["currency"] == "EUR"
    assert date.fromisoformat(response.json()["period_start"]).weekday() == 0
