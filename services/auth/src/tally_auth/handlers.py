"""Auth commands: load, decide, save. Each runs in one transaction with its outbox rows."""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tally_auth import domain, keys
from tally_auth.schemas import LoginRequest, MePublic, RegisterRequest, TokenPair, UserPublic
from tally_auth.settings import AuthSettings
from tally_auth.store import memberships, refresh_tokens, tenants, users
from tallykit import outbox
from tallykit.contracts import registry
from tallykit.contracts.auth import TenantCreated, UserRegistered
from tallykit.db import Database
from tallykit.errors import Conflict, InvalidInput, NotFound, Unauthorized
from tallykit.logging import get_logger
from tallykit.tokens import Principal, Role

log = get_logger(__name__)
TOPIC = "auth.events"
_BAD_CREDENTIALS = "the email or password is incorrect"


@dataclass(frozen=True)
class AuthContext:
    db: Database
    settings: AuthSettings
    hasher: PasswordHasher
    # A hash of nothing with the service's own parameters: unknown emails cost a real verification.
    dummy_hash: str

    @classmethod
    def build(cls, db: Database, settings: AuthSettings) -> "AuthContext":
        hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_cost_kib,
            parallelism=settings.argon2_parallelism,
        )
        return cls(db, settings, hasher, hasher.hash(uuid.uuid4().hex))


async def register(ctx: AuthContext, request: RegisterRequest) -> UserPublic:
    try:
        domain.check_password_policy(request.password)
    except domain.WeakPassword as exc:
        raise InvalidInput(str(exc)) from None
    email = domain.normalise_email(request.email)
    password_hash = await asyncio.to_thread(ctx.hasher.hash, request.password)
    user_id, tenant_id = uuid.uuid4(), uuid.uuid4()
    currency = request.base_currency or ctx.settings.default_currency
    correlation = uuid.uuid4()
    try:
        async with ctx.db.transaction() as session:
            await session.execute(
                insert(users).values(
                    id=user_id, email=email, password_hash=password_hash, display_name=request.display_name
                )
            )
            name = domain.household_name(request.display_name)
            await session.execute(insert(tenants).values(id=tenant_id, name=name, base_currency=currency))
            await session.execute(
                insert(memberships).values(tenant_id=tenant_id, user_id=user_id, role=Role.owner)
            )
            actor = str(user_id)
            await outbox.enqueue(
                session,
                ctx.settings.topic(TOPIC),
                [
                    registry.envelope(
                        UserRegistered(user_id=user_id, email=email, display_name=request.display_name),
                        tenant_id=tenant_id,
                        stream_id=user_id,
                        stream_version=1,
                        actor=actor,
                        correlation_id=correlation,
                    ),
                    registry.envelope(
                        TenantCreated(name=name, owner_user_id=user_id, base_currency=currency),
                        tenant_id=tenant_id,
                        stream_id=tenant_id,
                        stream_version=1,
                        actor=actor,
                        correlation_id=correlation,
                    ),
                ],
            )
    except IntegrityError as exc:
        if "users_email_key" in str(exc.orig):
            raise Conflict("an account with this email already exists") from None
        raise
    log.info("user_registered", user_id=str(user_id), tenant_id=str(tenant_id))
    return UserPublic(user_id=user_id, tenant_id=tenant_id, email=email, display_name=request.display_name)


async def _issue(
    ctx: AuthContext,
    session: AsyncSession,
    user_id: uuid.UUID,
    tenant_id: uuid.UUID,
    role: str,
    family_id: uuid.UUID,
) -> TokenPair:
    signing_key = await keys.active_key(session)
    s = ctx.settings
    access = signing_key.sign(
        keys.access_claims(
            user_id=user_id,
            tenant_id=tenant_id,
            role=role,
            issuer=s.jwt_issuer,
            audience=s.jwt_audience,
            ttl_s=s.access_token_ttl_s,
        )
    )
    refresh = domain.new_refresh_token()
    await session.execute(
        insert(refresh_tokens).values(
            id=uuid.uuid4(),
            family_id=family_id,
            user_id=user_id,
            tenant_id=tenant_id,
            token_hash=domain.hash_refresh_token(refresh),
            expires_at=datetime.now(UTC) + timedelta(seconds=s.refresh_token_ttl_s),
        )
    )
    return TokenPair(access_token=access, expires_in=s.access_token_ttl_s, refresh_token=refresh)


