"""A person's own data: everything auth holds about them, and deleting their account.

The export here is auth's part of "download everything about me"; the web client adds each service's
own export (the ledger's full JSON, the budgets, the notifications) into one zip (docs/security.md).
Deletion needs the password, and a second-factor code when two-factor sign-in is on. Households the
person alone belongs to are deleted with the account; shared ones they leave, unless they are that
household's only owner (409: transfer first). auth.UserDeleted tells every service to forget them.
"""

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from tally_auth import limits, membership
from tally_auth.commands import AuthContext, Client, publish, verify_password
from tally_auth.households import leave
from tally_auth.membership import Member, MembershipConflict
from tally_auth.schemas import AccountDeleted, AccountDeleteRequest
from tally_auth.sign_in import account_key, login_failed
from tally_auth.tables import (
    invitations,
    memberships,
    one_time_tokens,
    recovery_codes,
    refresh_tokens,
    security_log,
    sessions,
    tenants,
    users,
)
from tally_auth.twofactor import _accept_code, _code_key
from tallykit.contracts.auth import UserDeleted
from tallykit.errors import Conflict, Unauthorized
from tallykit.logging import get_logger
from tallykit.tokens import Principal, Role

log = get_logger(__name__)


def _plain(row: Any) -> dict[str, Any]:
    return {
        k: (str(v) if isinstance(v, uuid.UUID) else v.isoformat() if isinstance(v, datetime) else v)
        for k, v in row._mapping.items()
    }


async def export(ctx: AuthContext, principal: Principal) -> dict[str, Any]:
    """Everything auth keeps about the person, secrets excepted (password hash, TOTP seed, token hashes)."""
    async with ctx.db.read() as session:
        user = (
            await session.execute(
                select(
                    users.c.id,
                    users.c.email,
                    users.c.display_name,
                    users.c.locale,
                    users.c.time_zone,
                    users.c.week_start,
                    users.c.created_at,
                    users.c.email_verified_at,
                    users.c.password_changed_at,
                    users.c.totp_enabled_at,
                ).where(users.c.id == principal.user_id)
            )
        ).one()
        households = await session.execute(
            select(
                tenants.c.id,
                tenants.c.name,
                tenants.c.base_currency,
                tenants.c.time_zone,
                tenants.c.week_start,
                memberships.c.role,
                memberships.c.created_at.label("joined_at"),
            )
            .join(memberships, memberships.c.tenant_id == tenants.c.id)
            .where(memberships.c.user_id == principal.user_id)
            .order_by(memberships.c.created_at)
        )
        own_sessions = await session.execute(
            select(
                sessions.c.id,
                sessions.c.device,
                sessions.c.ip,
                sessions.c.created_at,
                sessions.c.last_seen_at,
                sessions.c.expires_at,
                sessions.c.revoked_at,
            )
            .where(sessions.c.user_id == principal.user_id)
            .order_by(sessions.c.created_at)
        )
        log_rows = await session.execute(
            select(
                security_log.c.type,
                security_log.c.occurred_at,
                security_log.c.ip,
                security_log.c.device,
                security_log.c.detail,
            )
            .where(security_log.c.user_id == principal.user_id)
            .order_by(security_log.c.occurred_at)
        )
        codes_left = await session.scalar(
            select(recovery_codes.c.code_hash)
            .where(recovery_codes.c.user_id == principal.user_id, recovery_codes.c.used_at.is_(None))
            .limit(1)
        )
        return {
            "exported_at": datetime.now(UTC).isoformat(),
            "profile": _plain(user),
            "two_factor": {
                "enabled": user.totp_enabled_at is not None,
                "recovery_codes_left": codes_left is not None,
            },
            "households": [_plain(r) for r in households],
            "sessions": [_plain(r) for r in own_sessions],
            "security_log": [_plain(r) for r in log_rows],
        }


async def _all_memberships(session: AsyncSession, user_id: uuid.UUID) -> dict[uuid.UUID, list[Member]]:
    mine = select(memberships.c.tenant_id).where(memberships.c.user_id == user_id)
    rows = await session.execute(
        select(memberships.c.tenant_id, memberships.c.user_id, memberships.c.role)
        .where(memberships.c.tenant_id.in_(mine))
        .order_by(memberships.c.tenant_id)
        .with_for_update()
    )
    found: dict[uuid.UUID, list[Member]] = {}
    for r in rows:
        found.setdefault(r.tenant_id, []).append(Member(r.user_id, Role(r.role)))
    return found


