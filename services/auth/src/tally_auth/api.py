from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status

from tally_auth import handlers, keys
from tally_auth.handlers import AuthContext
from tally_auth.schemas import LoginRequest, MePublic, RefreshRequest, RegisterRequest, TokenPair, UserPublic
from tallykit.app import wake_relay
from tallykit.tokens import CurrentPrincipal

router = APIRouter()


def _context(request: Request) -> AuthContext:
    ctx: AuthContext = request.app.state.auth
    return ctx


Context = Annotated[AuthContext, Depends(_context)]


@router.post("/register", status_code=status.HTTP_201_CREATED)
async def register(body: RegisterRequest, ctx: Context, request: Request) -> UserPublic:
    user = await handlers.register(ctx, body)
    wake_relay(request)
    return user


@router.post("/login")
async def login(body: LoginRequest, ctx: Context) -> TokenPair:
    return await handlers.login(ctx, body)


@router.post("/refresh")
async def refresh(body: RefreshRequest, ctx: Context) -> TokenPair:
    return await handlers.refresh(ctx, body.refresh_token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(body: RefreshRequest, ctx: Context) -> Response:
    await handlers.logout(ctx, body.refresh_token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/me")
async def me(principal: CurrentPrincipal, ctx: Context) -> MePublic:
    return await handlers.me(ctx, principal)


@router.get("/.well-known/jwks.json")
async def jwks(ctx: Context, response: Response) -> dict[str, Any]:
    response.headers["Cache-Control"] = "public, max-age=60"
    async with ctx.db.read() as session:
        return await keys.jwks(session)
