"""auth.TenantCreated → the household's default categories, as events, exactly once, and its base
currency."""

from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from tally_ledger.commands import create_default_categories
from tally_ledger.domain import DEFAULT_CATEGORIES
from tally_ledger.repository import Context
from tallykit.consumer import EventConsumer
from tallykit.contracts import registry
from tallykit.contracts.auth import (
    HouseholdSettingsChanged,
    MemberJoined,
    TenantCreated,
    UserRegistered,
    WeekStart,
)
from tallykit.events import Envelope

Snapshot = Callable[[], Awaitable[dict[str, list[dict[str, Any]]]]]


async def test_tenant_created_gives_default_categories_exactly_once(
    ledger: httpx.AsyncClient, household: Callable[[], Any], snapshot: Snapshot, auth_consumer: EventConsumer,
    tenant_created: Callable[[Any], Envelope],
) -> None:
    home = household()
    consumer = auth_consumer
    created = tenant_created(home)

    assert await consumer.handle(created.to_json()) is True
    first = await snapshot()
    assert await consumer.handle(created.to_json()) is False  # redelivered
    assert await snapshot() == first

    categories = (await ledger.get("/categories", headers=home.headers)).json()["items"]
    assert len(categories) == len(DEFAULT_CATEGORIES)
    assert {"name": "Groceries", "group": "Food", "kind": "expense"} in [
        {k: c[k] for k in ("name", "group", "kind")} for c in categories]
    assert {c["name"] for c in categories if c["kind"] == "income"} >= {"Salary", "Other income"}

    stored = [Envelope.model_validate(r["envelope"]) for r in first["event_store"]]
    assert [e.type for e in stored] == ["ledger.CategoryCreated"] * len(DEFAULT_CATEGORIES)
    assert {e.tenant_id for e in stored} == {home.tenant_id}
    assert {e.causation_id for e in stored} == {created.id}
    assert {e.correlation_id for e in stored} == {created.correlation_id}
    assert {e.actor for e in stored} == {"system"}
    assert sorted(str(e.stream_id) for e in stored) == sorted(c["id"] for c in categories)
    assert [r["envelope"] for r in first["outbox"]] == [r["envelope"] for r in first["event_store"]]


async def test_defaults_already_there_are_not_created_again(
    ledger: httpx.AsyncClient, household: Callable[[], Any], give_defaults: Any, snapshot: Snapshot,
    auth_consumer: EventConsumer, tenant_created: Callable[[Any], Envelope],
) -> None:
    home = household()
    await give_defaults(home)
    before = await snapshot()
    # Another TenantCreated event for the same household (a new id, so the inbox lets it through).
    assert await auth_consumer.handle(tenant_created(home).to_json()) is True
    app: Any = ledger.app  # type: ignore[attr-defined]
    async with app.state.db.transaction() as session:
        ctx = Context(home.tenant_id, "system")
        assert await create_default_categories(session, app.state.settings, ctx) == 0
    assert await snapshot() == before


async def test_each_household_gets_its_own_categories(
    ledger: httpx.AsyncClient, household: Callable[[], Any], give_defaults: Any
) -> None:
    home, other = household(), household()
    mine, theirs = await give_defaults(home), await give_defaults(other)
    assert mine.keys() == theirs.keys()
    assert not {c["id"] for c in mine.values()} & {c["id"] for c in theirs.values()}


async def test_other_auth_events_are_ignored(
    household: Callable[[], Any], snapshot: Snapshot, auth_consumer: EventConsumer
) -> None:
    home = household()
    before = await snapshot()
    user = UserRegistered(user_id=home.owner_id, email="a@example.com", display_name="A")
    registered = registry.envelope(user, tenant_id=home.tenant_id, stream_id=home.owner_id, stream_version=1,
                                   actor="system")
    assert await auth_consumer.handle(registered.to_json()) is False
    assert await snapshot() == before


async def test_a_new_household_has_its_base_currency_from_its_creation(
    ledger: httpx.AsyncClient, household: Callable[[], Any], auth_consumer: EventConsumer
) -> None:
    """Issue #16: the events a new household is created with (sign-up's UserRegistered, TenantCreated,
    MemberJoined) give it its categories and base currency at once; the HouseholdSettingsChanged that
    follows wins, and nothing brings the first currency back."""
    home = household()
    owner, email = home.owner_id, "ada@example.org"
    created = TenantCreated(
        name="Ada's household",
        owner_user_id=owner,
        base_currency="GBP",
        time_zone="Europe/London",
        week_start=WeekStart.sunday,
    )

    def envelope(payload: Any, stream: Any, version: int) -> bytes:
        return registry.envelope(
            payload, tenant_id=home.tenant_id, stream_id=stream, stream_version=version, actor=str(owner)
        ).to_json()

    joined = MemberJoined(user_id=owner, email=email, display_name="Ada", role="owner")
    for raw in (
        envelope(UserRegistered(user_id=owner, email=email, display_name="Ada"), owner, 1),
        envelope(created, home.tenant_id, 1),
        envelope(joined, home.tenant_id, 2),
    ):
        await auth_consumer.handle(raw)  # only TenantCreated is the ledger's

    async def base_currency() -> Any:
        worth = (await ledger.get("/net-worth", headers=home.headers)).json()
        rates = (await ledger.get("/rates", headers=home.headers)).json()
        assert worth["converted"]["currency"] == rates["base_currency"]
        return rates["base_currency"]

    assert len((await ledger.get("/categories", headers=home.headers)).json()["items"]) == len(
        DEFAULT_CATEGORIES
    )
    assert await base_currency() == "GBP"
    changed = HouseholdSettingsChanged(name="Home", base_currency="CHF", time_zone="Europe/Zurich")
    assert await auth_consumer.handle(envelope(changed, home.tenant_id, 3)) is True
    # A creation event seen again (another id: the inbox lets it through) does not undo the change.
    assert await auth_consumer.handle(envelope(created, home.tenant_id, 1)) is True
    assert await base_currency() == "CHF"
