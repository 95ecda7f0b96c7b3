"""Profile, household settings and membership: load, decide (membership.py), save with the event.

The household a request acts on is the access token's (`tid`); the actor's role there is read from the
database, not the token, so a demoted or removed owner cannot keep managing the household for the rest
of the token's lifetime. Membership events are the household's stream (stream id = tenant id).
"""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import RowMapping, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tally_auth import domain, limits, membership
from tally_auth.commands import AuthContext, Client
from tally_auth.membership import Member, MembershipConflict, MembershipRefused
from tally_auth.schemas import (
    HouseholdCreate,
    HouseholdPublic,
    HouseholdsPublic,
    HouseholdUpdate,
    InvitationPublic,
    InviteRequest,
    MemberPublic,
    MembersPublic,
    ProfilePublic,
    ProfileUpdate,
)
from tally_auth.sign_in import revoke_session
from tally_auth.tables import invitations, memberships, sessions, tenants, users
from tallykit import outbox
from tallykit.contracts import registry
from tallykit.contracts.auth import (
    HouseholdSettingsChanged,
    MemberInvited,
    MemberJoined,
    MemberLeft,
    MemberRoleChanged,
    ProfileUpdated,
    TenantCreated,
    WeekStart,
)
from tallykit.errors import Conflict, Forbidden, InvalidInput, NotFound
from tallykit.events import EventPayload
from tallykit.logging import get_logger
from tallykit.tokens import Principal, Role

log = get_logger(__name__)
TOPIC = "auth.events"
INVITATION_TTL = timedelta(days=7)


class InvalidInvitation(InvalidInput):
    status, title, type_slug = 400, "Invalid or expired invitation", "invalid-invitation"


def _check_zone(name: str | None) -> None:
    if name is not None and not membership.is_time_zone(name):
        raise InvalidInput(f"{name!r} is not a time zone name (use an IANA name such as Europe/Berlin)")


async def _publish(
    session: AsyncSession, ctx: AuthContext, tenant_id: uuid.UUID, actor: uuid.UUID, *payloads: EventPayload
) -> None:
    correlation = uuid.uuid4()
    await outbox.enqueue(
        session,
        ctx.settings.topic(TOPIC),
        [
            registry.envelope(
                p,
                tenant_id=tenant_id,
                stream_id=tenant_id,
                stream_version=1,
                actor=str(actor),
                correlation_id=correlation,
            )
            for p in payloads
        ],
    )


async def _members(session: AsyncSession, tenant_id: uuid.UUID, *, lock: bool = False) -> list[Member]:
    query = select(memberships.c.user_id, memberships.c.role).where(memberships.c.tenant_id == tenant_id)
    if lock:
        # Two owners demoting each other at once must not leave the household without one.
        query = query.with_for_update()
    return [Member(r.user_id, Role(r.role)) for r in await session.execute(query)]


def _refused(exc: Exception) -> Exception:
    if isinstance(exc, MembershipRefused):
        return Forbidden(str(exc))
    if isinstance(exc, MembershipConflict):
        return Conflict(str(exc))
    return NotFound("no such member in this household")


# --- profile ------------------------------------------------------------------------------------------------


def _profile(row: object) -> ProfilePublic:
    return ProfilePublic.model_validate(row, from_attributes=True)


_PROFILE_COLUMNS = (
    users.c.id.label("user_id"),
    users.c.email,
    users.c.display_name,
    users.c.locale,
    users.c.time_zone,
    users.c.week_start,
)


async def get_profile(ctx: AuthContext, principal: Principal) -> ProfilePublic:
    async with ctx.db.read() as session:
        row = (await session.execute(select(*_PROFILE_COLUMNS).where(users.c.id == principal.user_id))).one()
    return _profile(row)


async def update_profile(ctx: AuthContext, principal: Principal, change: ProfileUpdate) -> ProfilePublic:
    _check_zone(change.time_zone)
    values = change.model_dump(exclude_none=True)
    async with ctx.db.transaction() as session:
        if values:
            await session.execute(update(users).where(users.c.id == principal.user_id).values(**values))
        row = (await session.execute(select(*_PROFILE_COLUMNS).where(users.c.id == principal.user_id))).one()
        profile = _profile(row)
        if values:
            event = ProfileUpdated(
                user_id=profile.user_id,
                display_name=profile.display_name,
                locale=profile.locale,
                time_zone=profile.time_zone,
                week_start=profile.week_start,
            )
            # Every household the person is in hears it (their name shows there).
            for (tenant_id,) in await session.execute(
                select(memberships.c.tenant_id).where(memberships.c.user_id == principal.user_id)
            ):
                await _publish(session, ctx, tenant_id, principal.user_id, event)
    return profile


