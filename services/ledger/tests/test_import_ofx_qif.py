"""OFX/QFX and QIF statements as banks and Quicken really write them: every row of each sample, exactly.

The samples (tests/statements/ofx_* and qif_*) follow the OFX 1.0.2 / 2.2 specifications and Quicken's
QIF description, with the liberties banks take: odd CHARSET names, headers over bytes in another
encoding, blank lines before the header or no header at all, several accounts in one file.
"""

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from tally_ledger.importers import StatementError, StatementFormat, detect_format, ofx, parse, qif
from tally_ledger.importers.rows import SourceAccount, SplitRow, StatementRow

STATEMENTS = Path(__file__).parent / "statements"


def _rows(name: str) -> list[StatementRow]:
    data = (STATEMENTS / name).read_bytes()
    return parse(detect_format(name, data), data)


def _error(name: str) -> str:
    with pytest.raises(StatementError) as caught:
        _rows(name)
    return str(caught.value)


def _ofx(where: str, day: date, amount: int, payee: str, description: str, fitid: str,
         account: SourceAccount, currency: str | None = None) -> StatementRow:
    return StatementRow(where, day, amount, payee, description, fitid, currency or account.currency,
                        account=account)


def _qif(where: str, day: date, amount: int, payee: str = "", description: str = "", *,
         account: SourceAccount | None = None, category: str = "", transfer: str = "",
         splits: tuple[SplitRow, ...] = ()) -> StatementRow:
    return StatementRow(where, day, amount, payee, description, account=account, category=category,
                        transfer_account=transfer, splits=splits)


# --- OFX: character sets ---------------------------------------------------------------------------

def test_ofx_charset_8859_1_as_banks_write_it() -> None:
    cic = SourceAccount("ofx:30066/00012345601", "CIC Checking …5601", "EUR", "checking")
    assert _rows("ofx_charset_8859-1.ofx") == [
        _ofx("line 44, STMTTRN 1", date(2025, 3, 3), -5420, "Café du Marché", "CB 0203 Lyon",
             "CIC2025030300001", cic),
        _ofx("line 52, STMTTRN 2", date(2025, 3, 5), -12000, "Prlv Électricité de France", "Échéance mars",
             "CIC2025030500002", cic),
        _ofx("line 60, STMTTRN 3", date(2025, 3, 10), 215000, "Vir Société Générale", "Salaire mars",
             "CIC2025031000003", cic),
    ]


def test_ofx_charset_iso_8859_1_reads_windows_1252_punctuation_too() -> None:
    # Declared ISO-8859-1, but 0x92 is there: Windows-1252's right quote (a Latin-1 control code no
    # bank means).
    desjardins = SourceAccount("ofx:815/0123456", "DESJARDINS Savings …3456", "CAD", "savings")
    assert _rows("ofx_charset_iso-8859-1.ofx") == [
        _ofx("line 44, STMTTRN 1", date(2025, 4, 2), -8745, "Épicerie Métro", "Achat carte débit",
             "DJ0402001", desjardins),
        _ofx("line 52, STMTTRN 2", date(2025, 4, 4), 50000, "Dépôt au comptoir", "Caisse Québec",
             "DJ0404001", desjardins),
        _ofx("line 60, STMTTRN 3", date(2025, 4, 7), -385, "Tim Horton\u2019s", "Café glacé", "DJ0407001",
             desjardins),
    ]


def test_ofx_charset_1252() -> None:
    wells = SourceAccount("ofx:121042882/7654321098", "WF Checking …1098", "USD", "checking")
    assert _rows("ofx_charset_1252.qfx") == [
        _ofx("line 43, STMTTRN 1", date(2025, 3, 2), -2299, "NETFLIX.COM",
             "Plan \u201cPremium\u201d \u2013 monthly", "202503020001", wells),
        _ofx("line 51, STMTTRN 2", date(2025, 3, 4), -975, "CAFÉ ROMA", "Card 4412 \u2013 €8.90 abroad",
             "202503040001", wells),
        _ofx("line 59, STMTTRN 3", date(2025, 3, 6), 120000, "ZELLE FROM JOSÉ GARCÍA", "Rent share",
             "202503060001", wells),
    ]


