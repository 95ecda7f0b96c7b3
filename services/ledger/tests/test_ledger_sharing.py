"""Shared expenses between members: one member pays for several, split equally, by shares, by exact
amounts or for one; balances say who owes whom, a settle-up counts against it; the parts follow the
expense when it is changed, and a deleted expense stops counting. Bad input changes nothing; another
household sees nothing; a viewer sees and cannot record."""

from collections.abc import Callable
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tally_ledger import projections
from tally_ledger.sharing import SharedExpense, allocate, balances, who_pays_whom
from tallykit.consumer import EventConsumer
from tallykit.contracts import registry
from tallykit.contracts.auth import MemberJoined, MemberLeft
from tallykit.contracts.ledger import MemberPart, MembersSettledUp

from .ledger_helpers import open_account

A, B, C = UUID(int=1), UUID(int=2), UUID(int=3)


# --- the arithmetic --------------------------------------------------------------------------------------

def test_allocate_divides_by_the_largest_remainders() -> None:
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(10_000, [2, 1, 1]) == [5_000, 2_500, 2_500]
    assert allocate(5, [1, 1]) == [3, 2]
    assert allocate(7_00, [3_00, 4_00]) == [3_00, 4_00]


@given(st.integers(0, 10**12), st.lists(st.integers(1, 1000), min_size=1, max_size=12))
def test_allocate_always_adds_up_and_never_strays_more_than_a_unit(total: int, weights: list[int]) -> None:
    parts = allocate(total, weights)
    assert sum(parts) == total
    for part, weight in zip(parts, weights, strict=True):
        assert abs(part - total * weight / sum(weights)) < 1


def test_balances_and_the_fewest_payments() -> None:
    everyone = tuple(MemberPart(user_id=m, weight=1) for m in (A, B, C))
    dinner = SharedExpense(uuid4(), 90_00, "EUR", A, everyone)
    taxi = SharedExpense(uuid4(), 20_00, "EUR", B, (MemberPart(user_id=C, weight=1),))
    net = balances([dinner, taxi], [MembersSettledUp(from_user_id=C, to_user_id=A, amount_minor=10_00,
                                                     currency="EUR", booked_on=date(2025, 3, 1))])
    assert net == {"EUR": {A: 50_00, B: -10_00, C: -40_00}}
    payments = [(p.from_user_id, p.to_user_id, p.amount_minor) for p in who_pays_whom(net)]
    assert payments == [(C, A, 40_00), (B, A, 10_00)]
    assert who_pays_whom({"EUR": {}}) == []


# --- through the API -------------------------------------------------------------------------------------

async def _join(consumer: EventConsumer, tenant_id: UUID, user_id: UUID, name: str) -> None:
    joined = MemberJoined(user_id=user_id, email=f"{name.lower()}@example.com", display_name=name,
                          role="member")
    envelope = registry.envelope(joined, tenant_id=tenant_id, stream_id=tenant_id, stream_version=1,
                                 actor=str(user_id))
    assert await consumer.handle(envelope.to_json()) is True


