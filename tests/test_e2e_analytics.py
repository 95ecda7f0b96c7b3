"""Analytics end to end, through the gateway only: a demo household (three months, created by the same
generator as `make demo`) reaches the reports with the figures its entries add up to; a rebuild gives
the same report; the forecast fits a model on it; exports and a statement download."""

from collections import defaultdict
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tallystack import demo
from tallystack.polling import eventually
from tallystack.stack import Stack

pytestmark = pytest.mark.e2e


def expected_month(entries: list[demo.Entry], month: str) -> dict[str, int]:
    """Income and spending of a month, added up from the plan (every demo category is income- or
    expense-kind as the entry; transfers count for neither)."""
    sums: defaultdict[str, int] = defaultdict(int)
    for e in entries:
        if e.day.isoformat()[:7] == month and e.kind != "transfer":
            sums[e.kind] += e.amount_minor
    return {"income_minor": sums["income"], "expense_minor": sums["expense"]}


def test_demo_household_reports_rebuild_forecast_and_exports(stack: Stack) -> None:
    today = datetime.now(ZoneInfo("Europe/Berlin")).date()  # the demo household's own day
    result = demo.create(stack.url, "analytics-e2e@example.com", months=3, end=today, log=lambda _: None)
    the_plan = demo.plan(today, months=3)
    assert result["entries"] == len(the_plan.entries)
    client = httpx.Client(base_url=stack.url, timeout=60)
    token = client.post("/api/auth/login", json={"email": result["email"], "password": result["password"]})
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    month = today.isoformat()[:7]
    previous = today.replace(day=1).toordinal() - 1
    last_month = date.fromordinal(previous).isoformat()[:7]

    def summary(period: str) -> dict[str, Any]:
        response = client.get("/api/analytics/reports/summary", params={"period": period}, headers=auth)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    want = {p: expected_month(the_plan.entries, p) for p in (last_month, month)}

    def settled() -> dict[str, Any] | None:
        """Both months add up to the plan: every entry has reached the analytics."""
        bodies = {p: summary(p) for p in want}
        got = {p: {k: b["totals"][k] for k in ("income_minor", "expense_minor")} for p, b in bodies.items()}
        return bodies[last_month] if got == want else None

    # Several hundred entries through every consumer on a busy machine: a generous bound.
    report = eventually(settled, f"analytics reports = {want}", 120)
    assert report["currency"] == "EUR"
    assert {x["label"] for x in report["by_category"]} >= {"Rent", "Groceries", "Salary"}
    rent = next(x for x in report["by_category"] if x["label"] == "Rent")
    assert rent["amount_minor"] == 110_000
    this_month = summary(month)

    rebuilt = client.post("/api/analytics/rebuild", headers=auth)
    assert rebuilt.status_code == 200, rebuilt.text
    assert summary(last_month) == report
    assert summary(month) == this_month

    forecast = client.get("/api/analytics/forecasts/cash-flow", params={"horizon": 30}, headers=auth)
    assert forecast.status_code == 200, forecast.text
    body = forecast.json()
    assert body["total"]["method"] == "prophet"
    assert len(body["total"]["points"]) == 30
    assert {a["name"] for a in body["accounts"]} == {"Girokonto", "Tagesgeld", "Kreditkarte"}
    cached = client.get("/api/analytics/forecasts/cash-flow", params={"horizon": 30}, headers=auth).json()
    assert cached["cached"] is True

    csv_export = client.get("/api/analytics/exports/summary.csv", params={"period": last_month}, headers=auth)
    assert csv_export.status_code == 200
    assert "Hausverwaltung Müller" in csv_export.text
    pdf = client.get(f"/api/analytics/statements/{last_month}.pdf", headers=auth)
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")

    stranger = client.get("/api/analytics/reports/summary", params={"period": last_month})
    assert stranger.status_code == 401
