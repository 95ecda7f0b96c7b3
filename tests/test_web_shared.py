"""Shared expenses in a real Chromium against the real stack, on a phone: Ana pays a dinner for three;
the Shared screen splits it equally, says who owes whom, and a settle-up by Bea leaves only Cem owing;
the budgets of that month show Bea's share of the dinner under its budget."""

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tallystack.browser import open_settled
from tallystack.people import PASSWORD, Person, join
from tallystack.polling import eventually
from tallystack.stack import Stack

pytestmark = pytest.mark.e2e
PHONE = {"width": 390, "height": 844}


def test_a_dinner_shared_three_ways_and_a_settle_up(stack: Stack, chromium: Any, screenshots: Path) -> None:
    with httpx.Client(base_url=stack.url, timeout=30) as client:
        ana = Person(client, "ana-shared@example.com", "Ana")
        for email, name in (("bea-shared@example.com", "Bea"), ("cem-shared@example.com", "Cem")):
            join(stack, ana, Person(client, email, name), "member")
        account = ana.call("POST", "/ledger/accounts", {
            "name": "Joint", "kind": "checking", "currency": "EUR", "opening_balance_minor": 0})
        assert account.status_code == 201, account.text
        # The household's default categories come a moment after it was created (the ledger's reaction).
        eating_out = eventually(lambda: next((c["id"] for c in ana.call("GET", "/ledger/categories").json()[
            "items"] if c["name"] == "Eating out"), None), "the household's default categories")
        dinner = ana.call("POST", "/ledger/transactions", {
            "account_id": account.json()["id"], "kind": "expense", "amount_minor": 90_00,
            "booked_on": "2025-03-14", "payee": "Trattoria", "category_id": eating_out})
        assert dinner.status_code == 201, dinner.text
        budget = ana.call("POST", "/budget/budgets", {"category_id": eating_out, "amount_minor": 200_00,
                                                      "effective_from": "2025-03-01"})
        assert budget.status_code == 201, budget.text

    context = chromium.new_context(viewport=PHONE)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(stack.url)
        page.get_by_label("Email").fill(ana.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Accounts")).to_be_visible(timeout=15_000)
        open_settled(page, "/shared")
        expect(page.get_by_text("Everyone is square: nothing is owed.")).to_be_visible()

        share = page.get_by_role("form", name="Share an expense")
        share.get_by_label("Expense").select_option(index=0)  # the one expense
        share.get_by_label("Split").select_option(label="Equally")
        share.get_by_role("button", name="Share it").click()
        expect(page.get_by_text("Shared Trattoria.")).to_be_visible()
        balances = page.get_by_role("list", name="Balances")
        expect(balances.get_by_text("is owed €60.00")).to_be_visible()
        expect(balances.get_by_text("owes €30.00")).to_have_count(2)
        settle = page.get_by_role("list", name="To settle up")
        expect(settle.get_by_text(re.compile(r"^(Bea|Cem) pays Ana €30.00$"))).to_have_count(2)
        page.screenshot(path=screenshots / "shared-phone.png", full_page=True)

        record = page.get_by_role("form", name="Record a settle-up")
        record.get_by_label("Who paid back").select_option(label="Bea")
        record.get_by_label("To whom").select_option(label="Ana")
        record.get_by_label("Amount (EUR)").fill("30.00")
        record.get_by_role("button", name="Record settle-up").click()
        expect(page.get_by_text("Settle-up recorded.")).to_be_visible()
        expect(settle.get_by_text("Cem pays Ana €30.00")).to_be_visible()
        expect(settle.get_by_text(re.compile("^Bea pays"))).to_have_count(0)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        # The budgets of that month for one member's share: Bea's part of the dinner under Eating out.
        open_settled(page, "/budgets?month=2025-03")
        expect(page.get_by_text("€90.00 of €200.00")).to_be_visible()
        page.get_by_label("Whose share").select_option(label="Bea")
        expect(page.get_by_text("Bea's share of shared expenses: €30.00")).to_be_visible()
        page.screenshot(path=screenshots / "budgets-member-share-phone.png", full_page=True)
        assert errors == []
    finally:
        context.close()
