"""Accessibility of every screen: axe-core (vendored in web/vendor/axe) on each route of web/js/app.js,
signed out and signed in with some data, at phone size in the dark theme and at desktop size in the light
one. No serious or critical violation may appear; screenshots of each screen are saved on the way."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tallystack.browser import open_settled
from tallystack.stack import Stack

pytestmark = pytest.mark.e2e
WEB = Path(__file__).parents[1] / "web"
AXE_VERSION = "4.14.1"
SIZES = {
    "phone": {"viewport": {"width": 360, "height": 780}, "color_scheme": "dark"},
    "desktop": {"viewport": {"width": 1280, "height": 900}, "color_scheme": "light"},
}
# Routes that show one thing need its id; the test fills in ids of what it created.
ROUTE_QUERIES = {"/transaction": "id={transaction_id}"}
BLOCKING = {"serious", "critical"}


def app_routes() -> tuple[list[str], set[str]]:
    """Every route in app.js's `routes`, and the public ones (shown only when signed out)."""
    source = (WEB / "js" / "app.js").read_text()
    block = re.search(r"routes:\s*\{(.*?)\n\s*\},", source, re.S)
    assert block, "app.js has no routes block"
    routes = re.findall(r"^\s*\"(/[^\"]*)\"\s*:", block.group(1), re.M)
    public = re.search(r"PUBLIC_ROUTES = new Set\(\[(.*?)\]\)", source, re.S)
    assert public
    assert routes
    return routes, set(re.findall(r"\"(/[^\"]*)\"", public.group(1)))


def _axe(page: Page) -> list[dict[str, Any]]:
    if not page.evaluate("Boolean(window.axe)"):
        page.add_script_tag(url="/vendor/axe/axe.min.js")  # same origin: allowed by the CSP
        assert page.evaluate("axe.version") == AXE_VERSION
    result: dict[str, Any] = page.evaluate(
        """async () => axe.run(document, {
             runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                             "best-practice"] },
             resultTypes: ["violations"] })"""
    )
    return [v for v in result["violations"] if v["impact"] in BLOCKING]


def _describe(violations: list[dict[str, Any]]) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(
            " ".join(node["target"]) if isinstance(node["target"], list) else str(node["target"])
            for node in v["nodes"][:4]
        )
        for v in violations
    ]


def _prepare_household(page: Page, stack: Stack, email: str) -> dict[str, str]:
    page.goto(stack.url)
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Your name").fill("Alex")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Create account").click()
    form = page.get_by_role("form", name="Open an account")
    form.get_by_label("Name").fill("Everyday")
    form.get_by_label("Currency").fill("EUR")
    form.get_by_label("Opening balance").fill("500")
    form.get_by_role("button", name="Open account").click()
    expect(page.get_by_text("Everyday", exact=True)).to_be_visible(timeout=15_000)
    entry = page.get_by_role("form", name="Add expense or income")
    expect(entry.get_by_label("Category").locator("option", has_text="Groceries")).to_have_count(
        1, timeout=45_000
    )
    entry.get_by_label("Amount").fill("12.30")
    entry.get_by_label("Payee").fill("Bakery")
    entry.get_by_role("button", name="Add").click()
    expect(entry.get_by_text(re.compile("Added expense of"))).to_be_visible()
    transaction_id: str = page.evaluate("""async () => {
      const token = sessionStorage.getItem("tally.accessToken");
      const headers = { Authorization: `Bearer ${token}` };
      return (await (await fetch("/api/ledger/transactions?limit=1", { headers })).json()).items[0].id;
    }""")
    return {"transaction_id": transaction_id}


@pytest.mark.parametrize("size", SIZES)
def test_every_screen_has_no_serious_accessibility_violation(
    stack: Stack, chromium: Any, screenshots: Path, size: str
) -> None:
    routes, public = app_routes()
    context = chromium.new_context(**SIZES[size])
    page = context.new_page()
    found: dict[str, list[str]] = {}
    folder = screenshots / "a11y"
    folder.mkdir(exist_ok=True)

    def check(route: str) -> None:
        open_settled(page, route)
        violations = _axe(page)
        if violations:
            found[route] = _describe(violations)
        name = route.strip("/").split("?")[0].replace("/", "-") or "home"
        page.screenshot(path=folder / f"{name}-{size}.png", full_page=True)

    try:
        page.goto(stack.url)
        for route in sorted(public):
            check(route)
        ids = _prepare_household(page, stack, f"a11y-{size}@example.com")
        for route in routes:
            if route in public:
                continue
            query = ROUTE_QUERIES.get(route)
            check(f"{route}?{query.format(**ids)}" if query else route)
        # The shortcut help is a screen of its own for a keyboard user.
        open_settled(page, "/")
        page.locator("h1").first.click()
        page.keyboard.press("?")
        expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
        if violations := _axe(page):
            found["shortcut help"] = _describe(violations)
        page.keyboard.press("Escape")
        # The check can fail: an unlabelled field is caught.
        page.evaluate("document.getElementById('app').append(document.createElement('input'))")
        assert "label" in {v["id"] for v in _axe(page)}
    finally:
        context.close()
    assert not found, json.dumps(found, indent=2)
