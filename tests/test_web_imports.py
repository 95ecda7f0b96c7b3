"""The import screen in a real Chromium against the real stack: a bank's OFX file naming three bank
accounts that Tally does not know yet is imported into three new accounts in one batch, previewed and
confirmed once; then a whole Actual Budget history is read, one of its accounts merged into an account the
person has, imported, and undone."""

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tallystack.browser import open_settled, settle, sign_up
from tallystack.stack import Stack

pytestmark = pytest.mark.e2e
LEDGER_TESTS = Path(__file__).parents[1] / "services" / "ledger" / "tests"
OFX = LEDGER_TESTS / "statements" / "ofx_multi_account.ofx"
ACTUAL = LEDGER_TESTS / "histories" / "actual_household.zip"


def _accounts(page: Page) -> dict[str, str]:
    """The household's accounts as the client's API sees them: name → currency."""
    items = page.evaluate("""async () => {
      const token = sessionStorage.getItem("tally.accessToken");
      const response = await fetch("/api/ledger/accounts", { headers: { Authorization: `Bearer ${token}` } });
      return (await response.json()).items;
    }""")
    return {a["name"]: a["currency"] for a in items}


def test_a_statement_of_three_accounts_and_a_whole_history(stack: Stack, chromium: Any,
                                                            screenshots: Path) -> None:
    page = chromium.new_context(viewport={"width": 1280, "height": 900}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_up(page, stack.url, "robin-imports@example.com", "Robin")
    expect(page.get_by_role("heading", name="Accounts")).to_be_visible(timeout=15_000)
    open_account = page.get_by_role("form", name="Open an account")
    open_account.get_by_label("Name").fill("Everyday")
    open_account.get_by_label("Currency").fill("EUR")
    open_account.get_by_role("button", name="Open account").click()
    expect(page.get_by_text("Everyday", exact=True)).to_be_visible()
    open_settled(page, "/import")
    wizard = page.get_by_role("form", name="Import")

    # A statement naming three bank accounts, none known: where does each go?
    wizard.get_by_label("File").set_input_files(str(OFX))
    wizard.get_by_role("button", name="Upload and preview").click()
    which = page.get_by_role("form", name="Which accounts")
    expect(which.get_by_text("The file holds 3 bank accounts, 3 of them new to Tally")).to_be_visible()
    which.get_by_role("button", name="Continue").click()
    confirm = page.get_by_role("button", name="Import 5 transactions")
    expect(confirm).to_be_enabled()
    expect(page.get_by_role("cell", name="RBC Savings …8765").first).to_be_visible()
    page.screenshot(path=screenshots / "import-statement-preview.png", full_page=True)
    confirm.click()
    into_three = re.compile(r"^Imported 5 new transactions into RBC .*, RBC .*, RBC ")
    expect(page.get_by_text(into_three)).to_be_visible()
    settle(page)
    opened = _accounts(page)
    assert sorted(opened.values()) == ["CAD", "CAD", "EUR", "USD"], opened

    # A whole history: the summary, its accounts, Checking merged into the account the person has.
    page.get_by_role("button", name="Import another file").click()
    page.get_by_role("form", name="Import").get_by_label("File").set_input_files(str(ACTUAL))
    page.get_by_role("form", name="Import").get_by_role("button", name="Upload and preview").click()
    history = page.get_by_role("form", name="Your history from another app")
    summary = re.compile(r"^Actual Budget export: 3 accounts, 15 categories, 54 transactions")
    expect(history.get_by_text(summary)).to_be_visible()
    page.screenshot(path=screenshots / "import-history.png", full_page=True)
    history.get_by_label("Where Checking goes").select_option(label="Everyday")
    history.get_by_role("button", name="Import 54 transactions").click()
    # 54 and the opening balance of Checking as one entry in Everyday.
    done = page.get_by_text(re.compile(r"^Imported 55 transactions; 2 accounts and \d+ categories were"))
    expect(done).to_be_visible(timeout=30_000)
    settle(page)
    after = _accounts(page)
    assert "Savings" in after  # (Old Credit Card is closed in Actual: archived, so not listed)
    assert "Checking" not in after
    recent = page.get_by_role("region", name="Recent imports")
    expect(recent.get_by_text(re.compile(r"^actual_household\.zip · Actual Budget export"))).to_be_visible()

    page.get_by_role("button", name="Undo this import").click()
    expect(page.get_by_text("The import of actual_household.zip was undone")).to_be_visible(timeout=30_000)
    assert errors == []
