"""Savings goals through HTTP: manual contributions or an account's balance, progress, GoalReached and
GoalBehind events, bad input and isolation."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

import pytest

from tallykit.contracts.ledger import AccountKind, AccountOpened, TransferRecorded

if TYPE_CHECKING:
    from conftest import Budget


async def _goal(budget: Budget, **body: Any) -> dict[str, Any]:
    response = await budget.client.post("/goals", headers=budget.auth(), json={"currency": "EUR", **body})
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def _goal_events(events: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [
        (e["type"].removeprefix("budget."), e["data"]["saved_minor"])
        for e in events
        if "goal_id" in e["data"]
    ]


async def test_manual_contributions_reach_the_goal_once(budget: Budget) -> None:
    today = budget.today()
    target_date = (today.replace(day=1) + timedelta(days=400)).replace(day=1)  # over a year ahead
    goal = await _goal(budget, name="Holiday", target_minor=120_000, target_date=target_date.isoformat())
    assert (goal["saved_minor"], goal["percent"], goal["status"], goal["account_id"]) == (
        0,
        0,
        "on_track",
        None,
    )
    months = (target_date.year - today.year) * 12 + target_date.month - today.month
    assert goal["needed_per_month_minor"] == -(-120_000 // months)

    url = f"/goals/{goal['id']}/contributions"
    first = await budget.client.post(
        url, headers=budget.auth(), json={"amount_minor": 100_000, "note": "bonus"}
    )
    assert first.status_code == 201, first.text
    assert (first.json()["saved_minor"], first.json()["percent"]) == (100_000, 83)
    reached = (await budget.client.post(url, headers=budget.auth(), json={"amount_minor": 20_000})).json()
    assert (reached["status"], reached["percent"], reached["needed_per_month_minor"]) == ("reached", 100, 0)
    await budget.client.post(url, headers=budget.auth(), json={"amount_minor": 5_000})  # still reached
    await budget.client.post(url, headers=budget.auth(), json={"amount_minor": -30_000})  # below again
    await budget.client.post(url, headers=budget.auth(), json={"amount_minor": 30_000})  # reached again
    assert _goal_events(await budget.published()) == [("GoalReached", 120_000), ("GoalReached", 125_000)]

    detail = (await budget.client.get(f"/goals/{goal['id']}", headers=budget.auth())).json()
    assert [c["amount_minor"] for c in detail["contributions"]] == [100_000, 20_000, 5_000, -30_000, 30_000]
    assert detail["history"][-1] == {"day": today.isoformat(), "saved_minor": 125_000}
    listed = (await budget.client.get("/goals", headers=budget.auth())).json()["items"]
    assert [(g["name"], g["saved_minor"]) for g in listed] == [("Holiday", 125_000)]


async def test_a_goal_that_follows_an_account(budget: Budget) -> None:
    savings, checking = uuid4(), uuid4()
    opened = AccountOpened(
        name="Savings", kind=AccountKind.savings, currency="EUR", opening_balance_minor=10_000
    )
    assert await budget.deliver(budget.event(opened, savings))
    goal = await _goal(budget, name="Car", target_minor=50_000, account_id=str(savings))
    assert (goal["saved_minor"], goal["account_name"], goal["status"]) == (10_000, "Savings", "no_date")

    move = TransferRecorded(
        from_account_id=checking,
        to_account_id=savings,
        amount_minor=40_000,
        currency="EUR",
        booked_on=budget.today(),
    )
    assert await budget.deliver(budget.event(move))
    detail = (await budget.client.get(f"/goals/{goal['id']}", headers=budget.auth())).json()
    assert (detail["saved_minor"], detail["status"]) == (50_000, "reached")
    assert _goal_events(await budget.published()) == [("GoalReached", 50_000)]
    # Its balance comes from the ledger: contributions by hand are refused.
    manual = await budget.client.post(
        f"/goals/{goal['id']}/contributions", headers=budget.auth(), json={"amount_minor": 1}
    )
    assert manual.status_code == 409


async def test_a_goal_behind_its_pace_says_so_once_a_month(budget: Budget) -> None:
    today = budget.today()
    goal = await _goal(budget, name="Roof", target_minor=100_000, target_date=today.isoformat())
    # Due today with nothing saved: behind, and all of it is needed now.
    assert (goal["status"], goal["needed_per_month_minor"]) == ("behind", 100_000)
    url = f"/goals/{goal['id']}/contributions"
    await budget.client.post(url, headers=budget.auth(), json={"amount_minor": 1_000})
    events = [e for e in await budget.published() if e["type"] == "budget.GoalBehind"]
    assert len(events) == 1
    assert events[0]["data"]["needed_per_month_minor"] == 100_000
    changed = await budget.client.patch(
        f"/goals/{goal['id']}", headers=budget.auth(), json={"name": "New roof"}
    )
    assert changed.json()["name"] == "New roof"
    assert (await budget.client.delete(f"/goals/{goal['id']}", headers=budget.auth())).status_code == 204
    assert (await budget.client.get(f"/goals/{goal['id']}", headers=budget.auth())).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "target_minor": 1_000},
        {"name": "x", "target_minor": 0},
        {"name": "x", "target_minor": 10.5},
        {"name": "x", "target_minor": 1_000, "target_date": "2000-01-01"},
        {"name": "x", "target_minor": 1_000, "currency": "EURO"},
        {"name": "x", "target_minor": 1_000, "colour": "red"},
        {"name": "x" * 101, "target_minor": 1_000},
    ],
)
async def test_bad_goals_are_problems(budget: Budget, body: dict[str, Any]) -> None:
    response = await budget.client.post("/goals", headers=budget.auth(), json={"currency": "EUR", **body})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert (await budget.client.get("/goals", headers=budget.auth())).json()["items"] == []


async def test_goal_accounts_must_exist_and_match_the_currency(budget: Budget) -> None:
    assert await budget.deliver(
        budget.event(
            AccountOpened(name="Dollars", kind=AccountKind.savings, currency="USD", opening_balance_minor=0),
            UUID(int=7),
        )
    )
    unknown = await budget.client.post(
        "/goals",
        headers=budget.auth(),
        json={"name": "x", "target_minor": 5, "currency": "EUR", "account_id": str(uuid4())},
    )
    assert unknown.status_code == 404
    other_currency = await budget.client.post(
        "/goals",
        headers=budget.auth(),
        json={"name": "x", "target_minor": 5, "currency": "EUR", "account_id": str(UUID(int=7))},
    )
    assert other_currency.status_code == 422


async def test_goals_of_other_households_are_not_there(budget: Budget) -> None:
    goal = await _goal(budget, name="Holiday", target_minor=1_000)
    other = budget.auth(tenant=uuid4())
    assert (await budget.client.get(f"/goals/{goal['id']}", headers=other)).status_code == 404
    assert (
        await budget.client.patch(f"/goals/{goal['id']}", headers=other, json={"name": "Mine"})
    ).status_code == 404
    assert (await budget.client.delete(f"/goals/{goal['id']}", headers=other)).status_code == 404
    contribution = await budget.client.post(
        f"/goals/{goal['id']}/contributions", headers=other, json={"amount_minor": 5}
    )
    assert contribution.status_code == 404
    assert (await budget.client.get("/goals", headers=other)).json()["items"] == []
    viewer = budget.auth(role="viewer")
    assert (
        await budget.client.post(
            "/goals", headers=viewer, json={"name": "x", "target_minor": 5, "currency": "EUR"}
        )
    ).status_code == 403
    assert (await budget.client.get(f"/goals/{goal['id']}", headers=budget.auth())).json()["saved_minor"] == 0


async def _account(budget: Budget, kind: AccountKind, opening: int, tenant: UUID | None = None) -> UUID:
    account_id = uuid4()
    opened = AccountOpened(name=kind.value.title(), kind=kind, currency="EUR", opening_balance_minor=opening)
    envelope = budget.event(opened, account_id)
    if tenant is not None:
        envelope = envelope.model_copy(update={"tenant_id": tenant})
    assert await budget.deliver(envelope)
    return account_id


def _payment(budget: Budget, to: UUID, amount_minor: int, days_ago: int = 0) -> Any:
    move = TransferRecorded(
        from_account_id=uuid4(),
        to_account_id=to,
        amount_minor=amount_minor,
        currency="EUR",
        booked_on=budget.today() - timedelta(days=days_ago),
    )
    return budget.event(move)


async def test_a_debt_goal_pays_a_loan_off_to_zero(budget: Budget) -> None:
    today = budget.today()
    loan = await _account(budget, AccountKind.loan, -400_000)
    # Paid 500.00 two months ago and a month ago: 3,000.00 owed when the goal is set.
    assert await budget.deliver(_payment(budget, loan, 50_000, days_ago=60))
    assert await budget.deliver(_payment(budget, loan, 50_000, days_ago=30))
    target_date = (today.replace(day=1) + timedelta(days=400)).replace(day=1)
    goal = await _goal(
        budget, name="Car loan", kind="debt", account_id=str(loan), target_date=target_date.isoformat()
    )
    months = (target_date.year - today.year) * 12 + target_date.month - today.month
    shown = ("kind", "target_minor", "saved_minor", "owed_minor", "percent", "status")
    assert {k: goal[k] for k in shown} == {
        "kind": "debt",
        "target_minor": 300_000,
        "saved_minor": 0,
        "owed_minor": 300_000,
        "percent": 0,
        "status": "on_track",
    }
    assert goal["needed_per_month_minor"] == -(-300_000 // months)
    # The pace of the account's last 60 days (one payment after the first day): 500.00 in 60 days.
    assert goal["pace_per_month_minor"] == 50_000 * 365 // (12 * 60)
    assert goal["projected_date"] == (today + timedelta(days=-(-300_000 * 60 // 50_000))).isoformat()

    assert await budget.deliver(_payment(budget, loan, 100_000))
    paid = (await budget.client.get(f"/goals/{goal['id']}", headers=budget.auth())).json()
    assert (paid["saved_minor"], paid["owed_minor"], paid["percent"]) == (100_000, 200_000, 33)
    assert paid["needed_per_month_minor"] == -(-200_000 // months)
    assert paid["history"][-1] == {"day": today.isoformat(), "saved_minor": 100_000}
    assert await budget.deliver(_payment(budget, loan, 200_000))
    done = (await budget.client.get(f"/goals/{goal['id']}", headers=budget.auth())).json()
    assert (done["status"], done["owed_minor"], done["needed_per_month_minor"]) == ("reached", 0, 0)
    reached = [e["data"] for e in await budget.published() if e["type"] == "budget.GoalReached"]
    assert [(d["kind"], d["saved_minor"], d["target_minor"]) for d in reached] == [("debt", 300_000, 300_000)]
    # A debt goal's target is the debt it started with, and it keeps its account.
    for change in ({"target_minor": 5}, {"account_id": None}):
        refused = await budget.client.patch(f"/goals/{goal['id']}", headers=budget.auth(), json=change)
        assert refused.status_code == 422, refused.text
    manual = await budget.client.post(
        f"/goals/{goal['id']}/contributions", headers=budget.auth(), json={"amount_minor": 1}
    )
    assert manual.status_code == 409
    # Moved to a credit card: its target is what that card owes now.
    card = await _account(budget, AccountKind.credit_card, -75_000)
    moved = await budget.client.patch(
        f"/goals/{goal['id']}", headers=budget.auth(), json={"account_id": str(card)}
    )
    assert (moved.json()["target_minor"], moved.json()["owed_minor"], moved.json()["status"]) == (
        75_000,
        75_000,
        "on_track",
    )


async def test_bad_debt_goals_are_refused_and_change_nothing(budget: Budget) -> None:
    savings = await _account(budget, AccountKind.savings, -1_000)  # overdrawn, but not a debt
    paid_off = await _account(budget, AccountKind.loan, 0)
    theirs = await _account(budget, AccountKind.loan, -90_000, tenant=uuid4())
    loan = await _account(budget, AccountKind.loan, -90_000)
    cases = [
        ({"account_id": str(savings)}, 422),
        ({"account_id": str(paid_off)}, 422),
        ({"account_id": str(theirs)}, 404),
        ({"account_id": str(uuid4())}, 404),
        ({}, 422),  # which account?
        ({"account_id": str(loan), "target_minor": 5_000}, 422),  # the target is what it owes
        ({"account_id": str(loan), "currency": "USD"}, 422),
        ({"account_id": str(loan), "kind": "mortgage"}, 422),
    ]
    for body, status in cases:
        response = await budget.client.post(
            "/goals", headers=budget.auth(), json={"name": "Debt", "kind": "debt", **body}
        )
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert (await budget.client.get("/goals", headers=budget.auth())).json()["items"] == []
    assert [e for e in await budget.published() if "goal_id" in e["data"]] == []
    # A debt goal cannot be moved to an asset account or to another household's account either.
    goal = await _goal(budget, name="Loan", kind="debt", account_id=str(loan))
    for account, status in ((savings, 422), (theirs, 404)):
        refused = await budget.client.patch(
            f"/goals/{goal['id']}", headers=budget.auth(), json={"account_id": str(account)}
        )
        assert refused.status_code == status, refused.text
    kept = (await budget.client.get(f"/goals/{goal['id']}", headers=budget.auth())).json()
    assert (kept["account_id"], kept["target_minor"], kept["owed_minor"]) == (str(loan), 90_000, 90_000)
    # Another household sees none of it.
    other = budget.auth(tenant=uuid4())
    assert (await budget.client.get(f"/goals/{goal['id']}", headers=other)).status_code == 404
    assert (await budget.client.get("/goals", headers=other)).json()["items"] == []
    assert (
        await budget.client.patch(f"/goals/{goal['id']}", headers=other, json={"name": "Mine"})
    ).status_code == 404
