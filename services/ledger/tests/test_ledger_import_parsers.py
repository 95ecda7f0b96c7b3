"""Statement parsers on realistic files of every format and encoding, and on broken ones."""

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tally_ledger.importers import (
    CsvMapping,
    StatementError,
    StatementFormat,
    StatementRow,
    csv_import,
    detect_format,
    parse,
)
from tally_ledger.importers.rows import SourceAccount
from tally_ledger.importers.values import detect_encoding, parse_amount

STATEMENTS = Path(__file__).parent / "statements"


def _read(name: str) -> tuple[StatementFormat, bytes]:
    data = (STATEMENTS / name).read_bytes()
    return detect_format(name, data), data


def _rows(name: str) -> list[StatementRow]:
    fmt, data = _read(name)
    mapping = csv_import.detect(data).mapping if fmt == StatementFormat.csv else None
    return parse(fmt, data, mapping=mapping)


# name, format, encoding (CSV), rows, sum of amounts, first row
CASES = [
    ("dkb_girokonto_2025-01_windows1252.csv", StatementFormat.csv, "windows-1252", 34, 394_550,
     StatementRow("line 8", date(2025, 1, 5), -2683, "Spotify AB", "Premium Abo € 10,99")),
    ("chase_checking_2025-02_utf8.csv", StatementFormat.csv, "utf-8", 30, 204_773,
     StatementRow("line 2", date(2025, 3, 15), -21041, "", "COMCAST CABLE COMM")),
    ("monzo_2025-03_utf8_bom.csv", StatementFormat.csv, "utf-8-sig", 28, 520_060,
     StatementRow("line 2", date(2025, 3, 4), -6805, "TfL Travel Charge", "TFL TRAVEL CHARGE LONDON GBR",
                  "tx_00008350a1f0066d5", "GBP")),
    ("societe_generale_2025-01_latin1.csv", StatementFormat.csv, "windows-1252", 26, 550_995,
     StatementRow("line 4", date(2025, 1, 3), -3313, "", "PRLV SEPA EDF", None, "EUR")),
    ("credit_union_2025-04_utf16.txt", StatementFormat.csv, "utf-16", 22, -476_724,
     StatementRow("line 2", date(2025, 4, 1), -26550, "", "Costco Wholesale")),
    ("ing_nl_2025-05_af_bij.csv", StatementFormat.csv, "utf-8", 25, 510_791,
     StatementRow("line 2", date(2025, 5, 2), -21591, "Ziggo Services B.V.",
                  "Omschrijving: Ziggo Services B.V. Datum: 02-05-2025")),
    ("wellsfargo_checking_2025-01_ofx1.qfx", StatementFormat.ofx, None, 27, 559_696,
     StatementRow("line 46, STMTTRN 1", date(2025, 1, 3), -5704, "AT&T *BILL PAYMENT", "ONLINE PAYMENT",
                  "202500006096", "USD",
                  SourceAccount("ofx:121042882/7654321098", "WF Checking …1098", "USD", "checking"))),
    ("bankofamerica_visa_2025-02_ofx2.ofx", StatementFormat.ofx, None, 24, -392_173,
     StatementRow("line 8, STMTTRN 1", date(2025, 2, 1), -32633, "DELTA AIR 0062", "Travel",
                  "24000CC983694995", "USD",
                  SourceAccount("ofx:cc/4147202012345678", "BA Credit card …5678", "USD", "credit_card"))),
    ("quicken_checking_2025-01_us.qif", StatementFormat.qif, None, 26, -1_120_125,
     StatementRow("line 2", date(2025, 1, 2), -92755, "Home Depot 4512", "Home repair · Check 1500",
                  category="Expenses")),
    ("postfinance_2025-02_european.qif", StatementFormat.qif, None, 21, -2_960_070,
     StatementRow("line 2", date(2025, 2, 2), -154490, "Migros", "Karte 1234")),
    ("sparkasse_camt053_2025-01.xml", StatementFormat.camt053, None, 30, 690_057,
     StatementRow("Stmt[1]/Ntry[1]", date(2025, 1, 5), -6875, "Telekom Deutschland GmbH",
                  "Kundenkonto 55001234 Rechnung 01/2025", "2025010500000SPK", "EUR",
                  SourceAccount("iban:DE89370400440532013000", "DE89370400440532013000", "EUR"))),
]


@pytest.mark.parametrize(("name", "fmt", "encoding", "count", "total", "first"), CASES,
                         ids=[c[0] for c in CASES])
def test_each_sample_statement_reads_completely(name: str, fmt: StatementFormat, encoding: str | None,
                                                count: int, total: int, first: StatementRow) -> None:
    detected, data = _read(name)
    assert detected == fmt
    if encoding is not None:
        assert csv_import.detect(data).mapping.encoding == encoding
    rows = _rows(name)
    assert len(rows) == count
    assert sum(r.amount_minor for r in rows) == total
    assert rows[0] == first
    assert all(r.amount_minor != 0 and r.booked_on.year == 2025 for r in rows)
    if fmt in (StatementFormat.ofx, StatementFormat.camt053):
        assert len({r.bank_id for r in rows}) == count  # every row has its own bank id


def test_the_csv_preview_proposes_a_mapping_with_headers_and_sample() -> None:
    preview = csv_import.detect((STATEMENTS / "dkb_girokonto_2025-01_windows1252.csv").read_bytes())
    assert preview.mapping == CsvMapping(
        encoding="windows-1252", delimiter=";", skip_rows=6, has_header=True, date_column=0,
        date_format="%d.%m.%Y", amount_column=7, decimal_separator=",", payee_column=3, description_column=4,
    )
    assert preview.headers[3] == "Auftraggeber / Begünstigter"
    assert preview.sample[0][7] == "-26,83"
    assert preview.date_formats == ["%d.%m.%Y"]
    credit_union = csv_import.detect((STATEMENTS / "credit_union_2025-04_utf16.txt").read_bytes()).mapping
    assert (credit_union.delimiter, credit_union.debit_column, credit_union.credit_column) == ("\t", 3, 4)


