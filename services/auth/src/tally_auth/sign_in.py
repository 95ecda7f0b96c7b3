"""Sign-in and the sessions it starts: load, decide, save, each in one transaction with its outbox rows.

A sign-in checks the password (and asks for the second factor when it is on: twofactor.py finishes it),
counts failures per account and per address (limits.py), and starts a session: a row the session list
shows and a family of refresh tokens, rotated on each refresh, where a replayed token revokes the whole
family. Signing out ends one session, or all of them; a person may end any of theirs from the list.
Every start and end is written to the security log (commands.security_event).
"""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from tally_auth import domain, keys, limits
from tally_auth.commands import AuthContext, Client, new_one_time_token, security_event, verify_password
from tally_auth.schemas import LoginRequest, SessionPublic, SessionsPublic, TokenPair, TwoFactorChallenge
from tally_auth.tables import memberships, refresh_tokens, sessions, users
from tallykit.contracts.auth import LoginFailed, LoginSucceeded, SessionRevoked
from tallykit.errors import NotFound, Unauthorized
from tallykit.logging import get_logger
from tallykit.tokens import Principal

log = get_logger(__name__)
_BAD_CREDENTIALS = "the email or password is incorrect"


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
