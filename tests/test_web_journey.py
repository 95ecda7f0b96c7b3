"""The web client in a real Chromium against the real stack: a person's first minutes with Tally,
at phone and desktop sizes."""

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tallystack.browser import learnt, menu_link, open_menu, settle, sign_up
from tallystack.stack import Stack

pytestmark = pytest.mark.e2e
GROCERIES = "Food \u203a Groceries"  # the client labels a category "group, arrow, name"
SIZES = {"phone": {"width": 360, "height": 780}, "desktop": {"width": 1280, "height": 900}}


def _sign_up(page: Page, stack: Stack, email: str) -> None:
    sign_up(page, stack.url, email, "Robin")
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible(timeout=15_000)


@pytest.mark.parametrize("size", SIZES)
def test_sign_up_spend_and_get_warned(stack: Stack, chromium: Any, screenshots: Path, size: str) -> None:
    context = chromium.new_context(viewport=SIZES[size])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        _sign_up(page, stack, f"robin-{size}@example.com")

        open_account = page.get_by_role("form", name="Open an account")
        open_account.get_by_label("Name").fill("Everyday")
        open_account.get_by_label("Currency").fill("EUR")
        open_account.get_by_label("Opening balance").fill("1000.00")
        open_account.get_by_role("button", name="Open account").click()
        expect(page.get_by_text("Everyday", exact=True)).to_be_visible()

        budget = page.get_by_role("form", name="Set a monthly budget")
        expect(budget.get_by_label("Category").locator("option", has_text="Groceries")).to_have_count(
            1, timeout=15_000
        )
        budget.get_by_label("Category").select_option(label=GROCERIES)
        budget.get_by_label("Amount per month").fill("100")
        budget.get_by_label("Currency").fill("EUR")
        budget.get_by_role("button", name="Set budget").click()

        entry = page.get_by_role("form", name="Add expense or income")
        entry.get_by_label("Category").select_option(label=GROCERIES)
        entry.get_by_label("Amount").fill("85.00")
        entry.get_by_label("Payee").fill("Corner market")
        entry.get_by_role("button", name="Add").click()
        expect(entry.get_by_text(re.compile(r"Added expense of"))).to_be_visible()

        expect(page.get_by_label(re.compile(r"Groceries: 85% of the budget used"))).to_be_visible(
            timeout=45_000
        )
        expect(page.get_by_text(re.compile(r"Groceries budget: 80% used")).first).to_be_visible(
            timeout=45_000
        )
        expect(page.get_by_text(re.compile(r"915[.,]00")).first).to_be_visible()
        body_width = page.evaluate("document.documentElement.scrollWidth")
        assert body_width <= SIZES[size]["width"], "nothing may scroll sideways"
        page.screenshot(path=screenshots / f"home-{size}.png", full_page=True)
        for route, name in (("transactions", "Transactions"), ("import", "Import"), ("security", "Security")):
            menu_link(page, name).click()
            expect(page).to_have_url(re.compile(f"#/{route}$"))
            settle(page)  # its lists too, not only its heading
            assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"], route
            page.screenshot(path=screenshots / f"{route}-{size}.png", full_page=True)
        menu_link(page, "Home").click()

        # Whatever a person types comes back as text, never as markup.
        entry.get_by_label("Income").check()
        entry.get_by_label("Amount").fill("1")
        entry.get_by_label("Payee").fill("<img src=x onerror=alert(1)>")
        entry.get_by_role("button", name="Add").click()
        expect(page.get_by_text("<img src=x onerror=alert(1)>").first).to_be_visible()
        assert page.locator("img[src=x]").count() == 0
        assert errors == []
    finally:
        context.close()


def _open_account(
    page: Page, name: str = "Everyday", currency: str = "EUR", opening: str = "1000.00"
) -> None:
    form = page.get_by_role("form", name="Open an account")
    form.get_by_label("Name").fill(name)
    form.get_by_label("Currency").fill(currency)
    form.get_by_label("Opening balance").fill(opening)
    form.get_by_role("button", name="Open account").click()
    expect(page.get_by_text(name, exact=True)).to_be_visible()


