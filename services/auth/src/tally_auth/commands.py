"""Auth commands: load, decide, save. Each runs in one transaction with its outbox rows.

What every auth command runs on (`AuthContext`, `Client`) and shares (password checks, publishing, the
security log every sensitive change writes to and publishes on `auth.events`, single-use tokens), sign-up,
and the signed-in person's own account and security log. Sign-in and sessions (refresh-token families)
live in `sign_in.py`, mailed links and password changes in `credentials.py`, two-factor enrolment in
`twofactor.py`, a person's own data (export, deleting the account) in `personal_data.py`, households and
members in `households.py`.

Every command takes what it runs on first (`AuthContext`: the database and settings, and the password
hasher and secret box built from them once), then who asks (a `Principal`, once signed in), then what
is asked, and last the caller's address (`Client`) where limits count per address.
"""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tally_auth import domain
from tally_auth.schemas import (
    MePublic,
    RegisterRequest,
    SecurityLogEntry,
    SecurityLogPublic,
    UserPublic,
)
from tally_auth.secretbox import SecretBox
from tally_auth.settings import AuthSettings
from tally_auth.tables import (
    memberships,
    one_time_tokens,
    security_log,
    tenants,
    users,
)
from tallykit import outbox
from tallykit.contracts import registry
from tallykit.contracts.auth import (
    EmailVerificationRequested,
    MemberJoined,
    SecurityEvent,
    TenantCreated,
    UserRegistered,
    WeekStart,
)
from tallykit.db import Database
from tallykit.errors import Conflict, InvalidInput, NotFound
from tallykit.events import EventPayload
from tallykit.logging import get_logger
from tallykit.tokens import Principal, Role

log = get_logger(__name__)
TOPIC = "auth.events"


@dataclass(frozen=True)
class AuthContext:
    db: Database
    settings: AuthSettings
    hasher: PasswordHasher
    # A hash of nothing with the service's own parameters: unknown emails cost a real verification.
    dummy_hash: str
    # Encrypts TOTP seeds at rest.
    secrets: SecretBox

    @classmethod
    def build(cls, db: Database, settings: AuthSettings) -> "AuthContext":
        hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_cost_kib,
            parallelism=settings.argon2_parallelism,
        )
        return cls(db, settings, hasher, hasher.hash(uuid.uuid4().hex), SecretBox.from_settings(settings))

    @staticmethod
    def link_path(route: str, token: str) -> str:
        """The web client's route for a mailed link; the notifier puts its public address in front."""
        return f"/#/{route}?token={token}"


@dataclass(frozen=True)
class Client:
    """Who is on the other end of a request: address and device, for rate limits and the session list."""

    ip: str
    user_agent: str | None

    @property
    def device(self) -> str:
        return domain.device_label(self.user_agent)


# --- shared helpers -----------------------------------------------------------------------------------------


def check_new_password(password: str, *user_inputs: str) -> None:
    try:
        domain.check_password_policy(password, user_inputs=user_inputs)
    except domain.WeakPassword as exc:
        raise InvalidInput(str(exc)) from None


