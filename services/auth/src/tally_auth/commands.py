"""Auth commands: load, decide, save. Each runs in one transaction with its outbox rows.

Sign-up, sign-in (with the second factor when enabled), sessions (refresh-token families), and the
security log every sensitive change writes to (and publishes on `auth.events`). Mailed links and password
changes live in `credentials.py`, two-factor enrolment in `twofactor.py`, a person's own data (export,
deleting the account) in `personal_data.py`, households and members in `households.py`.

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
from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tally_auth import domain, keys, limits
from tally_auth.schemas import (
    LoginRequest,
    MePublic,
    RegisterRequest,
    SecurityLogEntry,
    SecurityLogPublic,
    SessionPublic,
    SessionsPublic,
    TokenPair,
    TwoFactorChallenge,
    UserPublic,
)
from tally_auth.secretbox import SecretBox
from tally_auth.settings import AuthSettings
from tally_auth.store import (
    memberships,
    one_time_tokens,
    refresh_tokens,
    security_log,
    sessions,
    tenants,
    users,
)
from tallykit import outbox
from tallykit.contracts import registry
from tallykit.contracts.auth import (
    EmailVerificationRequested,
    LoginFailed,
    LoginSucceeded,
    MemberJoined,
    SecurityEvent,
    SessionRevoked,
    TenantCreated,
    UserRegistered,
    WeekStart,
)
from tallykit.db import Database
from tallykit.errors import Conflict, InvalidInput, NotFound, Unauthorized
from tallykit.events import EventPayload
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


# --- sign-in and sessions -----------------------------------------------------------------------------------


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
            session_id=family_id,
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


async def start_session(
    ctx: AuthContext, session: AsyncSession, user_id: uuid.UUID, client: Client
) -> TokenPair:
    """A new sign-in: a session row (what the session list shows) and the first pair of its family."""
    tenant_id, role = await _membership(session, user_id)
    family_id = uuid.uuid4()
    await session.execute(
        insert(sessions).values(
            id=family_id,
            user_id=user_id,
            tenant_id=tenant_id,
            device=client.device,
            ip=client.ip,
            expires_at=datetime.now(UTC) + timedelta(seconds=ctx.settings.refresh_token_ttl_s),
        )
    )
    pair = await _issue(ctx, session, user_id, tenant_id, role, family_id)
    await security_event(
        session,
        ctx,
        LoginSucceeded(user_id=user_id, ip=client.ip, device=client.device, session_id=family_id),
    )
    return pair


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


def account_key(email: str) -> str:
    return f"login-account:{email}"


def address_key(client: Client) -> str:
    return f"login-ip:{client.ip}"


async def check_address(ctx: AuthContext, client: Client) -> None:
    """Too many failed sign-ins from one address (any accounts, known or not) stop it for a while.
    Only failures count, so a household behind one address is never stopped by signing in."""
    await limits.check(ctx.db, address_key(client), limit=ctx.settings.login_failures_per_ip)


async def record_failure(ctx: AuthContext, email: str | None, client: Client) -> None:
    window = ctx.settings.login_lockout_window_s
    await limits.record(ctx.db, address_key(client), window_s=ctx.settings.login_ip_window_s)
    if email is not None:
        await limits.record(ctx.db, account_key(email), window_s=window)


async def login(ctx: AuthContext, request: LoginRequest, client: Client) -> TokenPair | TwoFactorChallenge:
    s = ctx.settings
    email = domain.normalise_email(request.email)
    await check_address(ctx, client)
    # Locked out after too many failures, whether or not the password is now right (and whether or not
    # the account exists: the answer must not tell).
    await limits.check(ctx.db, account_key(email), limit=s.login_failures_per_account)
    async with ctx.db.read() as session:
        row = (
            await session.execute(
                select(users.c.id, users.c.password_hash, users.c.totp_secret).where(users.c.email == email)
            )
        ).first()
    if row is None:
        # Same work as a real check, so response time does not tell which emails have accounts.
        await asyncio.to_thread(verify_password, ctx.hasher, ctx.dummy_hash, request.password)
        await record_failure(ctx, email, client)
        raise Unauthorized(_BAD_CREDENTIALS)
    if not await asyncio.to_thread(verify_password, ctx.hasher, row.password_hash, request.password):
        await login_failed(ctx, row.id, email, "wrong password", client)
        raise Unauthorized(_BAD_CREDENTIALS)
    await limits.clear(ctx.db, account_key(email))
    async with ctx.db.transaction() as session:
        if ctx.hasher.check_needs_rehash(row.password_hash):
            new_hash = await asyncio.to_thread(ctx.hasher.hash, request.password)
            await session.execute(update(users).where(users.c.id == row.id).values(password_hash=new_hash))
        if row.totp_secret is not None:
            token, _ = await new_one_time_token(
                session, row.id, domain.TokenPurpose.login_challenge, s.login_challenge_ttl_s
            )
            return TwoFactorChallenge(challenge_token=token, expires_in=s.login_challenge_ttl_s)
        pair = await start_session(ctx, session, row.id, client)
    log.info("login_succeeded", user_id=str(row.id))
    return pair


async def login_failed(ctx: AuthContext, user_id: uuid.UUID, email: str, reason: str, client: Client) -> None:
    await record_failure(ctx, email, client)
    async with ctx.db.transaction() as session:
        await security_event(
            session, ctx, LoginFailed(user_id=user_id, ip=client.ip, device=client.device, reason=reason)
        )
    log.info("login_failed", user_id=str(user_id), reason=reason)


async def refresh(
    ctx: AuthContext,
    token: str,
    client: Client,
    *,
    switch_to: uuid.UUID | None = None,
    user_id: uuid.UUID | None = None,
) -> TokenPair:
    """Rotates the refresh token. With `switch_to`, the new pair is for that household (the person must be
    a member of it, and `user_id` must own the refresh token); the family remembers it from then on."""
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
        if row is None or (user_id is not None and row.user_id != user_id):
            raise Unauthorized("this refresh token is not valid")
        try:
            domain.check_refresh(domain.StoredRefreshToken(row.expires_at, row.used_at, row.revoked_at), now)
        except domain.RefreshRefused as exc:
            refused = exc
            if exc.revoke_family:
                await revoke_session(
                    session, ctx, row.user_id, row.family_id, client, "refresh token replayed"
                )
                log.warning("refresh_token_reused_family_revoked", user_id=str(row.user_id))
        if refused is None:
            await session.execute(
                update(refresh_tokens).where(refresh_tokens.c.id == row.id).values(used_at=now)
            )
            tenant_id, role = await _membership(session, row.user_id, switch_to or row.tenant_id)
            # Families from before the session list existed get their row on their next refresh.
            # A session lives as long as its newest refresh token.
            expires_at = now + timedelta(seconds=ctx.settings.refresh_token_ttl_s)
            seen = {"last_seen_at": now, "ip": client.ip, "expires_at": expires_at, "tenant_id": tenant_id}
            await session.execute(
                pg_insert(sessions)
                .values(
                    id=row.family_id,
                    user_id=row.user_id,
                    device=client.device,
                    **seen,
                )
                .on_conflict_do_update(index_elements=[sessions.c.id], set_=seen)
            )
            return await _issue(ctx, session, row.user_id, tenant_id, role, family_id=row.family_id)
    # Raised after the block so that a family revocation commits.
    raise Unauthorized(str(refused))


async def revoke_session(
    session: AsyncSession,
    ctx: AuthContext,
    user_id: uuid.UUID,
    family_id: uuid.UUID,
    client: Client,
    reason: str,
) -> bool:
    """Revokes every refresh token of the family and its session row; False when it was already over."""
    now = datetime.now(UTC)
    await session.execute(
        update(refresh_tokens)
        .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    ended = await session.execute(
        update(sessions)
        .where(sessions.c.id == family_id, sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
        .returning(sessions.c.id)
    )
    if ended.first() is None:
        return False
    event = SessionRevoked(
        user_id=user_id, ip=client.ip, device=client.device, session_id=family_id, reason=reason
    )
    await security_event(session, ctx, event, detail=reason)
    return True


async def revoke_other_sessions(
    session: AsyncSession,
    ctx: AuthContext,
    user_id: uuid.UUID,
    keep: uuid.UUID | None,
    client: Client,
    reason: str,
) -> int:
    query = select(sessions.c.id).where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
    if keep is not None:
        query = query.where(sessions.c.id != keep)
    ended = 0
    for (family_id,) in (await session.execute(query)).all():
        ended += await revoke_session(session, ctx, user_id, family_id, client, reason)
    # Families from before the session list existed have no session row: end them too.
    stale = update(refresh_tokens).where(
        refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None)
    )
    if keep is not None:
        stale = stale.where(refresh_tokens.c.family_id != keep)
    await session.execute(stale.values(revoked_at=datetime.now(UTC)))
    return ended


async def logout(ctx: AuthContext, token: str, client: Client) -> None:
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(
                select(refresh_tokens.c.family_id, refresh_tokens.c.user_id).where(
                    refresh_tokens.c.token_hash == domain.hash_refresh_token(token)
                )
            )
        ).first()
        if row is not None:
            await revoke_session(session, ctx, row.user_id, row.family_id, client, "signed out")


async def logout_everywhere(ctx: AuthContext, principal: Principal, client: Client) -> int:
    async with ctx.db.transaction() as session:
        return await revoke_other_sessions(
            session, ctx, principal.user_id, None, client, "signed out everywhere"
        )


async def session_is_live(ctx: AuthContext, session_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    async with ctx.db.read() as session:
        found = await session.scalar(
            select(sessions.c.id).where(
                sessions.c.id == session_id,
                sessions.c.user_id == user_id,
                sessions.c.revoked_at.is_(None),
                sessions.c.expires_at > func.now(),
            )
        )
    return found is not None


async def list_sessions(ctx: AuthContext, principal: Principal, current: uuid.UUID | None) -> SessionsPublic:
    async with ctx.db.read() as session:
        rows = await session.execute(
            select(sessions)
            .where(
                sessions.c.user_id == principal.user_id,
                sessions.c.revoked_at.is_(None),
                sessions.c.expires_at > func.now(),
            )
            .order_by(sessions.c.last_seen_at.desc())
        )
        items = [
            SessionPublic(
                id=r.id,
                device=r.device,
                ip=r.ip,
                created_at=r.created_at,
                last_seen_at=r.last_seen_at,
                current=r.id == current,
            )
            for r in rows
        ]
    return SessionsPublic(items=items)


async def end_session(ctx: AuthContext, principal: Principal, session_id: uuid.UUID, client: Client) -> None:
    async with ctx.db.transaction() as session:
        owner = await session.scalar(
            select(sessions.c.user_id).where(
                sessions.c.id == session_id, sessions.c.user_id == principal.user_id
            )
        )
        if owner is None or not await revoke_session(
            session, ctx, principal.user_id, session_id, client, "revoked from the session list"
        ):
            raise NotFound(f"session {session_id} not found")


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
