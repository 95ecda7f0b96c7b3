"""The installable, offline-capable client in a real Chromium against the real stack: the service worker
keeps the app shell (and never household data), an expense added offline is recorded exactly once when
the network is back, and one whose answer was lost on the way is sent again with its id and recorded once."""

import re
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from tallystack.browser import sign_up
from tallystack.polling import eventually
from tallystack.stack import Stack

pytestmark = pytest.mark.e2e
PHONE = {"width": 360, "height": 780}

COUNT_TRANSACTIONS = """async () => {
  const token = sessionStorage.getItem("tally.accessToken");
  const response = await fetch("/api/ledger/transactions?limit=500",
    { headers: { Authorization: `Bearer ${token}` }, cache: "no-store" });
  return (await response.json()).items.map((t) => [t.payee, t.amount_minor]);
}"""
# The page's own outbox sync, once it has seen the network (back): joins the one the "online" event
# started if it still runs (syncOutbox shares the sync under way), so when this answers, that one ended.
SYNCED = """async () => {
  if (!navigator.onLine) {
    await new Promise((resolve) => { window.addEventListener("online", resolve, { once: true }); });
  }
  const { pendingWrites, syncOutbox } = await import("/js/offline.js");
  const result = await syncOutbox();
  return { ...result, waiting: (await pendingWrites()).length };
}"""
# The same-origin files this page loaded that the service worker's cache does not hold (yet).
NOT_CACHED = """async () => {
  const name = (await caches.keys()).find((key) => key.startsWith("tally-shell-"));
  if (!name) return ["(no shell cache)"];
  const cache = await caches.open(name);
  const paths = performance.getEntriesByType("resource").map((entry) => new URL(entry.name))
    .filter((url) => url.origin === location.origin && !url.pathname.startsWith("/api/")
      && !["/sw.js", "/push-sw.js"].includes(url.pathname))
    .map((url) => url.pathname);
  const missing = [];
  for (const path of new Set(["/", ...paths])) if (!(await cache.match(path))) missing.push(path);
  return missing;
}"""


def _sign_up_with_account(page: Page, stack: Stack, email: str) -> None:
    sign_up(page, stack.url, email, "Sam")
    form = page.get_by_role("form", name="Open an account")
    form.get_by_label("Name").fill("Wallet")
    form.get_by_label("Currency").fill("EUR")
    form.get_by_role("button", name="Open account").click()
    expect(page.get_by_text("Wallet", exact=True)).to_be_visible(timeout=15_000)
    entry = page.get_by_role("form", name="Add expense or income")
    expect(entry.get_by_role("button", name="Add")).to_be_enabled()


def _add_expense(page: Page, amount: str, payee: str) -> None:
    entry = page.get_by_role("form", name="Add expense or income")
    entry.get_by_label("Amount").fill(amount)
    entry.get_by_label("Payee").fill(payee)
    entry.get_by_role("button", name="Add").click()


def test_service_worker_caches_the_shell_but_no_api_answer(stack: Stack, chromium: Any) -> None:
    context = chromium.new_context(viewport=PHONE)
    page = context.new_page()
    try:
        _sign_up_with_account(page, stack, "sw@example.com")
        scope = page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
        assert scope == f"{stack.url}/"
        manifest = page.evaluate("fetch('/manifest.webmanifest').then((r) => r.json())")
        assert manifest["display"] == "standalone"

        def cached() -> list[str]:
            urls: list[str] = page.evaluate("""async () => {
              const urls = [];
              for (const name of await caches.keys()) {
                for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
              }
              return urls;
            }""")
            return [re.sub(r"^https?://[^/]+", "", url) for url in urls]

        # The page reports what it loaded: every module of the screens ends up cached.
        def screens_cached() -> list[str] | None:
            paths = cached()
            return paths if "/js/panels/entry.js" in paths else None

        paths = eventually(
            screens_cached, lambda: f"the screens' modules in the cache: {cached()}", timeout=15
        )
        assert {"/", "/index.html", "/js/app.js", "/css/shell.css", "/locales/en.json"} <= set(paths)
        assert not [path for path in paths if path.startswith("/api/")], paths

        # Offline, a reload still starts the app, and says it is offline.
        context.set_offline(True)
        page.reload()
        expect(page.get_by_role("link", name="Tally")).to_be_visible()
        expect(page.get_by_text(re.compile("You are offline. Expenses you add"))).to_be_visible()
        context.set_offline(False)
    finally:
        context.close()


