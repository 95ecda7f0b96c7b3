"""ISO 20022 (camt.052, camt.053, camt.054), SWIFT MT940/MT942 and CSV statements, each read exactly: every
row of every sample (date, amount, payee, description, bank id, account), and broken files refused with
the line or element at fault."""

import re
import time
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tally_ledger.importers import StatementError, StatementFormat, csv_import, detect_format, parse
from tally_ledger.importers.csv_import import CsvMapping
from tally_ledger.importers.rows import SourceAccount, StatementRow

STATEMENTS = Path(__file__).parent / "statements"


def _read(name: str, data: bytes | None = None) -> tuple[StatementFormat, list[StatementRow]]:
    data = (STATEMENTS / name).read_bytes() if data is None else data
    fmt = detect_format(name, data)
    mapping = csv_import.detect(data).mapping if fmt == StatementFormat.csv else None
    return fmt, parse(fmt, data, mapping=mapping)


def _refused(name: str, data: bytes | None = None) -> str:
    with pytest.raises(StatementError) as caught:
        _read(name, data)
    return str(caught.value)


# --- ISO 20022 -------------------------------------------------------------------------------------

GIRO_HVB = SourceAccount("iban:DE40700202700012345678", "Girokonto Jürgen Müller", "EUR")


def _hvb(where: str, amount: int, payee: str, description: str, bank_id: str) -> StatementRow:
    return StatementRow(where, date(2025, 3, 5), amount, payee, description, bank_id, "EUR", GIRO_HVB)


CAMT052_ROWS = [
    _hvb("Rpt[1]/Ntry[1]", -1890, "Bäckerei Schäfer", "2025-03-05T08:12 Debitk.1 2027-12",
         "HVB2025030500017"),
    # Ntry[2] is pending (PDNG, a "Vormerkposten"): not on the account yet, left out.
    # Ntry[3] batches three transfers whose amounts add up to the entry's: one row each, each with its own
    # reference (its AcctSvcrRef, else its EndToEndId, else the entry's numbered).
    _hvb("Rpt[1]/Ntry[3]/TxDtls[1]", 6500, "Erich Kästner", "Miete Garage 1 März 2025", "HVB2025030500018-1"),
    _hvb("Rpt[1]/Ntry[3]/TxDtls[2]", 6500, "Deniz Öztürk", "Garage 2 Miete 03/2025", "GARAGE-03-2025-2"),
    _hvb("Rpt[1]/Ntry[3]/TxDtls[3]", 7000, "Weiß & Söhne GbR", "Garage 3", "HVB2025030500018/3"),
    # A fee with nothing but AddtlNtryInf: no payee, the text is the description.
    _hvb("Rpt[1]/Ntry[4]", -495, "", "Entgelt Echtzeitüberweisung", "HVB2025030500019"),
]


def test_camt052_v02_report_in_latin1_books_only_booked_entries_and_splits_its_batch() -> None:
    data = (STATEMENTS / "camt052_v02_intraday_latin1.xml").read_bytes()
    assert data.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
    assert "Müller".encode("latin-1") in data
    assert _read("camt052_v02_intraday_latin1.xml") == (StatementFormat.camt052, CAMT052_ROWS)


def test_a_latin1_camt_body_that_says_nothing_or_utf8_still_reads() -> None:
    data = (STATEMENTS / "camt052_v02_intraday_latin1.xml").read_bytes()
    for prolog in (b'<?xml version="1.0" encoding="UTF-8"?>', b""):
        wrong = data.replace(b'<?xml version="1.0" encoding="ISO-8859-1"?>', prolog)
        assert _read("report.xml", wrong) == (StatementFormat.camt052, CAMT052_ROWS)
    as_utf8 = data.decode("latin-1").replace("ISO-8859-1", "UTF-8").encode("utf-8")
    assert _read("report.xml", as_utf8) == (StatementFormat.camt052, CAMT052_ROWS)


@pytest.mark.parametrize("encoding", ["SO-8859-1", "UTF-32"])  # no such codec; one the XML parser refuses
def test_a_camt_declaring_an_encoding_that_cannot_be_used_is_refused_with_a_reason(encoding: str) -> None:
    data = (STATEMENTS / "camt052_v02_intraday_latin1.xml").read_bytes()
    damaged = data.replace(b'encoding="ISO-8859-1"', f'encoding="{encoding}"'.encode())
    with pytest.raises(StatementError) as refused:
        _read("report.xml", damaged)
    assert refused.value.where == "XML declaration"
    assert encoding in refused.value.problem or "multi-byte" in refused.value.problem


