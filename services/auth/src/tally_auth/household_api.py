"""Routes for the profile, households, members and invitations, and switching household."""

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response, status

from tally_auth import households, personal_data, sign_in
from tally_auth.api import ClientInfo, Context, LivePrincipal, _deliver, _forget_cookie, _refresh_token
from tally_auth.schemas import (
    AccountDeleted,
    AccountDeleteRequest,
    HouseholdCreate,
    HouseholdPublic,
    HouseholdsPublic,
    HouseholdUpdate,
    InvitationPublic,
    InviteRequest,
    MembersPublic,
    ProfilePublic,
    ProfileUpdate,
    RefreshRequest,
    RoleChange,
    SwitchRequest,
    TokenPair,
    TokenRequest,
    TransferRequest,
)

router = APIRouter()


@router.get("/profile")
async def get_profile(principal: LivePrincipal, ctx: Context) -> ProfilePublic:
    return await households.get_profile(ctx, principal)


@router.patch("/profile")
async def update_profile(
    body: ProfileUpdate, principal: LivePrincipal, ctx: Context, request: Request
) -> ProfilePublic:
    """Display name, locale, time zone (IANA name) and first day of the week; publishes ProfileUpdated."""
    profile = await households.update_profile(ctx, principal, body)
    return profile


@router.get("/households")
async def list_households(principal: LivePrincipal, ctx: Context) -> HouseholdsPublic:
    """Every household the person belongs to, with their role; `current` is the token's."""
    return await households.list_households(ctx, principal)


@router.post("/households", status_code=status.HTTP_201_CREATED)
async def create_household(
    body: HouseholdCreate, principal: LivePrincipal, ctx: Context, request: Request
) -> HouseholdPublic:
    household = await households.create_household(ctx, principal, body)
    return household


@router.post("/households/{tenant_id}/leave", status_code=status.HTTP_204_NO_CONTENT)
async def leave_household(
    tenant_id: uuid.UUID, principal: LivePrincipal, ctx: Context, client: ClientInfo, request: Request
) -> Response:
    """Leaves a household (the last owner cannot: 409). Its sessions end, this one too when it is on it."""
    await households.remove_member(ctx, principal, tenant_id, principal.user_id, client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/switch")
async def switch_household(
    body: SwitchRequest,
    principal: LivePrincipal,
    ctx: Context,
    client: ClientInfo,
    request: Request,
    response: Response,
) -> TokenPair:
    """A new token pair for another household of the person's: the refresh token (body or cookie) is
    spent as in /refresh, and its family remembers the household from then on."""
    await households.check_member(ctx, principal.user_id, body.tenant_id)
    token, from_cookie = _refresh_token(RefreshRequest(refresh_token=body.refresh_token), request, ctx)
    pair = await sign_in.refresh(ctx, token, client, switch_to=body.tenant_id, user_id=principal.user_id)
    return _deliver(pair, response, ctx, from_cookie)


@router.get("/household")
async def get_household(principal: LivePrincipal, ctx: Context) -> HouseholdPublic:
    return await households.get_household(ctx, principal)


@router.patch("/household")
async def update_household(
    body: HouseholdUpdate, principal: LivePrincipal, ctx: Context, request: Request
) -> HouseholdPublic:
    """Owners only: name, base currency, time zone, week start; publishes HouseholdSettingsChanged."""
    household = await households.update_household(ctx, principal, body)
    return household


@router.get("/household/members")
async def list_members(principal: LivePrincipal, ctx: Context) -> MembersPublic:
    return await households.list_members(ctx, principal)


@router.post("/household/invitations", status_code=status.HTTP_201_CREATED)
async def invite(
    body: InviteRequest, principal: LivePrincipal, ctx: Context, request: Request
) -> InvitationPublic:
    """Owners only: mails a single-use link (7 days) through the notifier (auth.MemberInvited)."""
    invitation = await households.invite(ctx, principal, body)
    return invitation


@router.delete("/household/invitations/{invitation_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_invitation(invitation_id: uuid.UUID, principal: LivePrincipal, ctx: Context) -> Response:
    await households.revoke_invitation(ctx, principal, invitation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/invitations/accept")
async def accept_invitation(
    body: TokenRequest, principal: LivePrincipal, ctx: Context, client: ClientInfo, request: Request
) -> HouseholdPublic:
    """Joins the household of the invitation (sent to this account's email address); switch to it next."""
    household = await households.accept_invitation(ctx, principal, body.token, client)
    return household


@router.patch("/household/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def change_role(
    user_id: uuid.UUID, body: RoleChange, principal: LivePrincipal, ctx: Context, request: Request
) -> Response:
    """Owners only; the last owner stays one (409). Takes effect at the member's next token refresh."""
    await households.change_role(ctx, principal, user_id, body.role)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.delete("/household/members/{user_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_member(
    user_id: uuid.UUID, principal: LivePrincipal, ctx: Context, client: ClientInfo, request: Request
) -> Response:
    """Owners remove a member (their refresh tokens for this household stop working at once)."""
    await households.remove_member(ctx, principal, principal.tenant_id, user_id, client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/household/transfer", status_code=status.HTTP_204_NO_CONTENT)
async def transfer(
    body: TransferRequest, principal: LivePrincipal, ctx: Context, request: Request
) -> Response:
    """Owners only: the member becomes owner and you become a member."""
    await households.transfer_ownership(ctx, principal, body.user_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/account/export")
async def export_account(principal: LivePrincipal, ctx: Context) -> dict[str, Any]:
    """Everything auth holds about you (no secrets): profile, households and roles, sessions, security log.
    The web client zips it with the ledger's, budget's and notifier's parts."""
    return await personal_data.export(ctx, principal)


@router.post("/account/delete")
async def delete_account(
    body: AccountDeleteRequest,
    principal: LivePrincipal,
    ctx: Context,
    client: ClientInfo,
    request: Request,
    response: Response,
) -> AccountDeleted:
    """With the password (and a code when two-factor sign-in is on). Households you alone belong to go
    with the account; you leave shared ones, unless you are their only owner (409: transfer first).
    Every service forgets you on auth.UserDeleted."""
    deleted = await personal_data.delete_account(ctx, principal, body, client)
    _forget_cookie(response, ctx)
    return deleted
