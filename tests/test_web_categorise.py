"""The learned categoriser in a real Chromium against the real stack: once the household's history is
learnt, typing a payee in the entry form brings the ledger's suggestion (confidence and source, chosen
when sure enough); then the uncategorised transactions are categorised in bulk — proposals, one row
corrected, applied as one change — and that change is undone."""

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tallystack.browser import learnt, open_settled, settle, sign_up
from tallystack.polling import eventually
from tallystack.stack import Stack

pytestmark = pytest.mark.e2e
# Six weeks of one household's bookings: payee, amount in cents (negative: out), category.
HISTORY = [
    ("REWE SAGT DANKE {n} BERLIN", -2_300, "Groceries"),
    ("SHELL {n} HAMBURG", -6_100, "Fuel"),
    ("Telekom Deutschland GmbH", -4_500, "Internet & phone"),
    ("SUMUP *Trattoria Roma {n}", -3_400, "Eating out"),
    ("Stadtwerke Freiburg", -8_000, "Utilities"),
    ("ACME GmbH", 300_000, "Salary"),
]
API = """async ([method, path, body]) => {
  const token = sessionStorage.getItem("tally.accessToken");
  const response = await fetch(`/api${path}`, { method, body: body ? JSON.stringify(body) : undefined,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" } });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? null : response.json();
}"""


def _api(page: Page, method: str, path: str, body: Any = None) -> Any:
    return page.evaluate(API, [method, path, body])


def _record(page: Page, account_id: str, payee: str, amount: int, day: str, category: str | None) -> Any:
    return _api(page, "POST", "/ledger/transactions", {
        "account_id": account_id, "kind": "income" if amount > 0 else "expense", "amount_minor": abs(amount),
        "payee": payee, "booked_on": day, "category_id": category})


def test_entry_suggestion_and_bulk_categorisation(stack: Stack, chromium: Any, screenshots: Path) -> None:
    page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_up(page, stack.url, "kim-categorise@example.com", "Kim")
    expect(page.get_by_role("heading", name="Hello, Kim")).to_be_visible(timeout=30_000)
    settle(page)
    # The default categories come from the ledger's reaction to the new household.
    categories = eventually(lambda: {c["name"]: c["id"] for c in _api(
        page, "GET", "/ledger/categories")["items"]}, "the household's default categories")
    account = _api(page, "POST", "/ledger/accounts", {"name": "Giro", "kind": "checking", "currency": "EUR",
                                                      "opening_balance_minor": 0})
    for n in range(6):
        for payee, amount, category in HISTORY:
            _record(page, account["id"], payee.format(n=1000 + n), amount + n * 13, f"2025-03-{n + 1:02d}",
                    categories[category])
    learnt(page, examples=len(HISTORY) * 6)

    # Typing a payee: the ledger's suggestion, sure enough to be chosen.
    page.reload()  # the home screen, with the account opened meanwhile
    settle(page)
    entry = page.get_by_role("form", name="Add expense or income")
    entry.get_by_label("Amount").fill("27.90")
    entry.get_by_label("Payee").fill("REWE SAGT DANKE 5555 BERLIN")
    # The first suggestion of a process loads the model and scikit-learn's hashing (seconds when busy).
    suggested = entry.get_by_text(re.compile(r"^Suggested: Groceries, \d+ % sure \(learnt\)$"))
    expect(suggested).to_be_visible(timeout=30_000)
    expect(entry.get_by_label("Category").locator("option:checked")).to_have_text("Food \u203a Groceries")
    page.screenshot(path=screenshots / "entry-suggestion.png", full_page=True)

    # Four uncategorised transactions: proposed, one corrected, applied as one change, then undone.
    made = [_record(page, account["id"], payee, amount, day, None)["id"] for payee, amount, day in (
        ("REWE SAGT DANKE 7781 BERLIN", -2_790, "2025-04-02"), ("SHELL 4321 HAMBURG", -5_890, "2025-04-03"),
        ("Telekom Deutschland GmbH", -4_500, "2025-04-04"), ("Zzyzx Qwvb", -1_200, "2025-04-05"))]
    open_settled(page, "/categorise")
    expect(page.get_by_role("heading", name="Categorise the uncategorised")).to_be_visible()
    expect(page.get_by_text("4 uncategorised transactions; the newest 4 are shown.")).to_be_visible()
    shell = page.get_by_label("Category of SHELL 4321 HAMBURG")
    expect(shell.locator("option:checked")).to_have_text("Transport \u203a Fuel")
    shell.select_option(label="Transport \u203a Transport")
    expect(page.get_by_label("Apply to SHELL 4321 HAMBURG")).to_be_checked()
    expect(page.get_by_label("Apply to Zzyzx Qwvb")).not_to_be_checked()
    apply = page.get_by_role("button", name=re.compile(r"^Apply \d categories$"))
    chosen = int(re.findall(r"\d", apply.inner_text())[0])
    assert chosen >= 2  # at least the corrected row and the telephone bill, sure of itself
    page.screenshot(path=screenshots / "categorise-bulk.png", full_page=True)
    apply.click()
    expect(page.get_by_text(f"Categorised {chosen} transactions.")).to_be_visible()
    settle(page)
    april = _api(page, "GET", "/ledger/transactions?from_date=2025-04-01")["items"]
    after = {t["id"]: t["category_name"] for t in april}
    assert after[made[1]] == "Transport"
    assert after[made[3]] is None

    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_text(f"Undone: {chosen} transactions are uncategorised again.")).to_be_visible()
    expect(page.get_by_text("4 uncategorised transactions; the newest 4 are shown.")).to_be_visible()
    settle(page)
    undone = _api(page, "GET", "/ledger/transactions?from_date=2025-04-01")["items"]
    assert [t["category_name"] for t in undone] == [None] * 4
    assert errors == []