def test_expense_added_offline_is_recorded_once_when_back_online(stack: Stack, chromium: Any) -> None:
    context = chromium.new_context(viewport=PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        _sign_up_with_account(page, stack, "offline@example.com")

        context.set_offline(True)
        expect(page.get_by_text(re.compile("You are offline"))).to_be_visible()
        _add_expense(page, "4.20", "Bakery")
        expect(page.get_by_text(re.compile(r"Saved .*4[.,]20.* on this device"))).to_be_visible()
        expect(page.get_by_text("1 entry waiting to sync.")).to_be_visible()

        context.set_offline(False)
        expect(page.get_by_text("Synced 1 entry made offline.")).to_be_visible(timeout=15_000)
        expect(page.get_by_role("status").filter(has_text="waiting to sync")).to_have_count(0)
        # Coming back online again (or another sync) sends nothing more: once the sync it starts has
        # ended (waited for in the page, not for some time), the ledger still has it once.
        context.set_offline(True)
        context.set_offline(False)
        assert page.evaluate(SYNCED) == {"synced": 0, "failed": [], "waiting": 0}
        assert page.evaluate(COUNT_TRANSACTIONS) == [["Bakery", 420]]
        assert errors == []
    finally:
        context.close()


def test_expense_whose_answer_was_lost_is_not_sent_twice(stack: Stack, chromium: Any) -> None:
    # No service worker here, so Playwright sees (and can cut) every request of the page.
    context = chromium.new_context(viewport=PHONE, service_workers="block")
    page = context.new_page()
    posts: list[int] = []

    def deliver_then_drop(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        response = route.fetch()  # the ledger records it...
        posts.append(response.status)
        route.abort("connectionreset")  # ...and the browser never hears back

    try:
        _sign_up_with_account(page, stack, "lost@example.com")
        page.route("**/api/ledger/transactions", deliver_then_drop)
        _add_expense(page, "12.00", "Corner market")
        expect(page.get_by_text(re.compile(r"Saved .*12[.,]00.* on this device"))).to_be_visible()
        assert posts == [201]
        page.unroute("**/api/ledger/transactions")
        resent: list[int] = []
        page.on(
            "response",
            lambda r: resent.append(r.status)
            if r.request.method == "POST" and r.url.endswith("/api/ledger/transactions")
            else None,
        )

        # The network "comes back": the outbox sends it again with the id it was first sent with, and the
        # ledger answers with the transaction it already has (200), recording nothing new.
        context.set_offline(True)
        context.set_offline(False)
        expect(page.get_by_text("Synced 1 entry made offline.")).to_be_visible(timeout=15_000)
        assert resent == [200]
        assert page.evaluate(COUNT_TRANSACTIONS) == [["Corner market", 1200]]
    finally:
        context.close()


def test_app_started_offline_still_takes_an_expense(stack: Stack, chromium: Any) -> None:
    """An installed app opened without a network: a new tab (no token in it) gets the shell from the
    service worker and the entry form from what the device remembers; the expense is sent once the
    session is renewed from its cookie, with two tabs open that both see the network come back."""
    context = chromium.new_context(viewport=PHONE)
    first = context.new_page()
    try:
        _sign_up_with_account(first, stack, "coldstart@example.com")
        first.evaluate("navigator.serviceWorker.ready")
        remembered = """() => new Promise((resolve) => {
          const open = indexedDB.open("tally");
          open.onsuccess = () => {
            const db = open.result;
            if (!db.objectStoreNames.contains("snapshot")) { resolve(0); return; }
            const all = db.transaction("snapshot").objectStore("snapshot").getAll();
            all.onsuccess = () => resolve(all.result.length ? all.result[0].accounts.length : 0);
          };
        })"""
        eventually(
            lambda: first.evaluate(remembered), "the accounts remembered for an offline start", timeout=15
        )
        # Every file the page loaded is in the worker's cache (the page hands them over once it is ready).
        eventually(
            lambda: first.evaluate(NOT_CACHED) == [],
            lambda: f"the page's files in the shell cache; missing: {first.evaluate(NOT_CACHED)}",
            timeout=15,
        )

        context.set_offline(True)
        second = context.new_page()
        second.goto(stack.url)
        expect(second.get_by_role("heading", name="Hello, Sam")).to_be_visible()
        expect(second.get_by_text(re.compile("You are offline: you can add expenses here"))).to_be_visible()
        _add_expense(second, "7.50", "Kiosk")
        expect(second.get_by_text(re.compile(r"Saved .*7[.,]50.* on this device"))).to_be_visible()

        context.set_offline(False)
        eventually(
            lambda: first.evaluate(COUNT_TRANSACTIONS) == [["Kiosk", 750]],
            lambda: f"the offline expense recorded once: {first.evaluate(COUNT_TRANSACTIONS)}",
            timeout=30,
        )
        # Back online, the second tab shows the whole home screen with the expense in it.
        expect(second.get_by_role("heading", name="Recent transactions")).to_be_visible(timeout=15_000)
        # Both tabs' syncs have ended with nothing left to send: still recorded once.
        for tab in (first, second):
            assert tab.evaluate(SYNCED)["waiting"] == 0
        assert first.evaluate(COUNT_TRANSACTIONS) == [["Kiosk", 750]]
    finally:
        context.close()