CLUB = SourceAccount("iban:DE19100500000012345678", "DE19100500000012345678", "EUR")


def test_camt054_v08_notification() -> None:
    def row(where: str, day: int, amount: int, payee: str, description: str, bank_id: str) -> StatementRow:
        return StatementRow(f"Ntfctn[1]/{where}", date(2025, 3, day), amount, payee, description, bank_id,
                            "EUR", CLUB)

    assert _read("camt054_v08_notification.xml") == (StatementFormat.camt054, [
        # A direct debit collection of three members' fees (v08 names parties Dbtr/Pty/Nm).
        row("Ntry[1]/TxDtls[1]", 10, 3600, "Lena Schmidt", "Mitgliedsbeitrag Q1/2025 Mitglied 0007",
            "2025031012345678900001-01"),
        row("Ntry[1]/TxDtls[2]", 10, 6000, "Jonas Weber", "Mitgliedsbeitrag Q1/2025 Familie Weber",
            "2025031012345678900001-02"),
        row("Ntry[1]/TxDtls[3]", 10, 6000, "Thi Mai Nguyễn", "Mitgliedsbeitrag Q1/2025 Familie Nguyễn",
            "2025031012345678900001-03"),
        # One of them came back: a reversal (RvslInd) booked as DBIT is money out; the counterparty is the
        # debtor of the original collection.
        row("Ntry[2]", 12, -6000, "Jonas Weber", "Mitgliedsbeitrag Q1/2025 Familie Weber",
            "2025031212345678900002"),
        # Booked with a time (BookgDt/DtTm); paid through PayPal: the ultimate creditor is who was paid.
        row("Ntry[3]", 13, -4217, "Druckerei Schneider",
            "1038877361924 PP.7788.PP . Druckerei Schneider, Ihr Einkauf bei Druckerei Schneider",
            "2025031312345678900003"),
        # Ntry[4] is pending (Sts/Cd PDNG): left out.
    ])


OPERATING = SourceAccount("acct:000778812", "Operating Account", "USD")


def test_camt053_v04_batches_split_only_when_their_transactions_add_up() -> None:
    def row(where: str, amount: int, payee: str, description: str, bank_id: str, currency: str = "USD",
            account: SourceAccount = OPERATING) -> StatementRow:
        return StatementRow(where, date(2025, 3, 6), amount, payee, description, bank_id, currency, account)

    assert _read("camt053_v04_batches.xml") == (StatementFormat.camt053, [
        # 1,000.00 + 500.00 is not the 1,530.00 booked (the wire fees are in it): one row for the entry,
        # no payee (two creditors), the entry's text and reference.
        row("Stmt[1]/Ntry[1]", -153000, "", "OUTGOING WIRE BATCH 2 ITEMS INCL FEES", "FT250306-000041"),
        # 120.00 + 130.00 is the 250.00 booked: a row each; without references of their own they are
        # numbered after the entry's. A structured creditor reference is the description when no text is.
        row("Stmt[1]/Ntry[2]/TxDtls[1]", -12000, "City of Springfield Water", "ACCT 55-0192-7",
            "ACH250306-000107/1"),
        row("Stmt[1]/Ntry[2]/TxDtls[2]", -13000, "Springfield Electric Co", "Service 02/2025",
            "ACH250306-000107/2"),
        # The payroll service paid on behalf of the customer (UltmtDbtr): the customer paid in.
        row("Stmt[1]/Ntry[3]", 322000, "Adventure Works Cycles",
            "Remittance for invoices 2025-114 and 2025-117", "ACH250306-000212"),
        # A second account in the same file, an entry with no details at all.
        row("Stmt[2]/Ntry[1]", 98000, "", "", "EUR-0306-1", "EUR",
            SourceAccount("iban:DE62370400440532013001", "EUR Collections", "EUR")),
    ])


@pytest.mark.parametrize("version", ["02", "04", "06", "08", "10", "13"])
def test_every_namespace_version_reads_alike(version: str) -> None:
    data = (STATEMENTS / "camt053_v04_batches.xml").read_bytes().replace(b"camt.053.001.04",
                                                                          f"camt.053.001.{version}".encode())
    _, expected = _read("camt053_v04_batches.xml")
    assert _read("statement.xml", data) == (StatementFormat.camt053, expected)