async def delete_account(
    ctx: AuthContext, principal: Principal, request: AccountDeleteRequest, client: Client
) -> AccountDeleted:
    async with ctx.db.read() as session:
        row = (
            await session.execute(
                select(users.c.email, users.c.password_hash, users.c.totp_secret).where(
                    users.c.id == principal.user_id
                )
            )
        ).one()
    await limits.check(ctx.db, account_key(row.email), limit=ctx.settings.login_failures_per_account)
    if row.totp_secret is not None:
        await limits.check(
            ctx.db, _code_key(principal.user_id), limit=ctx.settings.login_failures_per_account
        )
    if not await asyncio.to_thread(verify_password, ctx.hasher, row.password_hash, request.password):
        await login_failed(
            ctx, principal.user_id, row.email, "wrong password when deleting the account", client
        )
        raise Unauthorized("the password is incorrect")
    try:
        return await _delete(ctx, principal, row.email, row.totp_secret is not None, client, request.code)
    except _WrongCodeError:
        await limits.record(
            ctx.db, _code_key(principal.user_id), window_s=ctx.settings.login_lockout_window_s
        )
        await login_failed(ctx, principal.user_id, row.email, "wrong code when deleting the account", client)
        raise Unauthorized(
            "a current two-factor code (or a recovery code) is needed to delete the account"
        ) from None


async def _delete(
    ctx: AuthContext, principal: Principal, email: str, two_factor: bool, client: Client, code: str | None
) -> AccountDeleted:
    async with ctx.db.transaction() as session:
        if two_factor:
            user = (
                await session.execute(
                    select(users.c.totp_secret, users.c.totp_last_step)
                    .where(users.c.id == principal.user_id)
                    .with_for_update()
                )
            ).one()
            if not code or not await _accept_code(
                ctx, session, principal.user_id, user.totp_secret, user.totp_last_step, code, client
            ):
                raise _WrongCodeError
        households = await _all_memberships(session, principal.user_id)
        try:
            to_delete, to_leave = membership.deletion_plan(households, principal.user_id)
        except MembershipConflict as exc:
            raise Conflict(str(exc)) from None
        home = next(iter(households), principal.tenant_id)
        for tenant_id in to_leave:
            await leave(session, ctx, tenant_id, principal.user_id, principal.user_id, client, rehome=False)
        await _erase(session, principal.user_id, to_delete)
        await publish(
            session,
            ctx,
            home,
            principal.user_id,
            UserDeleted(user_id=principal.user_id, deleted_household_ids=tuple(to_delete)),
        )
    await limits.clear(ctx.db, account_key(email))
    log.info("account_deleted", user_id=str(principal.user_id), households_deleted=len(to_delete))
    return AccountDeleted(deleted_household_ids=to_delete, left_household_ids=to_leave)


class _WrongCodeError(Exception):
    """Raised inside the transaction so that it rolls back; answered as 401 once the attempt is counted."""


async def _erase(session: AsyncSession, user_id: uuid.UUID, households: list[uuid.UUID]) -> None:
    """The person's rows and the households that go with them (sessions of former members that still
    point at such a household go too: they were revoked when those members left)."""
    for table in (sessions, refresh_tokens):
        await session.execute(delete(table).where(table.c.tenant_id.in_(households)))
    await session.execute(delete(invitations).where(invitations.c.tenant_id.in_(households)))
    await session.execute(delete(memberships).where(memberships.c.tenant_id.in_(households)))
    for table in (refresh_tokens, sessions, one_time_tokens, recovery_codes, security_log, memberships):
        await session.execute(delete(table).where(table.c.user_id == user_id))
    await session.execute(delete(tenants).where(tenants.c.id.in_(households)))
    await session.execute(delete(users).where(users.c.id == user_id))
    # Invitations this person sent stay with their household; the inviter is no longer known.
    await session.execute(
        invitations.update().where(invitations.c.invited_by == user_id).values(invited_by=None)
    )
