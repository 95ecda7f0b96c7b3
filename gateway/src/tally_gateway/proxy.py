"""Reverse proxy: `/api/<service>/<path>?<query>` → `<service url>/<path>?<query>`.

The access token is checked here first (except on the few public auth routes), so a request without a
valid token never reaches a service. Responses are streamed back as they arrive, so server-sent events
pass through. Only an allow-list of request headers is forwarded; hop-by-hop headers never are.

Cookies exist for one thing only, the web client's refresh token (an HttpOnly, SameSite=Strict cookie
scoped to /api/auth, see docs/security.md): `Cookie` is forwarded to the auth service alone, and
`Set-Cookie` is relayed from the auth service alone. `X-Forwarded-For` carries the address the gateway
saw (whatever the client claimed is dropped), for auth's per-address rate limits.
"""

import uuid
from collections.abc import AsyncIterator
from urllib.parse import unquote

import httpx
import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from starlette.background import BackgroundTask

from tally_gateway.errors import BadGateway, ContentTooLarge, GatewayTimeout
from tally_gateway.settings import GatewaySettings
from tallykit.app import REQUEST_ID_HEADER, settings_of
from tallykit.errors import NotFound, Problem
from tallykit.logging import get_logger
from tallykit.tokens import TokenVerifier, bearer_token

log = get_logger(__name__)

API_PREFIX = "/api/"
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

# (method, service, path below the service) reachable without an access token.
UPLOAD_PATHS = ("imports", "attachments", "histories")
# Requests whose answer comes when long work is done: a forecast fitted or a PDF statement drawn on the
# spot (the first after the worker processes stopped also starts them and imports Prophet or
# matplotlib), and a change of up to 10,000 transactions at once (a bulk edit, its undo, a bulk
# categorisation), made in one database transaction.
SLOW_PATHS = {"analytics": ("forecasts", "statements"), "ledger": ("transactions/bulk", "categorisations")}
PUBLIC_ROUTES = frozenset({
    ("POST", "auth", "register"),
    ("POST", "auth", "login"),
    ("POST", "auth", "refresh"),
    ("POST", "auth", "logout"),
    ("POST", "auth", "login/2fa"),
    ("POST", "auth", "verify-email"),
    ("POST", "auth", "password-reset/request"),
    ("POST", "auth", "password-reset/confirm"),
    ("GET", "auth", ".well-known/jwks.json"),
    # E-mailed one-click unsubscribe links: the signed token in the link is the credential.
    ("GET", "notifier", "unsubscribe"),
    ("POST", "notifier", "unsubscribe"),
})
COOKIE_SERVICE = "auth"

# Last-Event-ID lets a reconnecting server-sent-events client resume.
# User-Agent names the device in auth's session list.
# Tally-Position asks the service to have applied what the person just did elsewhere (tallykit.positions).
FORWARDED_REQUEST_HEADERS = (
    "content-type", "authorization", "accept", "if-match", "last-event-id", "user-agent", "tally-position",
)
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
    "te", "trailer", "trailers", "transfer-encoding", "upgrade",
})
# The gateway's own server writes these.
NOT_RELAYED_RESPONSE_HEADERS = HOP_BY_HOP | {"date", "server"}

router = APIRouter()


