"""Recurring payments found in the history, in a real Chromium against the real stack at phone size: a
household's monthly subscription whose price rose and a monthly income show up on the recurring screen
once the ledger's worker has looked at them (with the price change), the screen passes axe, one is made
a schedule with one click and the other dismissed; the dashboard's savings opportunities show the price
rise (analytics learnt the series from the ledger's events) and lead to its payments."""

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tally_ledger.due_dates import add_months
from tallystack.browser import open_settled, settle, sign_up
from tallystack.polling import eventually
from tallystack.stack import Stack

pytestmark = pytest.mark.e2e
PHONE = {"width": 360, "height": 780}
API = """async ([method, path, body]) => {
  const token = sessionStorage.getItem("tally.accessToken");
  const response = await fetch(`/api${path}`, { method, body: body ? JSON.stringify(body) : undefined,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" } });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}"""
AXE = """async () => (await axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa",
  "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] }, resultTypes: ["violations"] })).violations
  .filter((v) => ["serious", "critical"].includes(v.impact)).map((v) => v.id)"""


def _api(page: Page, method: str, path: str, body: Any = None) -> Any:
    return page.evaluate(API, [method, path, body])


def test_found_subscriptions_accepted_and_dismissed(stack: Stack, chromium: Any, screenshots: Path) -> None:
    page = chromium.new_context(viewport=PHONE).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_up(page, stack.url, "robin-recurring@example.com", "Robin")
    eventually(lambda: page.evaluate("Boolean(sessionStorage.getItem('tally.accessToken'))"), "signed in")
    settle(page)
    account = _api(page, "POST", "/ledger/accounts", {"name": "Giro", "kind": "checking", "currency": "EUR",
                                                      "opening_balance_minor": 0})["id"]
    today = datetime.now(UTC).date()
    first = add_months(date(today.year, today.month, 12), -7)
    for month in range(7):  # 12.99 for four months, then 15.99; a salary-like income on the 1st
        day = add_months(first, month).isoformat()
        _api(page, "POST", "/ledger/transactions", {
            "account_id": account, "kind": "expense", "amount_minor": 1299 if month < 4 else 1599,
            "payee": "STREAMFLIX.COM", "booked_on": day})
        _api(page, "POST", "/ledger/transactions", {
            "account_id": account, "kind": "income", "amount_minor": 42000, "payee": "Nebenjob Schmidt",
            "booked_on": add_months(first, month).replace(day=1).isoformat()})
    # The ledger's worker looks at a household's history in the background (every 30 s).
    eventually(lambda: len(_api(page, "GET", "/ledger/recurring/proposals")["items"]) == 2,
               "the two series to be found", timeout=150)

    open_settled(page, "/recurring")
    found = page.get_by_role("region", name="Found in your history")
    expect(found.get_by_text("STREAMFLIX.COM", exact=True)).to_be_visible()
    expect(found.get_by_text(re.compile(r"12\.99.*→.*15\.99.* from "))).to_be_visible()
    expect(found.get_by_text(re.compile(r"^7 payments since "))).to_have_count(2)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.add_script_tag(url="/vendor/axe/axe.min.js")
    assert page.evaluate(AXE) == []
    page.screenshot(path=screenshots / "recurring-found-phone.png", full_page=True)

    found.get_by_role("button", name="Schedule STREAMFLIX.COM").click()
    expect(page.get_by_text(re.compile(r"^STREAMFLIX\.COM is now a schedule; next on "))).to_be_visible()
    expect(page.get_by_role("button", name="Cancel STREAMFLIX.COM")).to_be_visible()
    found.get_by_role("button", name="Dismiss Nebenjob Schmidt").click()
    expect(page.get_by_text("Nebenjob Schmidt will not be proposed again.")).to_be_visible()
    expect(found.get_by_text("Nothing new found in your transactions.")).to_be_visible()
    [schedule] = _api(page, "GET", "/ledger/recurring")["items"]
    assert [schedule[f] for f in ("name", "amount_minor", "cadence", "day_of_month", "is_bill")] == [
        "STREAMFLIX.COM", 1599, "monthly", 12, True]

    # Savings opportunities: the rise, with its figures, and a link to the subscription's payments.
    month = f"{today:%Y-%m}"
    eventually(lambda: [o["kind"] for o in _api(page, "GET", f"/analytics/savings?month={month}")
                        ["opportunities"]] == ["price_rise"], "the rise among the savings opportunities",
               timeout=60)
    open_settled(page, "/dashboard")
    savings = page.get_by_role("region", name="Savings opportunities")
    rise = savings.get_by_role("link", name=re.compile(
        r"^STREAMFLIX\.COM: .*15\.99.* instead of .*12\.99.* a month since .+, "
        r".*191\.88.* a year \(.*36\.00.* more\)$"))
    expect(rise).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    savings.scroll_into_view_if_needed()
    page.screenshot(path=screenshots / "dashboard-savings-phone.png", full_page=True)
    rise.click()
    expect(page.get_by_role("searchbox")).to_have_value('payee:"STREAMFLIX.COM" type:expense')
    expect(page.get_by_text("STREAMFLIX.COM").first).to_be_visible()
    assert errors == []
