"""The static web client, and the security headers every response carries."""

import mimetypes
import os
from pathlib import PurePosixPath

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

# The platform's MIME table may lack these or name them differently; nosniff makes the type matter.
for _type, _extension in (("text/javascript", ".js"), ("text/javascript", ".mjs"), ("text/css", ".css"),
                          ("image/svg+xml", ".svg"), ("application/manifest+json", ".webmanifest")):
    mimetypes.add_type(_type, _extension)


# The service worker and the push handlers it imports.
SERVICE_WORKERS = frozenset({"sw.js", "push-sw.js"})


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        api = str(scope.get("path", "")).startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                # A household's data must not stay in any cache (the browser's, a proxy's, the service
                # worker's) after the person signs out; a service may still say otherwise for its own data.
                if api and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class WebFiles(StaticFiles):
    """Serves web/: `/` is index.html; a path that names no file and has no extension is a client route,
    so it gets index.html too; a missing asset (with an extension) is a 404."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as exc:
            if exc.status_code != 404 or "." in PurePosixPath(path.replace(os.sep, "/")).name:
                raise
            return await super().get_response("index.html", scope)

    def file_response(self, full_path: "os.PathLike[str] | str", stat_result: os.stat_result, scope: Scope,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        # No build step means no content-hashed names: always revalidate (cheap, thanks to the ETag).
        response.headers["Cache-Control"] = "no-cache"
        if PurePosixPath(str(full_path)).name in SERVICE_WORKERS:
            # The worker at /sw.js controls the whole client; say so explicitly, and make every update
            # check reach the server (browsers cap a worker's HTTP caching at 24 h, no-cache makes it 0).
            response.headers["Service-Worker-Allowed"] = "/"
        return response