@router.api_route("/api", methods=METHODS, include_in_schema=False)
@router.api_route("/api/{rest:path}", methods=METHODS, include_in_schema=False)
async def proxy(request: Request) -> Response:
    settings = settings_of(request, GatewaySettings)
    service, subpath = _target(request)
    base_url = settings.services.get(service)
    if base_url is None:
        raise NotFound(f"there is no API at {request.url.path}")
    path = unquote(subpath)
    if (request.method, service, path) not in PUBLIC_ROUTES:
        verifier: TokenVerifier = request.app.state.verifier
        await verifier.verify(bearer_token(request))
    # Statements, receipts and other apps' exports are files: only those ledger routes get the larger
    # upload limit, and the time a large file takes to arrive and be checked before the answer.
    uploading = service == "ledger" and path.startswith(UPLOAD_PATHS)
    body = await _read_body(request, settings.upload_max_body_bytes if uploading else settings.max_body_bytes)

    query = request.scope.get("query_string", b"").decode("latin-1")
    url = f"{base_url}/{subpath}" + (f"?{query}" if query else "")
    headers = {name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS if name in request.headers}
    headers[REQUEST_ID_HEADER] = current_request_id()
    if request.client is not None:
        headers["x-forwarded-for"] = request.client.host
    if service == COOKIE_SERVICE and "cookie" in request.headers:
        headers["cookie"] = request.headers["cookie"]
    slow = path.startswith(SLOW_PATHS.get(service, ()))
    timeout = httpx.Timeout(settings.upload_timeout_s if uploading
                            else settings.slow_timeout_s if slow else settings.upstream_timeout_s)
    if "text/event-stream" in request.headers.get("accept", ""):
        # An event stream idles between events.
        timeout = httpx.Timeout(settings.upstream_timeout_s, read=None)

    client: httpx.AsyncClient = request.app.state.http
    try:
        upstream_request = client.build_request(request.method, url, headers=headers, content=body or None,
                                                timeout=timeout)
        upstream = await client.send(upstream_request, stream=True)
    except httpx.InvalidURL:
        raise NotFound(f"there is no API at {request.url.path}") from None
    except httpx.TimeoutException:
        log.warning("upstream_timeout", service=service)
        raise GatewayTimeout(f"the {service} service did not answer in time") from None
    except httpx.HTTPError as exc:
        log.warning("upstream_unreachable", service=service, error=type(exc).__name__)
        raise BadGateway(f"the {service} service is not reachable") from None

    response = StreamingResponse(_relay(upstream, service), status_code=upstream.status_code,
                                 background=BackgroundTask(upstream.aclose))
    response.raw_headers.extend(_response_headers(upstream.headers, cookies=service == COOKIE_SERVICE))
    return response


def _target(request: Request) -> tuple[str, str]:
    """(service, still percent-encoded path below it). The raw path is used so that an encoded `/` or `?`
    reaches the service as sent; a `.` or `..` segment (also encoded) never does."""
    raw: bytes = request.scope.get("raw_path") or request.scope["path"].encode()
    path = raw.split(b"?", 1)[0].decode("latin-1")
    if not path.startswith(API_PREFIX):
        raise NotFound(f"there is no API at {request.url.path}")
    service, _, subpath = path[len(API_PREFIX):].partition("/")
    if any(segment in (".", "..") for segment in unquote(subpath).split("/")):
        raise NotFound(f"there is no API at {request.url.path}")
    return unquote(service), subpath


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise Problem("the Content-Length header is not a number")
        if int(declared) > limit:
            raise ContentTooLarge(f"the request body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ContentTooLarge(f"the request body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _response_headers(headers: httpx.Headers, *, cookies: bool) -> list[tuple[bytes, bytes]]:
    named_by_connection = {t.strip().lower() for t in headers.get("connection", "").split(",")}
    dropped = NOT_RELAYED_RESPONSE_HEADERS | named_by_connection | (set() if cookies else {"set-cookie"})
    return [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in headers.multi_items()
        if name.lower() not in dropped
    ]


async def _relay(upstream: httpx.Response, service: str) -> AsyncIterator[bytes]:
    try:
        async for chunk in upstream.aiter_raw():
            yield chunk
    except httpx.HTTPError as exc:
        # The status line is already sent: all that is left is to cut the response short.
        log.warning("upstream_stream_broken", service=service, error=type(exc).__name__)
        raise
    finally:
        await upstream.aclose()


def current_request_id() -> str:
    """The request id the kit's middleware bound for this request (it validated or generated it)."""
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    return request_id if isinstance(request_id, str) else str(uuid.uuid4())