def test_ofx_charset_none() -> None:
    ally = SourceAccount("ofx:073972181/1087654321", "Ally Savings …4321", "USD", "savings")
    assert _rows("ofx_charset_none.ofx") == [
        _ofx("line 43, STMTTRN 1", date(2025, 1, 31), 1241, "Interest Paid", "", "A20250131INT", ally),
        _ofx("line 50, STMTTRN 2", date(2025, 1, 15), -25000, "Transfer to Checking", "Online transfer",
             "A20250115XFR", ally),
    ]


def test_ofx_charset_utf_8() -> None:
    zkb = SourceAccount("ofx:700/1100-1234.567", "ZKB Checking …4567", "CHF", "checking")
    assert _rows("ofx_charset_utf-8.ofx") == [
        _ofx("line 43, STMTTRN 1", date(2025, 2, 3), -7830, "Migros Zürich HB", "Einkauf Karte",
             "ZKB250203A1", zkb),
        _ofx("line 51, STMTTRN 2", date(2025, 2, 10), -185000, "Verwaltung Müller AG", "Miete Februar",
             "ZKB250210A1", zkb),
        _ofx("line 59, STMTTRN 3", date(2025, 2, 25), 640000, "Lohn Ärztezentrum", "Lohn 02/2025",
             "ZKB250225A1", zkb),
    ]


def test_ofx_header_saying_1252_over_utf8_bytes_reads_utf8() -> None:
    dkb = SourceAccount("ofx:12030000/1012345678", "DKB Checking …5678", "EUR", "checking")
    assert _rows("ofx_charset_1252_but_utf8.qfx") == [
        _ofx("line 43, STMTTRN 1", date(2025, 1, 2), -420, "Bäckerei Körner", "Brötchen €", "DKB0102001",
             dkb),
        _ofx("line 51, STMTTRN 2", date(2025, 1, 8), -5990, "Deutsche Bahn", "ICE München\u2013Köln",
             "DKB0108001", dkb),
    ]


@pytest.mark.parametrize(("charset", "encoding"), [
    ("8859-1", "USASCII"), ("ISO-8859-1", "USASCII"), ("1252", "USASCII"), ("NONE", "USASCII"),
    ("NONE", "UNICODE"), ("UTF-8", "UTF-8"), ("WINDOWS-1252", "USASCII"),
])
@pytest.mark.parametrize("text", ["Café Müller", "Crème brûlée"])
def test_every_charset_name_reads_latin1_and_utf8_bytes_alike(charset: str, encoding: str, text: str) -> None:
    template = (STATEMENTS / "ofx_charset_none.ofx").read_bytes()
    template = template.replace(b"CHARSET:NONE", f"CHARSET:{charset}".encode())
    template = template.replace(b"ENCODING:USASCII", f"ENCODING:{encoding}".encode())
    for codec in ("latin-1", "utf-8"):
        data = template.replace(b"Interest Paid", text.encode(codec))
        assert ofx.parse(data)[0].payee == text


# --- OFX: header oddities ----------------------------------------------------------------------------

def test_ofx_blank_lines_and_whitespace_before_the_header() -> None:
    chase = SourceAccount("ofx:322271627/000000123456789", "B1 Checking …6789", "USD", "checking")
    assert _rows("ofx_blank_lines_before_header.qfx") == [
        _ofx("line 53, STMTTRN 1", date(2025, 2, 3), -6418, "TRADER JOE S #123", "CARD PURCHASE",
             "20250203 123456 6418 202502031", chase),
        _ofx("line 61, STMTTRN 2", date(2025, 2, 14), 310000, "ACME CORP PAYROLL", "PPD ID: 1234567890",
             "20250214 123456 310000 202502141", chase),
    ]


def test_ofx_without_a_header_is_read_from_its_body() -> None:
    usaa = SourceAccount("ofx:314074269/0123456789", "USAA Checking …6789", "USD", "checking")
    expected = [
        _ofx("line 33, STMTTRN 1", date(2025, 3, 3), -4500, "USAA P&C INS", "AUTO PAY", "USAA20250303A",
             usaa),
        _ofx("line 41, STMTTRN 2", date(2025, 3, 5), 275000, "DFAS-CLEVELAND", "MIL PAY", "USAA20250305A",
             usaa),
    ]
    data = (STATEMENTS / "ofx_headerless.ofx").read_bytes()
    assert detect_format("download.ofx", data) == StatementFormat.ofx
    assert _rows("ofx_headerless.ofx") == expected
    with_bom = b"\xef\xbb\xbf\r\n" + data
    assert [r.payee for r in ofx.parse(with_bom)] == ["USAA P&C INS", "DFAS-CLEVELAND"]


