"""Auth routes. The web client keeps its refresh token in an HttpOnly, SameSite=Strict cookie scoped to
/api/auth (see docs/security.md); other clients send it in the JSON body."""

import uuid
from typing import Annotated, Any

import jwt
from fastapi import APIRouter, Depends, Query, Request, Response, status

from tally_auth import commands, credentials, keys, sign_in, twofactor
from tally_auth.commands import AuthContext, Client
from tally_auth.schemas import (
    Accepted,
    CodeRequest,
    EmailRequest,
    LoginRequest,
    LoginSecondFactorRequest,
    MePublic,
    PasswordChangeRequest,
    PasswordResetConfirm,
    RecoveryCodesPublic,
    RecoveryCodesRequest,
    RefreshRequest,
    RegisterRequest,
    SecurityLogPublic,
    SessionsPublic,
    TokenPair,
    TokenRequest,
    TwoFactorChallenge,
    TwoFactorDisableRequest,
    TwoFactorSetupPublic,
    UserPublic,
)
from tallykit.errors import Unauthorized
from tallykit.tokens import CurrentPrincipal, Principal, bearer_token

router = APIRouter()
RESET_ACCEPTED = "If an account has this email address, a link to reset its password is on its way."


def _context(request: Request) -> AuthContext:
    ctx: AuthContext = request.app.state.auth
    return ctx


def _client(request: Request) -> Client:
    ctx = _context(request)
    ip = request.client.host if request.client else "unknown"
    forwarded = request.headers.get("x-forwarded-for")
    if ctx.settings.trust_forwarded_for and forwarded:
        # The gateway (the only way in) appends the address it saw; take that one, not the client's claims.
        ip = forwarded.split(",")[-1].strip()[:64] or ip
    return Client(ip=ip, user_agent=request.headers.get("user-agent"))


def _session_id(request: Request) -> uuid.UUID | None:
    """The session (`sid`) of the request's access token, already verified by CurrentPrincipal."""
    try:
        claims = jwt.decode(bearer_token(request), options={"verify_signature": False})
        return uuid.UUID(claims["sid"])
    except (jwt.PyJWTError, KeyError, ValueError, TypeError):
        return None


Context = Annotated[AuthContext, Depends(_context)]
ClientInfo = Annotated[Client, Depends(_client)]


async def _live_principal(principal: CurrentPrincipal, request: Request) -> Principal:
    """The account's own settings ask more than a valid signature: the token's session must still be
    live, so a signed-out or revoked session's access token stops here at once, not when it expires."""
    session_id = _session_id(request)
    if session_id is None or not await sign_in.session_is_live(
        _context(request), session_id, principal.user_id
    ):
        raise Unauthorized("this session has been signed out")
    return principal


LivePrincipal = Annotated[Principal, Depends(_live_principal)]


def _deliver(pair: TokenPair, response: Response, ctx: AuthContext, as_cookie: bool) -> TokenPair:
    if not as_cookie or pair.refresh_token is None:
        return pair
    s = ctx.settings
    response.set_cookie(
        s.refresh_cookie_name,
        pair.refresh_token,
        max_age=s.refresh_token_ttl_s,
        path=s.refresh_cookie_path,
        secure=s.refresh_cookie_secure,
        httponly=True,
        samesite="strict",
    )
    return pair.model_copy(update={"refresh_token": None})


def _forget_cookie(response: Response, ctx: AuthContext) -> None:
    s = ctx.settings
    response.delete_cookie(
        s.refresh_cookie_name,
        path=s.refresh_cookie_path,
        secure=s.refresh_cookie_secure,
        httponly=True,
        samesite="strict",
    )


def _refresh_token(body: RefreshRequest, request: Request, ctx: AuthContext) -> tuple[str, bool]:
    if body.refresh_token:
        return body.refresh_token, False
    cookie = request.cookies.get(ctx.settings.refresh_cookie_name)
    if not cookie:
        raise Unauthorized("no refresh token was sent")
    return cookie, True


@router.post("/register", status_code=status.HTTP_201_CREATED)
async def register(body: RegisterRequest, ctx: Context, request: Request) -> UserPublic:
    user = await commands.register(ctx, body)
    return user


@router.post("/login")
async def login(
    body: LoginRequest, ctx: Context, client: ClientInfo, request: Request, response: Response
) -> TokenPair | TwoFactorChallenge:
    """Email and password. With two-factor sign-in on, the answer is a challenge for POST /login/2fa."""
    result = await sign_in.login(ctx, body, client)
    if isinstance(result, TwoFactorChallenge):
        return result
    return _deliver(result, response, ctx, body.cookie)


@router.post("/login/2fa")
async def login_second_factor(
    body: LoginSecondFactorRequest, ctx: Context, client: ClientInfo, request: Request, response: Response
) -> TokenPair:
    """The second step of sign-in: the challenge token and a TOTP code or a recovery code."""
    pair = await twofactor.login_second_step(ctx, body, client)
    return _deliver(pair, response, ctx, body.cookie)


