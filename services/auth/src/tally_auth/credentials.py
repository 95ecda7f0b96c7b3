"""Mailed links (email verification, password reset) and password change.

Links carry a 256-bit single-use secret; only its SHA-256 is stored, with an expiry. The secret travels
in the event to the notifier, which mails it; it is never logged.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from sqlalchemy import select, update

from tally_auth import domain, limits
from tally_auth.commands import (
    AuthContext,
    Client,
    InvalidLink,
    check_new_password,
    home_tenant,
    new_one_time_token,
    publish,
    request_email_verification,
    security_event,
    spend_one_time_token,
    verify_password,
)
from tally_auth.schemas import PasswordChangeRequest, PasswordResetConfirm
from tally_auth.sign_in import account_key, login_failed, revoke_other_sessions
from tally_auth.tables import one_time_tokens, users
from tallykit.contracts.auth import EmailVerified, PasswordChanged, PasswordResetRequested
from tallykit.errors import Conflict, Unauthorized
from tallykit.logging import get_logger
from tallykit.tokens import Principal

log = get_logger(__name__)


@asynccontextmanager
async def _bad_links_counted(ctx: AuthContext, client: Client) -> AsyncIterator[None]:
    """Too many bad links (used, expired, made up) from one address stop it for a while."""
    key = f"token-ip:{client.ip}"
    await limits.check(ctx.db, key, limit=ctx.settings.token_failures_per_ip)
    try:
        yield
    except InvalidLink:
        await limits.record(ctx.db, key, window_s=ctx.settings.token_window_s)
        raise


async def _limit_mail(ctx: AuthContext, client: Client, account: str) -> None:
    s = ctx.settings
    await limits.hit(ctx.db, f"mail-ip:{client.ip}", limit=s.mail_requests_per_ip, window_s=s.mail_window_s)
    await limits.hit(
        ctx.db, f"mail-account:{account}", limit=s.mail_requests_per_account, window_s=s.mail_window_s
    )


async def verify_email(ctx: AuthContext, token: str, client: Client) -> None:
    async with _bad_links_counted(ctx, client), ctx.db.transaction() as session:
        user_id = await spend_one_time_token(session, token, domain.TokenPurpose.verify_email)
        email = await session.scalar(
            update(users)
            .where(users.c.id == user_id)
            .values(email_verified_at=datetime.now(UTC))
            .returning(users.c.email)
        )
        await security_event(
            session, ctx, EmailVerified(user_id=user_id, ip=client.ip, device=client.device, email=email)
        )
    log.info("email_verified", user_id=str(user_id))


async def resend_verification(ctx: AuthContext, principal: Principal, client: Client) -> None:
    await _limit_mail(ctx, client, str(principal.user_id))
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(
                select(users.c.email, users.c.display_name, users.c.email_verified_at).where(
                    users.c.id == principal.user_id
                )
            )
        ).one()
        if row.email_verified_at is not None:
            raise Conflict("this email address is already verified")
        tenant_id = await home_tenant(session, principal.user_id) or principal.tenant_id
        await request_email_verification(
            session, ctx, principal.user_id, tenant_id, row.email, row.display_name
        )


async def request_password_reset(ctx: AuthContext, email_address: str, client: Client) -> None:
    """The same answer, after the same time, whether or not the email has an account."""
    started = time.monotonic()
    email = domain.normalise_email(email_address)
    await _limit_mail(ctx, client, email)
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(select(users.c.id, users.c.display_name).where(users.c.email == email))
        ).first()
        tenant_id = None if row is None else await home_tenant(session, row.id)
        if row is not None and tenant_id is not None:
            token, expires_at = await new_one_time_token(
                session, row.id, domain.TokenPurpose.reset_password, ctx.settings.password_reset_ttl_s
            )
            event = PasswordResetRequested(
                user_id=row.id,
                email=email,
                display_name=row.display_name,
                path=ctx.link_path("reset", token),
                expires_at=expires_at,
            )
            await publish(session, ctx, tenant_id, row.id, event)
    remaining = ctx.settings.reset_response_floor_s - (time.monotonic() - started)
    if remaining > 0:
        await asyncio.sleep(remaining)


async def _set_password(
    ctx: AuthContext,
    user_id: uuid.UUID,
    password: str,
    *,
    keep_session: uuid.UUID | None,
    by_reset: bool,
    client: Client,
) -> None:
    password_hash = await asyncio.to_thread(ctx.hasher.hash, password)
    async with ctx.db.transaction() as session:
        now = datetime.now(UTC)
        values: dict[str, object] = {"password_hash": password_hash, "password_changed_at": now}
        if by_reset:
            # Opening the mailed link proves the address as well.
            values["email_verified_at"] = now
        await session.execute(update(users).where(users.c.id == user_id).values(**values))
        # Links mailed before the change are no longer good.
        await session.execute(
            update(one_time_tokens)
            .where(
                one_time_tokens.c.user_id == user_id,
                one_time_tokens.c.purpose == domain.TokenPurpose.reset_password,
                one_time_tokens.c.used_at.is_(None),
            )
            .values(used_at=now)
        )
        await revoke_other_sessions(session, ctx, user_id, keep_session, client, "password changed")
        await security_event(
            session,
            ctx,
            PasswordChanged(user_id=user_id, ip=client.ip, device=client.device, by_reset=by_reset),
        )


async def reset_password(ctx: AuthContext, request: PasswordResetConfirm, client: Client) -> None:
    async with _bad_links_counted(ctx, client), ctx.db.transaction() as session:
        user_id = await spend_one_time_token(session, request.token, domain.TokenPurpose.reset_password)
        row = (
            await session.execute(select(users.c.email, users.c.display_name).where(users.c.id == user_id))
        ).one()
        # Checked inside the block: a weak password rolls back and leaves the link usable.
        check_new_password(request.new_password, row.email, row.display_name)
    await _set_password(ctx, user_id, request.new_password, keep_session=None, by_reset=True, client=client)
    await limits.clear(ctx.db, account_key(row.email))
    log.info("password_reset", user_id=str(user_id))


async def change_password(
    ctx: AuthContext,
    principal: Principal,
    request: PasswordChangeRequest,
    session_id: uuid.UUID | None,
    client: Client,
) -> None:
    async with ctx.db.read() as session:
        row = (
            await session.execute(
                select(users.c.email, users.c.display_name, users.c.password_hash).where(
                    users.c.id == principal.user_id
                )
            )
        ).one()
    await limits.check(ctx.db, account_key(row.email), limit=ctx.settings.login_failures_per_account)
    if not await asyncio.to_thread(verify_password, ctx.hasher, row.password_hash, request.current_password):
        await login_failed(ctx, principal.user_id, row.email, "wrong password when changing it", client)
        raise Unauthorized("the current password is incorrect")
    check_new_password(request.new_password, row.email, row.display_name)
    await _set_password(
        ctx, principal.user_id, request.new_password, keep_session=session_id, by_reset=False, client=client
    )
    log.info("password_changed", user_id=str(principal.user_id))
