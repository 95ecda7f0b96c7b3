"""The dashboard and the reports screen in a real Chromium against the real stack, on a 360 px phone:
charts drawn (Chart.js from /vendor under the strict CSP) with their data tables, the donuts of category
shares (plain SVG) whose slices lead to a category's transactions, the period picker, drill-down from a
report line to the transactions it counted, and a CSV export."""

import re
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tallystack import demo
from tallystack.polling import eventually
from tallystack.stack import Stack

pytestmark = pytest.mark.e2e
PHONE = {"width": 360, "height": 740}


def test_dashboard_reports_drill_down_and_export(
    stack: Stack, chromium: Any, screenshots: Path, tmp_path: Path
) -> None:
    today = date.today()
    result = demo.create(stack.url, "web-reports@example.com", months=3, end=today, log=lambda _: None)
    # The budgets reach the analytics a moment after they are set (budget → Kafka → analytics): wait, so
    # the dashboard shows their bars on its first load.
    with httpx.Client(base_url=stack.url, timeout=60) as client:
        login = client.post(
            "/api/auth/login", json={"email": result["email"], "password": result["password"]}
        )
        auth = {"Authorization": f"Bearer {login.json()['access_token']}"}

        def budgets_known() -> bool | None:
            body = client.get("/api/analytics/forecasts/categories", headers=auth).json()
            return any(c["budget_minor"] for c in body.get("categories", [])) or None

        eventually(budgets_known, "the budgets in the analytics", timeout=120)
    context = chromium.new_context(viewport=PHONE, accept_downloads=True)
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        page.goto(stack.url)
        page.get_by_label("Email").fill(result["email"])
        page.get_by_label("Password").fill(result["password"])
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("link", name="Reports", exact=True)).to_be_visible(timeout=15_000)

        page.goto(f"{stack.url}/#/dashboard")
        expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
        expect(
            page.get_by_role("img", name="Income and expenses, last six months", exact=False)
        ).to_be_visible(timeout=60_000)
        expect(page.get_by_role("img", name="Balance forecast", exact=False)).to_be_visible(timeout=60_000)
        expect(page.locator("li.budget progress").first).to_be_visible(timeout=30_000)
        # This month's category shares: rent (paid on the 1st) is one of them, its slice and its legend
        # entry lead to the month's rent.
        shares = page.locator("figure.donut", has_text="This month's category shares")
        expect(shares).to_be_visible(timeout=30_000)
        rent = shares.locator(".donut-legend").get_by_role("link", name=re.compile(r"^Rent: "))
        month = today.isoformat()[:7]
        expect(rent).to_have_attribute("href", re.compile(rf'after%3A{month}-01.*category%3A%22Rent%22'))
        slices = shares.locator("svg a")
        hrefs = [slices.nth(i).get_attribute("href") for i in range(slices.count())]
        assert rent.get_attribute("href") in hrefs, hrefs
        page.screenshot(path=str(screenshots / "analytics-dashboard-360.png"), full_page=True)

        last = date.fromordinal(today.replace(day=1).toordinal() - 1).isoformat()[:7]
        page.goto(f"{stack.url}/#/reports?period={last}")
        expect(page.get_by_role("heading", name="Reports")).to_be_visible()
        expect(page.get_by_role("img", name="Spending by category", exact=False)).to_be_visible(
            timeout=30_000
        )
        # The chart's figures as a table, for screen readers.
        page.get_by_text("Show the figures as a table").first.click()
        table = page.get_by_role("table", name="Spending by category")
        expect(table.get_by_role("rowheader", name="Rent")).to_be_visible()
        expect(table).to_contain_text("1,100.00")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the reports page is {width} px wide"
        page.screenshot(path=str(screenshots / "analytics-reports-360.png"), full_page=True)
        # Beside the bars, the shares: as many slices as categories spent on (up to 6 and "others"), the
        # largest first: rent, whose slice opens the month's rent.
        donut = page.locator("figure.donut", has_text="Category shares")
        expect(donut).to_be_visible()
        expect(donut.locator("figcaption")).to_contain_text("Rent is the largest share of spending")
        count = table.locator("tbody tr").count()
        expect(donut.locator("svg path")).to_have_count(min(count, 7))
        first = donut.locator("svg a").first
        legend = donut.locator(".donut-legend a").first
        expect(legend).to_have_text(re.compile(r"^Rent: .*1,100\.00.*%\)$"))
        assert first.get_attribute("href") == legend.get_attribute("href")
        first.dispatch_event("click")
        expect(page.get_by_role("searchbox")).to_have_value(
            re.compile(f'^after:{last}-01 before:.* category:"Rent"$')
        )
        expect(page.get_by_text("Hausverwaltung Müller").first).to_be_visible(timeout=15_000)
        page.go_back()
        expect(page.get_by_role("img", name="Spending by category", exact=False)).to_be_visible(
            timeout=30_000
        )

        with page.expect_download() as download:
            page.get_by_role("button", name="Export CSV").click()
        target = tmp_path / "report.csv"
        download.value.save_as(target)
        assert "Hausverwaltung Müller" in target.read_text(encoding="utf-8")

        # The period picker: a quarter.
        page.get_by_label("Period", exact=True).select_option("quarter")
        page.get_by_role("button", name="Show").click()
        expect(page).to_have_url(re.compile(r"#/reports\?period=\d{4}-Q[1-4]$"))

        page.goto(f"{stack.url}/#/reports?period={last}")
        page.get_by_role("table", name="By payee").get_by_role("link", name="Hausverwaltung Müller").click()
        expect(page.get_by_role("searchbox")).to_have_value(
            re.compile(f'^after:{last}-01 before:.* payee:"Hausverwaltung Müller"$')
        )
        expect(page.get_by_text("Hausverwaltung Müller").first).to_be_visible(timeout=15_000)
        assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
        assert not [e for e in errors if "TypeError" in e or "ReferenceError" in e], errors
    finally:
        context.close()