# --- households ---------------------------------------------------------------------------------------------


def _household(row: object, current: uuid.UUID | None) -> HouseholdPublic:
    household = HouseholdPublic.model_validate(row, from_attributes=True)
    return household.model_copy(update={"current": household.id == current})


_HOUSEHOLD_COLUMNS = (
    tenants.c.id,
    tenants.c.name,
    tenants.c.base_currency,
    tenants.c.time_zone,
    tenants.c.week_start,
    memberships.c.role,
)


async def list_households(ctx: AuthContext, principal: Principal) -> HouseholdsPublic:
    async with ctx.db.read() as session:
        rows = await session.execute(
            select(*_HOUSEHOLD_COLUMNS)
            .join(memberships, memberships.c.tenant_id == tenants.c.id)
            .where(memberships.c.user_id == principal.user_id)
            .order_by(memberships.c.created_at, tenants.c.name)
        )
        return HouseholdsPublic(items=[_household(r, principal.tenant_id) for r in rows])


async def get_household(ctx: AuthContext, principal: Principal) -> HouseholdPublic:
    async with ctx.db.read() as session:
        return await _load_household(session, principal)


async def _load_household(session: AsyncSession, principal: Principal) -> HouseholdPublic:
    row = (
        await session.execute(
            select(*_HOUSEHOLD_COLUMNS)
            .join(memberships, memberships.c.tenant_id == tenants.c.id)
            .where(tenants.c.id == principal.tenant_id, memberships.c.user_id == principal.user_id)
        )
    ).first()
    if row is None:
        raise NotFound("you are not a member of this household")
    return _household(row, principal.tenant_id)


async def create_household(
    ctx: AuthContext, principal: Principal, request: HouseholdCreate
) -> HouseholdPublic:
    """Anyone signed in may start another household, of which they are the owner."""
    _check_zone(request.time_zone)
    async with ctx.db.transaction() as session:
        user = (
            await session.execute(
                select(users.c.time_zone, users.c.week_start).where(users.c.id == principal.user_id)
            )
        ).one()
        household = await found_household(
            session,
            ctx,
            principal.user_id,
            name=request.name,
            base_currency=request.base_currency or ctx.settings.default_currency,
            time_zone=request.time_zone or user.time_zone,
            week_start=WeekStart(request.week_start or user.week_start),
        )
    log.info("household_created", tenant_id=str(household.id))
    return household


# What MemberJoined says of the person: all the notifier needs to write to them in that household.
_JOINER = (users.c.email, users.c.display_name, users.c.locale, users.c.time_zone)


def _joined(user_id: uuid.UUID, person: RowMapping, role: str) -> MemberJoined:
    """`person`: their row of `_JOINER`'s columns."""
    return MemberJoined(user_id=user_id, role=role, **person)


async def found_household(
    session: AsyncSession,
    ctx: AuthContext,
    user_id: uuid.UUID,
    *,
    name: str,
    base_currency: str,
    time_zone: str,
    week_start: WeekStart,
) -> HouseholdPublic:
    """A new household with the person as its owner, and its events (created, joined, settings)."""
    tenant_id = uuid.uuid4()
    user = (await session.execute(select(*_JOINER).where(users.c.id == user_id))).one()
    settings = {
        "name": name,
        "base_currency": base_currency,
        "time_zone": time_zone,
        "week_start": week_start,
    }
    await session.execute(insert(tenants).values(id=tenant_id, **settings))
    await session.execute(insert(memberships).values(tenant_id=tenant_id, user_id=user_id, role=Role.owner))
    await _publish(
        session,
        ctx,
        tenant_id,
        user_id,
        TenantCreated(owner_user_id=user_id, **settings),
        _joined(user_id, user._mapping, Role.owner),
        HouseholdSettingsChanged(**settings),
    )
    return HouseholdPublic(id=tenant_id, role=Role.owner, current=False, **settings)


