"""The web client is served with security headers; readiness reports every service."""

import re
from collections.abc import Awaitable, Callable

import httpx

from tally_gateway.guide import render
from tally_gateway.settings import DEFAULT_WEB_DIR, GatewaySettings
from tally_gateway.web import CONTENT_SECURITY_POLICY
from tallystack.broker import free_port

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def assert_security_headers(response: httpx.Response) -> None:
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"


async def test_index_is_served_with_security_headers(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == (DEFAULT_WEB_DIR / "index.html").read_text()
    assert_security_headers(response)
    assert CONTENT_SECURITY_POLICY == CSP


async def test_static_files_have_their_types(gateway: httpx.AsyncClient) -> None:
    script = await gateway.get("/js/api.js")
    style = await gateway.get("/styles.css")

    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.text == (DEFAULT_WEB_DIR / "js" / "api.js").read_text()
    assert style.headers["content-type"].startswith("text/css")
    assert_security_headers(script)


async def test_client_routes_get_the_index_but_missing_assets_are_404(gateway: httpx.AsyncClient) -> None:
    route = await gateway.get("/home/accounts")
    missing = await gateway.get("/js/missing.js")
    escape = await gateway.get("/%2e%2e/pyproject.toml")

    assert route.status_code == 200
    assert route.text == (DEFAULT_WEB_DIR / "index.html").read_text()
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert escape.status_code == 404
    assert_security_headers(missing)


async def test_api_errors_carry_security_headers_too(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/api/ledger/accounts")
    assert response.status_code == 401
    assert_security_headers(response)
    assert response.headers["x-request-id"]


async def test_healthz(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readyz_reports_each_service(make_gateway: Callable[..., Awaitable[httpx.AsyncClient]]) -> None:
    all_up = await make_gateway()
    budget_down = await make_gateway(budget_url=f"http://127.0.0.1:{free_port()}")

    ready = await all_up.get("/readyz")
    not_ready = await budget_down.get("/readyz")

    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": dict.fromkeys(
        ["auth", "ledger", "budget", "analytics", "notifier"], "ok")}
    assert not_ready.status_code == 503
    checks = not_ready.json()["checks"]
    assert checks.pop("budget").startswith("failed")
    assert set(checks.values()) == {"ok"}


def test_jwks_url_follows_the_auth_url_unless_set() -> None:
    assert GatewaySettings().jwks_url == "http://127.0.0.1:8001/.well-known/jwks.json"
    assert GatewaySettings(auth_url="http://auth:9001/").jwks_url == "http://auth:9001/.well-known/jwks.json"
    assert GatewaySettings(auth_url="http://auth:9001", jwks_url="http://keys/jwks").jwks_url == "http://keys/jwks"


async def test_the_user_guide_is_served_with_its_screenshots(gateway: httpx.AsyncClient) -> None:
    guide = DEFAULT_WEB_DIR.parent / "docs" / "guide.md"
    page = await gateway.get("/guide/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert_security_headers(page)
    assert "<title>Tally user guide</title>" in page.text
    # Headings carry the anchors the contents links name; the guide's own <img> tags are kept.
    assert '<h2 id="goals-saving-up-and-paying-off-debt">' in page.text
    assert 'href="#goals-saving-up-and-paying-off-debt"' in page.text
    images = re.findall(r'src="(screenshots/[\w-]+\.png)"', page.text)
    assert images
    assert len(images) == len(re.findall(r"\(screenshots/|src=\"screenshots/", guide.read_text()))
    for image in set(images):
        shot = await gateway.get(f"/guide/{image}")
        assert shot.status_code == 200, image
        assert shot.headers["content-type"] == "image/png"
    redirect = await gateway.get("/guide")
    assert (redirect.status_code, redirect.headers["location"]) == (308, "/guide/")
    missing = await gateway.get("/guide/screenshots/none.png")
    assert missing.status_code == 404


def test_guide_headings_get_github_anchors() -> None:
    title, body = render("# The guide\n\n## Households and sharing\n\n### Goals: saving up, and debt\n")
    assert title == "The guide"
    assert '<h2 id="households-and-sharing">' in body
    assert '<h3 id="goals-saving-up-and-debt">' in body
