"""Budgets and savings goals in a real Chromium against the real stack, on a 360 px phone: create a
budget with rollover, spend, read the overview's bars, change the amount from this period on; create a
goal, add a contribution, see its progress and chart; a goal paying off a loan to zero; Help opens the
user guide."""

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from tallystack.browser import sign_up
from tallystack.polling import eventually
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
        # The categories the ledger makes for a new household are there: the form's read carries the
        # position sign-up answered (Tally-Position), and the ledger catches up with it before answering.
        page.goto(f"{stack.url}/#/budget")
        form = page.get_by_role("form", name="New budget")
        expect(form.get_by_label("Category or group").locator("option", has_text="Groceries")).to_have_count(
            1, timeout=15_000
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
        # The budget service counts it from the ledger's event; the overview's read carries the position the
        # expense answered, so the budget service has counted it before it answers: no reload needed.
        page.goto(f"{stack.url}/#/budgets")
        bar = page.get_by_label("Groceries: 85% of the budget used")
        expect(bar).to_be_visible(timeout=15_000)
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

        # Paying off a debt: a loan owing 3,000 to zero. Its target is what it owes; a payment of 600
        # into it pays a fifth off, and the chart shows what is still owed.
        page.goto(f"{stack.url}/#/")
        open_loan = page.get_by_role("form", name="Open an account")
        open_loan.get_by_label("Name").fill("Car loan")
        open_loan.get_by_label("Kind").select_option(label="Loan")
        open_loan.get_by_label("Currency").fill("EUR")
        open_loan.get_by_label("Opening balance").fill("-3000.00")
        open_loan.get_by_role("button", name="Open account").click()
        expect(page.get_by_text("Car loan", exact=True)).to_be_visible()
        page.goto(f"{stack.url}/#/goals")
        new_goal = page.get_by_role("form", name="New goal")
        new_goal.get_by_label("Kind of goal").select_option(label="Paying off debt")
        expect(new_goal.get_by_label(re.compile(r"^Target \("))).to_be_hidden()  # the debt is the target
        debt = new_goal.get_by_label("Debt to pay off")
        expect(debt.locator("option", has_text="Car loan (owes")).to_have_count(1, timeout=15_000)
        assert debt.locator("option", has_text="Everyday").count() == 0  # not a debt
        debt.select_option(index=1)
        new_goal.get_by_label("Name").fill("Car loan")
        new_goal.get_by_role("button", name="Create goal").click()
        expect(page.get_by_role("heading", name="Car loan", exact=True)).to_be_visible(timeout=15_000)
        expect(page.get_by_label("Car loan: 0% paid off")).to_be_visible()
        expect(page.get_by_text(re.compile(r"follows the debt on Car loan"))).to_be_visible()
        goal_url = page.url
        page.goto(f"{stack.url}/#/")
        entry = page.get_by_role("form", name="Add expense or income")
        entry.get_by_label("Income", exact=True).check()
        entry.get_by_label("Amount").fill("600.00")
        entry.get_by_label("Account", exact=True).select_option(label="Car loan (EUR)")
        entry.get_by_role("button", name="Add").click()
        expect(entry.get_by_text(re.compile(r"Added income of"))).to_be_visible()
        page.goto(goal_url)
        expect(page.get_by_label("Car loan: 20% paid off")).to_be_visible(timeout=15_000)
        expect(page.get_by_text(re.compile(r"still owed"))).to_be_visible()
        expect(page.locator("figcaption", has_text="Car loan: owed over time")).to_be_visible()
        page.wait_for_function("document.querySelector('figure.chart canvas')?.width > 0")
        _no_sideways_scroll(page)
        page.screenshot(path=str(screenshots / "goal-debt-phone.png"), full_page=True)

        # Help (under More on a phone) is the user guide, which the gateway serves with its screenshots.
        page.get_by_role("button", name="More").click()
        help_link = page.get_by_role("link", name="Help")
        expect(help_link).to_have_attribute("href", "/guide/")
        with context.expect_page() as opened:
            help_link.click()
        guide = opened.value
        expect(guide.get_by_role("heading", name="Goals: saving up and paying off debt")).to_be_visible()
        shot = guide.get_by_role("img", name=re.compile(r"^A debt goal"))
        expect(shot).to_be_visible()
        # Asked from here, not with wait_for_function: that evaluates in the page, which the guide's CSP
        # (no 'unsafe-eval') may refuse.
        loaded = "[...document.images].every((i) => i.complete && i.naturalWidth > 0)"
        eventually(lambda: guide.evaluate(loaded), "every screenshot of the guide loaded")
        guide.close()
        assert errors == []
    finally:
        context.close()


def test_a_new_households_category_can_be_budgeted_at_once(stack: Stack, chromium: Any) -> None:
    """Right the moment you look (issue #16): sign-up answers auth's position, the ledger's categories read
    waits for it, and the budget service waits for the ledger's position that read answered, so the
    default categories are offered and budgeted straight after sign-up, with no reload and no waiting."""
    # No service worker: Playwright then sees every request the page sends.
    context = chromium.new_context(viewport=PHONE, service_workers="block")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        sign_up(page, stack.url, "kim-at-once@example.com", "Kim")
        menu = page.get_by_role("navigation", name="Main")
        menu.get_by_role("link", name="Budgets", exact=True).click()  # as soon as the session is there
        page.get_by_role("link", name="New budget").click()
        form = page.get_by_role("form", name="New budget")
        expect(form).to_be_visible(timeout=15_000)
        # Filled once, from one read: the categories are in it the moment the form is shown.
        target = form.get_by_label("Category or group")
        assert target.locator("option", has_text="Groceries").count() == 1, target.inner_text()
        expect(form.get_by_text("No categories yet")).to_be_hidden()
        target.select_option(label=GROCERIES)
        form.get_by_label(re.compile(r"^Amount")).fill("120")
        with page.expect_request(
            lambda r: r.method == "POST" and r.url.endswith("/api/budget/budgets")
        ) as posted:
            form.get_by_role("button", name="Create budget").click()
        expect(page.get_by_role("heading", name="Groceries · Monthly")).to_be_visible(timeout=15_000)
        page.get_by_role("link", name="All budgets").click()
        expect(page.locator("li.budget", has_text="Groceries")).to_have_count(1)

        # The client sent the token it was given: this household, and the ledger's position it had seen.
        token = posted.value.all_headers().get("tally-position", "")
        parts = dict(part.split("=", 1) for part in token.split(";") if "=" in part)
        assert set(parts) >= {"tenant", "auth", "ledger"}, token
        assert int(parts["ledger"]) > 0, token
        assert page.evaluate("sessionStorage.getItem('tally.position')").startswith(
            f"tenant={parts['tenant']};"
        )
        assert errors == []
    finally:
        context.close()


def test_an_empty_category_list_is_asked_for_again(stack: Stack, chromium: Any) -> None:
    """Without the token (signed up on another device a moment ago) the ledger may not have made the
    categories yet when the form reads them: the form says so, and asks again when the person comes to it."""
    context = chromium.new_context(viewport=PHONE, service_workers="block")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    read_empty: list[str] = []

    def first_read_empty(route: Route) -> None:
        if route.request.method == "GET" and not read_empty:
            read_empty.append(route.request.url)  # as the ledger answers before it made them
            route.fulfill(status=200, content_type="application/json", body='{"items": []}')
        else:
            route.continue_()

    try:
        sign_up(page, stack.url, "kim-elsewhere@example.com", "Kim")
        expect(page.get_by_role("heading", name="Accounts")).to_be_visible(timeout=15_000)
        page.route("**/api/ledger/categories", first_read_empty)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Budgets", exact=True).click()
        page.get_by_role("link", name="New budget").click()
        form = page.get_by_role("form", name="New budget")
        expect(form.get_by_text("No categories yet")).to_be_visible()
        expect(form.get_by_role("link", name="Add a category")).to_have_attribute("href", "#/categories")
        assert len(read_empty) == 1

        target = form.get_by_label("Category or group")
        target.focus()
        expect(target.locator("option", has_text="Groceries")).to_have_count(1)
        expect(form.get_by_text("No categories yet")).to_be_hidden()
        target.select_option(label=GROCERIES)
        assert errors == []
    finally:
        context.close()
