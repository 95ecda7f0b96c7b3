"""Reports as files: CSV and XLSX of any report, a PDF statement of a month or a year.

Plain functions of the report dictionaries the API already builds (so a file says exactly what the
screen says). The PDF is drawn with fpdf2 and charts rendered by matplotlib's object API (no pyplot
global state); both are CPU work, so the API runs `statement_pdf` in the worker pool. Text uses the
DejaVu font matplotlib ships, so payees in any script print."""

import csv
import io
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from tallykit.money import minor_unit_digits

Row = Sequence[Any]


def decimal_amount(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-minor_unit_digits(currency))


def display(minor: int, currency: str) -> str:
    digits = minor_unit_digits(currency)
    return f"{decimal_amount(minor, currency):,.{digits}f} {currency}"


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def summary_sheets(report: dict[str, Any]) -> dict[str, list[Row]]:
    cur = report["currency"]
    totals = report["totals"]
    rate = totals["savings_rate"]
    head: list[Row] = [
        ["Period", report["period"]["label"]],
        ["From", _iso(report["period"]["start"])],
        ["To", _iso(report["period"]["end"])],
        ["Currency", cur],
        ["Income", decimal_amount(totals["income_minor"], cur)],
        ["Expenses", decimal_amount(totals["expense_minor"], cur)],
        ["Net savings", decimal_amount(totals["net_minor"], cur)],
        ["Savings rate", "" if rate is None else rate],
        ["Previous period expenses", decimal_amount(report["vs_previous"]["totals"]["expense_minor"], cur)],
        [
            "Same period last year expenses",
            decimal_amount(report["vs_last_year"]["totals"]["expense_minor"], cur),
        ],
    ]

    def lines(key: str) -> list[Row]:
        rows: list[Row] = [["Side", "Name", "Group", "Amount", "Currency", "Entries"]]
        rows += [
            [x["side"], x["label"], x["group"], decimal_amount(x["amount_minor"], cur), cur, x["entries"]]
            for x in report[key]
        ]
        return rows

    changes: list[Row] = [["Name", "Side", "This period", "Previous period", "Change", "Currency"]]
    changes += [
        [
            c["label"],
            c["side"],
            decimal_amount(c["current_minor"], cur),
            decimal_amount(c["previous_minor"], cur),
            decimal_amount(c["change_minor"], cur),
            cur,
        ]
        for c in report["top_changes"]
    ]
    return {
        "Summary": head,
        "By category": lines("by_category"),
        "By group": lines("by_group"),
        "By payee": lines("by_payee"),
        "By tag": lines("by_tag"),
        "Top changes": changes,
    }


def cash_flow_sheets(report: dict[str, Any]) -> dict[str, list[Row]]:
    cur = report["currency"]
    rows: list[Row] = [["From", "To", "Income", "Expenses", "Net", "Savings rate", "Currency"]]
    rows += [
        [
            _iso(p["start"]),
            _iso(p["end"]),
            decimal_amount(p["income_minor"], cur),
            decimal_amount(p["expense_minor"], cur),
            decimal_amount(p["net_minor"], cur),
            "" if p["savings_rate"] is None else p["savings_rate"],
            cur,
        ]
        for p in report["points"]
    ]
    return {"Cash flow": rows}


def net_worth_sheets(report: dict[str, Any]) -> dict[str, list[Row]]:
    cur = report["currency"]
    names = [a["name"] for a in report["accounts"]]
    rows: list[Row] = [["Day", "Net worth", *names, "Currency"]]
    for i, p in enumerate(report["points"]):
        rows.append(
            [
                _iso(p["end"]),
                decimal_amount(p["net_worth_minor"], cur),
                *[decimal_amount(a["balances_minor"][i], cur) for a in report["accounts"]],
                cur,
            ]
        )
    return {"Net worth": rows}