@router.post("/refresh")
async def refresh(
    body: RefreshRequest, ctx: Context, client: ClientInfo, request: Request, response: Response
) -> TokenPair:
    token, from_cookie = _refresh_token(body, request, ctx)
    pair = await sign_in.refresh(ctx, token, client)
    return _deliver(pair, response, ctx, from_cookie)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshRequest, ctx: Context, client: ClientInfo, request: Request) -> Response:
    """Signs out this device: its session (refresh-token family) ends."""
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    token = body.refresh_token or request.cookies.get(ctx.settings.refresh_cookie_name)
    if token:
        await sign_in.logout(ctx, token, client)
    _forget_cookie(response, ctx)
    return response


@router.post("/logout-all", status_code=status.HTTP_204_NO_CONTENT)
async def logout_all(
    principal: LivePrincipal, ctx: Context, client: ClientInfo, request: Request
) -> Response:
    """Signs out every device, this one included (access tokens already out live on until they expire)."""
    await sign_in.logout_everywhere(ctx, principal, client)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    _forget_cookie(response, ctx)
    return response


@router.get("/sessions")
async def sessions(principal: LivePrincipal, ctx: Context, request: Request) -> SessionsPublic:
    return await sign_in.list_sessions(ctx, principal, _session_id(request))


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_session(
    session_id: uuid.UUID, principal: LivePrincipal, ctx: Context, client: ClientInfo, request: Request
) -> Response:
    await sign_in.end_session(ctx, principal, session_id, client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/security-log")
async def security_log(
    principal: LivePrincipal, ctx: Context, limit: Annotated[int, Query(ge=1, le=200)] = 50
) -> SecurityLogPublic:
    return await commands.read_security_log(ctx, principal, limit)


@router.post("/verify-email", status_code=status.HTTP_204_NO_CONTENT)
async def verify_email(body: TokenRequest, ctx: Context, client: ClientInfo, request: Request) -> Response:
    await credentials.verify_email(ctx, body.token, client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/verify-email/resend", status_code=status.HTTP_202_ACCEPTED)
async def resend_verification(
    principal: LivePrincipal, ctx: Context, client: ClientInfo, request: Request
) -> Accepted:
    await credentials.resend_verification(ctx, principal, client)
    return Accepted(detail="A new verification link is on its way.")


@router.post("/password-reset/request", status_code=status.HTTP_202_ACCEPTED)
async def request_password_reset(
    body: EmailRequest, ctx: Context, client: ClientInfo, request: Request
) -> Accepted:
    """The same answer, in the same time, for every email address: it tells nobody who has an account."""
    await credentials.request_password_reset(ctx, body.email, client)
    return Accepted(detail=RESET_ACCEPTED)


@router.post("/password-reset/confirm", status_code=status.HTTP_204_NO_CONTENT)
async def confirm_password_reset(
    body: PasswordResetConfirm, ctx: Context, client: ClientInfo, request: Request
) -> Response:
    """Sets the new password and signs out every session."""
    await credentials.reset_password(ctx, body, client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password(
    body: PasswordChangeRequest,
    principal: LivePrincipal,
    ctx: Context,
    client: ClientInfo,
    request: Request,
) -> Response:
    """Changes the password and signs out every other session."""
    await credentials.change_password(ctx, principal, body, _session_id(request), client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/2fa/setup")
async def two_factor_setup(principal: LivePrincipal, ctx: Context) -> TwoFactorSetupPublic:
    """Starts enrolment: a new secret, its otpauth URI and QR code. Nothing changes until confirmed."""
    return await twofactor.setup(ctx, principal)


@router.post("/2fa/enable")
async def two_factor_enable(
    body: CodeRequest, principal: LivePrincipal, ctx: Context, client: ClientInfo, request: Request
) -> RecoveryCodesPublic:
    """Confirms enrolment with a code from the app; answers the recovery codes, this once."""
    codes = await twofactor.enable(ctx, principal, body.code, client)
    return codes


@router.post("/2fa/disable", status_code=status.HTTP_204_NO_CONTENT)
async def two_factor_disable(
    body: TwoFactorDisableRequest,
    principal: LivePrincipal,
    ctx: Context,
    client: ClientInfo,
    request: Request,
) -> Response:
    await twofactor.disable(ctx, principal, body, client)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/2fa/recovery-codes")
async def regenerate_recovery_codes(
    body: RecoveryCodesRequest, principal: LivePrincipal, ctx: Context, client: ClientInfo, request: Request
) -> RecoveryCodesPublic:
    """New recovery codes with the password and a current code; the old ones stop working."""
    codes = await twofactor.regenerate_recovery_codes(ctx, principal, body, client)
    return codes


@router.get("/me")
async def me(principal: LivePrincipal, ctx: Context) -> MePublic:
    return await commands.me(ctx, principal)


@router.get("/.well-known/jwks.json")
async def jwks(ctx: Context, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "public, max-age=60"
    async with ctx.db.read() as session:
        return await keys.jwks(session, ctx.settings.access_token_ttl_s)
