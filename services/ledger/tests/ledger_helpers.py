"""What the ledger's tests do again and again, written once: aggregates as if saved (domain tests), the
HTTP steps of a household's day (any request with its status checked, open an account, import a statement
and wait for it, read the balance and the transactions) and the events the household's event store holds.
Tests import it as `from .ledger_helpers import ...`."""

from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID, uuid4

import httpx
from sqlalchemy import select

from tally_ledger.domain import Account, AccountKind, Aggregate, Category, CategoryKind
from tallykit.tables import event_store
from tallystack.polling import finished

STATEMENTS = Path(__file__).parent / "statements"
Json = dict[str, Any]
A = TypeVar("A", bound=Aggregate)


# --- domain: aggregates as the repository would hand them over ------------------------------------------


def as_saved(aggregate: A) -> A:
    """The aggregate as if its events were stored: nothing pending."""
    aggregate.pending.clear()
    return aggregate


def saved_account(name: str = "Checking", currency: str = "EUR", opening_balance_minor: int = 0) -> Account:
    return as_saved(
        Account.open(
            uuid4(),
            name=name,
            kind=AccountKind.checking,
            currency=currency,
            opening_balance_minor=opening_balance_minor,
        )
    )


def saved_category(
    name: str = "Groceries", group: str = "Food", kind: CategoryKind = CategoryKind.expense
) -> Category:
    return as_saved(Category.create(uuid4(), name=name, group=group, kind=kind))


# --- HTTP: a household's steps through the API ------------------------------------------------------------


async def post_json(
    ledger: httpx.AsyncClient, headers: dict[str, str], path: str, body: Json, status: int = 201
) -> Json:
    """POST `body` and the answer's JSON, checking its status."""
    response = await ledger.post(path, json=body, headers=headers)
    assert response.status_code == status, response.text
    return dict(response.json())


async def post_ok(ledger: httpx.AsyncClient, headers: dict[str, str], path: str, body: Json) -> Json:
    """POST `body` and the answer's JSON, which must be a success (200 or 201)."""
    response = await ledger.post(path, json=body, headers=headers)
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


async def call(
    ledger: httpx.AsyncClient, headers: dict[str, str], method: str, path: str, status: int = 200, **kw: Any
) -> Any:
    """Any request (`kw` as httpx takes them), checking its status; the answer's JSON, None without a body."""
    response = await ledger.request(method, path, headers=headers, **kw)
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def open_account(
    ledger: httpx.AsyncClient,
    headers: dict[str, str],
    currency: str = "EUR",
    *,
    name: str | None = None,
    kind: str = "checking",
    opening_balance_minor: int = 0,
) -> Json:
    """An account, checking unless another kind is given (named "Bank <currency>" unless named)."""
    body = {
        "name": name or f"Bank {currency}",
        "kind": kind,
        "currency": currency,
        "opening_balance_minor": opening_balance_minor,
    }
    return await post_json(ledger, headers, "/accounts", body)


async def upload_file(
    ledger: httpx.AsyncClient,
    headers: dict[str, str],
    account_id: str,
    name: str,
    content: bytes | None = None,
    **fields: str,
) -> httpx.Response:
    """Upload a statement (a file of tests/statements unless `content` is given); the answer unchecked."""
    data = content if content is not None else (STATEMENTS / name).read_bytes()
    return await ledger.post(
        "/imports", files={"file": (name, data)}, data={"account_id": account_id, **fields}, headers=headers
    )


async def wait_for_batch(ledger: httpx.AsyncClient, headers: dict[str, str], batch_id: str) -> Json:
    """The batch once its import or undo (which runs after the answer) has finished."""
    return await finished(ledger, f"/imports/{batch_id}", headers)


async def import_file(
    ledger: httpx.AsyncClient, headers: dict[str, str], account_id: str, name: str, **confirm: Any
) -> Json:
    """Upload a statement of tests/statements, confirm it (with `confirm` as the body), and the batch once
    its import has finished."""
    uploaded = await upload_file(ledger, headers, account_id, name)
    assert uploaded.status_code == 201, uploaded.text
    batch_id = uploaded.json()["batch"]["id"]
    confirmed = await ledger.post(f"/imports/{batch_id}/confirm", json=confirm, headers=headers)
    assert confirmed.status_code == 202, confirmed.text
    assert confirmed.json()["status"] == "importing"
    return await wait_for_batch(ledger, headers, batch_id)


async def read_balance(ledger: httpx.AsyncClient, headers: dict[str, str], account_id: str) -> int:
    return int((await ledger.get(f"/accounts/{account_id}", headers=headers)).json()["balance_minor"])


async def list_transactions(
    ledger: httpx.AsyncClient, headers: dict[str, str], account_id: str
) -> list[Json]:
    """The account's transactions (up to 500), newest first."""
    response = await ledger.get(
        "/transactions", params={"account_id": account_id, "limit": 500}, headers=headers
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


# --- the event store -----------------------------------------------------------------------------------


async def stored_envelopes(
    ledger: httpx.AsyncClient, tenant_id: UUID, event_type: str | None = None
) -> list[Json]:
    """The household's events as its event store holds them (envelopes), in order; only those of
    `event_type` when given."""
    app: Any = ledger.app  # type: ignore[attr-defined]
    query = select(event_store.c.envelope).where(event_store.c.tenant_id == tenant_id)
    if event_type is not None:
        query = query.where(event_store.c.type == event_type)
    async with app.state.db.read() as session:
        return list((await session.execute(query.order_by(event_store.c.position))).scalars())