def test_a_camt_batch_whose_transactions_do_not_add_up_is_one_row() -> None:
    data = (STATEMENTS / "camt054_v08_notification.xml").read_bytes()
    short = data.replace(b'<Amt Ccy="EUR">36.00</Amt>', b'<Amt Ccy="EUR">35.00</Amt>', 1)
    _, rows = _read("camt054_v08_notification.xml", short)
    assert rows[0] == StatementRow("Ntfctn[1]/Ntry[1]", date(2025, 3, 10), 15600, "",
                                   "SEPA-LASTSCHRIFT-EINZUG 3 POSTEN", "2025031012345678900001", "EUR", CLUB)
    assert [r.where for r in rows[1:]] == ["Ntfctn[1]/Ntry[2]", "Ntfctn[1]/Ntry[3]"]
    # Transactions in another currency than the entry's cannot be added to it either.
    foreign = data.replace(b'<Amt Ccy="EUR">36.00</Amt>', b'<Amt Ccy="CHF">36.00</Amt>', 1)
    assert _read("camt054_v08_notification.xml", foreign)[1][0].where == "Ntfctn[1]/Ntry[1]"


def test_a_billion_laughs_camt_is_refused_before_any_entity_is_expanded() -> None:
    started = time.monotonic()
    assert _refused("camt_billion_laughs.xml") == \
        "XML: refused: DTDForbidden(name='Document', system_id=None, public_id=None)"
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(("change", "message"), [
    ((b'<Amt Ccy="EUR">60.00</Amt>\n            <CdtDbtInd>CRDT</CdtDbtInd>',
      b'<Amt Ccy="EUR">60,00</Amt>\n            <CdtDbtInd>CRDT</CdtDbtInd>'),
     "Ntfctn[1]/Ntry[1]/TxDtls[2]/Amt: '60,00' is not an amount"),
    ((b"<CdtDbtInd>DBIT</CdtDbtInd>\n        <RvslInd>", b"<CdtDbtInd>DEBIT</CdtDbtInd>\n        <RvslInd>"),
     "Ntfctn[1]/Ntry[2]/CdtDbtInd: 'DEBIT' is not CRDT or DBIT"),
    ((b"<DtTm>2025-03-13T09:41:07+01:00</DtTm>", b"<DtTm>13.03.2025 09:41</DtTm>"),
     "Ntfctn[1]/Ntry[3]/BookgDt: '13.03.2025' is not a date"),
    ((b'<Amt Ccy="EUR">42.17</Amt>\n        <CdtDbtInd>',
      b'<Amt Ccy="EUR">-42.17</Amt>\n        <CdtDbtInd>'),
     "Ntfctn[1]/Ntry[3]/Amt: amounts are positive; CdtDbtInd gives the direction"),
    ((b"<Sts><Cd>BOOK</Cd></Sts>", b"<Sts><Cd>PDNG</Cd></Sts>"),
     "Ntfctn: no booked entries (4 pending or for information only)"),
    ((b"BkToCstmrDbtCdtNtfctn>", b"BkToCstmrDbtCdtNotification>"),
     "Document: not an ISO 20022 bank-to-customer message"),
])
def test_broken_camt_files_name_the_element(change: tuple[bytes, bytes], message: str) -> None:
    data = (STATEMENTS / "camt054_v08_notification.xml").read_bytes()
    assert change[0] in data
    assert message in _refused("camt054_v08_notification.xml", data.replace(*change))


def test_camt_messages_are_told_apart_by_content_then_by_name() -> None:
    for name, fmt in [("camt052_v02_intraday_latin1.xml", StatementFormat.camt052),
                      ("camt053_v04_batches.xml", StatementFormat.camt053),
                      ("camt054_v08_notification.xml", StatementFormat.camt054)]:
        assert detect_format("download.dat", (STATEMENTS / name).read_bytes()) == fmt
    assert detect_format("export.xml", b"<Document/>") == StatementFormat.camt053


# --- MT940 / MT942 ----------------------------------------------------------------------------------

GIRO_SPK = SourceAccount("mt940:37040044/0532013000", "37040044/0532013000", "EUR")
SAVINGS_SPK = SourceAccount("iban:DE62370400440532013001", "DE62370400440532013001", "EUR")