def test_ofx_one_line_header_and_a_space_after_the_colon() -> None:
    data = (STATEMENTS / "ofx_charset_none.ofx").read_bytes()
    header, body = data.split(b"\r\n\r\n<OFX>", 1)
    one_line = header.replace(b"\r\n", b" ").replace(b"CHARSET:", b"CHARSET: ") + b"\r\n<OFX>" + body
    rows = ofx.parse(one_line)
    assert [r.where for r in rows] == ["line 34, STMTTRN 1", "line 41, STMTTRN 2"]
    assert [replace(r, where="") for r in rows] == [replace(r, where="")
                                                    for r in _rows("ofx_charset_none.ofx")]


# --- OFX: entities --------------------------------------------------------------------------------------

def test_ofx_entities_are_decoded_exactly_once() -> None:
    bofa = SourceAccount("ofx:026009593/000123450987", "BofA Checking …0987", "USD", "checking")
    assert _rows("ofx_entities.ofx") == [
        _ofx("line 43, STMTTRN 1", date(2025, 4, 1), -8512, "AT&T WIRELESS", "Bill &lt;autopay&gt;", "E1",
             bofa),
        _ofx("line 51, STMTTRN 2", date(2025, 4, 2), -3107, "BARNES & NOBLE #2210", "<books> & cards", "E2",
             bofa),
        _ofx("line 59, STMTTRN 3", date(2025, 4, 3), -1200, "AT&T *PREPAID", "Café & more here", "E3", bofa),
        _ofx("line 67, STMTTRN 4", date(2025, 4, 4), -550, "TOM &amp; JERRY'S", '"Snacks" &copy;', "E4",
             bofa),
    ]


def test_ofx_xml_entities_are_never_expanded() -> None:
    data = (STATEMENTS / "ofx_multi_account.ofx").read_bytes()
    data = data.replace(b"<NAME>LOBLAWS #1021</NAME>", b"<NAME>&xxe; &lol9;</NAME>")
    rows = ofx.parse(data)
    assert rows[0].payee == "&xxe; &lol9;"
    dtd = b'<!DOCTYPE OFX [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\r\n'
    with_dtd = data.replace(b"<OFX>", dtd + b"<OFX>", 1)
    with pytest.raises(StatementError, match="OFX header: missing or malformed"):
        ofx.parse(with_dtd)


# --- OFX: accounts, cards, currencies, payees -------------------------------------------------------------

def test_ofx_credit_card_statement() -> None:
    visa = SourceAccount("ofx:cc/4266841234567890", "B1 Credit card …7890", "USD", "credit_card")
    assert _rows("ofx_creditcard.qfx") == [
        _ofx("line 41, STMTTRN 1", date(2025, 3, 2), -4827, "WHOLEFDS HOU 10236", "Groceries",
             "2025030224692165063100089451260", visa),
        # ORIGCURRENCY: the amount was converted to CURDEF already (OFX 2.2 section 5.2), so it is USD.
        _ofx("line 49, STMTTRN 2", date(2025, 3, 9), -15238, "BRITISH AIRWAYS", "LONDON GBP 120.00",
             "2025030924692165068100045127784", visa),
        _ofx("line 61, STMTTRN 3", date(2025, 3, 15), 50000, "Payment Thank You - Web", "",
             "2025031524692165074100012345678", visa),
        _ofx("line 68, STMTTRN 4", date(2025, 3, 28), -1549, "NETFLIX.COM", "Streaming",
             "2025032824692165087100065432198", visa),
    ]


