"""What the browser tests wait for, in one place: conditions the web client exposes, never a time."""

from typing import Any

from tallystack.people import PASSWORD
from tallystack.polling import eventually

# The screen at the address is drawn and no api() call is under way (web/js/router.js, web/js/api.js).
SETTLED = """() => {
  const hash = window.location.hash.replace(/^#/, "");
  const app = document.getElementById("app");
  return app.dataset.route === (hash.startsWith("/") ? hash.split("?")[0] : "/")
    && !app.hasAttribute("aria-busy") && !document.documentElement.hasAttribute("data-api-busy");
}"""
# Goes to a route and returns once the router has taken it up (its hashchange handler ran).
OPEN = """(route) => new Promise((resolve) => {
  if (window.location.hash === `#${route}`) { resolve(); return; }
  window.addEventListener("hashchange", () => resolve(), { once: true });
  window.location.hash = route;
})"""


def settle(page: Any) -> None:
    """Wait until the screen at the address is drawn with what it read."""
    page.wait_for_function(SETTLED)


def open_settled(page: Any, route: str) -> None:
    """Open `route` and wait until its screen is drawn with what it read (not for some time: a screen
    that polls never idles for long, and a slow one could take longer than any fixed wait)."""
    page.evaluate(OPEN, route)
    page.wait_for_function(SETTLED)


def open_menu(page: Any) -> None:
    """Show all of the main menu: on a phone (web/js/tabbar.js) open its "More", in any language; on a
    wider screen the top menu already shows everything."""
    page.locator("#session .menu, nav.tabbar .tabs").first.wait_for()
    more = page.locator("button[aria-controls=tabbar-more]")
    if more.count() and more.get_attribute("aria-expanded") == "false":
        more.click()


def menu_link(page: Any, name: str) -> Any:
    """The main menu's link `name`, shown (under "More" on a phone, which this opens when it is there)."""
    link = page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)
    page.locator("#session .menu, nav.tabbar .tabs").first.wait_for()
    if not link.is_visible():
        open_menu(page)
    return link


def sign_up(page: Any, url: str, email: str, name: str) -> None:
    """Create an account through the web client's sign-up form (what follows is the caller's to check)."""
    page.goto(url)
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()


# How many transactions the signed-in household's learned categoriser has learnt from (its trainer runs in
# the background, a few seconds after they are recorded).
LEARNT = """async () => {
  const token = sessionStorage.getItem("tally.accessToken");
  const response = await fetch("/api/ledger/categoriser", { headers: { Authorization: `Bearer ${token}` } });
  return response.ok ? (await response.json()).examples : 0;
}"""


def learnt(page: Any, examples: int = 1) -> None:
    """Wait until the signed-in household's categoriser has learnt from `examples` transactions."""
    eventually(lambda: page.evaluate(LEARNT) >= examples, f"the categoriser to learn from {examples}",
               timeout=90)