def test_mt940_german_bank_three_statements_two_accounts_in_latin1() -> None:
    def row(line: int, day: int, amount: int, payee: str, description: str, bank_id: str | None = None,
            account: SourceAccount = GIRO_SPK) -> StatementRow:
        return StatementRow(f"line {line}", date(2025, 3, day), amount, payee, description, bank_id, "EUR",
                            account)

    assert _read("mt940_sparkasse_2025-03_latin1.sta") == (StatementFormat.mt940, [
        # SEPA purpose (SVWZ+) after EREF+ KREF+ MREF+ CRED+, cut into ?20-?29 and continued in ?60; a
        # line that ends in the space between two words keeps it.
        row(5, 3, -4590, "Stadtwerke Musterstadt GmbH",
            "Rechnung 03/2025 Abschlag Strom und Gas, Kundennummer 778899, Vertragskonto 4711-0815-2025, "
            "Lieferstelle Musterstr. 12, 12345 Musterstadt"),
        # The name goes on in ?33; the bank reference after // is the bank id.
        row(14, 3, 285000, "Muster Maschinenbau GmbH & Co. KG", "Lohn/Gehalt 03/2025 Personalnr. 4711",
            "0303A1B2C3D4"),
        # Paid on the 3rd (value date), booked on the 4th (entry date): the booking date counts.
        row(19, 4, -2347, "EDEKA Müller Musterstadt", "2025-03-02T18:41 Debitk.1 2027-12"),
        # Second statement. RD, a reversal of a debit: the direct debit came back, money in.
        row(29, 4, 4590, "Stadtwerke Musterstadt GmbH",
            "Rechnung 03/2025 Kundennummer 778899 Widerspruch durch Zahler"),
        # Details without SEPA keywords write one thing a line: joined with spaces; no ?32, no payee.
        row(34, 4, -750, "", "Entgelt Kontofuehrung Februar 2025 siehe Anlage"),
        # ABWE+ (the ultimate creditor) ends the purpose; the payee is ?32.
        row(37, 4, -95000, "Hausverwaltung Schäfer",
            "Miete Maerz 2025 Wohnung 3. OG links, Musterstraße 12, 12345 Musterstadt, "
            "Mieter Erika Mustermann und Max Mustermann, Vertrag 2019-114"),
        # Third statement, another account, named by IBAN.
        row(52, 31, 1234, "", "Habenzinsen 01.03.2025 bis 31.03.2025", account=SAVINGS_SPK),
    ])


def test_mt940_dutch_bank_in_a_swift_envelope() -> None:
    account = SourceAccount("iban:NL20INGB0001234567", "NL20INGB0001234567", "EUR")  # :25: IBAN + currency

    def row(line: int, day: int, amount: int, payee: str, description: str, bank_id: str) -> StatementRow:
        return StatementRow(f"line {line}", date(2025, 4, day), amount, payee, description, bank_id, "EUR",
                            account)

    assert _read("mt940_ing_nl_2025-04.mt940") == (StatementFormat.mt940, [
        # /CNTP/account/BIC/name/city/ (cut across two lines) and /REMI/USTD//text/
        row(6, 2, -2195, "Eneco Consumenten BV", "Termijnbedrag april 2025 klantnummer 12345678",
            "00000000001005"),
        row(11, 4, 125000, "J. de Vries", "Terugbetaling lening april", "00000000001006"),
        # A structured creditor reference: /REMI/STRD/CUR//<reference>/
        row(15, 7, -1250, "Bakkerij Jansen", "RF18539007547034", "00000000001007"),
        # Free text over two lines
        row(18, 10, -320, "", "Kosten betaalpakket april 2025 ING Oranje Pakket", "00000000001008"),
    ])


def test_mt942_interim_report() -> None:
    account = SourceAccount("iban:DE89370400440532013000", "DE89370400440532013000", "EUR")  # from :34F:

    def row(line: int, amount: int, payee: str, description: str, bank_id: str) -> StatementRow:
        return StatementRow(f"line {line}", date(2025, 3, 5), amount, payee, description, bank_id, "EUR",
                            account)

    assert _read("mt940_interim_2025-03-05.942") == (StatementFormat.mt940, [
        row(7, -1890, "Bäckerei Schäfer", "2025-03-05T12:03 Debitk.1 2027-12", "MT942-0001"),
        row(10, 40000, "Max Mustermann", "Anteil Urlaub Mallorca", "MT942-0002"),
        row(14, -6410, "Vodafone GmbH", "Mobilfunk Rechnung 03/2025", "MT942-0003"),
    ])