def test_ofx_several_statements_in_two_currencies_each_row_with_its_account() -> None:
    chequing = SourceAccount("ofx:000300001/5012345", "RBC Checking …2345", "CAD", "checking")
    savings = SourceAccount("ofx:000300001/4098765", "RBC Savings …8765", "USD", "savings")
    visa = SourceAccount("ofx:cc/4510123412341234", "RBC Credit card …1234", "CAD", "credit_card")
    assert _rows("ofx_multi_account.ofx") == [
        _ofx("line 35, STMTTRN 1", date(2025, 3, 3), -11240, "LOBLAWS #1021", "Interac purchase",
             "90000010020250303001", chequing),
        _ofx("line 43, STMTTRN 2", date(2025, 3, 14), 248000, "PAYROLL DEPOSIT", "ACME CANADA",
             "90000010020250314001", chequing),
        _ofx("line 74, STMTTRN 3", date(2025, 3, 5), 100000, "Transfer from chequing", "",
             "90000020020250305001", savings),
        _ofx("line 81, STMTTRN 4", date(2025, 3, 31), 318, "", "Interest", "90000020020250331001", savings),
        _ofx("line 111, STMTTRN 5", date(2025, 3, 7), -5860, "PETRO-CANADA 12345", "", "90000030020250307001",
             visa),
    ]


def test_ofx_amounts_are_in_minor_units_of_their_own_currency() -> None:
    data = (STATEMENTS / "ofx_multi_account.ofx").read_bytes()
    jpy = data.replace(b"<CURDEF>USD</CURDEF>", b"<CURDEF>JPY</CURDEF>").replace(b"1000.00", b"150000")
    jpy = jpy.replace(b"<TRNAMT>3.18</TRNAMT>", b"<TRNAMT>3</TRNAMT>")
    rows = ofx.parse(jpy, digits=2)
    assert [(r.amount_minor, r.currency) for r in rows[2:4]] == [(150000, "JPY"), (3, "JPY")]
    # CURRENCY (not ORIGCURRENCY): this one amount is in that currency.
    foreign = data.replace(b"<MEMO>Interac purchase</MEMO>",
                           b"<MEMO>Tokyo</MEMO><CURRENCY><CURRATE>0.0091</CURRATE><CURSYM>JPY</CURSYM></CURRENCY>")
    foreign = foreign.replace(b"<TRNAMT>-112.40</TRNAMT>", b"<TRNAMT>-12350</TRNAMT>")
    assert (ofx.parse(foreign)[0].amount_minor, ofx.parse(foreign)[0].currency) == (-12350, "JPY")


def test_ofx_payee_from_name_or_payee_name_and_the_memo_as_description() -> None:
    town = SourceAccount("ofx:111000025/4400112233", "Bank of Springfield Checking …2233", "USD", "checking")
    assert _rows("ofx_payee_name_memo.ofx") == [
        _ofx("line 43, STMTTRN 1", date(2025, 5, 1), -2317, "SAFEWAY #1234", "POS PURCHASE", "P1", town),
        _ofx("line 51, STMTTRN 2", date(2025, 5, 2), 42, "", "INTEREST PAYMENT", "P2", town),
        _ofx("line 58, STMTTRN 3", date(2025, 5, 3), -6180, "City Water Dept", "Bill pay 0503", "P3", town),
        _ofx("line 73, STMTTRN 4", date(2025, 5, 4), 15000, "VENMO CASHOUT", "", "P4", town),
        _ofx("line 80, STMTTRN 5", date(2025, 5, 5), -40000, "CHECK 1042", "", "P5", town),
        # A cheque known only by its CHECKNUM; <NAME> and <MEMO> left empty, as SGML allows.
        _ofx("line 88, STMTTRN 6", date(2025, 5, 6), -7500, "", "Check 1043", "P6", town),
        _ofx("line 97, STMTTRN 7", date(2025, 5, 7), -6000, "", "ATM WITHDRAWAL 5TH ST", "P7", town),
    ]


# --- OFX: broken files -------------------------------------------------------------------------------------

def test_truncated_ofx_names_the_last_line_and_the_open_element() -> None:
    assert _error("ofx_truncated.ofx") == ("line 63: the file ends inside <STMTTRN>: it was cut off "
                                           "(download it again)")


@pytest.mark.parametrize(("edit", "message"), [
    ((b"</STMTTRN>\r\n<STMTTRN>\r\n<TRNTYPE>DEBIT\r\n<DTPOSTED>20250304",
      b"</BANKTRANLIST>\r\n<STMTTRN>\r\n<TRNTYPE>DEBIT\r\n<DTPOSTED>20250304"),
     "line 50: not well-formed OFX near '</BANKTRANLIST>'"),
    ((b"<NAME>NETFLIX.COM", b"<NAME>NETFLIX.COM</MEMO>junk"),
     "line 48: not well-formed OFX near '</MEMO>junk"),
    ((b"OFXHEADER:100", b"<html><body>Session expired</body></html>"), "OFX header: missing or malformed"),
    ((b"<OFX>", b"<OFC>"), "OFX body: no <OFX> element"),
    ((b"CHARSET:1252", b"CHARSET:KLINGON"), "OFX header, CHARSET: 'KLINGON' is not a character set"),
])
def test_broken_ofx_names_where(edit: tuple[bytes, bytes], message: str) -> None:
    data = (STATEMENTS / "ofx_charset_1252.qfx").read_bytes().replace(*edit, 1)
    with pytest.raises(StatementError) as caught:
        ofx.parse(data)
    assert message in str(caught.value)