def to_csv(sheets: dict[str, list[Row]]) -> str:
    """All sheets in one CSV, each after a line naming it, separated by a blank line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for n, (name, rows) in enumerate(sheets.items()):
        if n:
            writer.writerow([])
        if len(sheets) > 1:
            writer.writerow([f"# {name}"])
        for row in rows:
            writer.writerow([_csv_cell(v) for v in row])
    return out.getvalue()


def _csv_cell(value: Any) -> Any:
    # A cell starting with = + - @ would be a formula to a spreadsheet opening the file: quote it as text.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_xlsx(sheets: dict[str, list[Row]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(title=name[:31])
        for row in rows:
            sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for column in sheet.iter_cols(min_row=2):
            for cell in column:
                if isinstance(cell.value, float):
                    cell.number_format = "#,##0.00"
        for column in sheet.columns:
            width = max(len(str(c.value or "")) for c in column)
            sheet.column_dimensions[column[0].column_letter].width = min(max(10, width + 2), 50)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- PDF statement ----------------------------------------------------------------------------------------


def _font_path() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


def _chart_cash_flow(points: list[dict[str, Any]], currency: str) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7.5, 2.8), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    labels = [_iso(p["start"])[5:] if len(points) <= 12 else "" for p in points]
    x = list(range(len(points)))
    scale = 10 ** minor_unit_digits(currency)
    axes.bar(
        [i - 0.2 for i in x],
        [p["income_minor"] / scale for p in points],
        0.4,
        label="Income",
        color="#2e7d32",
    )
    axes.bar(
        [i + 0.2 for i in x],
        [p["expense_minor"] / scale for p in points],
        0.4,
        label="Expenses",
        color="#c62828",
    )
    axes.set_xticks(x, labels, fontsize=7)
    axes.tick_params(axis="y", labelsize=7)
    axes.set_title(f"Income and expenses ({currency})", fontsize=9)
    axes.legend(fontsize=7)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _chart_categories(lines: list[dict[str, Any]], currency: str) -> bytes | None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    spending = [x for x in lines if x["side"] == "expense" and x["amount_minor"] > 0][:8]
    if not spending:
        return None
    figure = Figure(figsize=(7.5, 0.4 + 0.3 * len(spending)), dpi=110)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    scale = 10 ** minor_unit_digits(currency)
    names = [x["label"] for x in reversed(spending)]
    axes.barh(names, [x["amount_minor"] / scale for x in reversed(spending)], color="#1565c0")
    axes.tick_params(labelsize=7)
    axes.set_title(f"Largest spending categories ({currency})", fontsize=9)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def statement_pdf(summary: dict[str, Any], cash_flow: dict[str, Any], household: str) -> bytes:
    """A one- or two-page statement: totals, comparisons, charts, categories and payees."""
    from fpdf import FPDF

    cur = summary["currency"]
    period = summary["period"]
    title = "Yearly statement" if period["kind"] == "year" else "Monthly statement"
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_font("DejaVu", "", str(_font_path()))
    pdf.add_font("DejaVu", "B", str(_font_path().with_name("DejaVuSans-Bold.ttf")))
    pdf.set_title(f"Tally {title} {period['label']}")
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 16)
    pdf.cell(0, 9, f"{title} · {period['label']}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.cell(
        0,
        5,
        f"{household} · {_iso(period['start'])} to {_iso(period['end'])} · {cur}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(3)
    totals = summary["totals"]
    rate = totals["savings_rate"]
    figures = [
        ("Income", display(totals["income_minor"], cur)),
        ("Expenses", display(totals["expense_minor"], cur)),
        ("Net savings", display(totals["net_minor"], cur)),
        ("Savings rate", "—" if rate is None else f"{rate * 100:.1f} %"),
    ]
    _table(pdf, ["", "Amount"], [list(f) for f in figures], [60, 60])
    pdf.ln(2)
    compare = []
    for label, key in (("Previous period", "vs_previous"), ("Same period last year", "vs_last_year")):
        other = summary[key]
        pct = other["expense_change_pct"]
        compare.append(
            [
                f"{label} ({other['period']['label']})",
                display(other["totals"]["income_minor"], cur),
                display(other["totals"]["expense_minor"], cur),
                "—" if pct is None else f"{pct:+.1f} %",
            ]
        )
    _table(pdf, ["Compared with", "Income", "Expenses", "Spending change"], compare, [70, 40, 40, 30])
    pdf.ln(3)
    pdf.image(io.BytesIO(_chart_cash_flow(cash_flow["points"], cur)), w=180)
    categories_chart = _chart_categories(summary["by_category"], cur)
    if categories_chart is not None:
        pdf.image(io.BytesIO(categories_chart), w=180)
    pdf.ln(2)
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(0, 7, "By category", new_x="LMARGIN", new_y="NEXT")
    _table(
        pdf,
        ["Category", "Group", "Side", "Amount"],
        [
            [x["label"], x["group"], x["side"], display(x["amount_minor"], cur)]
            for x in summary["by_category"]
        ],
        [60, 45, 25, 50],
    )
    pdf.ln(2)
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(0, 7, "Top payees", new_x="LMARGIN", new_y="NEXT")
    _table(
        pdf,
        ["Payee", "Side", "Amount", "Entries"],
        [
            [x["label"], x["side"], display(x["amount_minor"], cur), str(x["entries"])]
            for x in summary["by_payee"][:15]
        ],
        [80, 25, 50, 25],
    )
    return bytes(pdf.output())


def _table(pdf: Any, header: list[str], rows: list[list[str]], widths: list[int]) -> None:
    pdf.set_font("DejaVu", "B", 8)
    first = rows[0] if rows else []
    for n, (text, width) in enumerate(zip(header, widths, strict=True)):
        numeric = n > 0 and n < len(first) and _numeric(str(first[n]))
        pdf.cell(width, 6, text, border="B", align="R" if numeric else "L")
    pdf.ln()
    pdf.set_font("DejaVu", "", 8)
    for row in rows:
        for n, (text, width) in enumerate(zip(row, widths, strict=True)):
            pdf.cell(width, 5, str(text)[:60], align="R" if n and _numeric(text) else "L")
        pdf.ln()


def _numeric(text: str) -> bool:
    return bool(text) and (text[0].isdigit() or text[0] in "-+—")
