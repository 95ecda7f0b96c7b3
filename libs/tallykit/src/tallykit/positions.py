"""Read your own writes across services: the `Tally-Position` token.

A service's position for a household is the outbox id of the last event it wrote for it. Outbox ids of
one household are handed out in commit order (`outbox._lock_tenants`), the relay publishes them in that
order and sends each record's id in its `tally-position` header, and a consumer records the highest
position of each source it has applied per household (`applied_positions`) in the same transaction as
the read-model change. So "has applied position P of the ledger for household H" is one row to read.

- A write answers `Tally-Position: tenant=<household>;<service>=<position>` (sign-up answers auth's).
- A read of a service that publishes answers its newest position for the household: what a person saw
  there (the ledger's categories) can be waited for elsewhere (the budget form that offers them).
- Every answer also carries the positions the request brought (merged: the larger per service), so a
  client that keeps the last token it got keeps everything it has done and seen.
- A request that carries a token for its household waits, at most `read_your_writes_timeout_s`, until
  the service has applied each named position of the sources it consumes, then runs; past the bound it
  is answered 503 "not caught up yet" with Retry-After, having changed nothing.
"""

import asyncio
import re
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tallykit import commits
from tallykit.errors import Problem
from tallykit.tables import applied_positions, outbox

if TYPE_CHECKING:
    from tallykit.db import Database

HEADER = "Tally-Position"
RECORD_HEADER = "tally-position"  # on each Kafka record the relay publishes: its outbox id
_MAX_HEADER = 600
_MAX_POSITION = 2**63 - 1
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,39}")
_POLL_S = 0.02
_PENDING = "tallykit.positions"  # session.info: {tenant: outbox id} enqueued in this transaction

Applied = tuple[str, UUID, int]  # a consumed record's source service, household and position


class BadPosition(Problem):
    status, title, type_slug = 400, "Bad position token", "bad-position"


class NotCaughtUp(Problem):
    status, title, type_slug = 503, "Not caught up yet", "not-caught-up"


@dataclass(frozen=True)
class Position:
    """A household and, per service, the position to have applied (`tenant=<id>;ledger=345;auth=12`)."""

    tenant_id: UUID
    services: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> "Position":
        if len(text) > _MAX_HEADER:
            raise BadPosition(f"the {HEADER} header is longer than {_MAX_HEADER} characters")
        first, *rest = [part.strip() for part in text.split(";")]
        name, _, value = first.partition("=")
        try:
            if name != "tenant":
                raise ValueError
            tenant = UUID(value)
        except ValueError:
            raise BadPosition(f"the {HEADER} header starts with tenant=<household id>") from None
        services: dict[str, int] = {}
        for part in rest:
            name, _, value = part.partition("=")
            if not _NAME.fullmatch(name) or name in services or name == "tenant":
                raise BadPosition(f"the {HEADER} header names a service badly or twice: {part[:50]!r}")
            if not value.isascii() or not value.isdigit() or int(value) > _MAX_POSITION:
                raise BadPosition(f"the {HEADER} header's position of {name} is not a whole number")
            services[name] = int(value)
        return cls(tenant, services)

    def __str__(self) -> str:
        return ";".join([f"tenant={self.tenant_id}", *(f"{s}={p}" for s, p in sorted(self.services.items()))])

    def merge(self, other: "Position | None") -> "Position":
        """Both tokens' positions, the larger per service; another household's token is replaced."""
        if other is None or other.tenant_id != self.tenant_id:
            return self
        services = dict(other.services)
        for service, position in self.services.items():
            services[service] = max(position, services.get(service, 0))
        return Position(self.tenant_id, services)


# --- what a request wrote, saw and brought ------------------------------------------------------------------


@dataclass
class _Request:
    service: str
    brought: Position | None = None
    tenant_id: UUID | None = None  # the household the request acts for, once its token is verified
    seen: int = 0  # this service's newest position for that household, read before answering
    written: dict[UUID, int] = field(default_factory=dict)  # committed positions per household

    def answer(self) -> Position | None:
        tenant = self.tenant_id
        if tenant is None and len(self.written) == 1:
            (tenant,) = self.written  # sign-up and sign-in act for no household yet: the one they wrote
        if tenant is None:
            return None
        own = max(self.written.get(tenant, 0), self.seen)
        answered = Position(tenant, {self.service: own} if own else {})
        merged = answered.merge(self.brought)
        return merged if merged.services else None


_current: ContextVar[_Request | None] = ContextVar("tally_position", default=None)