# --- QIF: sections and accounts ---------------------------------------------------------------------------

CHECKING = SourceAccount("qif:Checking", "Checking", kind="checking")
VISA = SourceAccount("qif:Visa", "Visa", kind="credit_card")
WALLET = SourceAccount("qif:Wallet", "Wallet", kind="cash")
HOUSE = SourceAccount("qif:House", "House", kind=None)  # Oth A: an asset Tally has no kind for
MORTGAGE = SourceAccount("qif:Mortgage", "Mortgage", kind="loan")


def test_qif_quicken_export_of_all_accounts() -> None:
    data = (STATEMENTS / "qif_quicken_all_accounts.qif").read_bytes()
    assert data.startswith(b"!Option:AutoSwitch")
    assert qif.looks_like_qif(data)
    assert _rows("qif_quicken_all_accounts.qif") == [
        _qif("line 51", date(2025, 1, 2), -4500, "City Water", "Check 1001", account=CHECKING,
             category="Utilities:Water"),
        _qif("line 59", date(2025, 1, 3), 250000, "ACME Corp", "January salary", account=CHECKING,
             category="Salary"),
        _qif("line 68", date(2025, 1, 6), -35000, "First National Visa", "Card payment", account=CHECKING,
             transfer="Visa"),
        _qif("line 75", date(2025, 1, 10), -12000, "Costco", account=CHECKING, splits=(
            SplitRow(-8000, "Food:Groceries", "Weekly shop"), SplitRow(-4000, "Household", "Paper towels"))),
        _qif("line 92", date(2025, 1, 4), -6215, "Shell Oil", account=VISA, category="Auto:Fuel"),
        _qif("line 98", date(2025, 1, 6), 35000, "Payment - Thank You", account=VISA, transfer="Checking"),
        _qif("line 105", date(2025, 1, 12), -8499, "Amazon.com", account=VISA, category="Household"),
        _qif("line 116", date(2025, 1, 7), -450, "Blue Bottle", account=WALLET, category="Food:Dining"),
        _qif("line 122", date(2025, 1, 13), -1200, "", "Parking meter", account=WALLET,
             category="Auto:Parking"),
        _qif("line 133", date(2025, 1, 15), 1500000, "", "Kitchen remodel", account=HOUSE,
             category="Home:Improvements"),
        _qif("line 144", date(2025, 1, 1), -110237, "First National", "January payment", account=MORTGAGE,
             splits=(SplitRow(-80237, "Mortgage Interest"), SplitRow(-30000, "[Checking]", "Principal"))),
    ]


def test_qif_file_beginning_with_an_account_block() -> None:
    joint = SourceAccount("qif:Joint Checking", "Joint Checking", kind="checking")
    data = (STATEMENTS / "qif_account_first.qif").read_bytes()
    assert detect_format("export.txt", data) == StatementFormat.qif
    assert _rows("qif_account_first.qif") == [
        _qif("line 7", date(2025, 2, 3), -6420, "Kroger #512", account=joint, category="Food:Groceries"),
        _qif("line 12", date(2025, 2, 14), 185000, "Payroll", account=joint, category="Salary"),
    ]


@pytest.mark.parametrize(("header", "kind"), [
    ("!Type:Bank", "checking"), ("!Type:CCard", "credit_card"), ("!Type:Cash", "cash"), ("!Type:Oth A", None),
    ("!Type:Oth L", "loan"), ("!type:ccard ", "credit_card"),
])
def test_qif_register_types_with_and_without_an_account(header: str, kind: str | None) -> None:
    record = "D1/15'25\nT-5.00\nPVendor\n^\n"
    assert qif.parse(f"{header}\n{record}".encode()) == [_qif("line 2", date(2025, 1, 15), -500, "Vendor")]
    account_type = {"checking": "Bank", "credit_card": "CCard", "cash": "Cash", None: "Oth A",
                    "loan": "Oth L"}
    named = f"!Account\nNHousehold\nT{account_type[kind]}\n^\n{header}\n{record}"
    assert qif.parse(named.encode())[0].account == SourceAccount("qif:Household", "Household", kind=kind)


