"""Many transactions at once in a real Chromium at 1280 px against the real stack: in the transaction list
a click and a shift-click select a range, shift+j extends it from the keyboard, the selected ones are
recategorised as one change and that change is undone; j moves to a row, Enter edits its payee in place,
Escape cancels an edit and Enter saves one."""

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
PAYEES = ["Bakery", "Corner shop", "Market", "Kiosk", "Cinema"]  # booked on days 1..5: newest last


def _api(page: Page, method: str, path: str, body: Any = None) -> Any:
    return page.evaluate(API, [method, path, body])


def _categories(page: Page) -> dict[str | None, str | None]:
    items = _api(page, "GET", "/ledger/transactions?limit=50")["items"]
    return {t["payee"]: t["category_name"] for t in items}


def test_select_a_range_recategorise_undo_and_edit_in_place(stack: Stack, chromium: Any,
                                                           screenshots: Path) -> None:
    page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_up(page, stack.url, "lee-bulk@example.com", "Lee")
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible(timeout=15_000)
    settle(page)
    page.wait_for_function("""async () => {
      const token = sessionStorage.getItem("tally.accessToken");
      const r = await fetch("/api/ledger/categories", { headers: { Authorization: `Bearer ${token}` } });
      return r.ok && (await r.json()).items.length > 0;
    }""", polling=250)
    account = _api(page, "POST", "/ledger/accounts", {"name": "Giro", "kind": "checking", "currency": "EUR",
                                                      "opening_balance_minor": 0})
    for day, payee in enumerate(PAYEES, start=1):
        _api(page, "POST", "/ledger/transactions", {"account_id": account["id"], "kind": "expense",
                                                    "amount_minor": 100 * day, "payee": payee,
                                                    "booked_on": f"2026-03-0{day}"})

    open_settled(page, "/transactions")
    rows = page.get_by_role("list", name="Transactions found")
    # Newest first: Cinema, Kiosk, Market, Corner shop, Bakery.
    rows.get_by_label(re.compile("^Select Kiosk")).click()
    rows.get_by_label(re.compile("^Select Corner shop")).click(modifiers=["Shift"])
    bar = page.get_by_role("region", name="Change the selected transactions")
    expect(bar.get_by_text("3 selected")).to_be_visible()
    page.keyboard.press("Shift+J")  # the keyboard is on Corner shop: Bakery joins
    expect(bar.get_by_text("4 selected")).to_be_visible()
    expect(rows.get_by_label(re.compile("^Select Bakery"))).to_be_checked()
    expect(rows.get_by_label(re.compile("^Select Cinema"))).not_to_be_checked()

    bar.get_by_label("New category").select_option(label="Food \u203a Groceries")
    page.screenshot(path=screenshots / "transactions-bulk-selected.png", full_page=True)
    bar.get_by_role("button", name="Recategorise").click()
    expect(page.get_by_text("4 transactions changed.")).to_be_visible()
    settle(page)
    assert _categories(page) == {"Cinema": None, "Kiosk": "Groceries", "Market": "Groceries",
                                 "Corner shop": "Groceries", "Bakery": "Groceries"}
    expect(bar).to_be_hidden()  # the list was read again: nothing is selected

    page.get_by_role("button", name="Undo").click()
    expect(page.get_by_text("4 transactions put back.")).to_be_visible()
    settle(page)
    assert set(_categories(page).values()) == {None}

    # The register: j to the second row, Enter edits in place, Escape cancels, Enter saves.
    rows.get_by_label(re.compile("^Select Cinema")).focus()
    page.keyboard.press("j")
    expect(rows.get_by_label(re.compile("^Select Kiosk"))).to_be_focused()
    page.keyboard.press("Enter")
    editor = rows.get_by_role("form", name="Edit transaction")
    expect(editor.get_by_label("Payee")).to_be_focused()
    page.keyboard.press("Escape")
    expect(editor).to_have_count(0)
    expect(rows.get_by_label(re.compile("^Select Kiosk"))).to_be_focused()
    page.keyboard.press("Enter")
    editor.get_by_label("Payee").fill("Newsagent")
    page.keyboard.press("Enter")
    expect(rows.get_by_label(re.compile("^Select Newsagent"))).to_be_focused()
    settle(page)
    assert "Newsagent" in _categories(page)
    assert errors == []