def test_fast_entry_shortcuts_and_german(stack: Stack, chromium: Any, screenshots: Path) -> None:
    context = chromium.new_context(viewport=SIZES["phone"], locale="en-GB")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        _sign_up(page, stack, "fast@example.com")
        _open_account(page)
        entry = page.get_by_role("form", name="Add expense or income")
        expect(entry.get_by_label("Category").locator("option", has_text="Groceries")).to_have_count(
            1, timeout=15_000
        )
        # Amount first, today's date already there.
        assert entry.locator("input, select").first.get_attribute("name") == "amount"
        today = page.evaluate("new Date().toLocaleDateString('sv')")  # YYYY-MM-DD in the browser's zone
        expect(entry.get_by_label("Date")).to_have_value(today)

        entry.get_by_label("Amount").fill("23.40")
        entry.get_by_label("Payee").fill("Corner market")
        entry.get_by_label("Category").select_option(label=GROCERIES)
        entry.get_by_role("button", name="Add").click()
        expect(entry.get_by_text(re.compile(r"Added expense of"))).to_be_visible()

        # The payee is one tap away next time; with the amount, the ledger suggests the category it learnt.
        # One earlier booking is not sure enough to be chosen on its own (50 %): one tap takes it.
        expect(entry.get_by_label("Category")).to_have_value("")
        learnt(page)
        entry.get_by_role("group", name="Recently paid").get_by_role("button", name="Corner market").click()
        expect(entry.get_by_label("Payee")).to_have_value("Corner market")
        expect(entry.get_by_label("Amount")).to_be_focused()
        entry.get_by_label("Amount").fill("8.15")
        expect(entry.get_by_text("Perhaps Groceries? 50 % sure (as this payee before)")).to_be_visible()
        expect(entry.get_by_label("Category")).to_have_value("")
        entry.get_by_role("button", name="Use it").click()
        expect(entry.get_by_label("Category").locator("option:checked")).to_have_text(GROCERIES)

        # Also when typed, in other letters' case, from a fresh page.
        page.reload()
        entry = page.get_by_role("form", name="Add expense or income")
        entry.get_by_label("Amount").fill("8.15")
        entry.get_by_label("Payee").fill("corner MARKET")
        expect(entry.get_by_text("Perhaps Groceries? 50 % sure (as this payee before)")).to_be_visible()

        # Keyboard: "?" lists the shortcuts, Escape closes, "n" goes to the amount.
        page.locator("body").click(position={"x": 5, "y": 5})
        page.keyboard.press("?")
        help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
        expect(help_dialog).to_be_visible()
        expect(help_dialog.get_by_role("row", name=re.compile("Add an expense"))).to_be_visible()
        page.keyboard.press("Escape")
        expect(help_dialog).to_have_count(0)
        # Shortcuts never fire while typing: make sure the keys go to the page, not to a field.
        expect(page.locator(":is(input, select, textarea):focus")).to_have_count(0)
        # "g" then "t": the page shows it awaits the second key (no time limit: on a busy machine a 1.2 s
        # window once ran out between the two presses), and the test waits for that, not for time.
        page.keyboard.press("g")
        awaiting = page.get_by_role("status").filter(has_text="Esc cancels")
        expect(awaiting).to_contain_text("Go to transactions")
        page.keyboard.press("t")
        expect(page).to_have_url(re.compile("#/transactions$"))
        expect(awaiting).to_have_count(0)
        page.keyboard.press("n")
        expect(page.get_by_role("form", name="Add expense or income").get_by_label("Amount")).to_be_focused()

        # German: words, numbers, money and dates follow the language.
        open_menu(page)
        page.get_by_label("Language").select_option(label="Deutsch")
        expect(page.get_by_role("heading", name="Ausgabe oder Einnahme erfassen")).to_be_visible()
        expect(page.get_by_role("link", name="Buchungen")).to_be_visible()
        expect(page.get_by_text("976,60\u00a0€").first).to_be_visible()
        assert page.evaluate("document.documentElement.lang") == "de"
        page.screenshot(path=screenshots / "home-phone-de.png", full_page=True)
        open_menu(page)
        page.get_by_label("Sprache").select_option(label="English")
        expect(page.get_by_role("heading", name="Add expense or income")).to_be_visible()
        assert errors == []
    finally:
        context.close()


def test_dark_theme_follows_the_system(stack: Stack, chromium: Any, screenshots: Path) -> None:
    colours = {}
    for scheme in ("light", "dark"):
        context = chromium.new_context(viewport=SIZES["desktop"], color_scheme=scheme)
        page = context.new_page()
        try:
            page.goto(stack.url)
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            colours[scheme] = page.evaluate("getComputedStyle(document.body).backgroundColor")
            page.screenshot(path=screenshots / f"signin-desktop-{scheme}.png")
        finally:
            context.close()
    assert colours["light"] != colours["dark"]
