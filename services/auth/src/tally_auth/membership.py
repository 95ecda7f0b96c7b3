"""Household membership rules, free of I/O: who may do what to whom, and what must stay true
(a household always keeps an owner). The commands load the members, ask these, then save."""

import zoneinfo
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from uuid import UUID

from tallykit.tokens import Role


class MembershipRefused(Exception):
    """The change is not allowed for who asks it (→ 403)."""


class MembershipConflict(Exception):
    """The change would break a rule of the household, e.g. leave it without an owner (→ 409)."""


# Files in the zone database that are not places: the server's own zone, and POSIX helpers.
_NOT_PLACES = frozenset({"localtime", "posixrules", "Factory"})


@cache
def _zones() -> frozenset[str]:
    return frozenset(
        z
        for z in zoneinfo.available_timezones()
        if z not in _NOT_PLACES and not z.startswith(("posix/", "right/"))
    )


def is_time_zone(name: str) -> bool:
    """An IANA zone name the server knows ("Europe/Berlin", "UTC"); not a file path nor an offset."""
    return name in _zones()


@dataclass(frozen=True)
class Member:
    user_id: UUID
    role: Role


def owners(members: list[Member]) -> list[UUID]:
    return [m.user_id for m in members if m.role == Role.owner]


def _find(members: list[Member], user_id: UUID) -> Member | None:
    return next((m for m in members if m.user_id == user_id), None)


def require_owner(members: list[Member], actor: UUID) -> None:
    """Settings and membership are the owners' to change; the actor's role is read from the household
    now, not from the access token (which may be up to one lifetime old)."""
    member = _find(members, actor)
    if member is None or member.role != Role.owner:
        raise MembershipRefused("only an owner of the household can do this")


def check_role_change(members: list[Member], actor: UUID, target: UUID, role: Role) -> Member:
    require_owner(members, actor)
    member = _find(members, target)
    if member is None:
        raise LookupError("no such member")
    if member.role == Role.owner and role != Role.owner and owners(members) == [target]:
        raise MembershipConflict(
            "the household's last owner cannot stop being one; make someone else owner first"
        )
    return member


def check_removal(members: list[Member], actor: UUID, target: UUID) -> Member:
    """An owner removes anyone; anyone removes themselves (leaving). The last owner stays."""
    member = _find(members, target)
    if actor != target:
        require_owner(members, actor)
    if member is None:
        raise LookupError("no such member")
    if member.role == Role.owner and owners(members) == [target]:
        raise MembershipConflict("the household's last owner cannot leave; transfer ownership first")
    return member


def check_transfer(members: list[Member], actor: UUID, target: UUID) -> Member:
    require_owner(members, actor)
    if actor == target:
        raise MembershipConflict("you already own this household")
    member = _find(members, target)
    if member is None:
        raise LookupError("no such member")
    return member


@dataclass(frozen=True)
class StoredInvitation:
    email: str
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None


class InvitationRefused(Exception):
    pass


def check_invitation(invitation: StoredInvitation | None, email: str, now: datetime) -> None:
    """Single use, expiring, revocable, and for the address it was sent to: a forwarded or leaked link
    does not let another account in."""
    if invitation is None or invitation.revoked_at is not None:
        raise InvitationRefused("this invitation is not valid")
    if invitation.accepted_at is not None:
        raise InvitationRefused("this invitation was already used")
    if invitation.expires_at <= now:
        raise InvitationRefused("this invitation has expired")
    if invitation.email != email:
        raise MembershipRefused("this invitation was sent to another email address; sign in with that one")


def deletion_plan(memberships: dict[UUID, list[Member]], user_id: UUID) -> tuple[list[UUID], list[UUID]]:
    """Deleting an account: households where the person is the only member go with it; in shared
    households they simply leave, unless they are the only owner there (→ transfer first).
    Returns (households to delete, households to leave)."""
    delete: list[UUID] = []
    leave: list[UUID] = []
    blocking: list[UUID] = []
    for tenant_id, members in memberships.items():
        if len(members) == 1:
            delete.append(tenant_id)
        elif owners(members) == [user_id]:
            blocking.append(tenant_id)
        else:
            leave.append(tenant_id)
    if blocking:
        raise MembershipConflict(
            "you are the only owner of a household others share; transfer its ownership first"
        )
    return delete, leave
