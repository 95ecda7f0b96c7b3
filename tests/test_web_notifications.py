"""Notifications in a real Chromium against the real stack: the notification centre updating live, the
preferences grid, push on this device, webhooks with their delivery log; phone and desktop sizes."""

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tallystack.browser import menu_link, sign_up
from tallystack.stack import Stack

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"
SIZES = {"phone": {"width": 360, "height": 780}, "desktop": {"width": 1280, "height": 900}}


def _sign_up(page: Page, stack: Stack, email: str) -> None:
    sign_up(page, stack.url, email, "Robin")
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible(timeout=30_000)


def _fits(page: Page, size: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"], (
        "nothing may scroll sideways"
    )


@pytest.mark.parametrize("size", SIZES)
def test_notification_centre_preferences_and_webhooks(
    stack: Stack, chromium: Any, screenshots: Path, size: str
) -> None:
    context = chromium.new_context(viewport=SIZES[size])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    address = f"notify-{size}@example.com"
    try:
        _sign_up(page, stack, address)
        menu_link(page, "Notifications").click()
        expect(page).to_have_url(re.compile(r"#/notifications$"))
        centre = page.locator(".notification-centre")
        expect(centre.get_by_role("heading", name="Notifications")).to_be_visible()
        expect(centre.get_by_text("Nothing here yet.")).to_be_visible(timeout=15_000)

        # A sign-in from another device while the centre is open: it appears without a reload.
        with httpx.Client(base_url=stack.url, timeout=15) as client:
            r = client.post(
                "/api/auth/login",
                json={"email": address, "password": PASSWORD},
                headers={"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/120.0"},
            )
            assert r.status_code == 200, r.text
        item = centre.locator("li.notification", has_text="New sign-in to your Tally account")
        expect(item).to_be_visible(timeout=45_000)
        expect(centre.get_by_text("1 unread")).to_be_visible(timeout=15_000)
        _fits(page, size)
        page.screenshot(path=screenshots / f"notifications-{size}.png", full_page=True)
        item.get_by_role("button", name="Mark read").click()
        expect(centre.get_by_text("All read.")).to_be_visible()

        # Preferences: switch bill e-mails off; a security e-mail cannot be switched off.
        centre.get_by_role("link", name="Notification settings").click()
        expect(page.get_by_role("heading", name="Notification settings")).to_be_visible()
        bills = page.get_by_label("Bill due soon: E-mail", exact=True)
        expect(bills).to_be_checked()
        expect(page.get_by_label("New sign-in: E-mail (always on)")).to_be_disabled()
        bills.uncheck()
        page.get_by_label("Hold e-mail and push during quiet hours").check()
        page.get_by_label("From").fill("21:30")
        page.get_by_role("button", name="Save").click()
        expect(page.get_by_text("Saved.")).to_be_visible()
        _fits(page, size)
        page.screenshot(path=screenshots / f"preferences-{size}.png", full_page=True)
        page.reload()
        expect(page.get_by_label("Bill due soon: E-mail", exact=True)).not_to_be_checked(timeout=15_000)
        expect(page.get_by_label("From")).to_have_value("21:30")

        # Push on this device: the section answers either way (headless Chromium has no push service).
        expect(page.locator("#push-state")).to_have_text(re.compile(r"Push is (on|off)|cannot receive"))

        # Webhooks: add one, see its secret once, its (empty) delivery log, turn it off.
        page.get_by_role("link", name="Webhooks").first.click()
        expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
        page.get_by_label("URL").fill("https://93.184.216.34/tally-hook")
        page.get_by_label("Budget exceeded").check()
        page.get_by_role("button", name="Add webhook").click()
        expect(page.locator("#webhook-secret")).to_have_text(re.compile(r"^whsec_"))
        hooks = page.locator("#webhook-list")
        expect(hooks.get_by_text("https://93.184.216.34/tally-hook")).to_be_visible()
        hooks.get_by_role("button", name="Delivery log").click()
        expect(hooks.get_by_text("Nothing sent yet.")).to_be_visible()
        hooks.get_by_role("button", name="Turn off").click()
        expect(hooks.get_by_text("Turned off")).to_be_visible()
        page.get_by_label("URL").fill("http://127.0.0.1:8000/")
        page.get_by_label("Budget exceeded").check()
        page.get_by_role("button", name="Add webhook").click()
        expect(page.get_by_text(re.compile(r"not allowed|https URL"))).to_be_visible()
        _fits(page, size)
        page.screenshot(path=screenshots / f"webhooks-{size}.png", full_page=True)
        assert errors == []
    finally:
        context.close()