async def update_household(
    ctx: AuthContext, principal: Principal, change: HouseholdUpdate
) -> HouseholdPublic:
    _check_zone(change.time_zone)
    values = change.model_dump(exclude_none=True)
    async with ctx.db.transaction() as session:
        members = await _members(session, principal.tenant_id, lock=True)
        try:
            membership.require_owner(members, principal.user_id)
        except MembershipRefused as exc:
            raise Forbidden(str(exc)) from None
        if values:
            await session.execute(update(tenants).where(tenants.c.id == principal.tenant_id).values(**values))
        household = await _load_household(session, principal)
        if values:
            await _publish(
                session,
                ctx,
                principal.tenant_id,
                principal.user_id,
                HouseholdSettingsChanged(
                    name=household.name,
                    base_currency=household.base_currency,
                    time_zone=household.time_zone,
                    week_start=WeekStart(household.week_start),
                ),
            )
    return household


# --- members and invitations --------------------------------------------------------------------------------


async def list_members(ctx: AuthContext, principal: Principal) -> MembersPublic:
    async with ctx.db.read() as session:
        members = await _members(session, principal.tenant_id)
        if principal.user_id not in {m.user_id for m in members}:
            raise NotFound("you are not a member of this household")
        rows = await session.execute(
            select(
                users.c.id, users.c.email, users.c.display_name, memberships.c.role, memberships.c.created_at
            )
            .join(memberships, memberships.c.user_id == users.c.id)
            .where(memberships.c.tenant_id == principal.tenant_id)
            .order_by(memberships.c.created_at)
        )
        people = [
            MemberPublic(
                user_id=r.id,
                email=r.email,
                display_name=r.display_name,
                role=Role(r.role),
                joined_at=r.created_at,
                you=r.id == principal.user_id,
            )
            for r in rows
        ]
        pending: list[InvitationPublic] = []
        if principal.user_id in membership.owners(members):
            found = await session.execute(
                select(invitations)
                .where(
                    invitations.c.tenant_id == principal.tenant_id,
                    invitations.c.accepted_at.is_(None),
                    invitations.c.revoked_at.is_(None),
                    invitations.c.expires_at > datetime.now(UTC),
                )
                .order_by(invitations.c.created_at)
            )
            pending = [
                InvitationPublic(
                    id=r.id,
                    email=r.email,
                    role=Role(r.role),
                    created_at=r.created_at,
                    expires_at=r.expires_at,
                )
                for r in found
            ]
    return MembersPublic(members=people, invitations=pending)


