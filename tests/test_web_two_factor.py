"""Two-step sign-in in a real Chromium: turn it on from the QR screen's key, sign in again with the
second step (a recovery code), and get new recovery codes — the old one then no longer works."""

import re
import time
from typing import Any

import httpx
import pyotp
import pytest
from playwright.sync_api import Page, expect

from tallystack.browser import open_menu
from tallystack.stack import Stack

pytestmark = pytest.mark.e2e
PASSWORD = "correct horse battery"
EMAIL = "tess-2fa@example.com"


def _sign_in(page: Page, stack: Stack) -> None:
    page.goto(f"{stack.url}/#/signin")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("Sign in", re.IGNORECASE)).click()


def test_turn_on_sign_in_with_a_recovery_code_and_renew_the_codes(stack: Stack, chromium: Any) -> None:
    body = {"email": EMAIL, "password": PASSWORD, "display_name": "Tess"}
    assert httpx.post(f"{stack.url}/api/auth/register", json=body, timeout=15).status_code == 201
    context = chromium.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    try:
        _sign_in(page, stack)
        expect(page.get_by_role("link", name=re.compile("Transactions"))).to_be_visible(timeout=15_000)
        page.goto(f"{stack.url}/#/two-factor")
        page.get_by_role("button", name="Set up two-step sign-in").click()
        secret = page.locator("p.hint code").inner_text()
        totp = pyotp.TOTP(secret)
        page.get_by_label("Code from the app").fill(totp.now())
        page.get_by_role("button", name="Turn on").click()
        expect(page.locator("ul.codes code").first).to_be_visible(timeout=15_000)
        first_codes = page.locator("ul.codes code").all_inner_texts()
        assert len(first_codes) >= 8

        open_menu(page)  # a phone: "Sign out" is under More
        page.get_by_role("button", name=re.compile("Sign out")).click()
        _sign_in(page, stack)
        expect(page.get_by_role("heading", name="Two-step sign-in")).to_be_visible(timeout=15_000)
        page.get_by_label("Code").fill(first_codes[0])
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("link", name=re.compile("Transactions"))).to_be_visible(timeout=15_000)

        page.goto(f"{stack.url}/#/two-factor")
        renew = page.get_by_role("form", name="New recovery codes")
        renew.get_by_label("Password").fill(PASSWORD)
        renew.get_by_label("Code").fill(totp.at(time.time() + 30))  # the next step: the first one is spent
        renew.get_by_role("button", name="Get new recovery codes").click()
        expect(page.get_by_text("New recovery codes made")).to_be_visible(timeout=15_000)
        new_codes = page.locator("ul.codes code").all_inner_texts()
        assert len(new_codes) == len(first_codes)
        assert not set(new_codes) & set(first_codes)
    finally:
        context.close()

    with httpx.Client(base_url=stack.url, timeout=15) as client:
        challenge = client.post("/api/auth/login", json={"email": EMAIL, "password": PASSWORD}).json()
        assert challenge["two_factor_required"] is True
        old_code = {"challenge_token": challenge["challenge_token"], "code": first_codes[1]}
        second = client.post("/api/auth/login/2fa", json=old_code)
        assert second.status_code == 401, "an old recovery code must stop working"