def verify_password(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return bool(hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


async def publish(
    session: AsyncSession, ctx: AuthContext, tenant_id: uuid.UUID, user_id: uuid.UUID, payload: EventPayload
) -> None:
    await outbox.enqueue(
        session,
        ctx.settings.topic(TOPIC),
        [
            registry.envelope(
                payload, tenant_id=tenant_id, stream_id=user_id, stream_version=1, actor=str(user_id)
            )
        ],
    )


async def home_tenant(session: AsyncSession, user_id: uuid.UUID) -> uuid.UUID | None:
    query = (
        select(memberships.c.tenant_id)
        .where(memberships.c.user_id == user_id)
        .order_by(memberships.c.created_at)
        .limit(1)
    )
    tenant: uuid.UUID | None = await session.scalar(query)
    return tenant


async def security_event(
    session: AsyncSession, ctx: AuthContext, payload: SecurityEvent, detail: str | None = None
) -> None:
    """Writes the user's security log and publishes the event, in the caller's transaction."""
    type_name = registry.spec_for(type(payload)).type_name
    await session.execute(
        insert(security_log).values(
            id=uuid.uuid4(),
            user_id=payload.user_id,
            type=type_name.removeprefix("auth."),
            ip=payload.ip,
            device=payload.device,
            detail=detail,
        )
    )
    tenant_id = await home_tenant(session, payload.user_id)
    if tenant_id is not None:
        await publish(session, ctx, tenant_id, payload.user_id, payload)


async def new_one_time_token(
    session: AsyncSession, user_id: uuid.UUID, purpose: str, ttl_s: int
) -> tuple[str, datetime]:
    token = domain.new_secret()
    expires_at = datetime.now(UTC) + timedelta(seconds=ttl_s)
    await session.execute(
        insert(one_time_tokens).values(
            token_hash=domain.hash_secret(token), purpose=purpose, user_id=user_id, expires_at=expires_at
        )
    )
    return token, expires_at


async def spend_one_time_token(session: AsyncSession, token: str, purpose: str) -> uuid.UUID:
    """Marks the token used (single use, under a row lock) and returns its user; refused → 400."""
    row = (
        await session.execute(
            select(one_time_tokens)
            .where(one_time_tokens.c.token_hash == domain.hash_secret(token))
            .with_for_update()
        )
    ).first()
    now = datetime.now(UTC)
    stored = None if row is None else domain.StoredOneTimeToken(row.purpose, row.expires_at, row.used_at)
    try:
        domain.check_one_time_token(stored, purpose, now)
    except domain.OneTimeTokenRefused as exc:
        raise InvalidLink(str(exc)) from None
    assert row is not None
    await session.execute(
        update(one_time_tokens).where(one_time_tokens.c.token_hash == row.token_hash).values(used_at=now)
    )
    user_id: uuid.UUID = row.user_id
    return user_id


class InvalidLink(InvalidInput):
    status, title, type_slug = 400, "Invalid or expired link", "invalid-link"


async def request_email_verification(
    session: AsyncSession, ctx: AuthContext, user_id: uuid.UUID, tenant_id: uuid.UUID, email: str, name: str
) -> None:
    token, expires_at = await new_one_time_token(
        session, user_id, domain.TokenPurpose.verify_email, ctx.settings.email_verification_ttl_s
    )
    event = EmailVerificationRequested(
        user_id=user_id,
        email=email,
        display_name=name,
        path=ctx.link_path("verify", token),
        expires_at=expires_at,
    )
    await publish(session, ctx, tenant_id, user_id, event)


# --- sign-up ------------------------------------------------------------------------------------------------


async def register(ctx: AuthContext, request: RegisterRequest) -> UserPublic:
    email = domain.normalise_email(request.email)
    check_new_password(request.password, email, request.display_name)
    password_hash = await asyncio.to_thread(ctx.hasher.hash, request.password)
    user_id, tenant_id = uuid.uuid4(), uuid.uuid4()
    currency = request.base_currency or ctx.settings.default_currency
    locale = request.locale or "en"
    correlation = uuid.uuid4()
    try:
        async with ctx.db.transaction() as session:
            # The events carry every setting as stored, the table's defaults included (the first event
            # of a thing sets all of it: consumers keep no defaults of their own).
            profile = (
                await session.execute(
                    insert(users)
                    .values(
                        id=user_id,
                        email=email,
                        password_hash=password_hash,
                        display_name=request.display_name,
                        locale=locale,
                        password_changed_at=datetime.now(UTC),
                    )
                    .returning(users.c.time_zone, users.c.week_start)
                )
            ).one()
            name = domain.household_name(request.display_name)
            household = (
                await session.execute(
                    insert(tenants)
                    .values(id=tenant_id, name=name, base_currency=currency)
                    .returning(tenants.c.time_zone, tenants.c.week_start)
                )
            ).one()
            await session.execute(
                insert(memberships).values(tenant_id=tenant_id, user_id=user_id, role=Role.owner)
            )
            actor = str(user_id)
            await outbox.enqueue(
                session,
                ctx.settings.topic(TOPIC),
                [
                    registry.envelope(
                        UserRegistered(
                            user_id=user_id,
                            email=email,
                            display_name=request.display_name,
                            locale=locale,
                            time_zone=profile.time_zone,
                            week_start=WeekStart(profile.week_start),
                        ),
                        tenant_id=tenant_id,
                        stream_id=user_id,
                        stream_version=1,
                        actor=actor,
                        correlation_id=correlation,
                    ),
                    registry.envelope(
                        TenantCreated(
                            name=name,
                            owner_user_id=user_id,
                            base_currency=currency,
                            time_zone=household.time_zone,
                            week_start=WeekStart(household.week_start),
                        ),
                        tenant_id=tenant_id,
                        stream_id=tenant_id,
                        stream_version=1,
                        actor=actor,
                        correlation_id=correlation,
                    ),
                    registry.envelope(
                        MemberJoined(
                            user_id=user_id,
                            email=email,
                            display_name=request.display_name,
                            role=Role.owner,
                            locale=locale,
                            time_zone=profile.time_zone,
                        ),
                        tenant_id=tenant_id,
                        stream_id=tenant_id,
                        stream_version=2,
                        actor=actor,
                        correlation_id=correlation,
                    ),
                ],
            )
            await request_email_verification(session, ctx, user_id, tenant_id, email, request.display_name)
    except IntegrityError as exc:
        if "users_email_key" in str(exc.orig):
            raise Conflict("an account with this email already exists") from None
        raise
    log.info("user_registered", user_id=str(user_id), tenant_id=str(tenant_id))
    return UserPublic(
        user_id=user_id,
        tenant_id=tenant_id,
        email=email,
        display_name=request.display_name,
        email_verified=False,
    )


# --- the person signed in: their account and security log ---------------------------------------------------


async def read_security_log(ctx: AuthContext, principal: Principal, limit: int) -> SecurityLogPublic:
    async with ctx.db.read() as session:
        rows = await session.execute(
            select(security_log)
            .where(security_log.c.user_id == principal.user_id)
            .order_by(security_log.c.occurred_at.desc(), security_log.c.id)
            .limit(limit)
        )
        items = [
            SecurityLogEntry(
                type=r.type, occurred_at=r.occurred_at, ip=r.ip, device=r.device, detail=r.detail
            )
            for r in rows
        ]
    return SecurityLogPublic(items=items)


async def me(ctx: AuthContext, principal: Principal) -> MePublic:
    async with ctx.db.read() as session:
        row = (
            await session.execute(
                select(
                    users.c.id,
                    users.c.email,
                    users.c.display_name,
                    users.c.email_verified_at,
                    users.c.totp_enabled_at,
                    users.c.locale,
                    users.c.time_zone,
                    users.c.week_start,
                    tenants.c.time_zone.label("household_time_zone"),
                    tenants.c.id.label("tenant_id"),
                    tenants.c.name,
                    tenants.c.base_currency,
                    memberships.c.role,
                )
                .join(memberships, memberships.c.user_id == users.c.id)
                .join(tenants, tenants.c.id == memberships.c.tenant_id)
                .where(users.c.id == principal.user_id, tenants.c.id == principal.tenant_id)
            )
        ).first()
    if row is None:
        raise NotFound("no such user in this household")
    return MePublic(
        user_id=row.id,
        email=row.email,
        display_name=row.display_name,
        tenant_id=row.tenant_id,
        role=row.role,
        tenant_name=row.name,
        base_currency=row.base_currency,
        email_verified=row.email_verified_at is not None,
        two_factor_enabled=row.totp_enabled_at is not None,
        locale=row.locale,
        time_zone=row.time_zone,
        week_start=row.week_start,
        household_time_zone=row.household_time_zone,
    )