async def invite(ctx: AuthContext, principal: Principal, request: InviteRequest) -> InvitationPublic:
    email = domain.normalise_email(request.email)
    # Each invitation is a mail sent to an address the owner chose: a household sends a bounded number.
    s = ctx.settings
    await limits.hit(
        ctx.db,
        f"invite-household:{principal.tenant_id}",
        limit=s.invitations_per_household,
        window_s=s.mail_window_s,
    )
    async with ctx.db.transaction() as session:
        members = await _members(session, principal.tenant_id, lock=True)
        try:
            membership.require_owner(members, principal.user_id)
        except MembershipRefused as exc:
            raise Forbidden(str(exc)) from None
        already = await session.scalar(
            select(users.c.id)
            .join(memberships, memberships.c.user_id == users.c.id)
            .where(users.c.email == email, memberships.c.tenant_id == principal.tenant_id)
        )
        if already is not None:
            raise Conflict("this person is already a member of the household")
        now = datetime.now(UTC)
        # A new invitation to the same address replaces the pending one (its link stops working).
        await session.execute(
            update(invitations)
            .where(
                invitations.c.tenant_id == principal.tenant_id,
                invitations.c.email == email,
                invitations.c.accepted_at.is_(None),
                invitations.c.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        token = domain.new_secret()
        invitation_id = uuid.uuid4()
        expires_at = now + INVITATION_TTL
        created_at = await session.scalar(
            insert(invitations)
            .values(
                id=invitation_id,
                tenant_id=principal.tenant_id,
                email=email,
                role=request.role,
                token_hash=domain.hash_secret(token),
                invited_by=principal.user_id,
                expires_at=expires_at,
            )
            .returning(invitations.c.created_at)
        )
        names = (
            await session.execute(
                select(tenants.c.name, users.c.display_name)
                .select_from(tenants)
                .join(users, users.c.id == principal.user_id)
                .where(tenants.c.id == principal.tenant_id)
            )
        ).one()
        await _publish(
            session,
            ctx,
            principal.tenant_id,
            principal.user_id,
            MemberInvited(
                invitation_id=invitation_id,
                email=email,
                role=request.role,
                household_name=names.name,
                invited_by_name=names.display_name,
                path=ctx.link_path("invite", token),
                expires_at=expires_at,
            ),
        )
    log.info("member_invited", tenant_id=str(principal.tenant_id), invitation_id=str(invitation_id))
    assert created_at is not None
    return InvitationPublic(
        id=invitation_id, email=email, role=request.role, created_at=created_at, expires_at=expires_at
    )


async def revoke_invitation(ctx: AuthContext, principal: Principal, invitation_id: uuid.UUID) -> None:
    async with ctx.db.transaction() as session:
        members = await _members(session, principal.tenant_id)
        try:
            membership.require_owner(members, principal.user_id)
        except MembershipRefused as exc:
            raise Forbidden(str(exc)) from None
        revoked = await session.execute(
            update(invitations)
            .where(
                invitations.c.id == invitation_id,
                invitations.c.tenant_id == principal.tenant_id,
                invitations.c.accepted_at.is_(None),
                invitations.c.revoked_at.is_(None),
            )
            .values(revoked_at=datetime.now(UTC))
            .returning(invitations.c.id)
        )
        if revoked.first() is None:
            raise NotFound(f"invitation {invitation_id} not found")


async def accept_invitation(
    ctx: AuthContext, principal: Principal, token: str, client: Client
) -> HouseholdPublic:
    """The signed-in person joins the invitation's household with its role. Switching to it is a separate
    step (POST /switch), so the current session's household does not change under the caller."""
    key = f"token-ip:{client.ip}"
    await limits.check(ctx.db, key, limit=ctx.settings.token_failures_per_ip)
    try:
        async with ctx.db.transaction() as session:
            row = (
                await session.execute(
                    select(invitations)
                    .where(invitations.c.token_hash == domain.hash_secret(token))
                    .with_for_update()
                )
            ).first()
            user = (await session.execute(select(*_JOINER).where(users.c.id == principal.user_id))).one()
            stored = (
                None
                if row is None
                else membership.StoredInvitation(row.email, row.expires_at, row.accepted_at, row.revoked_at)
            )
            membership.check_invitation(stored, user.email, datetime.now(UTC))
            assert row is not None
            already = await session.scalar(
                select(memberships.c.role).where(
                    memberships.c.tenant_id == row.tenant_id, memberships.c.user_id == principal.user_id
                )
            )
            if already is not None:
                raise Conflict("you are already a member of this household")
            await session.execute(
                update(invitations).where(invitations.c.id == row.id).values(accepted_at=datetime.now(UTC))
            )
            await session.execute(
                insert(memberships).values(tenant_id=row.tenant_id, user_id=principal.user_id, role=row.role)
            )
            await _publish(
                session,
                ctx,
                row.tenant_id,
                principal.user_id,
                _joined(principal.user_id, user._mapping, row.role),
            )
            household = await _load_household(
                session, Principal(principal.user_id, row.tenant_id, Role(row.role))
            )
    except membership.InvitationRefused as exc:
        await limits.record(ctx.db, key, window_s=ctx.settings.token_window_s)
        raise InvalidInvitation(str(exc)) from None
    except MembershipRefused as exc:
        raise Forbidden(str(exc)) from None
    log.info("member_joined", tenant_id=str(household.id), user_id=str(principal.user_id))
    return household


async def change_role(ctx: AuthContext, principal: Principal, user_id: uuid.UUID, role: Role) -> None:
    async with ctx.db.transaction() as session:
        members = await _members(session, principal.tenant_id, lock=True)
        try:
            current = membership.check_role_change(members, principal.user_id, user_id, role)
        except (MembershipRefused, MembershipConflict, LookupError) as exc:
            raise _refused(exc) from None
        if current.role == role:
            return
        await _set_role(session, principal.tenant_id, user_id, role)
        await _publish(
            session,
            ctx,
            principal.tenant_id,
            principal.user_id,
            MemberRoleChanged(user_id=user_id, role=role),
        )


async def _set_role(session: AsyncSession, tenant_id: uuid.UUID, user_id: uuid.UUID, role: Role) -> None:
    await session.execute(
        update(memberships)
        .where(memberships.c.tenant_id == tenant_id, memberships.c.user_id == user_id)
        .values(role=role)
    )


async def transfer_ownership(ctx: AuthContext, principal: Principal, user_id: uuid.UUID) -> None:
    """The other member becomes owner and the caller becomes a member (read and write)."""
    async with ctx.db.transaction() as session:
        members = await _members(session, principal.tenant_id, lock=True)
        try:
            membership.check_transfer(members, principal.user_id, user_id)
        except (MembershipRefused, MembershipConflict, LookupError) as exc:
            raise _refused(exc) from None
        await _set_role(session, principal.tenant_id, user_id, Role.owner)
        await _set_role(session, principal.tenant_id, principal.user_id, Role.member)
        await _publish(
            session,
            ctx,
            principal.tenant_id,
            principal.user_id,
            MemberRoleChanged(user_id=user_id, role=Role.owner),
            MemberRoleChanged(user_id=principal.user_id, role=Role.member),
        )


async def remove_member(
    ctx: AuthContext, principal: Principal, tenant_id: uuid.UUID, user_id: uuid.UUID, client: Client
) -> None:
    """An owner removes a member, or a person leaves (their own id, any household of theirs). Their
    sessions on that household end at once: its refresh tokens stop working (access tokens already out
    expire within one lifetime)."""
    async with ctx.db.transaction() as session:
        members = await _members(session, tenant_id, lock=True)
        if principal.user_id not in {m.user_id for m in members}:
            raise NotFound("you are not a member of this household")
        try:
            membership.check_removal(members, principal.user_id, user_id)
        except (MembershipRefused, MembershipConflict, LookupError) as exc:
            raise _refused(exc) from None
        await leave(session, ctx, tenant_id, user_id, principal.user_id, client)
    log.info("member_left", tenant_id=str(tenant_id), user_id=str(user_id))


async def leave(
    session: AsyncSession,
    ctx: AuthContext,
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    actor: uuid.UUID,
    client: Client,
    *,
    rehome: bool = True,
) -> None:
    await session.execute(
        delete(memberships).where(memberships.c.tenant_id == tenant_id, memberships.c.user_id == user_id)
    )
    on_household = await session.execute(
        select(sessions.c.id).where(
            sessions.c.user_id == user_id, sessions.c.tenant_id == tenant_id, sessions.c.revoked_at.is_(None)
        )
    )
    reason = "left the household" if actor == user_id else "removed from the household"
    for (family_id,) in on_household.all():
        await revoke_session(session, ctx, user_id, family_id, client, reason)
    await _publish(
        session,
        ctx,
        tenant_id,
        actor,
        MemberLeft(user_id=user_id, removed_by=None if actor == user_id else actor),
    )
    remaining = await session.scalar(select(memberships.c.tenant_id).where(memberships.c.user_id == user_id))
    if rehome and remaining is None:
        # Everyone belongs to a household (sign-in lands in one): a person left with none gets a new one
        # of their own, as at sign-up.
        user = (
            await session.execute(
                select(users.c.display_name, users.c.time_zone, users.c.week_start).where(
                    users.c.id == user_id
                )
            )
        ).one()
        await found_household(
            session,
            ctx,
            user_id,
            name=domain.household_name(user.display_name),
            base_currency=ctx.settings.default_currency,
            time_zone=user.time_zone,
            week_start=WeekStart(user.week_start),
        )


async def check_member(ctx: AuthContext, user_id: uuid.UUID, tenant_id: uuid.UUID) -> None:
    async with ctx.db.read() as session:
        found = await session.scalar(
            select(memberships.c.role).where(
                memberships.c.user_id == user_id, memberships.c.tenant_id == tenant_id
            )
        )
    if found is None:
        raise NotFound("you are not a member of this household")
