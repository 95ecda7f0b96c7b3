"""Renders `docs/api.md` from every service's OpenAPI document: `python -m tallystack.apidoc docs/api.md`.

A test compares the file with this output, so the API reference cannot drift from the code.
"""

import importlib
import sys
from pathlib import Path
from typing import Any

SERVICES = ("auth", "ledger", "budget", "analytics", "notifier")
_PUBLIC = {
    ("auth", "/register"),
    ("auth", "/login"),
    ("auth", "/refresh"),
    ("auth", "/logout"),
    ("auth", "/.well-known/jwks.json"),
}

HEADER = """# HTTP API

Generated from each service's OpenAPI document by `uv run python -m tallystack.apidoc docs/api.md`;
`tests/test_docs.py` fails when this file and the code disagree.

Everything is reached through the gateway: `/api/<service><path>` goes to `<path>` of that service.
Bodies are JSON; money is an integer number of minor units (`amount_minor`) with an ISO 4217
`currency`. Every route except the public ones needs `Authorization: Bearer <access token>` (from
`POST /api/auth/login`); the token names the household, and ids of another household answer `404`.
Errors are RFC 9457 problem details (`application/problem+json`): `400` malformed JSON, `401` no or
bad token, `403` not allowed for your role, `404` not found (or not yours), `409` edit conflict,
`413` body too large, `422` invalid input, `502`/`504` a service is down or slow.
Every answer for a household carries `Tally-Position` (`tenant=<id>;ledger=345;…`: what the request
wrote or read); send the last one you got back as a `Tally-Position` header and the service first waits
(up to 2 s) until it has applied it, so you read your own writes whichever service answers; if it cannot
in time it answers `503` (`not-caught-up`, `Retry-After: 1`) having changed nothing: send it again.
Each service also answers `GET /healthz` (alive) and `GET /readyz` (database and broker reachable).
"""


def _schema_name(schema: dict[str, Any] | None) -> str:
    if not schema:
        return ""
    if "$ref" in schema:
        return f"`{str(schema['$ref']).rsplit('/', 1)[-1]}`"
    if schema.get("type") == "array":
        return f"list of {_schema_name(schema.get('items'))}"
    if "anyOf" in schema:
        return " or ".join(_schema_name(s) for s in schema["anyOf"] if s.get("type") != "null")
    return f"`{schema.get('type', 'object')}`"


def _body(operation: dict[str, Any]) -> str:
    content = operation.get("requestBody", {}).get("content", {})
    return _schema_name(content.get("application/json", {}).get("schema"))


def _response(operation: dict[str, Any]) -> str:
    for status, response in sorted(operation.get("responses", {}).items()):
        if status.startswith("2"):
            schema = response.get("content", {}).get("application/json", {}).get("schema")
            return f"{status} {_schema_name(schema)}".strip()
    return ""


def _params(operation: dict[str, Any]) -> str:
    return ", ".join(f"`{p['name']}`" for p in operation.get("parameters", []) if p.get("in") == "query")


def render() -> str:
    lines = [HEADER]
    for service in SERVICES:
        module = importlib.import_module(f"tally_{service}.main")
        app = module.create_app(run_background=False)
        spec = app.openapi()
        lines += [
            f"## {service}",
            "",
            f"| method | path (behind `/api/{service}`) | query | body | success | auth |",
            "|---|---|---|---|---|---|",
        ]
        for path, operations in spec["paths"].items():
            if path in ("/healthz", "/readyz"):
                continue
            for method, operation in operations.items():
                auth = "public" if (service, path) in _PUBLIC else "token"
                lines.append(
                    f"| {method.upper()} | `{path}` | {_params(operation)} | {_body(operation)} "
                    f"| {_response(operation)} | {auth} |"
                )
        schemas = spec.get("components", {}).get("schemas", {})
        shown = [n for n in sorted(schemas) if not n.startswith(("HTTPValidationError", "ValidationError"))]
        if shown:
            lines += ["", "Models:", ""]
            for name in shown:
                schema = schemas[name]
                if "enum" in schema:
                    lines.append(f"- `{name}`: one of {', '.join(f'`{v}`' for v in schema['enum'])}")
                else:
                    lines.append(f"- `{name}`: {', '.join(f'`{f}`' for f in schema.get('properties', {}))}")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    text = render()
    Path(sys.argv[1]).write_text(text) if len(sys.argv) > 1 else print(text)