class PositionMiddleware:
    """Answers each request's position (`_Request.answer`) in the `Tally-Position` header. Plain ASGI."""

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = _Request(self.service)
        token = _current.set(state)

        async def send_with_position(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer = state.answer()
                if answer is not None:
                    MutableHeaders(scope=message)[HEADER] = str(answer)
            await send(message)

        try:
            await self.app(scope, receive, send_with_position)
        finally:
            _current.reset(token)


@dataclass(frozen=True)
class CatchUp:
    """What a service needs to catch up with a request's token: its database, the sources it consumes,
    whether it publishes, and the bound. `create_service_app` keeps one on `app.state.catch_up`."""

    db: "Database"
    consumes: frozenset[str]
    publishes: bool
    timeout_s: float

    async def __call__(self, scope: Scope, tenant_id: UUID) -> None:
        """For a request acting for `tenant_id` (its access token verified): wait until this service has
        applied what the request's token names of the sources it consumes, then, for a read of a service
        that publishes, note its own newest position for the household to answer."""
        state = _current.get()
        if state is None:
            return
        state.tenant_id = tenant_id
        raw = Headers(scope=scope).get(HEADER)
        if raw:
            state.brought = Position.parse(raw)
            if state.brought.tenant_id == tenant_id:
                wanted = {s: p for s, p in state.brought.services.items() if s in self.consumes}
                if wanted:
                    await wait_until_applied(self.db, tenant_id, wanted, self.timeout_s)
        if self.publishes and scope.get("method") in ("GET", "HEAD"):
            async with self.db.read() as session:
                state.seen = await newest(session, tenant_id)


async def wait_until_applied(
    db: "Database", tenant_id: UUID, wanted: Mapping[str, int], timeout_s: float
) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    query = select(applied_positions.c.source, applied_positions.c.position).where(
        applied_positions.c.tenant_id == tenant_id, applied_positions.c.source.in_(list(wanted))
    )
    while True:
        async with db.read() as session:
            applied = {source: position for source, position in await session.execute(query)}
        behind = sorted(s for s, p in wanted.items() if applied.get(s, 0) < p)
        if not behind:
            return
        if loop.time() >= deadline:
            raise NotCaughtUp(
                f"this service has not yet applied what was just done in {', '.join(behind)}; "
                "nothing was changed, try again in a moment",
                retry_after=1,
            )
        await asyncio.sleep(_POLL_S)


async def newest(session: AsyncSession, tenant_id: UUID) -> int:
    """This service's newest position for a household (0 if it wrote nothing for it)."""
    query = select(func.max(outbox.c.id)).where(outbox.c.key == str(tenant_id))
    return int((await session.execute(query)).scalar() or 0)


# --- the writing side: outbox → request ---------------------------------------------------------------------


def enqueued(session: AsyncSession, rows: Iterable[Any]) -> None:
    """Note outbox ids (with their tenant keys) written in this transaction; answered once it commits."""
    commits.note(session, commits.OUTBOX)  # the relay wakes once this commits
    pending: dict[UUID, int] = session.info.setdefault(_PENDING, {})
    for key, position in rows:
        tenant = UUID(str(key))
        pending[tenant] = max(position, pending.get(tenant, 0))


def in_request() -> bool:
    """Whether the running code serves a request (or work it left behind, which runs in its context)."""
    return _current.get() is not None


def committed(session: AsyncSession) -> None:
    """Called by `Database.transaction` after a commit: the request may now answer those positions."""
    pending: dict[UUID, int] | None = session.info.pop(_PENDING, None)
    state = _current.get()
    if pending and state is not None:
        for tenant, position in pending.items():
            state.written[tenant] = max(position, state.written.get(tenant, 0))


# --- the consuming side: Kafka records → applied_positions -------------------------------------------------


def of_record(source: str, key: bytes | None, headers: Iterable[tuple[str, bytes]] | None) -> Applied | None:
    """(source, household, position) of a consumed record; None for one without a position (published
    before positions existed, or by something other than a relay)."""
    for name, value in headers or ():
        if name == RECORD_HEADER:
            try:
                return source, UUID((key or b"").decode()), int(value)
            except (ValueError, UnicodeDecodeError):
                return None
    return None


async def record_applied(session: AsyncSession, applied: Iterable[Applied | None]) -> None:
    """Raise each (source, household)'s applied position to the highest of `applied`, in the caller's
    transaction. A replay after a broker restart sends lower positions again: they change nothing."""
    highest: dict[tuple[str, UUID], int] = {}
    for item in applied:
        if item is not None:
            source, tenant, position = item
            highest[(source, tenant)] = max(position, highest.get((source, tenant), 0))
    if not highest:
        return
    new = insert(applied_positions).values(
        [{"source": s, "tenant_id": t, "position": p} for (s, t), p in highest.items()]
    )
    await session.execute(
        new.on_conflict_do_update(
            index_elements=[applied_positions.c.source, applied_positions.c.tenant_id],
            set_={"position": new.excluded.position},
            where=new.excluded.position > applied_positions.c.position,
        )
    )