def test_qif_lists_that_are_not_transactions_are_read_over() -> None:
    data = (b"!Type:Cat\nNFood\nE\n^\n!Type:Class\nNVacation\n^\n!Type:Memorized\nKP\nT-4.00\nPBakery\n^\n"
            b"!Type:Bank\nD1/15'25\nT-5.00\nPVendor\n^\n!Type:Security\nNVanguard\nSVTI\nTStock\n^\n")
    assert qif.parse(data) == [_qif("line 14", date(2025, 1, 15), -500, "Vendor")]
    with pytest.raises(StatementError, match="line 1: the file has no transactions"):
        qif.parse(b"!Type:Cat\nNFood\nE\n^\n")


def test_qif_investment_account_is_refused_naming_the_line() -> None:
    assert _error("qif_investment.qif") == (
        "line 24: '!Type:Invst' is an investment account: Tally imports bank, cash and credit card registers "
        "(export the other accounts without it)")


# --- QIF: categories, transfers, splits ---------------------------------------------------------------------

def test_qif_categories_transfers_and_splits() -> None:
    assert _rows("qif_splits.qif") == [
        _qif("line 2", date(2025, 1, 31), 341250, "ACME Corp", "Paycheck January", category="Income:Salary",
             splits=(SplitRow(500000, "Income:Salary", "Gross pay"),
                     SplitRow(-110000, "Taxes:Federal Income Tax"), SplitRow(-31000, "Taxes:Social Security"),
                     SplitRow(-17750, "[401k]", "Retirement contribution"))),
        _qif("line 18", date(2025, 2, 3), -8640, "Target", splits=(
            SplitRow(-5215, "Food:Groceries"), SplitRow(-3425, "Household:Supplies", "Cleaning"))),
        _qif("line 27", date(2025, 2, 5), -50000, "Transfer to savings", transfer="Savings"),
    ]


def test_qif_splits_that_do_not_add_up_name_the_amount_line() -> None:
    assert _error("qif_split_mismatch.qif") == (
        "line 3: the splits (lines 5-8) add up to -82.15, not to the amount -86.40")


def test_qif_split_without_an_amount_names_its_line() -> None:
    with pytest.raises(StatementError, match=r"^line 5: a split without an amount \(\$ line\)$"):
        qif.parse(b"!Type:Bank\nD1/15'25\nT-5.00\nPVendor\nSFood\nEno amount\n^\n")


# --- QIF: payee, memo, numbers ------------------------------------------------------------------------------

def test_qif_payee_memo_and_check_numbers() -> None:
    assert _rows("qif_payee_memo_number.qif") == [
        _qif("line 2", date(2025, 3, 1), -2500, "Dr. Smith", "Copay · Check 1001"),
        _qif("line 9", date(2025, 3, 2), -6000, "", "Cash withdrawal Main St"),  # N "ATM" is no number
        _qif("line 15", date(2025, 3, 3), -125000, "CHECK 1002"),  # the payee shows the number already
        _qif("line 20", date(2025, 3, 4), -8000, "", "Check 1003"),
        _qif("line 24", date(2025, 3, 14), 1234, "", "Interest"),
        _qif("line 29", date(2025, 3, 15), -9900, "Comcast", "Account 8499 1053"),
    ]


# --- QIF: dates and amounts ---------------------------------------------------------------------------------

def test_qif_dates_m_d_apostrophe_yy_with_spaces_and_thousands_separators() -> None:
    assert _rows("qif_dates_m_d_yy_apostrophe.qif") == [
        _qif("line 2", date(2024, 12, 31), -123456, "Landlord LLC"),
        _qif("line 6", date(2025, 1, 5), -1200, "Parking"),
        _qif("line 10", date(2025, 2, 9), 1234567, "Bonus"),
    ]


def test_qif_dates_m_d_yy_and_the_century_of_two_digit_years() -> None:
    assert _rows("qif_dates_m_d_yy.qif") == [
        _qif("line 2", date(1999, 12, 31), -10000, "Party supplies"),
        _qif("line 6", date(2000, 1, 3), -2000, "Y2K survival kit"),
        _qif("line 10", date(2024, 1, 15), -3000, "Bookstore"),
    ]


