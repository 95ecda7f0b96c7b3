"""The household rules on their own (no database): who may change whom, and that a household always
keeps an owner."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from tally_auth.membership import (
    InvitationRefused,
    Member,
    MembershipConflict,
    MembershipRefused,
    StoredInvitation,
    check_invitation,
    check_removal,
    check_role_change,
    check_transfer,
    deletion_plan,
    is_time_zone,
    require_owner,
)
from tallykit.tokens import Role

OWNER, OTHER_OWNER, MEMBER, VIEWER = uuid4(), uuid4(), uuid4(), uuid4()
NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def household(*owners: object) -> list[Member]:
    people = [Member(OWNER, Role.owner), Member(MEMBER, Role.member), Member(VIEWER, Role.viewer)]
    if OTHER_OWNER in owners:
        people.append(Member(OTHER_OWNER, Role.owner))
    return people


@pytest.mark.parametrize("name", ["Europe/Berlin", "UTC", "America/Argentina/Buenos_Aires", "Asia/Kolkata"])
def test_iana_zone_names_are_time_zones(name: str) -> None:
    assert is_time_zone(name)


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "../../etc/passwd", "+02:00", "europe/berlin", "", "localtime"]
)
def test_anything_else_is_not(name: str) -> None:
    assert not is_time_zone(name)


@pytest.mark.parametrize("actor", [MEMBER, VIEWER, uuid4()])
def test_only_owners_manage(actor: object) -> None:
    with pytest.raises(MembershipRefused):
        require_owner(household(), actor)  # type: ignore[arg-type]
    with pytest.raises(MembershipRefused):
        check_role_change(household(), actor, MEMBER, Role.viewer)  # type: ignore[arg-type]
    with pytest.raises(MembershipRefused):
        check_transfer(household(), actor, MEMBER)  # type: ignore[arg-type]


def test_the_last_owner_neither_steps_down_nor_leaves() -> None:
    with pytest.raises(MembershipConflict):
        check_role_change(household(), OWNER, OWNER, Role.member)
    with pytest.raises(MembershipConflict):
        check_removal(household(), OWNER, OWNER)
    # With a second owner both are fine.
    check_role_change(household(OTHER_OWNER), OWNER, OWNER, Role.member)
    check_removal(household(OTHER_OWNER), OWNER, OWNER)
    # Another owner may not remove the last... there is no last: two owners may remove each other.
    check_removal(household(OTHER_OWNER), OTHER_OWNER, OWNER)


def test_anyone_leaves_but_only_owners_remove_others() -> None:
    check_removal(household(), VIEWER, VIEWER)
    check_removal(household(), MEMBER, MEMBER)
    with pytest.raises(MembershipRefused):
        check_removal(household(), MEMBER, VIEWER)
    with pytest.raises(LookupError):
        check_removal(household(), OWNER, uuid4())


def test_transfer_needs_another_member() -> None:
    with pytest.raises(MembershipConflict):
        check_transfer(household(), OWNER, OWNER)
    with pytest.raises(LookupError):
        check_transfer(household(), OWNER, uuid4())
    assert check_transfer(household(), OWNER, VIEWER).role == Role.viewer


def invitation(**changes: object) -> StoredInvitation:
    values: dict[str, object] = {
        "email": "bob@example.com",
        "expires_at": NOW + timedelta(days=1),
        "accepted_at": None,
        "revoked_at": None,
    }
    return StoredInvitation(**{**values, **changes})  # type: ignore[arg-type]


def test_an_invitation_is_good_once_in_time_unwithdrawn_and_for_its_address() -> None:
    check_invitation(invitation(), "bob@example.com", NOW)
    for bad, why in (
        (None, "not valid"),
        (invitation(accepted_at=NOW), "already used"),
        (invitation(expires_at=NOW), "expired"),
        (invitation(revoked_at=NOW), "not valid"),
    ):
        with pytest.raises(InvitationRefused, match=why):
            check_invitation(bad, "bob@example.com", NOW)
    with pytest.raises(MembershipRefused):
        check_invitation(invitation(), "eve@example.com", NOW)


def test_deletion_plan() -> None:
    alone, shared_owned, shared_co_owned, shared_member = uuid4(), uuid4(), uuid4(), uuid4()
    me = OWNER
    plan = deletion_plan(
        {
            alone: [Member(me, Role.owner)],
            shared_co_owned: [Member(me, Role.owner), Member(OTHER_OWNER, Role.owner)],
            shared_member: [Member(OTHER_OWNER, Role.owner), Member(me, Role.viewer)],
        },
        me,
    )
    assert plan == ([alone], [shared_co_owned, shared_member])
    with pytest.raises(MembershipConflict, match="transfer"):
        deletion_plan({alone: [Member(me, Role.owner)], shared_owned: household()}, me)
