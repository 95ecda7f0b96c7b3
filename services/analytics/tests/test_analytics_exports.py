"""Exports opened and read back: the CSV parsed, the XLSX's cells read with openpyxl, the PDF's text
extracted with pypdf and its first page rendered to PNG (test-artifacts/analytics/) for a person to
look at."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import uuid4

import openpyxl
import pypdf
import pypdfium2

if TYPE_CHECKING:
    from conftest import Analytics, Deliver, HouseholdEvents

ARTIFACTS = Path(__file__).parents[3] / "test-artifacts" / "analytics"


async def test_csv_and_xlsx_hold_the_report_figures(
    analytics: Analytics, household_events: HouseholdEvents, deliver_all: Deliver
) -> None:
    await deliver_all(analytics, household_events, analytics.tenant)
    response = await analytics.client.get(
        "/exports/summary.csv", params={"period": "2025-03"}, headers=analytics.auth()
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "tally-summary-2025-03-EUR.csv" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text)))
    assert ["Income", "3000.00"] in rows
    assert ["Expenses", "1420.00"] in rows
    assert ["expense", "Groceries", "Everyday", "145.00", "EUR", "4"] in rows
    assert ["income", "Salary", "Income", "3000.00", "EUR", "1"] in rows

    xlsx = await analytics.client.get(
        "/exports/summary.xlsx", params={"period": "2025-03"}, headers=analytics.auth()
    )
    assert xlsx.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["Summary", "By category", "By group", "By payee", "By tag", "Top changes"]
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True)}
    assert summary["Net savings"] == 1580.0
    assert summary["Savings rate"] == 0.5267
    by_payee = list(book["By payee"].iter_rows(values_only=True))
    assert by_payee[0] == ("Side", "Name", "Group", "Amount", "Currency", "Entries")
    assert ("expense", "Lidl", None, 85.0, "EUR", 3) in by_payee  # an empty cell reads as None

    worth = await analytics.client.get(
        "/exports/net-worth.xlsx",
        params={"period": "2025-Q1", "granularity": "month"},
        headers=analytics.auth(),
    )
    sheet = openpyxl.load_workbook(io.BytesIO(worth.content))["Net worth"]
    assert [r[1] for r in sheet.iter_rows(min_row=2, values_only=True)] == [5960.0, 8910.0, 10490.0]
    flow = await analytics.client.get(
        "/exports/cash-flow.csv",
        params={"period": "2025-Q1", "granularity": "month"},
        headers=analytics.auth(),
    )
    assert list(csv.reader(io.StringIO(flow.text)))[3][:5] == [
        "2025-03-01",
        "2025-03-31",
        "3000.00",
        "1420.00",
        "1580.00",
    ]

    for bad in ("/exports/summary.pdf", "/exports/other.csv"):
        assert (await analytics.client.get(bad, headers=analytics.auth())).status_code == 422
    empty = await analytics.client.get(
        "/exports/summary.csv", params={"period": "2025-03"}, headers=analytics.auth(uuid4())
    )
    assert "Groceries" not in empty.text  # another household's export holds nothing of this one


async def test_monthly_and_yearly_statements_as_pdf(
    analytics: Analytics, household_events: HouseholdEvents, deliver_all: Deliver
) -> None:
    await deliver_all(analytics, household_events, analytics.tenant)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for period, title, income in (
        ("2025-03", "Monthly statement", "3,000.00 EUR"),
        ("2025", "Yearly statement", "6,000.00 EUR"),
    ):
        response = await analytics.client.get(f"/statements/{period}.pdf", headers=analytics.auth())
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages)
        assert f"{title} · {period}" in text
        assert f"Income {income}" in text
        assert "Groceries" in text
        assert "Landlord" in text
        document = pypdfium2.PdfDocument(response.content)
        image = document[0].render(scale=1.5).to_pil()
        target = ARTIFACTS / f"statement-{period}.png"
        image.save(target)
        assert target.stat().st_size > 10_000
    march = "\n".join(
        p.extract_text()
        for p in pypdf.PdfReader(
            io.BytesIO(
                (await analytics.client.get("/statements/2025-03.pdf", headers=analytics.auth())).content
            )
        ).pages
    )
    assert "1,420.00 EUR" in march
    assert "52.7 %" in march
    assert (await analytics.client.get("/statements/2025-3.pdf", headers=analytics.auth())).status_code == 422
