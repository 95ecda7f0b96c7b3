"""TOTP two-factor sign-in: enrol (secret, otpauth URI and QR code), confirm with a code (recovery
codes are shown once and stored hashed), the second step of sign-in, and switching it off."""

import asyncio
import uuid
from datetime import UTC, datetime

import segno
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tally_auth import domain, limits
from tally_auth.commands import AuthContext, Client, security_event, spend_one_time_token, verify_password
from tally_auth.schemas import (
    LoginSecondFactorRequest,
    RecoveryCodesPublic,
    RecoveryCodesRequest,
    TokenPair,
    TwoFactorDisableRequest,
    TwoFactorSetupPublic,
)
from tally_auth.sign_in import check_address, login_failed, record_failure, start_session
from tally_auth.tables import one_time_tokens, recovery_codes, users
from tallykit.contracts.auth import (
    RecoveryCodesRegenerated,
    RecoveryCodeUsed,
    TwoFactorDisabled,
    TwoFactorEnabled,
)
from tallykit.errors import Conflict, InvalidInput, Unauthorized
from tallykit.logging import get_logger
from tallykit.tokens import Principal

log = get_logger(__name__)
_WRONG_CODE = "the code is not right"


def _code_key(user_id: uuid.UUID) -> str:
    return f"second-factor:{user_id}"


async def _limit_codes(ctx: AuthContext, user_id: uuid.UUID) -> None:
    """Six digits are guessable: a handful of wrong codes locks the second step for a while."""
    s = ctx.settings
    await limits.check(ctx.db, _code_key(user_id), limit=s.login_failures_per_account)


async def setup(ctx: AuthContext, principal: Principal) -> TwoFactorSetupPublic:
    secret = domain.new_totp_secret()
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(
                select(users.c.email, users.c.totp_secret)
                .where(users.c.id == principal.user_id)
                .with_for_update()
            )
        ).one()
        if row.totp_secret is not None:
            raise Conflict("two-factor sign-in is already on; switch it off first to enrol again")
        await session.execute(
            update(users)
            .where(users.c.id == principal.user_id)
            .values(totp_pending_secret=ctx.secrets.seal(secret))
        )
    uri = domain.totp_uri(secret, row.email)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2, dark="#000", light="#fff")
    return TwoFactorSetupPublic(secret=secret, otpauth_uri=uri, qr_svg=qr)


async def enable(ctx: AuthContext, principal: Principal, code: str, client: Client) -> RecoveryCodesPublic:
    await _limit_codes(ctx, principal.user_id)
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(
                select(users.c.totp_pending_secret, users.c.totp_secret)
                .where(users.c.id == principal.user_id)
                .with_for_update()
            )
        ).one()
        if row.totp_secret is not None:
            raise Conflict("two-factor sign-in is already on")
        if row.totp_pending_secret is None:
            raise Conflict("start the enrolment first")
        step = domain.accept_totp(ctx.secrets.open(row.totp_pending_secret), code, None, datetime.now(UTC))
        if step is not None:
            await session.execute(
                update(users)
                .where(users.c.id == principal.user_id)
                .values(
                    totp_secret=row.totp_pending_secret,
                    totp_pending_secret=None,
                    totp_enabled_at=func.now(),
                    totp_last_step=step,
                )
            )
            codes = await _new_recovery_codes(session, principal.user_id)
            await security_event(
                session, ctx, TwoFactorEnabled(user_id=principal.user_id, ip=client.ip, device=client.device)
            )
            return RecoveryCodesPublic(recovery_codes=codes)
    await limits.record(ctx.db, _code_key(principal.user_id), window_s=ctx.settings.login_lockout_window_s)
    raise InvalidInput(_WRONG_CODE)


async def _new_recovery_codes(session: AsyncSession, user_id: uuid.UUID) -> list[str]:
    codes = domain.new_recovery_codes()
    await session.execute(delete(recovery_codes).where(recovery_codes.c.user_id == user_id))
    await session.execute(
        insert(recovery_codes), [{"user_id": user_id, "code_hash": domain.hash_secret(c)} for c in codes]
    )
    return codes


async def _accept_code(
    ctx: AuthContext,
    session: AsyncSession,
    user_id: uuid.UUID,
    secret: str,
    last_step: int | None,
    code: str,
    client: Client,
) -> bool:
    """A TOTP code (recorded as spent) or an unused recovery code (spent now), in the caller's transaction."""
    if domain.looks_like_totp(code):
        step = domain.accept_totp(ctx.secrets.open(secret), code, last_step, datetime.now(UTC))
        if step is None:
            return False
        await session.execute(update(users).where(users.c.id == user_id).values(totp_last_step=step))
        return True
    spent = await session.execute(
        update(recovery_codes)
        .where(
            recovery_codes.c.user_id == user_id,
            recovery_codes.c.code_hash == domain.hash_secret(domain.normalise_recovery_code(code)),
            recovery_codes.c.used_at.is_(None),
        )
        .values(used_at=func.now())
        .returning(recovery_codes.c.code_hash)
    )
    if spent.first() is None:
        return False
    remaining = await session.scalar(
        select(func.count()).where(recovery_codes.c.user_id == user_id, recovery_codes.c.used_at.is_(None))
    )
    await security_event(
        session,
        ctx,
        RecoveryCodeUsed(user_id=user_id, ip=client.ip, device=client.device, remaining=int(remaining or 0)),
    )
    return True