def test_qif_dates_m_d_yyyy() -> None:
    assert _rows("qif_dates_m_d_yyyy.qif") == [
        _qif("line 2", date(2025, 1, 15), -4810, "Chipotle"),
        _qif("line 6", date(2025, 1, 3), -100000, "Delta Air Lines"),
        _qif("line 10", date(2024, 12, 1), 25000, "Payment received"),
    ]


def test_qif_dates_d_m_yyyy() -> None:
    assert _rows("qif_dates_d_m_yyyy.qif") == [
        _qif("line 2", date(2025, 1, 15), -4299, "Tesco Stores"),
        _qif("line 6", date(2025, 2, 3), -115000, "Rent"),
        _qif("line 10", date(2025, 2, 28), 240000, "Salary"),
    ]


def test_qif_dates_d_dot_m_yyyy_and_european_amounts() -> None:
    assert _rows("qif_dates_d.m.yyyy_european_amounts.qif") == [
        _qif("line 2", date(2025, 1, 15), -123456, "Stadtwerke München", "Abschlag Strom"),
        _qif("line 7", date(2025, 2, 3), -750, "Bäckerei"),
        _qif("line 11", date(2025, 2, 28), 1234500, "Arbeitgeber GmbH", "Gehalt Februar"),
    ]


def test_qif_dates_yyyy_mm_dd() -> None:
    assert _rows("qif_dates_iso.qif") == [
        _qif("line 2", date(2025, 1, 15), -1999, "Spotify"),
        _qif("line 6", date(2025, 2, 3), -500, "Bank fee"),
    ]


def test_qif_ambiguous_dates_read_day_first_unless_the_caller_says() -> None:
    # Every date reads both ways: day first, as this importer always did; date_format decides otherwise.
    assert [r.booked_on for r in _rows("qif_dates_ambiguous.qif")] == [date(2025, 2, 1), date(2025, 4, 3)]
    data = (STATEMENTS / "qif_dates_ambiguous.qif").read_bytes()
    american = qif.parse(data, date_format="%m/%d/%Y")
    assert [r.booked_on for r in american] == [date(2025, 1, 2), date(2025, 3, 4)]


def test_qif_dates_in_two_orders_are_refused_naming_both_lines() -> None:
    assert _error("qif_dates_conflicting.qif") == (
        "line 6: '01/14/2025' puts the month first, but '13/01/2025' (line 2) puts the day first: "
        "the file mixes two date orders")


@pytest.mark.parametrize(("data", "message"), [
    (b"!Type:Bank\nD1/15'25\nT-5.00\nPVendor\n^\n!Type:Bank\nD1/16'25\nT-6.00\n!Account\n",
     "line 9: '!Account' begins before the record of line 7 ends with ^"),
    (b"!Type:Bank\nD1/15'25\nT-5.00\nQ12\n^\n", "line 4: unknown QIF field code 'Q'"),
    (b"!Type:Invoice\nD1/15'25\nT-5.00\n^\n", "line 1: '!Type:Invoice' is not a bank, cash or card register"),
    (b"D1/15'25\nT-5.00\n^\n", "line 1: a QIF file starts with !Type:Bank (or Cash, CCard) or !Account"),
    (b"!Type:Bank\nD1/15'25\nPVendor\n^\n", "line 2: record without an amount (T line)"),
    (b"!Type:Bank\nD2/30'25\nT-5.00\n^\n", "line 2: \"2/30'25\" is not a date"),
])
def test_broken_qif_names_the_line(data: bytes, message: str) -> None:
    with pytest.raises(StatementError) as caught:
        qif.parse(data)
    assert str(caught.value) == message


def test_quicken_us_dates_that_read_both_ways_are_month_first() -> None:
    data = b"!Type:Bank\nD1/5'25\nT-10.00\nPShop\n^\nD2/3'25\nT-5.00\nPCafe\n^\n"
    assert [r.booked_on for r in qif.parse(data)] == [date(2025, 1, 5), date(2025, 2, 3)]
    slashed = data.replace(b"'", b"/20")
    assert [r.booked_on for r in qif.parse(slashed)] == [date(2025, 5, 1), date(2025, 3, 2)]
