"""Reconciling an account with the bank's statement in a real Chromium at phone width against the real
stack: from the accounts screen, the statement's closing date and balance, the difference shrinking to zero
as the transactions are ticked off, and finishing, which marks them reconciled."""

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tallystack.browser import open_settled, settle, sign_up
from tallystack.stack import Stack

pytestmark = pytest.mark.e2e
API = """async ([method, path, body]) => {
  const token = sessionStorage.getItem("tally.accessToken");
  const response = await fetch(`/api${path}`, { method, body: body ? JSON.stringify(body) : undefined,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" } });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? null : response.json();
}"""


def _api(page: Page, method: str, path: str, body: Any = None) -> Any:
    return page.evaluate(API, [method, path, body])


def test_reconcile_an_account_to_zero_on_a_phone(stack: Stack, chromium: Any, screenshots: Path) -> None:
    page = chromium.new_context(viewport={"width": 390, "height": 844}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_up(page, stack.url, "robin-reconcile@example.com", "Robin")
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible(timeout=15_000)
    settle(page)
    account = _api(page, "POST", "/ledger/accounts", {"name": "Giro", "kind": "checking", "currency": "EUR",
                                                      "opening_balance_minor": 10_000})
    made = [_api(page, "POST", "/ledger/transactions", {
        "account_id": account["id"], "kind": kind, "amount_minor": amount, "payee": payee, "booked_on": day})
        for kind, amount, payee, day in (("income", 200_000, "ACME GmbH", "2025-03-01"),
                                         ("expense", 80_000, "Landlord", "2025-03-02"),
                                         ("expense", 4_550, "REWE", "2025-03-20"),
                                         ("expense", 350, "Café", "2025-04-02"))]

    open_settled(page, "/accounts")
    page.get_by_role("link", name="Reconcile Giro").click()
    expect(page.get_by_role("heading", name="Reconcile Giro")).to_be_visible()
    page.get_by_label("Statement closing date").fill("2025-03-31")
    page.get_by_label("Statement closing balance (EUR)").fill("1254.50")
    page.get_by_role("button", name="Start").click()
    work = page.get_by_role("region", name="Reconciliation")
    expect(work.get_by_role("checkbox")).to_have_count(3)  # not April's coffee
    finish = work.get_by_role("button", name="Finish")
    expect(finish).to_be_disabled()
    expect(work.get_by_role("button", name=re.compile(r"^Book the difference of"))).to_be_visible()
    for payee in ("ACME GmbH", "Landlord", "REWE"):
        box = work.get_by_role("checkbox", name=re.compile(payee))
        box.check()
        expect(box).to_be_enabled()  # its change saved
    expect(finish).to_be_enabled()
    expect(work.locator("dd").nth(2)).to_have_text(re.compile(r"^€?0\.00"))
    page.screenshot(path=screenshots / "reconcile-phone.png", full_page=True)
    finish.click()
    expect(work.get_by_text("Reconciled 3 transactions up to")).to_be_visible()
    expect(work.get_by_text("Nothing left to tick off up to this date.")).to_be_visible()
    settle(page)
    statuses = {t["id"]: t["status"] for t in _api(page, "GET", "/ledger/transactions")["items"]}
    assert [statuses[t["id"]] for t in made] == ["reconciled", "reconciled", "reconciled", "uncleared"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    assert errors == []
