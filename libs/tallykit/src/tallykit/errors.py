"""Typed errors that carry their HTTP status, rendered once as RFC 9457 problem details."""

from collections.abc import Mapping
from typing import Any

from asyncpg import PostgresError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from tallykit.logging import get_logger

PROBLEM_JSON = "application/problem+json"
log = get_logger(__name__)


class Problem(Exception):
    """Base of every error a client may see. Subclasses set the status and title."""

    status: int = 400
    title: str = "Bad request"
    type_slug: str = "bad-request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    def body(self, instance: str) -> dict[str, Any]:
        return problem_body(self.status, self.title, self.detail, instance, self.type_slug, **self.extra)


class NotFound(Problem):
    status, title, type_slug = 404, "Not found", "not-found"


class Conflict(Problem):
    status, title, type_slug = 409, "Conflict", "conflict"


class Unauthorized(Problem):
    status, title, type_slug = 401, "Unauthorized", "unauthorized"


class Forbidden(Problem):
    status, title, type_slug = 403, "Forbidden", "forbidden"


class InvalidInput(Problem):
    status, title, type_slug = 422, "Invalid input", "invalid-input"


class TooManyRequests(Problem):
    status, title, type_slug = 429, "Too many requests", "too-many-requests"


def problem_body(
    status: int, title: str, detail: str, instance: str, slug: str, **extra: Any
) -> dict[str, Any]:
    return {
        "type": f"https://tally.dev/problems/{slug}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        **extra,
    }


def problem_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


# character_not_in_repertoire (a NUL in text), untranslatable_character (a \u0000 escape in JSONB)
_UNSTORABLE_TEXT = frozenset({"22021", "22P05"})

_HTTP_TITLES = {
    400: ("Bad request", "bad-request"),
    401: ("Unauthorized", "unauthorized"),
    403: ("Forbidden", "forbidden"),
    404: ("Not found", "not-found"),
    405: ("Method not allowed", "method-not-allowed"),
    409: ("Conflict", "conflict"),
    413: ("Content too large", "content-too-large"),
    415: ("Unsupported media type", "unsupported-media-type"),
    429: ("Too many requests", "too-many-requests"),
}


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        headers = {"Retry-After": str(exc.extra["retry_after"])} if "retry_after" in exc.extra else None
        return problem_response(exc.status, exc.body(request.url.path), headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "loc": [str(p) for p in e.get("loc", ())],
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in exc.errors()
        ]
        if any(e["type"] == "json_invalid" for e in errors):
            body = problem_body(
                400,
                "Malformed JSON",
                "The request body is not valid JSON.",
                request.url.path,
                "malformed-json",
                errors=errors,
            )
            return problem_response(400, body)
        body = problem_body(
            422,
            "Invalid input",
            "The request did not pass validation.",
            request.url.path,
            "invalid-input",
            errors=errors,
        )
        return problem_response(422, body)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title, slug = _HTTP_TITLES.get(exc.status_code, ("Error", "error"))
        detail = exc.detail if isinstance(exc.detail, str) else title
        return problem_response(
            exc.status_code,
            problem_body(exc.status_code, title, detail, request.url.path, slug),
            dict(exc.headers or {}),
        )

    @app.exception_handler(DBAPIError)
    @app.exception_handler(PostgresError)
    async def _database(request: Request, exc: Exception) -> JSONResponse:
        if _sqlstate(exc) in _UNSTORABLE_TEXT:
            # PostgreSQL text and JSONB cannot hold NUL (U+0000): a request carrying one is bad input,
            # and the transaction it failed in has rolled back, so nothing changed.
            body = problem_body(
                422,
                "Invalid input",
                "Text may not contain the NUL character (U+0000).",
                request.url.path,
                "invalid-input",
            )
            return problem_response(422, body)
        return await _unexpected(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled_error", path=request.url.path)
        body = problem_body(
            500, "Internal error", "Something went wrong on our side.", request.url.path, "internal"
        )
        return problem_response(500, body)


def install_domain_errors(app: FastAPI, problems: Mapping[type[Exception], type[Problem]]) -> None:
    """Answer a domain's own errors as problems: an error of a type in `problems` that leaves a route
    is rendered as its problem, with the error's message as the detail. Domains raise their own types and
    know nothing of HTTP; this is the one place a service says what each means to a client."""
    for error, problem in problems.items():

        async def _render(request: Request, exc: Exception, problem: type[Problem] = problem) -> JSONResponse:
            return problem_response(problem.status, problem(str(exc)).body(request.url.path))

        app.add_exception_handler(error, _render)


def _sqlstate(exc: BaseException) -> str | None:
    """The PostgreSQL error code of a database error, raised by asyncpg or wrapped by SQLAlchemy."""
    code = getattr(exc, "sqlstate", None) or getattr(getattr(exc, "orig", None), "sqlstate", None)
    return code if isinstance(code, str) else None