async def _membership(
    session: AsyncSession, user_id: uuid.UUID, tenant_id: uuid.UUID | None = None
) -> tuple[uuid.UUID, str]:
    query = select(memberships.c.tenant_id, memberships.c.role).where(memberships.c.user_id == user_id)
    if tenant_id is not None:
        query = query.where(memberships.c.tenant_id == tenant_id)
    row = (await session.execute(query.order_by(memberships.c.created_at).limit(1))).first()
    if row is None:
        raise Unauthorized("this account belongs to no household")
    return row.tenant_id, row.role


async def login(ctx: AuthContext, request: LoginRequest) -> TokenPair:
    email = domain.normalise_email(request.email)
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(select(users.c.id, users.c.password_hash).where(users.c.email == email))
        ).first()
        if row is None:
            # Same work as a real check, so response time does not tell which emails have accounts.
            await asyncio.to_thread(_verify, ctx.hasher, ctx.dummy_hash, request.password)
            raise Unauthorized(_BAD_CREDENTIALS)
        if not await asyncio.to_thread(_verify, ctx.hasher, row.password_hash, request.password):
            log.info("login_failed", user_id=str(row.id))
            raise Unauthorized(_BAD_CREDENTIALS)
        if ctx.hasher.check_needs_rehash(row.password_hash):
            new_hash = await asyncio.to_thread(ctx.hasher.hash, request.password)
            await session.execute(update(users).where(users.c.id == row.id).values(password_hash=new_hash))
        tenant_id, role = await _membership(session, row.id)
        pair = await _issue(ctx, session, row.id, tenant_id, role, family_id=uuid.uuid4())
    log.info("login_succeeded", user_id=str(row.id))
    return pair


def _verify(hasher: PasswordHasher, password_hash: str, password: str) -> bool:
    try:
        return bool(hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


async def refresh(ctx: AuthContext, token: str) -> TokenPair:
    now = datetime.now(UTC)
    refused: domain.RefreshRefused | None = None
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(
                select(refresh_tokens)
                .where(refresh_tokens.c.token_hash == domain.hash_refresh_token(token))
                .with_for_update()
            )
        ).first()
        if row is None:
            raise Unauthorized("this refresh token is not valid")
        try:
            domain.check_refresh(domain.StoredRefreshToken(row.expires_at, row.used_at, row.revoked_at), now)
        except domain.RefreshRefused as exc:
            refused = exc
            if exc.revoke_family:
                await _revoke_family(session, row.family_id, now)
                log.warning("refresh_token_reused_family_revoked", user_id=str(row.user_id))
        if refused is None:
            await session.execute(
                update(refresh_tokens).where(refresh_tokens.c.id == row.id).values(used_at=now)
            )
            tenant_id, role = await _membership(session, row.user_id, row.tenant_id)
            return await _issue(ctx, session, row.user_id, tenant_id, role, family_id=row.family_id)
    # Raised after the block so that a family revocation commits.
    raise Unauthorized(str(refused))


async def _revoke_family(session: AsyncSession, family_id: uuid.UUID, now: datetime) -> None:
    await session.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def logout(ctx: AuthContext, token: str) -> None:
    async with ctx.db.transaction() as session:
        family = (
            await session.execute(
                select(refresh_tokens.c.family_id).where(
                    refresh_tokens.c.token_hash == domain.hash_refresh_token(token)
                )
            )
        ).first()
        if family is not None:
            await _revoke_family(session, family.family_id, datetime.now(UTC))


async def me(ctx: AuthContext, principal: Principal) -> MePublic:
    async with ctx.db.read() as session:
        row = (
            await session.execute(
                select(
                    users.c.id,
                    users.c.email,
                    users.c.display_name,
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
    )