def test_an_mt940_statement_line_that_is_not_one_is_refused_naming_the_line() -> None:
    # "12.50" with a decimal point: the library alone would have read 12 and a reference ".50NTRFNONREF".
    assert _refused("mt940_broken_statement_line.sta") == (
        "line 7: :61: '2503050305D12.50NTRFNONREF' is not a statement line (value date YYMMDD, entry date "
        "MMDD, D/C/RD/RC, amount with a decimal comma, transaction type)")


@pytest.mark.parametrize(("name", "change", "message"), [
    ("mt940_sparkasse_2025-03_latin1.sta", (b":62F:C250304EUR4183,23", b":62F:C250304EUR4183,24"),
     "line 46: :62F: closing balance 4183.24 is not the opening balance 5094.83 plus the 3 :61: lines "
     "(-911.60)"),
    ("mt940_sparkasse_2025-03_latin1.sta", (b":60F:C250303EUR5094,83", b":60F:C2503X3EUR5094,83"),
     "line 28: :60F: 'C2503X3EUR5094,83' cannot be read"),
    ("mt940_sparkasse_2025-03_latin1.sta", (b":61:2503040304DR7,50", b":61:2504310304DR7,50"),
     "line 34: :61: '250431' is not a value date (YYMMDD)"),
    ("mt940_sparkasse_2025-03_latin1.sta", (b":61:2503040304DR7,50", b":61:2503041304DR7,50"),
     "line 34: :61: '1304' is not an entry date (MMDD)"),
    ("mt940_sparkasse_2025-03_latin1.sta", (b":61:2503040304DR7,50N", b":61:2503040304DR7,505N"),
     "line 34, :61: amount: 7.505 is not an amount with at most 2 decimal places"),
    ("mt940_interim_2025-03-05.942", (b":90D:2EUR83,00", b":90D:2EUR83,10"),
     "line 17: :90D: says 83.10, the :61: lines add up to 83.00"),
    ("mt940_interim_2025-03-05.942", (b":13D:2503051530+0100", b":13D:25030515X0"),
     "line 6: :13D: '25030515X0' cannot be read"),
])
def test_broken_mt940_files_name_the_line(name: str, change: tuple[bytes, bytes], message: str) -> None:
    data = (STATEMENTS / name).read_bytes()
    assert change[0] in data
    assert _refused(name, data.replace(*change)) == message


def test_mt940_is_known_by_its_tags_then_by_its_name() -> None:
    data = (STATEMENTS / "mt940_interim_2025-03-05.942").read_bytes()
    assert detect_format("umsaetze.txt", data) == StatementFormat.mt940
    assert detect_format("umsaetze.txt", b"\xef\xbb\xbf" + data) == StatementFormat.mt940
    without_lines = re.sub(rb":61:.*(?=\r\n-)", b"", data, flags=re.DOTALL)  # an interim report of nothing
    assert detect_format("umsaetze.txt", without_lines) == StatementFormat.csv
    for name in ("interim.942", "AUSZUG.STA", "day.mt940"):
        assert detect_format(name, without_lines) == StatementFormat.mt940
    assert _refused("interim.942", without_lines) == "line 1: the statement has no transactions (:61: lines)"
    assert _refused("x.sta", b"no statement here") == \
        "line 1: no statement: an MT940 statement starts with a :20: line"


def test_a_bank_reference_given_to_different_transactions_is_no_bank_id() -> None:
    data = (STATEMENTS / "mt940_ing_nl_2025-04.mt940").read_bytes()
    data = data.replace(b"//00000000001007", b"//00000000001005")
    _, rows = _read("statement.mt940", data)
    assert [r.bank_id for r in rows] == [None, "00000000001006", None, "00000000001008"]
    # The same transaction in two statements of one file keeps its id: it is imported once.
    twice = (STATEMENTS / "mt940_interim_2025-03-05.942").read_bytes()
    _, rows = _read("twice.942", twice + twice)
    assert [r.bank_id for r in rows] == ["MT942-0001", "MT942-0002", "MT942-0003"] * 2


# --- CSV -------------------------------------------------------------------------------------------

