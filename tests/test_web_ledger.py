"""The ledger's newer screens in a real Chromium against the real stack, at phone size: a recurring bill
set up and seen in the upcoming list, a rule previewed and saved, an exchange rate entered, a receipt
attached to a transaction and listed."""

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tallystack.browser import settle, sign_up
from tallystack.stack import Stack

pytestmark = pytest.mark.e2e
PHONE = {"width": 360, "height": 780}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _sign_up(page: Page, stack: Stack, email: str) -> None:
    sign_up(page, stack.url, email, "Sam")
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible(timeout=15_000)


def _no_sideways_scroll(page: Page, what: str) -> None:
    settle(page)  # measured once the screen shows what it read
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], what


def test_recurring_rules_rates_and_attachments(stack: Stack, chromium: Any, screenshots: Path) -> None:
    context = chromium.new_context(viewport=PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        _sign_up(page, stack, "sam-ledger@example.com")
        open_account = page.get_by_role("form", name="Open an account")
        open_account.get_by_label("Name").fill("Everyday")
        open_account.get_by_label("Currency").fill("EUR")
        open_account.get_by_label("Opening balance").fill("500.00")
        open_account.get_by_role("button", name="Open account").click()
        expect(page.get_by_text("Everyday", exact=True)).to_be_visible()

        # A monthly bill due on the last day, reminder only.
        page.goto(f"{stack.url}/#/recurring")
        form = page.get_by_role("form", name="New recurring transaction")
        form.get_by_label("Name").fill("Electricity")
        form.get_by_label("Amount").fill("64.20")
        form.get_by_label("Payee").fill("City Power")
        form.get_by_label("Day of the month").select_option(label="Last day")
        form.get_by_label("It is a bill").check()
        form.get_by_role("button", name="Save schedule").click()
        expect(form.get_by_text(re.compile(r"Saved Electricity; next on"))).to_be_visible()
        expect(page.get_by_role("button", name="Cancel Electricity")).to_be_visible()
        upcoming = page.get_by_role("region", name="Upcoming")
        expect(upcoming.get_by_text("Bill: Electricity").first).to_be_visible()
        expect(upcoming.get_by_role("button", name="Mark paid").first).to_be_visible()
        _no_sideways_scroll(page, "recurring")
        page.screenshot(path=screenshots / "recurring-phone.png", full_page=True)

        # An expense, then a rule that would tag it: the preview shows the change, then it is saved.
        page.goto(f"{stack.url}/#/")
        entry = page.get_by_role("form", name="Add expense or income")
        entry.get_by_label("Amount").fill("12.40")
        entry.get_by_label("Payee").fill("Corner market")
        entry.get_by_role("button", name="Add").click()
        expect(entry.get_by_text(re.compile(r"Added expense of"))).to_be_visible()
        page.goto(f"{stack.url}/#/rules")
        rule = page.get_by_role("form", name="New rule")
        rule.get_by_label("Name").fill("Markets")
        rule.get_by_label("Text").fill("market")
        rule.get_by_label("Add tags").fill("food")
        rule.get_by_role("button", name="Preview").click()
        expect(rule.get_by_text(re.compile(r"1 match and 1 would change"))).to_be_visible(timeout=15_000)
        rule.get_by_role("button", name="Save rule").click()
        expect(page.get_by_role("button", name="Apply Markets")).to_be_visible()
        _no_sideways_scroll(page, "rules")
        page.screenshot(path=screenshots / "rules-phone.png", full_page=True)

        # An exchange rate.
        page.goto(f"{stack.url}/#/rates")
        rate = page.get_by_role("form", name="Enter a rate")
        rate.get_by_label("is worth").fill("1.0842")
        rate.get_by_role("button", name="Save rate").click()
        expect(page.get_by_text("1 EUR = 1.0842 USD", exact=True)).to_be_visible()
        _no_sideways_scroll(page, "rates")

        # A transfer between currencies asks for the amount that arrived too (into a new dollar account).
        page.goto(f"{stack.url}/#/")
        open_account = page.get_by_role("form", name="Open an account")
        open_account.get_by_label("Name").fill("Dollars")
        open_account.get_by_label("Currency").fill("USD")
        open_account.get_by_label("Opening balance").fill("0")
        open_account.get_by_role("button", name="Open account").click()
        expect(page.get_by_text("Dollars", exact=True)).to_be_visible()
        page.goto(f"{stack.url}/#/accounts")
        transfer = page.get_by_role("form", name="Transfer between accounts")
        transfer.get_by_label("From").select_option(label="Everyday (EUR)")
        transfer.get_by_label("To").select_option(label="Dollars (USD)")
        transfer.get_by_label("Amount", exact=True).fill("100")
        transfer.get_by_label("Amount that arrived").fill("108.42")
        transfer.get_by_role("button", name="Transfer").click()
        expect(transfer.get_by_text("Transferred.")).to_be_visible()
        expect(page.get_by_text(re.compile(r"108[.,]42")).first).to_be_visible()
        _no_sideways_scroll(page, "accounts")

        # A receipt on the transaction.
        page.goto(f"{stack.url}/#/transactions")
        page.get_by_role("link", name=re.compile("Corner market")).first.click()
        attach = page.get_by_role("form", name="Attach a file")
        attach.get_by_label("Receipt or document").set_input_files(
            files=[{"name": "receipt.png", "mimeType": "image/png", "buffer": PNG}]
        )
        attach.get_by_role("button", name="Attach").click()
        expect(page.get_by_role("button", name="receipt.png", exact=True)).to_be_visible()
        expect(page.get_by_role("button", name="Remove receipt.png")).to_be_visible()
        _no_sideways_scroll(page, "transaction")
        page.screenshot(path=screenshots / "transaction-attachments-phone.png", full_page=True)
        assert errors == []
    finally:
        context.close()
