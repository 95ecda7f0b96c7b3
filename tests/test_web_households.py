"""Households in a real Chromium against the real stack, on a 360 px phone: an owner invites by e-mail,
the invited person opens the link before having an account, signs up, joins, switches between her two
households, and downloads her data."""

import asyncio
import concurrent.futures
import json
import re
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import pytest
from playwright.sync_api import Page, expect

from tallystack import postgres
from tallystack.stack import Stack

pytestmark = pytest.mark.e2e
PHONE = {"width": 360, "height": 740}
PASSWORD = "correct horse battery"


def invitation_path(stack: Stack, email: str) -> str:
    """The link auth asked the notifier to mail (from auth's outbox), read on a thread of its own: the
    browser keeps an event loop on this one."""

    async def read() -> str:
        url = postgres.asyncpg_dsn(postgres.database_url(stack.admin_url, "tally_auth"))
        connection = await asyncpg.connect(url)
        try:
            path = await connection.fetchval(
                "SELECT envelope->'data'->>'path' FROM outbox WHERE envelope->>'type' = 'auth.MemberInvited'"
                " AND envelope->'data'->>'email' = $1 ORDER BY id DESC LIMIT 1",
                email,
            )
        finally:
            await connection.close()
        assert path, f"no invitation for {email}"
        return str(path)

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, read()).result()


def sign_up(page: Page, name: str, email: str) -> None:
    page.get_by_role("link", name="Create an account").click()
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()


def fits_the_screen(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width} px wide on a {PHONE['width']} px screen"


def test_invite_accept_switch_and_download(
    stack: Stack, chromium: Any, screenshots: Path, tmp_path: Path
) -> None:
    owner = chromium.new_context(viewport=PHONE)
    guest = chromium.new_context(viewport=PHONE, accept_downloads=True)
    errors: list[str] = []
    try:
        page = owner.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(stack.url)
        sign_up(page, "Hanna", "hanna@example.com")
        expect(page.get_by_role("heading", name="Accounts")).to_be_visible(timeout=15_000)

        page.goto(f"{stack.url}/#/members")
        expect(page.get_by_role("heading", name="Members")).to_be_visible()
        invite = page.get_by_role("form", name="Invite someone")
        invite.get_by_label("Their e-mail address").fill("ines@example.com")
        invite.get_by_label("Role").select_option("member")
        invite.get_by_role("button", name="Send invitation").click()
        expect(page.get_by_text("Invitation sent to ines@example.com.")).to_be_visible()
        expect(
            page.get_by_role("list", name="Pending invitations").get_by_text("ines@example.com")
        ).to_be_visible()
        fits_the_screen(page)
        page.screenshot(path=str(screenshots / "households-members-360.png"), full_page=True)

        # Ines opens the mailed link with no account yet: it waits while she signs up, then she joins.
        link = invitation_path(stack, "ines@example.com")
        assert parse_qs(urlsplit(link).fragment.partition("?")[2])["token"]
        other = guest.new_page()
        other.on("pageerror", lambda exc: errors.append(str(exc)))
        other.goto(stack.url + link)
        expect(other.get_by_role("heading", name="Join a household")).to_be_visible()
        assert "token=" not in other.url  # the secret leaves the address bar at once
        sign_up(other, "Ines", "ines@example.com")
        other.get_by_role("button", name="Join the household").click()
        expect(other.get_by_role("heading", name="Hanna's household")).to_be_visible(timeout=15_000)
        households = other.get_by_role("list", name="Your households")
        expect(households.get_by_text("Ines's household")).to_be_visible()
        fits_the_screen(other)
        other.screenshot(path=str(screenshots / "households-switcher-360.png"), full_page=True)

        # Hanna sees her new member.
        page.reload()
        expect(page.get_by_role("list", name="Members").get_by_text("ines@example.com")).to_be_visible()

        # Ines switches back to her own household, and again to Hanna's.
        households.get_by_role("listitem").filter(has_text="Ines's household").get_by_role(
            "button", name="Switch"
        ).click()
        expect(other).to_have_url(re.compile(r"#/$"))  # a switch lands on the new household's home
        other.goto(f"{stack.url}/#/household")
        expect(other.get_by_role("heading", name="Ines's household")).to_be_visible()
        other.get_by_role("list", name="Your households").get_by_role("listitem").filter(
            has_text="Hanna's household"
        ).get_by_role("button", name="Switch").click()
        expect(other).to_have_url(re.compile(r"#/$"))
        other.goto(f"{stack.url}/#/household")
        expect(other.get_by_role("heading", name="Hanna's household")).to_be_visible()
        expect(other.get_by_text("You are member here.")).to_be_visible()

        # Her data, as one zip.
        other.goto(f"{stack.url}/#/my-data")
        with other.expect_download() as download:
            other.get_by_role("button", name="Download my data").click()
        saved = tmp_path / "my-data.zip"
        download.value.save_as(saved)
        with zipfile.ZipFile(saved) as archive:
            assert archive.testzip() is None
            names = set(archive.namelist())
            assert {"account.json", "ledger.json"} <= names, names
            account = json.loads(archive.read("account.json"))
        assert account["profile"]["email"] == "ines@example.com"
        assert {h["name"] for h in account["households"]} == {"Ines's household", "Hanna's household"}
        fits_the_screen(other)
        assert errors == []
    finally:
        owner.close()
        guest.close()


def test_profile_and_household_settings(stack: Stack, chromium: Any) -> None:
    context = chromium.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(stack.url)
        sign_up(page, "Pia", "pia@example.com")
        expect(page.get_by_role("heading", name="Accounts")).to_be_visible(timeout=15_000)
        page.goto(f"{stack.url}/#/profile")
        profile = page.get_by_role("form", name="Profile")
        profile.get_by_label("Time zone").fill("Mars/Olympus")
        profile.get_by_role("button", name="Save profile").click()
        expect(profile.get_by_text(re.compile("not a time zone"))).to_be_visible()
        profile.get_by_label("Time zone").fill("Europe/Vienna")
        profile.get_by_label("First day of the week").select_option("sunday")
        profile.get_by_role("button", name="Save profile").click()
        expect(profile.get_by_text("Profile saved.")).to_be_visible()

        page.goto(f"{stack.url}/#/household")
        settings = page.get_by_role("form", name="Household settings")
        settings.get_by_label("Household name").fill("Pia & Co")
        settings.get_by_label("Currency").fill("chf")
        settings.get_by_role("button", name="Save settings").click()
        expect(settings.get_by_text("Settings saved.")).to_be_visible()
        page.reload()
        expect(page.get_by_role("heading", name="Pia & Co")).to_be_visible()
        fits_the_screen(page)
    finally:
        context.close()