async def login_second_step(ctx: AuthContext, request: LoginSecondFactorRequest, client: Client) -> TokenPair:
    s = ctx.settings
    await check_address(ctx, client)
    async with ctx.db.read() as session:
        user_id = await session.scalar(
            select(one_time_tokens.c.user_id).where(
                one_time_tokens.c.token_hash == domain.hash_secret(request.challenge_token)
            )
        )
    if user_id is None:
        await record_failure(ctx, None, client)
        raise Unauthorized("this sign-in has expired; start again")
    await _limit_codes(ctx, user_id)
    try:
        async with ctx.db.transaction() as session:
            try:
                await spend_one_time_token(
                    session, request.challenge_token, domain.TokenPurpose.login_challenge
                )
            except InvalidInput:
                raise Unauthorized("this sign-in has expired; start again") from None
            row = (
                await session.execute(
                    select(users.c.email, users.c.totp_secret, users.c.totp_last_step)
                    .where(users.c.id == user_id)
                    .with_for_update()
                )
            ).one()
            if row.totp_secret is None or not await _accept_code(
                ctx, session, user_id, row.totp_secret, row.totp_last_step, request.code, client
            ):
                # Rolls back: the challenge stays usable until the lock-out.
                raise _WrongCode(row.email)
            pair = await start_session(ctx, session, user_id, client)
    except _WrongCode as wrong:
        await limits.record(ctx.db, _code_key(user_id), window_s=s.login_lockout_window_s)
        await login_failed(ctx, user_id, wrong.email, "wrong second-factor code", client)
        raise Unauthorized(_WRONG_CODE) from None
    await limits.clear(ctx.db, _code_key(user_id))
    return pair


class _WrongCode(Exception):
    def __init__(self, email: str) -> None:
        super().__init__("wrong code")
        self.email = email


async def disable(
    ctx: AuthContext, principal: Principal, request: TwoFactorDisableRequest, client: Client
) -> None:
    await _limit_codes(ctx, principal.user_id)
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(
                select(users.c.email, users.c.password_hash, users.c.totp_secret, users.c.totp_last_step)
                .where(users.c.id == principal.user_id)
                .with_for_update()
            )
        ).one()
        if row.totp_secret is None:
            raise Conflict("two-factor sign-in is not on")
        password_ok = await asyncio.to_thread(
            verify_password, ctx.hasher, row.password_hash, request.password
        )
        if password_ok and await _accept_code(
            ctx, session, principal.user_id, row.totp_secret, row.totp_last_step, request.code, client
        ):
            await session.execute(
                update(users)
                .where(users.c.id == principal.user_id)
                .values(totp_secret=None, totp_pending_secret=None, totp_enabled_at=None, totp_last_step=None)
            )
            await session.execute(delete(recovery_codes).where(recovery_codes.c.user_id == principal.user_id))
            await security_event(
                session, ctx, TwoFactorDisabled(user_id=principal.user_id, ip=client.ip, device=client.device)
            )
            return
    await limits.record(ctx.db, _code_key(principal.user_id), window_s=ctx.settings.login_lockout_window_s)
    raise Unauthorized("the password or the code is not right")


async def regenerate_recovery_codes(
    ctx: AuthContext, principal: Principal, request: RecoveryCodesRequest, client: Client
) -> RecoveryCodesPublic:
    """New recovery codes (the old ones stop working), with the password and a current code: someone
    who found an unlocked session cannot mint themselves a way past the second factor."""
    await _limit_codes(ctx, principal.user_id)
    async with ctx.db.transaction() as session:
        row = (
            await session.execute(
                select(users.c.password_hash, users.c.totp_secret, users.c.totp_last_step)
                .where(users.c.id == principal.user_id)
                .with_for_update()
            )
        ).one()
        if row.totp_secret is None:
            raise Conflict("two-factor sign-in is not on")
        password_ok = await asyncio.to_thread(
            verify_password, ctx.hasher, row.password_hash, request.password
        )
        if password_ok and domain.looks_like_totp(request.code):
            step = domain.accept_totp(
                ctx.secrets.open(row.totp_secret), request.code, row.totp_last_step, datetime.now(UTC)
            )
            if step is not None:
                await session.execute(
                    update(users).where(users.c.id == principal.user_id).values(totp_last_step=step)
                )
                codes = await _new_recovery_codes(session, principal.user_id)
                await security_event(
                    session,
                    ctx,
                    RecoveryCodesRegenerated(user_id=principal.user_id, ip=client.ip, device=client.device),
                )
                return RecoveryCodesPublic(recovery_codes=codes)
    await limits.record(ctx.db, _code_key(principal.user_id), window_s=ctx.settings.login_lockout_window_s)
    raise Unauthorized("the password or the code is not right")


async def seal_legacy_secrets(ctx: AuthContext) -> int:
    """TOTP seeds stored before encryption at rest are encrypted in place (at start-up, idempotent)."""
    sealed = 0
    async with ctx.db.transaction() as session:
        rows = await session.execute(
            select(users.c.id, users.c.totp_secret, users.c.totp_pending_secret).where(
                (users.c.totp_secret.is_not(None) & users.c.totp_secret.not_like("f1:%"))
                | (users.c.totp_pending_secret.is_not(None) & users.c.totp_pending_secret.not_like("f1:%"))
            )
        )
        for row in rows.all():
            values = {
                column: ctx.secrets.seal(value)
                for column, value in (
                    ("totp_secret", row.totp_secret),
                    ("totp_pending_secret", row.totp_pending_secret),
                )
                if value is not None and not ctx.secrets.is_sealed(value)
            }
            await session.execute(update(users).where(users.c.id == row.id).values(**values))
            sealed += 1
    if sealed:
        log.info("totp_secrets_sealed", count=sealed)
    return sealed
