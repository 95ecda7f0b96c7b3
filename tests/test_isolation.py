"""Tenant isolation, walked: household A keeps books in every service; household B's token then calls
EVERY route of EVERY service through the gateway (read from each service's own OpenAPI document, so a
new route is covered the day it is added), with A's ids in path parameters and request bodies. B must
never see anything of A (a refusal, or an answer holding none of A's ids or words) and nothing of A may
change. docs/security.md links here."""

import json
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest

from tallystack.people import Person, join
from tallystack.polling import eventually, settled
from tallystack.stack import Stack

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"
SERVICES = ("ledger", "budget", "analytics", "notifier", "auth")
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# Words only A ever wrote: were one of them in an answer to B, A's data leaked.
A_WORDS = ("Aurelia-Vault-Account", "Aurelia-Secret-Payee", "Aurelia-Hidden-Category", "Aurelia-Rent-Plan")
# Routes that would end B's own session or account (the walk needs B signed in to go on), and the public
# sign-in routes that take no token and so no household (they are covered by the auth service's tests;
# here they would only spend the shared per-address rate limits of the whole test session).
SKIPPED = {
    ("POST", "/auth/logout-all"),
    ("POST", "/auth/account/delete"),
    ("POST", "/auth/password"),
    ("POST", "/auth/register"),
    ("POST", "/auth/login"),
    ("POST", "/auth/login/2fa"),
    ("POST", "/auth/refresh"),
    ("POST", "/auth/logout"),
    ("POST", "/auth/verify-email"),
    ("POST", "/auth/verify-email/resend"),
    ("POST", "/auth/password-reset/request"),
    ("POST", "/auth/password-reset/confirm"),
}
REFUSED = {400, 403, 404, 405, 409, 410, 422}
# One day for the module on the services' clock (UTC unless a household says otherwise): A's spending is
# booked on it, A's budget holds from its month and the fingerprint reads that month, so a walk that passes
# midnight at a month's end compares the same month before and after.
TODAY = datetime.now(UTC).date()
MONTH = TODAY.strftime("%Y-%m")