def _csv(name: str) -> tuple[CsvMapping, list[tuple[str, date, int, str, str, str | None]]]:
    data = (STATEMENTS / name).read_bytes()
    mapping = csv_import.detect(data).mapping
    assert all(r.account is None and r.currency is None for r in csv_import.parse(data, mapping))
    return mapping, [(r.where, r.booked_on, r.amount_minor, r.payee, r.description, r.bank_id)
                     for r in csv_import.parse(data, mapping)]


def test_csv_without_a_header_row_wells_fargo() -> None:
    mapping, rows = _csv("csv_wellsfargo_headerless_2025-06.csv")
    # The first row holds a date and an amount where a header would have names: it is data. The "*"
    # column never changes and the check number column is mostly empty: neither is text of the row.
    assert mapping == CsvMapping(encoding="utf-8", delimiter=",", has_header=False, date_column=0,
                                 date_format="%m/%d/%Y", amount_column=1, description_column=4)
    assert rows == [
        ("line 1", date(2025, 6, 2), -4567, "",
         "PURCHASE AUTHORIZED ON 05/31 STARBUCKS STORE 05512 SEATTLE WA S465152107123456 CARD 1234", None),
        ("line 2", date(2025, 6, 3), 215000, "", "ACME CORP PAYROLL 250603 0000123456 DOE,JANE", None),
        ("line 3", date(2025, 6, 5), -120000, "", "CHECK # 1043", None),
        ("line 4", date(2025, 6, 9), -8214, "", "PUGET SOUND ENERGY BILLPAY 250609 4420017 JANE DOE", None),
        ("line 5", date(2025, 6, 12), -1299, "",
         "RECURRING PAYMENT AUTHORIZED ON 06/11 NETFLIX.COM NETFLIX.COM CA S305162667554321 CARD 1234", None),
        ("line 6", date(2025, 6, 16), -30000, "",
         "ONLINE TRANSFER TO DOE J SAVINGS XXXXXX7781 REF #IB0ABCDEF1 ON 06/16/25", None),
        ("line 7", date(2025, 6, 20), 3550, "", "ZELLE FROM SMITH JOHN ON 06/20 REF # PP0XYZ1234", None),
    ]


def test_csv_without_a_header_row_paid_out_and_paid_in_columns() -> None:
    mapping, rows = _csv("csv_paid_out_paid_in_headerless_2025-07.csv")
    # Two amount columns, each row filling one: money out, then money in (the balance after them is not
    # read). A column giving every row its own code is the bank's id.
    assert mapping == CsvMapping(encoding="utf-8", delimiter=",", has_header=False, date_column=0,
                                 date_format="%d/%m/%Y", debit_column=2, credit_column=3,
                                 description_column=1, bank_id_column=5)
    assert rows == [
        ("line 1", date(2025, 7, 1), -2345, "", "CARD PAYMENT TO TESCO STORES 2041 ON 30/06",
         "FT25182T8QW1"),
        ("line 2", date(2025, 7, 2), 245000, "", "BANK GIRO CREDIT REF NORTHWIND LTD SALARY",
         "FT25183K2L9X"),
        ("line 3", date(2025, 7, 4), -3820, "", "DIRECT DEBIT PAYMENT TO THAMES WATER REF 88123-01",
         "FT25185D0C3M"),
        ("line 4", date(2025, 7, 7), -780, "", "CARD PAYMENT TO TFL TRAVEL CH ON 05/07", "FT25188P4R7Z"),
        ("line 5", date(2025, 7, 15), 4200, "", "FASTER PAYMENT RECEIVED FROM J SMITH REF DINNER",
         "FT25196H1V6B"),
        ("line 6", date(2025, 7, 31), -115000, "", "STANDING ORDER TO LANDLORD LTD REF FLAT 3",
         "FT25212S9N0A"),
    ]


