"""Hostile text in, through every text field the API takes, and back out through every screen.

A household's names, payees, notes and tags carry HTML/script payloads and SQL fragments. The API must
store and return them byte for byte (SQL is always parameterised), and every screen of the web client
(the routes are read from web/js/app.js, so a new screen is walked the day it is added) must show them
as text: no element built from them, no script run, no page error. The budget alert email that names
the category must escape it too."""

import re
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tallystack.browser import open_settled
from tallystack.people import PASSWORD, Person
from tallystack.polling import eventually
from tallystack.stack import Stack

pytestmark = pytest.mark.e2e
APP = Path(__file__).parents[1] / "web" / "js" / "app.js"
# The marker attributes let the test find any element a payload managed to create.
HTML = '<img src=x data-xss="1" onerror="window.__xss=1"><script data-xss="1">window.__xss=1</script>'
SQL = "Robert'); DROP TABLE transactions;-- \\' OR '1'='1"


def _routes() -> list[str]:
    routes = re.findall(r'^\s*"(/[a-z0-9/-]*)":\s*(?:render|lazy\()', APP.read_text(), flags=re.MULTILINE)
    assert len(routes) > 10, "the routes table of web/js/app.js changed shape"
    return routes


@pytest.fixture(scope="module")
def hostile_household(stack: Stack) -> dict[str, Any]:
    # A Person sends the Tally-Position token it was given with every call, so the ledger has made the
    # new household's categories before it answers, and the budget service knows the hostile category
    # before it is budgeted (no polling until they are there).
    with httpx.Client(base_url=stack.url, timeout=15) as client:
        email = "mallory@example.com"
        mallory = Person(client, email, f"Mallory {HTML}"[:100])
        assert mallory.call("GET", "/ledger/categories").json()["items"], "default categories"
        category = mallory.call(
            "POST",
            "/ledger/categories",
            {"name": f"Cat {HTML}"[:100], "group": f"Grp {SQL}"[:100], "kind": "expense"},
        )
        assert category.status_code == 201, category.text
        account = mallory.call(
            "POST",
            "/ledger/accounts",
            {
                "name": f"Acc {HTML}"[:100],
                "kind": "checking",
                "currency": "EUR",
                "opening_balance_minor": 10_000,
            },
        )
        assert account.status_code == 201, account.text
        payee, note = f"Payee {HTML}"[:200], f"{SQL} {HTML}"
        txn = mallory.call(
            "POST",
            "/ledger/transactions",
            {
                "account_id": account.json()["id"],
                "kind": "expense",
                "amount_minor": 9_500,
                "category_id": category.json()["id"],
                "payee": payee,
                "note": note,
                "booked_on": date.today().isoformat(),
            },
        )
        assert txn.status_code == 201, txn.text
        back = mallory.call("GET", f"/ledger/transactions/{txn.json()['id']}").json()
        assert (back["payee"], back["note"]) == (payee, note), "text must come back byte for byte"
        budget = mallory.call(
            "POST",
            "/budget/budgets",
            {"category_id": category.json()["id"], "amount_minor": 10_000, "currency": "EUR"},
        )
        assert budget.status_code in (200, 201), budget.text
        return {"email": email, "transaction_id": txn.json()["id"], "category": category.json()["name"]}


def _no_payload_ran(page: Page) -> list[str]:
    found = []
    if page.evaluate("Boolean(window.__xss)"):
        found.append("a payload's script ran")
    if page.locator("[data-xss]").count():
        found.append("a payload became an element")
    return found


def _sign_in(page: Page, stack: Stack, email: str) -> None:
    page.goto(f"{stack.url}/#/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.IGNORECASE)).click()
    expect(page.get_by_role("link", name=re.compile("Transactions"))).to_be_visible(timeout=15_000)


def test_every_screen_shows_hostile_text_as_text(
    stack: Stack, chromium: Any, hostile_household: dict[str, Any]
) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    problems: dict[str, list[str]] = {}
    try:
        _sign_in(page, stack, hostile_household["email"])
        routes = [*_routes(), f"/transaction?id={hostile_household['transaction_id']}"]
        for route in routes:
            # Drawn with everything it read (the notification centre's live stream never idles).
            open_settled(page, route)
            found = _no_payload_ran(page)
            if found:
                problems[route] = found
        page.goto(f"{stack.url}/#/transactions")
        expect(page.get_by_text(re.compile(r"Payee <img src=x")).first).to_be_visible(timeout=15_000)
    finally:
        context.close()
    assert problems == {}
    assert dialogs == []
    assert errors == []


def test_the_alert_email_escapes_the_category_name(stack: Stack, hostile_household: dict[str, Any]) -> None:
    assert stack.mail is not None

    def alert_mail() -> Any:
        return next(
            (
                m
                for m in stack.mail.messages  # type: ignore[union-attr]
                if m["To"]
                and hostile_household["email"] in str(m["To"])
                and "budget" in str(m["Subject"]).lower()
            ),
            None,
        )

    message = eventually(alert_mail, "the budget alert email", 60.0)
    html = message.get_body(preferencelist=("html",))
    assert html is not None
    content = html.get_content()
    assert "<img src=x" not in content
    assert "<script" not in content
    assert "&lt;img src=x" in content
