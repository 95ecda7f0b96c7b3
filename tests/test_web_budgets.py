"""Budgets and savings goals in a real Chromium against the real stack, on a 360 px phone: create a
budget with rollover, spend, read the overview's bars, change the amount from this period on; create a
goal, add a contribution, see its progress and chart."""

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tallystack.stack import Stack

pytestmark = pytest.mark.e2e
GROCERIES = "Food \u203a Groceries"
PHONE = {"width": 360, "height": 780}


def _no_sideways_scroll(page: Page) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px phone"


def test_budgets_and_goals_on_a_phone(stack: Stack, chromium: Any, screenshots: Path) -> None:
    context = chromium.new_context(viewport=PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        page.goto(stack.url)
        page.get_by_role("link", name="Create an account").click()
        page.get_by_label("Your name").fill("Kim")
        page.get_by_label("Email").fill("kim-budgets@example.com")
        page.get_by_label("Password").fill("correct horse battery")
        page.get_by_role("button", name="Create account").click()
        expect(page.get_by_role("heading", name="Accounts")).to_be_visible(timeout=15_000)
        open_account = page.get_by_role("form", name="Open an account")
        open_account.get_by_label("Name").fill("Everyday")
        open_account.get_by_label("Currency").fill("EUR")
        open_account.get_by_label("Opening balance").fill("1000.00")
        open_account.get_by_role("button", name="Open account").click()
        expect(page.get_by_text("Everyday", exact=True)).to_be_visible()

        # A new budget with rollover, from the budgets screen.
        page.goto(f"{stack.url}/#/budget")
        form = page.get_by_role("form", name="New budget")
        expect(form.get_by_label("Category or group").locator("option", has_text="Groceries")).to_have_count(
            1, timeout=45_000
        )
        form.get_by_label("Category or group").select_option(label=GROCERIES)
        form.get_by_label(re.compile(r"^Amount")).fill("100")
        form.get_by_label(re.compile(r"Roll over")).check()
        form.get_by_role("button", name="Create budget").click()
        expect(page.get_by_role("heading", name="Groceries · Monthly")).to_be_visible(timeout=15_000)
        expect(page.get_by_text(re.compile(r"rolls over"))).to_be_visible()

        # Spend 85 on the home screen; the overview's bar shows it.
        page.goto(f"{stack.url}/#/")
        entry = page.get_by_role("form", name="Add expense or income")
        entry.get_by_label("Category").select_option(label=GROCERIES)
        entry.get_by_label("Amount").fill("85.00")
        entry.get_by_role("button", name="Add").click()
        expect(entry.get_by_text(re.compile(r"Added expense of"))).to_be_visible()
        page.goto(f"{stack.url}/#/budgets")
        bar = page.get_by_label("Groceries: 85% of the budget used")
        for _ in range(30):  # the budget service counts it asynchronously
            if bar.count():
                break
            page.wait_for_timeout(1_000)
            page.reload()
        expect(bar).to_be_visible()
        expect(page.locator("li.budget.warn")).to_have_count(1)  # amber: past its 80 % threshold
        _no_sideways_scroll(page)
        page.screenshot(path=str(screenshots / "budgets-phone.png"), full_page=True)

        # Raise it from this month on: 85 of 200 is 42 %, no longer amber.
        page.get_by_role("link", name="Groceries").click()
        change = page.get_by_role("form", name="Change the budget")
        change.get_by_label(re.compile(r"^Amount")).fill("200")
        change.get_by_role("button", name="Save").click()
        expect(change.get_by_text("Saved.")).to_be_visible()
        expect(page.get_by_label("Groceries: 42% of the budget used")).to_be_visible()
        expect(page.locator("figcaption", has_text="Groceries: spent vs budget")).to_be_visible()
        _no_sideways_scroll(page)

        # A goal saved by hand, with its progress and chart.
        page.goto(f"{stack.url}/#/goals")
        new_goal = page.get_by_role("form", name="New goal")
        new_goal.get_by_label("Name").fill("Bike")
        new_goal.get_by_label(re.compile(r"^Target \(")).fill("500")
        new_goal.get_by_role("button", name="Create goal").click()
        expect(page.get_by_role("heading", name="Bike")).to_be_visible(timeout=15_000)
        add = page.get_by_role("form", name="Add a contribution")
        add.get_by_label(re.compile(r"^Amount")).fill("125")
        add.get_by_role("button", name="Add").click()
        expect(page.get_by_label("Bike: 25% saved")).to_be_visible()
        expect(page.locator("figcaption", has_text="Bike: saved over time")).to_be_visible()
        page.wait_for_function("document.querySelector('figure.chart canvas')?.width > 0")
        _no_sideways_scroll(page)
        page.screenshot(path=str(screenshots / "goal-phone.png"), full_page=True)
        page.goto(f"{stack.url}/#/goals")
        expect(page.get_by_label("Bike: 25% saved")).to_be_visible()
        assert errors == []
    finally:
        context.close()
