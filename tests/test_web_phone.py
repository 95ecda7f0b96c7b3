"""The phone layout (issue #20, part 4) in a real Chromium: at 390 px a bottom bar with the places used
daily, More for the rest of the main menu, the entry form one tap away from any screen, every menu word in
German; at 1280 px the top menu as before and no bottom bar."""

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tallystack.browser import settle, sign_up
from tallystack.stack import Stack

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
IN_BAR = ["Home", "Transactions", "Budgets", "Reports"]
IN_MORE = ["Dashboard", "Import", "Household", "Notifications", "Profile", "Security"]
BLOCKING = {"serious", "critical"}


def _axe(page: Page) -> list[str]:
    if not page.evaluate("Boolean(window.axe)"):
        page.add_script_tag(url="/vendor/axe/axe.min.js")
    result: dict[str, Any] = page.evaluate(
        """async () => axe.run(document, {
             runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa",
                                             "best-practice"] },
             resultTypes: ["violations"] })"""
    )
    return [f"{v['id']}: {v['help']}" for v in result["violations"] if v["impact"] in BLOCKING]


def test_the_phone_has_a_bottom_bar_and_the_desktop_its_menu(
    stack: Stack, chromium: Any, screenshots: Path
) -> None:
    context = chromium.new_context(viewport=PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        sign_up(page, stack.url, "pat-bottom-bar@example.com", "Robin")
        expect(page.get_by_role("heading", name="Accounts")).to_be_visible(timeout=15_000)
        menu = page.get_by_role("navigation", name="Main")
        expect(menu).to_have_count(1)  # the top menu is hidden on a phone: one main menu, at the bottom
        assert menu.evaluate("(nav) => nav.classList.contains('tabbar')")
        for name in IN_BAR:
            expect(menu.get_by_role("link", name=name, exact=True)).to_be_visible()
        for name in IN_MORE:
            expect(menu.get_by_role("link", name=name, exact=True)).to_be_hidden()
        box = menu.bounding_box()
        assert box is not None
        assert box["y"] + box["height"] == pytest.approx(PHONE["height"], abs=1), box

        # The entry form, one tap from another screen.
        menu.get_by_role("link", name="Transactions", exact=True).click()
        expect(page).to_have_url(re.compile(r"#/transactions$"))
        settle(page)
        page.get_by_role("link", name="Add", exact=True).click()
        expect(page.get_by_role("form", name="Add expense or income").get_by_label("Amount")).to_be_focused()

        # More opens the rest of the menu; Escape closes it again.
        more = menu.get_by_role("button", name="More")
        more.click()
        expect(more).to_have_attribute("aria-expanded", "true")
        for name in IN_MORE:
            expect(menu.get_by_role("link", name=name, exact=True)).to_be_visible()
        expect(menu.get_by_label("Language")).to_be_visible()
        assert _axe(page) == []
        page.screenshot(path=str(screenshots / "phone-bottom-bar-more.png"))
        page.keyboard.press("Escape")
        expect(more).to_have_attribute("aria-expanded", "false")
        expect(more).to_be_focused()
        more.click()
        menu.get_by_role("link", name="Notifications", exact=True).click()
        expect(page).to_have_url(re.compile(r"#/notifications$"))
        expect(more).to_have_attribute("aria-current", "page")  # where you are is under More
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page is {width} px wide"

        # German: no menu word stays English.
        more.click()
        menu.get_by_label("Language").select_option(label="Deutsch")
        menu = page.get_by_role("navigation", name="Hauptmenü")
        expect(menu.get_by_role("link", name="Buchungen", exact=True)).to_be_visible()
        menu.get_by_role("button", name="Mehr").click()
        words = set(re.findall(r"\w+", menu.inner_text()))
        assert not words & {*IN_BAR, *IN_MORE, "More", "Add"} - {"Import", "Budgets"}, words
        expect(menu.get_by_role("link", name="Übersicht", exact=True)).to_be_visible()
        page.screenshot(path=str(screenshots / "phone-bottom-bar-de.png"))
        menu.get_by_label("Sprache").select_option(label="English")

        page.set_viewport_size(DESKTOP)
        page.goto(f"{stack.url}/#/budgets")
        top = page.get_by_role("navigation", name="Main")
        expect(top).to_have_count(1)
        assert top.evaluate("(nav) => nav.id") == "session"
        links = top.get_by_role("link").all_inner_texts()
        # In their order, whatever screens are added to the menu later.
        assert [link for link in links if link in {*IN_BAR, *IN_MORE}] == [
            "Home",
            "Transactions",
            "Dashboard",
            "Reports",
            "Import",
            "Budgets",
            "Household",
            "Notifications",
            "Profile",
            "Security",
        ]
        expect(page.get_by_role("link", name="Add", exact=True)).to_be_hidden()
        assert errors == []
    finally:
        context.close()