def sign_up(client: httpx.Client, email: str, name: str) -> dict[str, str]:
    r = client.post("/api/auth/register", json={"email": email, "password": PASSWORD, "display_name": name})
    assert r.status_code == 201, r.text
    r = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def created(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code in (200, 201), r.text
    body: dict[str, Any] = r.json()
    return body


def household_a_keeps_books(client: httpx.Client, auth: dict[str, str]) -> dict[str, str]:
    """A's ids by the name path parameters and body fields use for them."""
    ids: dict[str, str] = {}
    # The default categories arrive from the ledger's reaction to TenantCreated; wait for them, or they
    # would land between the before and after snapshots and look like a change made by B's walk.
    eventually(
        lambda: len(client.get("/api/ledger/categories", headers=auth).json()["items"]) > 0,
        "A's default categories",
    )
    account = created(
        client.post(
            "/api/ledger/accounts",
            headers=auth,
            json={"name": A_WORDS[0], "kind": "checking", "currency": "EUR", "opening_balance_minor": 500_00},
        )
    )
    ids["account_id"] = account["id"]
    category = created(
        client.post(
            "/api/ledger/categories",
            headers=auth,
            json={"name": A_WORDS[2], "group": "Aurelia", "kind": "expense"},
        )
    )
    ids["category_id"] = category["id"]
    transaction = created(
        client.post(
            "/api/ledger/transactions",
            headers=auth,
            json={
                "account_id": account["id"],
                "kind": "expense",
                "amount_minor": 90_00,
                "category_id": category["id"],
                "payee": A_WORDS[1],
                "booked_on": TODAY.isoformat(),
            },
        )
    )
    ids["transaction_id"] = transaction["id"]
    schedule = client.post(
        "/api/ledger/recurring",
        headers=auth,
        json={
            "name": A_WORDS[3],
            "account_id": account["id"],
            "amount_minor": 700_00,
            "cadence": "monthly",
            # Far enough ahead that the scheduler neither posts nor reminds during the walk.
            "starts_on": (TODAY + timedelta(days=60)).isoformat(),
            "is_bill": True,
        },
    )
    if schedule.status_code == 201:  # schedules arrive with this round's ledger work
        ids["schedule_id"] = schedule.json()["id"]

    def budget() -> dict[str, Any] | None:
        # The budget service learns of A's categories from the ledger's events.
        r = client.post(
            "/api/budget/budgets",
            headers=auth,
            json={
                "category_id": category["id"],
                "amount_minor": 100_00,
                "currency": "EUR",
                "effective_from": TODAY.isoformat(),
            },
        )
        return r.json() if r.status_code == 201 else None

    ids["budget_id"] = eventually(budget, "A's budget")["id"]

    def notification() -> str | None:
        items = client.get("/api/notifier/notifications", headers=auth).json().get("items", [])
        return str(items[0]["id"]) if items else None

    # 90 of 100 spent: the budget alert becomes A's in-app notification.
    ids["notification_id"] = eventually(notification, "A's budget alert in the notifier's feed", 60)
    ids["session_id"] = client.get("/api/auth/sessions", headers=auth).json()["items"][0]["id"]
    ids["user_id"] = client.get("/api/auth/me", headers=auth).json()["user_id"]
    ids["tenant_id"] = client.get("/api/auth/me", headers=auth).json()["tenant_id"]
    return ids


def routes(
    client: httpx.Client, auth: dict[str, str]
) -> list[tuple[str, str, str, dict[str, Any], dict[str, Any]]]:
    """(service, method, path, operation, components) for every route every service documents."""
    found = []
    for service in SERVICES:
        r = client.get(f"/api/{service}/openapi.json", headers=auth)
        assert r.status_code == 200, (service, r.text)
        document = r.json()
        components = document.get("components", {}).get("schemas", {})
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                if method.upper() in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                    found.append((service, method.upper(), path, operation, components))
    return found


class Values:
    """Example values from a JSON schema, with A's ids wherever an id is asked for. `full` fills in the
    optional fields too (a second try, for bodies whose rules need more than the required fields)."""

    def __init__(self, components: dict[str, Any], a_ids: dict[str, str], *, full: bool = False) -> None:
        self.components = components
        self.a_ids = a_ids
        self.full = full

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = self.components[schema["$ref"].rsplit("/", 1)[1]]
        return schema

    def id_for(self, name: str) -> str:
        return self.a_ids.get(name) or self.a_ids.get(f"{name}_id") or self.a_ids["account_id"]

    def of(self, schema: dict[str, Any], name: str = "") -> Any:
        schema = self.resolve(schema)
        for key in ("anyOf", "oneOf", "allOf"):
            if key in schema:
                options = [self.resolve(o) for o in schema[key] if self.resolve(o).get("type") != "null"]
                return self.of(options[0], name) if options else None
        if "default" in schema and schema["default"] is not None and not name.endswith("_id"):
            return schema["default"]
        if "enum" in schema:
            return schema["enum"][0]
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            props = schema.get("properties", {})
            wanted = props if self.full else schema.get("required", [])
            return {k: self.of(v, k) for k, v in props.items() if k in wanted}
        if kind == "array":
            return [self.of(schema.get("items", {}), name)] if schema.get("minItems") or self.full else []
        if kind == "integer":
            return max(int(schema.get("minimum", 1)), int(schema.get("exclusiveMinimum", 0)) + 1, 1)
        if kind == "number":
            return 1
        if kind == "boolean":
            return False
        fmt = schema.get("format")
        if fmt == "uuid" or name.endswith("_id") or name == "id":
            return self.id_for(name)
        if fmt == "date" or name in ("on", "booked_on"):
            return TODAY.isoformat()
        if fmt == "date-time":
            return datetime.now().isoformat()
        if fmt == "email":
            return "walker@example.com"
        if fmt == "uri" or "url" in name:
            return "https://example.com/walk"
        if "currency" in name or name in ("base", "quote"):
            return "EUR"
        if name == "rate":
            return "1.25"
        if name == "month":
            return MONTH
        return "x" * max(int(schema.get("minLength", 1)), 1)


def call(
    client: httpx.Client,
    auth: dict[str, str],
    service: str,
    method: str,
    path: str,
    operation: dict[str, Any],
    components: dict[str, Any],
    ids: dict[str, str],
) -> tuple[str, httpx.Response, str]:
    """Sends the route with A's ids and a body that validates if the schema allows: required fields
    first, every field when that does not validate. Returns (url, response, text read); an event stream
    is not read (it would not end)."""
    for full in (False, True):
        values = Values(components, ids, full=full)
        params = operation.get("parameters", [])
        url = path
        for p in params:
            if p.get("in") == "path":
                url = url.replace("{" + p["name"] + "}", str(values.of(p.get("schema", {}), p["name"])))
        query = {
            p["name"]: values.of(p.get("schema", {}), p["name"])
            for p in params
            if p.get("in") == "query" and (p.get("required") or full)
        }
        content = operation.get("requestBody", {}).get("content", {})
        kwargs: dict[str, Any] = {}
        if "application/json" in content:
            kwargs["json"] = values.of(content["application/json"]["schema"])
        elif "multipart/form-data" in content:
            form = values.resolve(content["multipart/form-data"]["schema"])
            files, data = {}, {}
            for name, prop in form.get("properties", {}).items():
                if values.resolve(prop).get("format") == "binary" or "contentMediaType" in values.resolve(
                    prop
                ):
                    files[name] = ("walk.csv", b"date,amount\n2026-01-01,1.00\n", "text/csv")
                else:
                    data[name] = str(values.of(prop, name))
            kwargs |= {"files": files, "data": data}
        with client.stream(method, f"/api/{service}{url}", headers=auth, params=query, **kwargs) as r:
            text = (
                ""
                if r.headers.get("content-type", "").startswith("text/event-stream")
                else r.read().decode(errors="replace")
            )
        if r.status_code != 422 or full:
            return url, r, text
    raise AssertionError("unreachable")


def a_fingerprint(client: httpx.Client, auth: dict[str, str], ids: dict[str, str]) -> dict[str, Any]:
    """Everything A can read that B's walk could have changed."""
    reads = [
        "/api/ledger/accounts",
        "/api/ledger/categories",
        "/api/ledger/transactions",
        f"/api/ledger/transactions/{ids['transaction_id']}",
        f"/api/ledger/transactions/{ids['transaction_id']}/history",
        f"/api/ledger/accounts/{ids['account_id']}/balance",
        "/api/ledger/payees",
        f"/api/budget/budgets?month={MONTH}",
        "/api/notifier/notifications",
        "/api/auth/household",
        "/api/auth/household/members",
        "/api/auth/profile",
    ]
    if "schedule_id" in ids:
        reads.append(f"/api/ledger/recurring/{ids['schedule_id']}")
    found = {}
    for path in reads:
        r = client.get(path, headers=auth)
        assert r.status_code == 200, (path, r.text)
        found[path] = r.json()
    return found


def test_household_b_walks_every_route_and_finds_nothing_of_a(stack: Stack) -> None:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        a = sign_up(client, "aurelia@example.com", "Aurelia")
        b = sign_up(client, "bruno@example.com", "Bruno")
        ids = household_a_keeps_books(client, a)
        settled(stack, [ids["tenant_id"]])  # nothing of A's still on its way: it would change the fingerprint
        before = a_fingerprint(client, a, ids)
        # Every id A can see anywhere (defaults included), and A's own words: none may reach B.
        a_secrets = set(UUID_RE.findall(json.dumps(before))) | set(ids.values()) | set(A_WORDS)
        b_me = client.get("/api/auth/me", headers=b).json()
        a_secrets -= {b_me["user_id"], b_me["tenant_id"]}

        walked: list[tuple[str, str, int]] = []
        leaks: list[str] = []
        all_routes = routes(client, b)
        # Auth last: B's walk of it must not end B's session before the other services are walked.
        all_routes.sort(key=lambda r: r[0] == "auth")
        for service, method, path, operation, components in all_routes:
            if (method, f"/{service}{path}") in SKIPPED:
                continue
            url, r, text = call(client, b, service, method, path, operation, components, ids)
            walked.append((method, f"/{service}{path}", r.status_code))
            if r.status_code >= 500:
                leaks.append(f"{method} /{service}{url} → {r.status_code} {text[:200]}")
            if any(v in url for v in ids.values()) and r.status_code < 400:
                leaks.append(f"{method} /{service}{url} with A's ids answered {r.status_code}")
            if r.status_code < 400 or r.status_code not in REFUSED:
                seen = sorted(s for s in a_secrets if s in text)
                if seen:
                    leaks.append(f"{method} /{service}{url} → {r.status_code} shows A's {seen[:3]}")
        assert leaks == [], "\n".join(leaks)
        documented = {(m, f"/{svc}{p}") for svc, m, p, _, _ in all_routes}
        assert {(m, p) for m, p, _ in walked} == documented - SKIPPED
        print(
            "walked", len(walked), "routes; answers:", sorted(Counter(code for _, _, code in walked).items())
        )
        assert len(walked) >= 60, walked  # every service's routes, not a handful
        settled(stack, [ids["tenant_id"]])  # what B's walk set in motion has landed, wherever it went
        assert a_fingerprint(client, a, ids) == before


def test_tokens_that_must_not_pass_the_gateway_or_the_services(stack: Stack) -> None:
    """alg none, a key of the attacker's own, expired, and B's token on A's ids → 401 / 404."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    with httpx.Client(base_url=stack.url, timeout=30) as client:
        a = sign_up(client, "alg-a@example.com", "Alg A")
        b = sign_up(client, "alg-b@example.com", "Alg B")
        token = a["Authorization"].removeprefix("Bearer ")
        claims = jwt.decode(token, options={"verify_signature": False})
        kid = jwt.get_unverified_header(token)["kid"]
        bad = {
            "alg none": jwt.encode(claims, key=None, algorithm="none"),
            "another key": jwt.encode(
                claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": kid}
            ),
            "hmac with the kid": jwt.encode(claims, "k" * 32, algorithm="HS256", headers={"kid": kid}),
            "expired": jwt.encode(
                {**claims, "exp": int(time.time()) - 5},
                Ed25519PrivateKey.generate(),
                algorithm="EdDSA",
                headers={"kid": kid},
            ),
            "another household": jwt.encode(
                {**claims, "tid": client.get("/api/auth/me", headers=b).json()["tenant_id"]},
                Ed25519PrivateKey.generate(),
                algorithm="EdDSA",
                headers={"kid": kid},
            ),
        }
        for what, forged in bad.items():
            for path in (
                "/api/ledger/accounts",
                "/api/budget/budgets",
                "/api/notifier/notifications",
                "/api/auth/me",
            ):
                r = client.get(path, headers={"Authorization": f"Bearer {forged}"})
                assert r.status_code == 401, (what, path, r.status_code)
        account = created(
            client.post(
                "/api/ledger/accounts",
                headers=a,
                json={"name": "Mine", "kind": "checking", "currency": "EUR"},
            )
        )
        for method, path in (
            ("GET", f"/api/ledger/accounts/{account['id']}"),
            ("GET", f"/api/ledger/accounts/{account['id']}/balance"),
            ("POST", f"/api/ledger/accounts/{account['id']}/archive"),
        ):
            r = client.request(method, path, headers=b, json={"expected_version": 1})
            assert r.status_code in (403, 404), (method, path, r.status_code)
        assert client.get(f"/api/ledger/accounts/{account['id']}", headers=a).json()["archived"] is False


# Per-person, not household, writes: a viewer marks her own notifications read and sets her own
# preferences and devices.
PERSONAL = re.compile(r"^/notifier/(notifications|preferences|push|unsubscribe)")
# Dry runs a reader may do: they compute an answer from the books and change nothing (the fingerprint
# taken before and after the walk checks that).
DRY_RUNS = {("POST", "/ledger/rules/preview")}


def test_a_viewer_is_refused_every_write_of_every_service(stack: Stack) -> None:
    """Every documented write route of the services that hold household data, with a body that
    validates, answers 403 to a viewer of the household; nothing of the household changes."""
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        owner = Person(client, "vowner@example.com", "Vanessa")
        viewer = Person(client, "vviewer@example.com", "Victor")
        ids = household_a_keeps_books(client, owner.auth)
        join(stack, owner, viewer, "viewer")
        settled(stack, [ids["tenant_id"]])  # the join's own events have landed (members, notifications)
        before = a_fingerprint(client, owner.auth, ids)
        walked: list[tuple[str, str, int]] = []
        for service, method, path, operation, components in routes(client, viewer.auth):
            route = f"/{service}{path}"
            if service == "auth" or method == "GET" or PERSONAL.match(route) or (method, route) in DRY_RUNS:
                continue
            _, r, _ = call(client, viewer.auth, service, method, path, operation, components, ids)
            walked.append((method, f"/{service}{path}", r.status_code))
        wrong = [w for w in walked if w[2] not in (403, 415, 422)]
        assert wrong == [], wrong
        print("viewer writes:", sorted(Counter(code for _, _, code in walked).items()))
        # A body the route's own rules refuse (422) never reaches the role check: most must reach it.
        assert sum(1 for w in walked if w[2] == 403) >= 0.9 * len(walked), walked
        settled(stack, [ids["tenant_id"]])
        assert a_fingerprint(client, owner.auth, ids) == before