async def _expense(ledger: httpx.AsyncClient, headers: dict[str, str], amount: int,
                   category_id: str | None = None) -> dict[str, Any]:
    account = await open_account(ledger, headers, name="Joint")
    body: dict[str, Any] = {"account_id": account["id"], "kind": "expense", "amount_minor": amount,
                            "booked_on": "2025-03-14", "payee": "Trattoria"}
    if category_id:
        body["category_id"] = category_id
    response = await ledger.post("/transactions", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _parts(*members: UUID, weights: tuple[int, ...] | None = None) -> list[dict[str, Any]]:
    return [{"user_id": str(m), "weight": w} for m, w in zip(members, weights or (1,) * len(members),
                                                             strict=True)]


@pytest.fixture
def trio(household: Callable[[], Any]) -> Any:
    return household()


async def test_an_expense_shared_three_ways_and_a_settle_up(
    ledger: httpx.AsyncClient, trio: Any, auth_consumer: EventConsumer, give_defaults: Any,
) -> None:
    home = trio
    categories = await give_defaults(home)
    owner, bea, cem = home.owner_id, uuid4(), uuid4()
    for user, name in ((owner, "Ana"), (bea, "Bea"), (cem, "Cem")):
        await _join(auth_consumer, home.tenant_id, user, name)
    dinner = await _expense(ledger, home.headers, 90_01, categories["Eating out"]["id"])

    shared = await ledger.put(f"/transactions/{dinner['id']}/sharing", headers=home.headers, json={
        "paid_by": str(owner), "method": "equally", "parts": _parts(owner, bea, cem)})
    assert shared.status_code == 200, shared.text
    assert [p["amount_minor"] for p in shared.json()["parts"]] == [30_01, 30_00, 30_00]

    view = (await ledger.get("/shared", headers=home.headers)).json()
    assert [m["display_name"] for m in view["members"]] == ["Ana", "Bea", "Cem"]
    assert {b["user_id"]: b["balance_minor"] for b in view["balances"]} == {
        str(owner): 60_00, str(bea): -30_00, str(cem): -30_00}
    paying = {p["from_user_id"]: p["amount_minor"] for p in view["settle_up"]}
    assert paying == {str(bea): 30_00, str(cem): 30_00}

    settled = await ledger.post("/settlements", headers=home.headers, json={
        "from_user_id": str(bea), "to_user_id": str(owner), "amount_minor": 30_00, "currency": "EUR",
        "booked_on": "2025-03-20", "note": "cash"})
    assert settled.status_code == 201, settled.text
    view = (await ledger.get("/shared", headers=home.headers)).json()
    after = {b["user_id"]: b["balance_minor"] for b in view["balances"]}
    assert after == {str(owner): 30_00, str(cem): -30_00}
    assert [(p["from_user_id"], p["to_user_id"]) for p in view["settle_up"]] == [(str(cem), str(owner))]

    # By shares, 2:1:1, and then the amount is corrected: the parts follow it.
    again = await ledger.put(f"/transactions/{dinner['id']}/sharing", headers=home.headers, json={
        "paid_by": str(owner), "method": "by_shares", "parts": _parts(owner, bea, cem, weights=(2, 1, 1))})
    assert [p["amount_minor"] for p in again.json()["parts"]] == [45_01, 22_50, 22_50]
    amended = await ledger.patch(f"/transactions/{dinner['id']}", headers=home.headers,
                                 json={"amount_minor": 100_00, "expected_version": dinner["version"]})
    assert amended.status_code == 200, amended.text
    got = (await ledger.get(f"/transactions/{dinner['id']}/sharing", headers=home.headers)).json()
    assert [p["amount_minor"] for p in got["parts"]] == [50_00, 25_00, 25_00]
    share = (await ledger.get("/shared/spending", params={"user_id": str(bea), "month": "2025-03"},
                              headers=home.headers)).json()
    assert share["items"] == [{"category_id": categories["Eating out"]["id"], "currency": "EUR",
                               "amount_minor": 25_00}]

    # A member who left still owes what they owe.
    left = registry.envelope(MemberLeft(user_id=cem), tenant_id=home.tenant_id, stream_id=home.tenant_id,
                             stream_version=2, actor=str(owner))
    assert await auth_consumer.handle(left.to_json()) is True
    view = (await ledger.get("/shared", headers=home.headers)).json()
    assert {m["display_name"]: m["active"] for m in view["members"]}["Cem"] is False
    assert {b["user_id"]: b["balance_minor"] for b in view["balances"]}[str(cem)] == -25_00

    # Rebuilt from the events, the figures are the same; deleted, the expense no longer counts.
    app: Any = ledger.app  # type: ignore[attr-defined]
    await projections.rebuild(app.state.db)
    assert (await ledger.get("/shared", headers=home.headers)).json()["balances"] == view["balances"]
    current = (await ledger.get(f"/transactions/{dinner['id']}", headers=home.headers)).json()
    deleted = await ledger.delete(f"/transactions/{dinner['id']}", headers=home.headers,
                                  params={"expected_version": current["version"]})
    assert deleted.status_code in (200, 204), deleted.text
    view = (await ledger.get("/shared", headers=home.headers)).json()
    assert {b["user_id"]: b["balance_minor"] for b in view["balances"]} == {
        str(owner): -30_00, str(bea): 30_00}  # only the settle-up is left


async def test_bad_sharing_changes_nothing_and_another_household_sees_nothing(
    ledger: httpx.AsyncClient, household: Callable[[], Any], auth_consumer: EventConsumer,
) -> None:
    home, other = household(), household()
    bea = uuid4()
    for user, name in ((home.owner_id, "Ana"), (bea, "Bea")):
        await _join(auth_consumer, home.tenant_id, user, name)
    expense = await _expense(ledger, home.headers, 40_00)
    path = f"/transactions/{expense['id']}/sharing"
    stranger = uuid4()
    bad = [
        ({"paid_by": str(stranger), "method": "equally", "parts": _parts(home.owner_id, bea)}, 422,
         "is not a member"),
        ({"paid_by": str(home.owner_id), "method": "equally", "parts": _parts(bea, stranger)}, 422,
         "is not a member"),
        ({"paid_by": str(home.owner_id), "method": "exactly", "parts": _parts(home.owner_id, bea,
                                                                              weights=(10_00, 20_00))}, 422,
         "add up to 3000, the expense is 4000"),
        ({"paid_by": str(home.owner_id), "method": "for_one", "parts": _parts(home.owner_id, bea)}, 422,
         "names exactly one"),
        ({"paid_by": str(home.owner_id), "method": "equally", "parts": []}, 422, ""),
        ({"paid_by": str(home.owner_id), "method": "halves", "parts": _parts(bea)}, 422, ""),
    ]
    for body, status, detail in bad:
        response = await ledger.put(path, json=body, headers=home.headers)
        assert response.status_code == status, (body, response.text)
        assert detail in str(response.json())
    assert (await ledger.get(path, headers=home.headers)).status_code == 404
    assert (await ledger.post("/settlements", headers=home.headers, json={
        "from_user_id": str(bea), "to_user_id": str(bea), "amount_minor": 1, "currency": "EUR",
        "booked_on": "2025-03-01"})).status_code == 422
    assert (await ledger.post("/settlements", headers=home.headers, json={
        "from_user_id": str(bea), "to_user_id": str(home.owner_id), "amount_minor": 0, "currency": "EUR",
        "booked_on": "2025-03-01"})).status_code == 422

    exactly = {"paid_by": str(home.owner_id), "method": "exactly",
               "parts": _parts(home.owner_id, bea, weights=(15_00, 25_00))}
    viewer = await ledger.put(path, json=exactly, headers=home.viewer_headers)
    assert viewer.status_code == 403
    theirs = await ledger.put(path, json=exactly, headers=other.headers)
    assert theirs.status_code == 404
    assert (await ledger.put(path, json=exactly, headers=home.headers)).status_code == 200
    assert (await ledger.get("/shared", headers=other.headers)).json()["expenses"] == []
    assert (await ledger.get(path, headers=other.headers)).status_code == 404
    spending = {"user_id": str(home.owner_id), "month": "2025-03"}
    assert (await ledger.get("/shared/spending", params=spending, headers=other.headers)).status_code == 404
    for month in ("0000-01", "2025-13", "9999-12", "march"):
        bad_month = await ledger.get("/shared/spending", params=spending | {"month": month},
                                     headers=home.headers)
        assert bad_month.status_code == 422, month
    assert (await ledger.delete(path, headers=other.headers)).status_code == 404
    mine = (await ledger.get("/shared", headers=home.viewer_headers)).json()
    assert {b["user_id"]: b["balance_minor"] for b in mine["balances"]} == {
        str(home.owner_id): 25_00, str(bea): -25_00}
    assert (await ledger.delete(path, headers=home.headers)).status_code == 204
    assert (await ledger.get("/shared", headers=home.headers)).json()["balances"] == []