def test_ambiguous_dates_are_offered_as_a_choice_and_the_choice_decides() -> None:
    data = (STATEMENTS / "ambiguous_dates.csv").read_bytes()
    preview = csv_import.detect(data)
    assert preview.date_formats == ["%d/%m/%Y", "%m/%d/%Y"]
    european = csv_import.parse(data, preview.mapping)
    american = csv_import.parse(data, preview.mapping.model_copy(update={"date_format": "%m/%d/%Y"}))
    assert (european[3].booked_on, american[3].booked_on) == (date(2025, 3, 11), date(2025, 11, 3))


BROKEN = [
    ("broken_amount.csv", "line 6, column 4: '12.3.4x' is not an amount"),
    ("broken_date.csv", "line 13, column 2: '02/30/2025' is not a date like %m/%d/%Y"),
    ("broken_not_a_statement.csv", "no column holds dates"),
    ("broken_amount.ofx", "line 86, STMTTRN 6, TRNAMT: '12,34.56-' is not an amount"),
    ("broken_header.ofx", "OFX header: missing or malformed"),
    ("broken_date.qif", "line 67: \"13/45'25\" is not a date"),
    ("broken_missing_caret.qif", "line 189: the last record does not end with ^"),
    ("broken_amount_camt053.xml", "Stmt[1]/Ntry[2]/Amt: '12,50 EUR' is not an amount"),
    ("broken_malformed_camt053.xml", "line 70, column 12: not well-formed XML"),
    ("broken_xxe_camt053.xml", "XML: refused: DTDForbidden"),
]


@pytest.mark.parametrize(("name", "message"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_files_name_the_line_or_element(name: str, message: str) -> None:
    with pytest.raises(StatementError) as caught:
        _rows(name)
    assert message in str(caught.value)


def test_the_xxe_file_never_reads_the_entity() -> None:
    with pytest.raises(StatementError) as caught:
        _rows("broken_xxe_camt053.xml")
    assert "root:" not in str(caught.value)


@pytest.mark.parametrize(("raw", "separator", "digits", "minor"), [
    ("1.234,56", ",", 2, 123_456), ("-1,234.56", ".", 2, -123_456), ("(12.00)", ".", 2, -1200),
    ("12.00-", ".", 2, -1200), ("1'234.50", ".", 2, 123_450), ("€ 12,5", ",", 2, 1250),
    ("12.50 EUR", ".", 2, 1250), ("\u2212 3.10", ".", 2, -310), ("1 234 567,89", ",", 2, 123_456_789),
    ("1500", ".", 0, 1500), ("1.234", ".", 3, 1234), ("+0.01", ".", 2, 1),
])
def test_amounts_as_banks_write_them(raw: str, separator: str, digits: int, minor: int) -> None:
    assert parse_amount(raw, decimal_separator=separator, digits=digits) == minor


@pytest.mark.parametrize("raw", ["", "abc", "1.2.3", "12.345", "--", "1,2,3,4.5.6"])
def test_what_is_not_an_amount_is_refused(raw: str) -> None:
    with pytest.raises(StatementError):
        parse_amount(raw, decimal_separator=".", digits=2, where="line 3")


@given(st.integers(min_value=-10**12, max_value=10**12), st.sampled_from([".", ","]), st.booleans())
def test_any_amount_written_with_either_separator_reads_back_exactly(minor: int, separator: str,
                                                                     grouped: bool) -> None:
    whole, cents = divmod(abs(minor), 100)
    text = f"{whole:,}" if grouped else str(whole)
    if separator == ",":
        text = text.replace(",", ".")
    written = f"{'-' if minor < 0 else ''}{text}{separator}{cents:02d}"
    assert parse_amount(written, decimal_separator=separator, digits=2) == minor


@pytest.mark.parametrize(("encoding", "detected"), [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"), ("utf-16-le", "utf-16-le"),
    ("utf-16-be", "utf-16-be"), ("windows-1252", "windows-1252"), ("latin-1", "windows-1252"),
])
def test_encodings_are_detected_and_the_text_survives(encoding: str, detected: str) -> None:
    text = "Datum;Empfänger;Betrag\n02.01.2025;Café Straße;-12,50\n"
    if encoding == "windows-1252":
        text = text.replace("Café", "Café €")
    data = text.encode(encoding)
    assert detect_encoding(data) == detected
    rows = csv_import.parse(data, csv_import.detect(data).mapping)
    assert rows[0].payee.startswith("Café")
    assert rows[0].amount_minor == -1250


def test_latin1_with_bytes_windows_1252_lacks_is_read_as_latin1() -> None:
    assert detect_encoding(b"Date;Payee\n\x8d\xe9") == "latin-1"


def test_unsigned_amounts_take_their_direction_from_an_af_bij_column() -> None:
    data = (STATEMENTS / "ing_nl_2025-05_af_bij.csv").read_bytes()
    mapping = csv_import.detect(data).mapping
    assert (mapping.amount_column, mapping.direction_column, mapping.decimal_separator) == (6, 5, ",")
    rows = csv_import.parse(data, mapping)
    assert [r.amount_minor > 0 for r in rows[:3]] == [False, False, True]
    broken = data.replace(b'"Bij","2875,40"', b'"Bijna","2875,40"', 1)
    with pytest.raises(StatementError, match=r"line 4, column 6: 'bijna' says neither money in nor"):
        csv_import.parse(broken, mapping)