def test_csv_amounts_with_a_trailing_minus_and_decimal_comma() -> None:
    mapping, rows = _csv("csv_trailing_minus_kreditkarte_2025-08.csv")
    # "23,47-" has a comma and three characters after it: still a decimal comma, not a thousands one.
    assert (mapping.encoding, mapping.skip_rows, mapping.amount_column, mapping.decimal_separator,
            mapping.direction_column, mapping.payee_column, mapping.description_column) == \
        ("windows-1252", 4, 3, ",", None, None, 2)
    assert rows == [
        ("line 6", date(2025, 8, 2), -2347, "", "AMAZON EU SARL LUXEMBOURG", None),
        ("line 7", date(2025, 8, 5), -12990, "", "DB VERTRIEB GMBH FRANKFURT", None),
        ("line 8", date(2025, 8, 9), -6412, "", "ARAL STATION 4711 KOELN", None),
        ("line 9", date(2025, 8, 12), 2347, "", "GUTSCHRIFT AMAZON EU SARL", None),
        ("line 10", date(2025, 8, 20), -123400, "", "HOTEL ZUR POST MÜNCHEN", None),
        ("line 11", date(2025, 8, 31), -99, "", "JAHRESGEBUEHR KARTE", None),
    ]


def test_csv_amounts_in_brackets() -> None:
    mapping, rows = _csv("csv_parentheses_2025-09.csv")
    assert (mapping.amount_column, mapping.decimal_separator) == (2, ".")
    assert (mapping.payee_column, mapping.description_column) == (None, 1)
    assert rows == [
        ("line 2", date(2025, 9, 2), -2347, "", "AMAZON MKTPLACE PMTS", None),
        ("line 3", date(2025, 9, 3), 185000, "", "DIRECT DEP ACME CORP", None),
        ("line 4", date(2025, 9, 5), -4120, "", "SHELL OIL 57444", None),
        ("line 5", date(2025, 9, 8), 1234, "", "AMAZON MKTPLACE REFUND", None),
        ("line 6", date(2025, 9, 10), -101250, "", "VERIZON WIRELESS", None),
        ("line 7", date(2025, 9, 15), -50000, "", "TRANSFER TO SAVINGS", None),
    ]


def test_csv_the_account_holders_name_on_every_row_is_not_the_payee() -> None:
    mapping, rows = _csv("csv_account_holder_2025-10.csv")
    # "Account Name" reads like a payee column, but it says JANE Q DOE on every row: the account's owner.
    # With no payee column the description is the description, and the payee stays empty.
    assert (mapping.payee_column, mapping.description_column, mapping.amount_column, mapping.date_format) == \
        (None, 3, 4, "%m/%d/%Y")
    assert rows == [
        ("line 2", date(2025, 10, 1), -475, "", "COFFEE BEAN #118", None),
        ("line 3", date(2025, 10, 2), 210000, "", "PAYROLL ACME CORP", None),
        ("line 4", date(2025, 10, 13), -8612, "", "SAFEWAY #1234", None),
        ("line 5", date(2025, 10, 16), -14320, "", "PG&E WEB ONLINE", None),
        ("line 6", date(2025, 10, 27), 6000, "", "VENMO CASHOUT", None),
    ]
    # A column headed by nothing but a payee word is the payee even when it never changes.
    same_shop = b"Date,Payee,Amount\n" + b"".join(f"10/{d:02d}/2025,Corner Shop,-{d}.50\n".encode()
                                                  for d in (1, 2, 3, 4))
    assert csv_import.detect(same_shop).mapping.payee_column == 1


# --- whatever the bytes ----------------------------------------------------------------------------

SAMPLES = sorted(p.name for p in STATEMENTS.iterdir() if p.name.startswith(("camt", "mt940")))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SAMPLES), st.data())
def test_a_damaged_camt_or_mt940_file_is_read_or_refused_with_a_reason(name: str,
                                                                       draw: st.DataObject) -> None:
    data = bytearray((STATEMENTS / name).read_bytes())
    for _ in range(draw.draw(st.integers(min_value=1, max_value=4))):
        at = draw.draw(st.integers(min_value=0, max_value=len(data) - 1))
        how = draw.draw(st.sampled_from(["flip", "cut", "insert"]))
        if how == "flip":
            data[at] = draw.draw(st.integers(min_value=0, max_value=255))
        elif how == "cut":
            del data[at: at + draw.draw(st.integers(min_value=1, max_value=120))]
        else:
            data[at:at] = draw.draw(st.sampled_from([b":61:", b"\n:86:?20", b"?", b"<Ntry>", b"\n-}", b"D",
                                                     b",", b"\xff\xfe"]))
    try:
        _read(name, bytes(data))
    except StatementError as refused:  # a refusal names where and what
        reason = (refused.where, refused.problem)
    else:
        return
    assert all(reason)
