"""The web client in a real Chromium against the real stack: a person's first minutes with Tally,
at phone and desktop sizes."""

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tallystack.stack import Stack

pytestmark = pytest.mark.e2e
GROCERIES = "Food \u203a Groceries"  # the client labels a category "group, arrow, name"
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}


def _sign_up(page: Page, stack: Stack, email: str) -> None:
    page.goto(stack.url)
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Your name").fill("Robin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Create account").click()
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
            1, timeout=45_000
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
