"""Benchmark: the ledger process's memory while it imports a large bank statement (CSV, OFX, QIF,
CAMT.053, MT940: 25 MB, the upload limit) or a large app export (YNAB, Firefly III, GnuCash SQLite and
XML, Beancount, generic CSV: up to 200 MB, the upload limit), issue #17: under 300 MiB, not growing with
the file.

    uv run python bench/import_memory.py [--only FORMAT ...] [--statement-mb 25] [--app-mb 50 200]
                                         [--import-mb 4] [--out NAME] [--report-only]

It runs the ledger alone as `make up` runs it (`python -m tally_ledger serve`, on embedded PostgreSQL
and the local broker; tokens signed by a key of this process, whose JWKS it serves in the auth
service's place), a new ledger process on a new database for every file, so that what one file leaves
(memory, events to publish, the categoriser's model of its rows) is not measured with the next. Each
file is made here, written to disk as it is made (`make_*` below: realistic rows, dates over years,
amounts in minor units, payees, memos; each format as its spec and the fixtures under
services/ledger/tests write it), and sent as the web client sends it, straight to the ledger:

- a statement: `POST /imports` (upload, read every row, preview), `POST /imports/{id}/confirm` and the
  batch polled until imported;
- an app export: `POST /histories` with `dry_run` (upload, read, say what it holds) at every size of
  `--app-mb`, and the import itself (`POST /histories`, polled until imported) at `--import-mb` only:
  writing 200 MB of history takes the ledger hours on this machine (some 900 entries/s,
  bench/results/history_import.md), and what the dry run reads the import reads again.

The ledger's resident memory (VmRSS) is sampled every 50 ms and its peak taken from the kernel (VmHWM,
reset before the upload: `clear_refs` 5): before, at the peak, after. Baseline: a bare Python process
importing fastapi, sqlalchemy and aiokafka.

Prints a table and writes bench/results/import_memory.{json,md}.
"""

import argparse
import asyncio
import csv
import gzip
import io
import json
import os
import platform
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, TextIO

import httpx
from stack_bench import MemoryWatch

from tallystack import postgres
from tallystack.measure import bare_service_rss_mib, sharing
from tallystack.stack import Ports, Stack
from tallystack.tokens import TokenMinter

HERE = Path(__file__).parent
RESULTS = HERE / "results"
FIXTURES = HERE.parent / "services" / "ledger" / "tests"
GOAL_MIB = 300.0
UPLOAD_LIMIT_MB = 200.0  # an app export's (history_api.MAX_UPLOAD_BYTES, in MB as the table's sizes)
START = date(2016, 1, 1)
DAYS = 10 * 365  # the rows spread over ten years
PAYEES = ["FreshMart", "City Power", "Metro Transit", "Telco", "MegaStore", "Landlord Ltd", "Shell",
          "Bäckerei Müller", "Café Central", "Spotify", "Amazon", "Apotheke am Markt", "Zalando SE",
          "Deutsche Bahn AG", "IKEA", "Netflix", "Dr. Weiß Zahnarzt", "Stadtwerke München", "dm-drogerie"]
MEMOS = ["", "weekly shop", "invoice 2291", "card payment", "Kundenkonto 55001234 Rechnung",
         "thank you for your order", "monthly plan", "refund of order 88213", "SEPA direct debit"]


# --- the files -----------------------------------------------------------------------------------

class Rows:
    """Random but realistic rows, the same for a seed: a day, an amount in minor units (spending mostly,
    a salary now and then), a payee and a memo."""

    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)
        self.n = 0

    def next(self, total_hint: int = 200_000) -> tuple[date, int, str, str]:
        self.n += 1
        day = START + timedelta(days=min(DAYS - 1, self.n * DAYS // total_hint))
        if self.rnd.random() < 0.03:
            return day, self.rnd.randint(250_000, 450_000), "Muster Maschinenbau AG", f"Gehalt {day:%m/%Y}"
        payee = self.rnd.choice(PAYEES)
        memo = self.rnd.choice(MEMOS)
        return day, -self.rnd.randint(50, 25_000), payee, f"{memo} {self.n}".strip()


def _decimal(minor: int) -> str:
    sign = "-" if minor < 0 else ""
    return f"{sign}{abs(minor) // 100}.{abs(minor) % 100:02d}"


def _until(out: TextIO | Any, target: int) -> bool:
    return bool(out.tell() < target)


def make_csv(path: Path, target: int) -> None:
    """A German bank's export: a preamble, semicolons, dd.mm.yyyy, decimal comma (as ledger_import.py)."""
    rows = Rows(1)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write('"Kontonummer:";"DE12 1203 0000 1234 5678 90 / Girokonto";\r\n\r\n'
                  '"Buchungstag";"Wertstellung";"Buchungstext";"Auftraggeber / Begünstigter";'
                  '"Verwendungszweck";"Betrag (EUR)";\r\n')
        while out.tell() < target:
            day, minor, payee, memo = rows.next(target // 110)
            amount = _decimal(minor).replace(".", ",")
            kind = "Gutschrift" if minor > 0 else "Lastschrift"
            out.write(f'"{day:%d.%m.%Y}";"{day:%d.%m.%Y}";"{kind}";"{payee}";"{memo}";"{amount}";\r\n')


def make_ofx(path: Path, target: int) -> None:
    """OFX 2.2 (XML) of a checking account, as bankofamerica_visa_2025-02_ofx2.ofx writes it."""
    rows = Rows(2)
    balance = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
                  '<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" '
                  'NEWFILEUID="NONE"?>\n'
                  "<OFX>\n<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>"
                  "<DTSERVER>20260101101500.000[-5:EST]</DTSERVER><LANGUAGE>ENG</LANGUAGE></SONRS>"
                  "</SIGNONMSGSRSV1>\n<BANKMSGSRSV1><STMTTRNRS><TRNUID>1</TRNUID><STATUS><CODE>0</CODE>"
                  "<SEVERITY>INFO</SEVERITY></STATUS>\n<STMTRS><CURDEF>USD</CURDEF><BANKACCTFROM>"
                  "<BANKID>121000248</BANKID><ACCTID>1234567890</ACCTID><ACCTTYPE>CHECKING</ACCTTYPE>"
                  f"</BANKACCTFROM>\n<BANKTRANLIST><DTSTART>{START:%Y%m%d}</DTSTART>"
                  f"<DTEND>{START + timedelta(days=DAYS):%Y%m%d}</DTEND>\n")
        while out.tell() < target:
            day, minor, payee, memo = rows.next(target // 190)
            balance += minor
            kind = "CREDIT" if minor > 0 else "DEBIT"
            out.write(f"<STMTTRN><TRNTYPE>{kind}</TRNTYPE><DTPOSTED>{day:%Y%m%d}000000</DTPOSTED>"
                      f"<TRNAMT>{_decimal(minor)}</TRNAMT><FITID>{rows.n:012d}</FITID><NAME>{payee}</NAME>"
                      f"<MEMO>{memo}</MEMO></STMTTRN>\n")
        out.write(f"</BANKTRANLIST>\n<LEDGERBAL><BALAMT>{_decimal(balance)}</BALAMT>"
                  f"<DTASOF>{START + timedelta(days=DAYS):%Y%m%d}</DTASOF></LEDGERBAL>\n"
                  "</STMTRS></STMTTRNRS></BANKMSGSRSV1>\n</OFX>\n")


def make_qif(path: Path, target: int) -> None:
    """Quicken's bank QIF, US dates (as quicken_checking_2025-01_us.qif)."""
    rows = Rows(3)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("!Type:Bank\n")
        while out.tell() < target:
            day, minor, payee, memo = rows.next(target // 60)
            out.write(f"D{day.month}/{day.day}/{day.year}\nT{_decimal(minor)}\nC*\nN{rows.n}\nP{payee}\n"
                      f"M{memo}\n^\n")


def make_camt(path: Path, target: int) -> None:
    """A CAMT.053.001.08 statement, entries as sparkasse_camt053_2025-01.xml writes them."""
    rows = Rows(4)
    balance = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:'
                  'camt.053.001.08">\n<BkToCstmrStmt><GrpHdr><MsgId>STMT-1</MsgId><CreDtTm>'
                  "2026-01-01T06:12:44+01:00</CreDtTm></GrpHdr>\n<Stmt><Id>DE89370400440532013000-1</Id>"
                  "<CreDtTm>2026-01-01T06:12:44+01:00</CreDtTm><Acct><Id><IBAN>DE89370400440532013000</IBAN>"
                  "</Id><Ccy>EUR</Ccy><Ownr><Nm>Erika Mustermann</Nm></Ownr></Acct>\n"
                  '<Bal><Tp><CdOrPrtry><Cd>PRCD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt>'
                  f"<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{START - timedelta(days=1)}</Dt></Dt></Bal>\n")
        while out.tell() < target:
            day, minor, payee, memo = rows.next(target // 900)
            balance += minor
            side, party = ("CRDT", "Dbtr") if minor > 0 else ("DBIT", "Cdtr")
            out.write(f'<Ntry><NtryRef>{rows.n}</NtryRef><Amt Ccy="EUR">{_decimal(abs(minor))}</Amt>'
                      f"<CdtDbtInd>{side}</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>{day}</Dt></BookgDt>"
                      f"<ValDt><Dt>{day}</Dt></ValDt><AcctSvcrRef>{rows.n:016d}SPK</AcctSvcrRef>"
                      "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>IDDT</Cd><SubFmlyCd>ESDD</SubFmlyCd></Fmly>"
                      "</Domn></BkTxCd>\n<NtryDtls><TxDtls><Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>"
                      f'<Amt Ccy="EUR">{_decimal(abs(minor))}</Amt><RltdPties><{party}><Nm>{payee}</Nm>'
                      f"</{party}><{party}Acct><Id><IBAN>DE02500105175412931672</IBAN></Id></{party}Acct>"
                      f"</RltdPties><RmtInf><Ustrd>{memo}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n")
        sign = "CRDT" if balance >= 0 else "DBIT"
        out.write('<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">'
                  f"{_decimal(abs(balance))}</Amt><CdtDbtInd>{sign}</CdtDbtInd>"
                  f"<Dt><Dt>{START + timedelta(days=DAYS)}</Dt></Dt></Bal>\n</Stmt></BkToCstmrStmt>\n"
                  "</Document>\n")


def make_mt940(path: Path, target: int) -> None:
    """SWIFT MT940, a message a month, as mt940_ing_nl_2025-04.mt940 writes them."""
    rows = Rows(5)
    balance = 150_000
    pending = rows.next(target // 170)
    number = 0
    with path.open("w", encoding="latin-1", newline="") as out:
        while out.tell() < target:
            number += 1
            month = (pending[0].year, pending[0].month)
            opening = balance
            out.write(f"{{1:F01INGBNL2ABXXX0000000000}}{{2:I940INGBNL2AXXXN}}{{4:\r\n:20:P{number:015d}\r\n"
                      f":25:NL20INGB0001234567EUR\r\n:28C:{number:05d}\r\n"
                      f":60F:{_mt_amount(opening, pending[0])}\r\n")
            while (pending[0].year, pending[0].month) == month and out.tell() < target:
                day, minor, payee, memo = pending
                balance += minor
                side = "C" if minor > 0 else "D"
                out.write(f":61:{day:%y%m%d}{side}{_decimal(abs(minor)).replace('.', ',')}NTRFNONREF//"
                          f"{rows.n:014d}\r\n")
                details = f"/EREF/NOTPROVIDED//CNTP/NL44RABO0123456789/RABONL2U/{payee}//REMI/USTD//{memo}/"
                lines = (details[i:i + 65] for i in range(0, len(details), 65))
                out.write(":86:" + "\r\n".join(lines) + "\r\n")
                pending = rows.next(target // 170)
            out.write(f":62F:{_mt_amount(balance, day)}\r\n-}}\r\n")


def _mt_amount(minor: int, day: date) -> str:
    return f"{'C' if minor >= 0 else 'D'}{day:%y%m%d}EUR{_decimal(abs(minor)).replace('.', ',')}"


YNAB_CATEGORIES = [("Everyday", "Groceries"), ("Everyday", "Transport"), ("Everyday", "Household"),
                   ("Bills", "Phone"), ("Bills", "Utilities"), ("Bills", "Rent"), ("Fun", "Dining")]
YNAB_ACCOUNTS = ["Checking", "Visa Card", "Savings"]


def make_ynab(path: Path, target: int) -> None:
    """YNAB's "Export budget data": a zip of the Register and the Plan (US layout, as household_us.zip);
    `target` is the Register's size as text (YNAB exports compress some tenfold)."""
    rows = Rows(6)
    stem = "Household as of 2026-01-02 09-15"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zipped:
        with zipped.open(f"{stem} - Register.csv", "w", force_zip64=True) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            out = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n")
            out.writerow(["Account", "Flag", "Date", "Payee", "Category Group/Category", "Category Group",
                          "Category", "Memo", "Outflow", "Inflow", "Cleared"])
            written = 0
            while written < target and rows.n < 990_000:
                day, minor, payee, memo = rows.next(target // 120)
                when = f"{day:%m/%d/%Y}"
                if rows.n % 40 == 0:  # a transfer: a row on either side
                    amount = f"${abs(minor) / 100:.2f}"
                    line = [["Checking", "", when, "Transfer : Savings", "", "", "", memo, amount, "$0.00",
                             "Cleared"],
                            ["Savings", "", when, "Transfer : Checking", "", "", "", memo, "$0.00", amount,
                             "Cleared"]]
                elif minor > 0:
                    line = [["Checking", "", when, payee, "Inflow: Ready to Assign", "Inflow",
                             "Ready to Assign", memo, "$0.00", f"${minor / 100:.2f}", "Reconciled"]]
                else:
                    group, category = YNAB_CATEGORIES[rows.n % len(YNAB_CATEGORIES)]
                    account = YNAB_ACCOUNTS[rows.n % 2]
                    line = [[account, "", when, payee, f"{group}: {category}", group, category, memo,
                             f"${-minor / 100:.2f}", "$0.00", "Uncleared"]]
                out.writerows(line)
                written += sum(len(",".join(cells)) + 20 for cells in line)
            text.flush()
            text.detach()
        plan = ['"Month","Category Group/Category","Category Group","Category","Assigned","Activity",'
                '"Available"']
        plan += [f'"Jan 2025","{g}: {c}","{g}","{c}",$100.00,$0.00,$100.00' for g, c in YNAB_CATEGORIES]
        zipped.writestr(f"{stem} - Plan.csv", "\n".join(plan) + "\n")


FIREFLY_ASSETS = [("Girokonto", "DE89370400440532013000"), ("Kreditkarte", ""),
                  ("Tagesgeld", "DE02120300000000202051")]


def make_firefly(path: Path, target: int) -> None:
    """Firefly III's export of all transactions (6.3 layout, as firefly_export.csv)."""
    with (FIXTURES / "histories" / "firefly" / "firefly_export.csv").open(encoding="utf-8") as fixture:
        header = next(csv.reader(fixture))
    rows = Rows(7)
    with path.open("w", encoding="utf-8", newline="") as text:
        out = csv.DictWriter(text, header, restval="", lineterminator="\n")
        out.writeheader()
        while text.tell() < target:
            day, minor, payee, memo = rows.next(target // 330)
            stamp = f"{day}T00:00:00+01:00"
            row = {"user_id": "1", "group_id": rows.n, "journal_id": rows.n, "created_at": stamp,
                   "updated_at": stamp, "currency_code": "EUR", "primary_currency_code": "EUR",
                   "description": memo or payee, "date": stamp, "notes": memo}
            source, source_iban = FIREFLY_ASSETS[rows.n % 2]
            if rows.n % 40 == 0:
                to, to_iban = FIREFLY_ASSETS[2]
                row |= {"type": "Transfer", "amount": _decimal(-minor if minor < 0 else minor),
                        "source_name": source, "source_iban": source_iban, "source_type": "Asset account",
                        "destination_name": to, "destination_iban": to_iban,
                        "destination_type": "Asset account"}
            elif minor > 0:
                row |= {"type": "Deposit", "amount": _decimal(minor), "source_name": payee,
                        "source_type": "Revenue account", "destination_name": "Girokonto",
                        "destination_iban": FIREFLY_ASSETS[0][1], "destination_type": "Asset account",
                        "category": "Gehalt"}
            else:
                row |= {"type": "Withdrawal", "amount": _decimal(minor), "source_name": source,
                        "source_iban": source_iban, "source_type": "Asset account", "destination_name": payee,
                        "destination_type": "Expense account",
                        "category": YNAB_CATEGORIES[rows.n % len(YNAB_CATEGORIES)][1],
                        "tags": "urlaub" if rows.n % 17 == 0 else ""}
            out.writerow(row)


def make_generic(path: Path, target: int) -> None:
    """Monarch Money's transactions export (as monarch_transactions.csv): the generic CSV reader."""
    rows = Rows(8)
    with path.open("w", encoding="utf-8", newline="") as text:
        out = csv.writer(text, lineterminator="\n")
        out.writerow(["Date", "Merchant", "Category", "Account", "Original Statement", "Notes", "Amount",
                      "Tags", "Owner"])
        while text.tell() < target:
            day, minor, payee, memo = rows.next(target // 90)
            if rows.n % 40 == 0:
                amount = _decimal(abs(minor))
                out.writerow([day, "Transfer to Savings", "Transfer", "Everyday Checking",
                              "TRANSFER TO SAVINGS", memo, f"-{amount}", "", "Shared"])
                out.writerow([day, "Transfer from Checking", "Transfer", "High-Yield Savings",
                              "TRANSFER FROM CHECKING", memo, amount, "", "Shared"])
                continue
            category = "Paychecks" if minor > 0 else YNAB_CATEGORIES[rows.n % len(YNAB_CATEGORIES)][1]
            account = "Everyday Checking" if minor > 0 or rows.n % 2 else "Sapphire Card"
            out.writerow([day, payee, category, account, payee.upper(), memo, _decimal(minor),
                          "vacation" if rows.n % 17 == 0 else "", "Shared"])


BEANCOUNT_EXPENSES = ["Food:Groceries", "Food:Dining", "Housing:Rent", "Housing:Electricity",
                      "Transport:Fuel", "Books", "Fees"]


def make_beancount(path: Path, target: int) -> None:
    """A Beancount ledger (as household.beancount): opens, then transactions of two postings each."""
    rows = Rows(9)
    opened = START - timedelta(days=1)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write('option "title" "The Bench Household"\noption "operating_currency" "EUR"\n\n')
        for account in ("Assets:Bank:Checking", "Assets:Bank:Savings", "Liabilities:CreditCard:Visa",
                        "Income:Salary", *(f"Expenses:{e}" for e in BEANCOUNT_EXPENSES)):
            out.write(f"{opened} open {account} EUR\n")
        while out.tell() < target:
            day, minor, payee, memo = rows.next(target // 130)
            if rows.n % 40 == 0:
                out.write(f'\n{day} * "Savings" "{memo}"\n  Assets:Bank:Checking  {_decimal(minor)} EUR\n'
                          "  Assets:Bank:Savings\n")
            elif minor > 0:
                out.write(f'\n{day} * "{payee}" "{memo}"\n  Assets:Bank:Checking  {_decimal(minor)} EUR\n'
                          "  Income:Salary\n")
            else:
                account = "Assets:Bank:Checking" if rows.n % 2 else "Liabilities:CreditCard:Visa"
                expense = BEANCOUNT_EXPENSES[rows.n % len(BEANCOUNT_EXPENSES)]
                tag = " #trip" if rows.n % 17 == 0 else ""
                out.write(f'\n{day} * "{payee}" "{memo}"{tag}\n  {account}  {_decimal(minor)} EUR\n'
                          f"  Expenses:{expense}\n")


def _two_split_templates(db: sqlite3.Connection) -> list[tuple[str, list[tuple[Any, ...]]]]:
    """The fixture book's transactions of two splits in its own currency (not the opening balances)."""
    found = []
    for guid, description in db.execute("SELECT guid, description FROM transactions "
                                        "WHERE description != 'Opening Balance' ORDER BY post_date"):
        splits = db.execute("SELECT account_guid, value_num, value_denom FROM splits WHERE tx_guid = ?",
                            (guid,)).fetchall()
        if len(splits) == 2 and all(s[1] != 0 for s in splits):
            found.append((description, splits))
    return found


def make_gnucash_sqlite(path: Path, target: int) -> None:
    """A GnuCash SQLite book: the fixture household.gnucash's accounts, its two-split transactions made
    again and again over ten years with new ids, dates, descriptions and amounts."""
    shutil.copyfile(FIXTURES / "histories" / "gnucash" / "household.gnucash", path)
    rows = Rows(10)
    db = sqlite3.connect(path)
    try:
        templates = _two_split_templates(db)
        currency = db.execute("SELECT currency_guid FROM transactions LIMIT 1").fetchone()[0]
        while path.stat().st_size < target:
            transactions, splits = [], []
            for _ in range(5_000):
                day, minor, payee, memo = rows.next(target // 330)
                _, template = templates[rows.n % len(templates)]
                guid = uuid.uuid4().hex
                posted = f"{day} 10:59:00"
                transactions.append((guid, currency, str(rows.n), posted, posted, payee))
                sign = 1 if template[0][1] > 0 else -1
                for (account, value, _denom), memo_ in zip(template, (memo, ""), strict=True):
                    amount = abs(minor) * sign * (1 if value == template[0][1] else -1)
                    splits.append((uuid.uuid4().hex, guid, account, memo_, "", "n", "1970-01-01 00:00:00",
                                   amount, 100, amount, 100, None))
            db.executemany("INSERT INTO transactions VALUES (?, ?, ?, ?, ?, ?)", transactions)
            db.executemany("INSERT INTO splits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", splits)
            db.commit()
    finally:
        db.close()


_XML_TRANSACTION = re.compile(r"<gnc:transaction .*?</gnc:transaction>\n", re.S)


def make_gnucash_xml(path: Path, target: int) -> None:
    """GnuCash's compressed XML book: the fixture household-xml.gnucash's transactions of two splits made
    again and again with new ids, dates, descriptions and amounts; `target` is the size of the XML (it
    compresses some tenfold)."""
    fixture = FIXTURES / "histories" / "gnucash" / "household-xml.gnucash"
    book = gzip.decompress(fixture.read_bytes()).decode()
    templates = [t for t in _XML_TRANSACTION.findall(book)
                 if t.count("<trn:split>") == 2 and "Opening Balance" not in t and "<trn:currency>" in t
                 and "<cmdty:id>EUR</cmdty:id>" in t.split("</trn:currency>")[0]]
    first = _XML_TRANSACTION.search(book)
    assert first is not None
    assert templates
    end = "</gnc:transaction>\n"
    head, tail = book[:first.start()], book[book.rindex(end) + len(end):]
    rows = Rows(11)
    written = 0
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=6) as out:
        out.write(re.sub(r'(<gnc:count-data cd:type="transaction">)\d+', r"\g<1>0", head))
        while written < target:
            day, minor, payee, _ = rows.next(target // 1800)
            template = templates[rows.n % len(templates)]
            values = re.findall(r"<split:value>(-?\d+)/(\d+)</split:value>", template)
            made = re.sub(r"<trn:id type=\"guid\">\w+</trn:id>",
                          f'<trn:id type="guid">{uuid.uuid4().hex}</trn:id>', template)
            made = re.sub(r"<split:id type=\"guid\">\w+</split:id>",
                          lambda _: f'<split:id type="guid">{uuid.uuid4().hex}</split:id>', made)
            made = re.sub(r"<ts:date>[^<]*</ts:date>", f"<ts:date>{day} 10:59:00 +0000</ts:date>", made)
            made = re.sub(r"<gdate>[^<]*</gdate>", f"<gdate>{day}</gdate>", made)
            made = re.sub(r"<trn:description>[^<]*</trn:description>",
                          f"<trn:description>{payee}</trn:description>", made)
            for (num, _), new in zip(values, (abs(minor), -abs(minor)), strict=True):
                signed = new if int(num) > 0 else -new
                made = made.replace(f"<split:value>{num}/", f"<split:value>{signed}/", 1)
                made = made.replace(f"<split:quantity>{num}/", f"<split:quantity>{signed}/", 1)
            out.write(made)
            written += len(made)
        out.write(tail)


STATEMENTS: dict[str, tuple[Callable[[Path, int], None], str, str]] = {
    # name: (maker, file name, the account's currency)
    "CSV": (make_csv, "umsaetze.csv", "EUR"),
    "OFX": (make_ofx, "checking.ofx", "USD"),
    "QIF": (make_qif, "checking.qif", "USD"),
    "CAMT.053": (make_camt, "camt053.xml", "EUR"),
    "MT940": (make_mt940, "statement.sta", "EUR"),
}
APPS: dict[str, tuple[Callable[[Path, int], None], str, str]] = {
    # name: (maker, file name, the currency its amounts are in)
    "YNAB": (make_ynab, "YNAB Export - Household.zip", "USD"),
    "Firefly III": (make_firefly, "firefly_export.csv", "EUR"),
    "GnuCash SQLite": (make_gnucash_sqlite, "household.gnucash", "EUR"),
    "GnuCash XML": (make_gnucash_xml, "household-xml.gnucash", "EUR"),
    "Beancount": (make_beancount, "household.beancount", "EUR"),
    "generic CSV": (make_generic, "transactions.csv", "USD"),
}


# --- the ledger alone ----------------------------------------------------------------------------

class _Jwks(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_: Any) -> None:
        pass


@contextmanager
def ledger_alone(folder: Path, minter: TokenMinter) -> Iterator[Stack]:
    """PostgreSQL and the broker for the ledger, with this process's JWKS where auth's would be."""
    stack = Stack(folder, Ports.free(), progress=lambda line: print(line, flush=True))
    stack.logs.mkdir(parents=True, exist_ok=True)
    _Jwks.body = json.dumps(minter.jwks).encode()
    jwks = ThreadingHTTPServer(("127.0.0.1", stack.ports.services["auth"]), _Jwks)
    threading.Thread(target=jwks.serve_forever, daemon=True).start()
    try:
        stack.admin_url = postgres.start_embedded(folder / "postgres", stop_at_exit=False)
        stack.start_broker()
        yield stack
    finally:
        stack.stop()
        jwks.shutdown()


def fresh_ledger(stack: Stack) -> int:
    """A new ledger process on a new database, ready; its pid. What an import before left (its events to
    publish, the categoriser's model of its rows) is then not measured with the next."""
    stack.stop_service("ledger")
    asyncio.run(_new_database(stack.admin_url))
    with (stack.logs / "ledger.log").open("ab") as log:
        subprocess.run([sys.executable, "-m", "tally_ledger", "migrate"], env=stack.env("ledger"),
                       stdout=subprocess.DEVNULL, stderr=log, check=True)
    stack.start_service("ledger")
    stack.wait_ready(names=["ledger"])
    time.sleep(2)  # its consumers and relay settle after /readyz
    return stack.processes["ledger"].pid


async def _new_database(admin_url: str) -> None:
    await postgres.drop_database(admin_url, "tally_ledger")
    await postgres.create_database(admin_url, "tally_ledger")


# --- measuring -----------------------------------------------------------------------------------

def _wait(client: httpx.Client, url: str, headers: dict[str, str], busy: str,
          limit_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + limit_s
    while True:
        found: dict[str, Any] = client.get(url, headers=headers).raise_for_status().json()
        if found["status"] != busy or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def measure_statement(stack: Stack, minter: TokenMinter, name: str, path: Path,
                      limit_s: float) -> dict[str, Any]:
    _, filename, currency = STATEMENTS[name]
    pid = fresh_ledger(stack)
    headers = minter.headers(uuid.uuid4(), uuid.uuid4())
    result: dict[str, Any] = {"kind": "statement", "format": name, "file_bytes": path.stat().st_size,
                              "imported": True}
    with httpx.Client(base_url=stack.service_url("ledger"), timeout=3600) as client:
        account = client.post("/accounts", json={"name": name, "kind": "checking", "currency": currency},
                              headers=headers).raise_for_status().json()["id"]
        with MemoryWatch(pid) as memory:
            started = time.perf_counter()
            with path.open("rb") as file:
                uploaded = client.post("/imports", files={"file": (filename, file)},
                                       data={"account_id": account}, headers=headers)
            if uploaded.status_code != 201:
                raise RuntimeError(f"{name}: {uploaded.status_code} {uploaded.text[:500]}")
            preview = uploaded.json()
            if preview["problem"] is not None:
                raise RuntimeError(f"{name}: {preview['problem']}")
            result["rows"] = preview["rows_total"]
            result["preview_s"] = time.perf_counter() - started
            result["after_preview_mib"] = memory.current_mib()
            batch_id = preview["batch"]["id"]
            client.post(f"/imports/{batch_id}/confirm", json={}, headers=headers).raise_for_status()
            batch = _wait(client, f"/imports/{batch_id}", headers, "importing", limit_s)
            result["import_s"] = time.perf_counter() - started
            result["status"] = batch["status"]
            result["rows_done"] = batch["rows_done"]
    result["memory"] = memory.summary()
    return result


def measure_app(stack: Stack, minter: TokenMinter, name: str, path: Path, write: bool,
                limit_s: float) -> dict[str, Any]:
    _, filename, currency = APPS[name]
    pid = fresh_ledger(stack)
    headers = minter.headers(uuid.uuid4(), uuid.uuid4())
    result: dict[str, Any] = {"kind": "app", "format": name, "file_bytes": path.stat().st_size,
                              "imported": write}
    if name == "YNAB":
        with zipfile.ZipFile(path) as zipped:
            result["inflated_bytes"] = sum(info.file_size for info in zipped.infolist())
    elif name == "GnuCash XML":
        with gzip.open(path) as inflated:
            result["inflated_bytes"] = sum(len(chunk) for chunk in iter(lambda: inflated.read(2**20), b""))
    with httpx.Client(base_url=stack.service_url("ledger"), timeout=3600) as client:

        def post(dry_run: bool) -> dict[str, Any]:
            with path.open("rb") as file:
                answer = client.post("/histories", files={"file": (filename, file)},
                                     data={"currency": currency, "dry_run": str(dry_run).lower()},
                                     headers=headers)
            if answer.status_code not in (201, 202):
                raise RuntimeError(f"{name}: {answer.status_code} {answer.text[:500]}")
            found: dict[str, Any] = answer.json()
            return found

        with MemoryWatch(pid) as memory:
            started = time.perf_counter()
            found = post(True)["found"]
            result["entries"] = found["transactions"]
            result["preview_s"] = time.perf_counter() - started
            result["after_preview_mib"] = memory.current_mib()
            if write:
                migration = post(False)["migration"]
                done = _wait(client, f"/histories/{migration['id']}", headers, "importing", limit_s)
                result["import_s"] = time.perf_counter() - started
                result["status"] = done["status"]
    result["memory"] = memory.summary()
    return result


def _cases(args: argparse.Namespace) -> list[tuple[str, str, int, bool]]:
    """(kind, format, target bytes, whether imported) in the order run."""
    wanted = set(args.only or [*STATEMENTS, *APPS])
    cases = [("statement", name, int(args.statement_mb * 1e6), True) for name in STATEMENTS if name in wanted]
    for name in APPS:
        if name in wanted:
            cases.append(("app", name, int(args.import_mb * 1e6), True))
            cases += [("app", name, int(mb * 1e6), False) for mb in args.app_mb]
    return cases


def run(args: argparse.Namespace) -> dict[str, Any]:
    minter = TokenMinter()
    result: dict[str, Any] = {"load_before": os.getloadavg()[0], "bare_mib": bare_service_rss_mib(),
                              "runs": [], "commit": _commit(), "python": platform.python_version(),
                              "pythonpath": os.environ.get("PYTHONPATH", "")}
    with tempfile.TemporaryDirectory(prefix="tally-bench-memory-") as folder:
        files = Path(folder) / "files"
        files.mkdir()
        with ledger_alone(Path(folder) / "stack", minter) as stack:
            for kind, name, target, write in _cases(args):
                maker, filename, _ = (STATEMENTS if kind == "statement" else APPS)[name]
                path = files / f"{target}-{filename}"
                print(f"{name}: making {target / 1e6:.0f} MB ...", flush=True)
                maker(path, target)
                doing = "importing" if write else "dry run"
                print(f"  {path.stat().st_size / 1e6:.1f} MB; {doing} ...", flush=True)
                try:
                    if kind == "statement":
                        measured = measure_statement(stack, minter, name, path, args.limit_s)
                    else:
                        measured = measure_app(stack, minter, name, path, write, args.limit_s)
                except (RuntimeError, httpx.HTTPError) as exc:
                    measured = {"kind": kind, "format": name, "file_bytes": path.stat().st_size,
                                "imported": write, "error": str(exc)[:500]}
                finally:
                    path.unlink()
                print("  " + _line(measured), flush=True)
                result["runs"].append(measured)
    result["load_after"] = os.getloadavg()[0]
    return result


def _commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=HERE, capture_output=True, text=True,  # noqa: S607
                              check=False).stdout.strip()

    dirty = " with uncommitted changes" if git("status", "--porcelain") else ""
    return git("rev-parse", "--short", "HEAD") + dirty


# --- the report ----------------------------------------------------------------------------------

def _line(run: dict[str, Any]) -> str:
    if "error" in run:
        return f"failed: {run['error']}"
    memory = run["memory"]
    read = "preview" if run["kind"] == "statement" else "dry run"
    return (f"before {memory['before_mib']:.0f} MiB, after the {read} {run['after_preview_mib']:.0f}, "
            f"peak {memory['peak_mib']:.0f}, after {memory['after_mib']:.0f}")


def _row(run: dict[str, Any]) -> str:
    size = f"{run['file_bytes'] / 1e6:.1f} MB"
    if run.get("inflated_bytes"):
        size += f" ({run['inflated_bytes'] / 1e6:.0f} MB inflated)"
    what = "preview + import" if run["kind"] == "statement" else \
        "dry run + import" if run["imported"] else "dry run"
    if "error" in run:
        return f"| {run['format']} | {size} | | {what} | | | | | | failed: {run['error'][:200]} |"
    memory = run["memory"]
    count = run.get("rows", run.get("entries", 0))
    seconds = run.get("import_s", run["preview_s"])
    status = run.get("status", "")
    peak = memory["peak_mib"]
    verdict = "" if peak < GOAL_MIB else " over"
    return (f"| {run['format']} | {size} | {count:,} | {what} | {seconds:.0f} | {memory['before_mib']:.0f} "
            f"| {run['after_preview_mib']:.0f} | **{peak:.0f}**{verdict} | {memory['after_mib']:.0f} "
            f"| {status} |")


def _code_from(result: dict[str, Any]) -> str:
    """Where the ledger's code came from when not from the checkout (an earlier commit's, to compare)."""
    return f" (the ledger's code from PYTHONPATH={result['pythonpath']})" if result.get("pythonpath") else ""


def report(result: dict[str, Any]) -> str:
    lines = [
        f"# Ledger memory while importing large files ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)",
        "",
        f"The ledger alone as `make up` runs it (`python -m tally_ledger serve` on embedded PostgreSQL and "
        f"the local broker), a fresh process for every file; the file sent straight to it as the web client "
        f"sends it. On {platform.machine()} ({os.cpu_count()} cores, load average "
        f"{result['load_before']:.1f} before and {result['load_after']:.1f} after: "
        f"{sharing(max(result['load_before'], result['load_after']))}), Python {result['python']}, commit "
        f"{result['commit']}{_code_from(result)}. Resident memory of the ledger process (VmRSS sampled "
        "every 50 ms; the peak is the kernel's VmHWM, reset before the upload): before the upload, after "
        "the preview or dry run, the peak over the preview or dry run and the import, after. A bare Python "
        f"process importing fastapi, sqlalchemy and aiokafka: {result['bare_mib']:.0f} MiB. Goal (issue "
        f"#17): a peak under {GOAL_MIB:.0f} MiB that does not grow with the file.",
        "",
        "| format | file | rows / entries | what | s | before MiB | after the preview MiB | peak MiB "
        "| after MiB | status |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---|",
        *(_row(run) for run in result["runs"]),
    ]
    slopes = _slopes(result["runs"])
    if slopes:
        lines += [
            "",
            "How the dry run's peak grows with the file, between its smallest and largest size here (the "
            "file as read: inflated, of YNAB's zip and GnuCash's gzip), and where that line reaches "
            f"{UPLOAD_LIMIT_MB:.0f} MB:",
            "",
            f"| format | sizes MB | peaks MiB | MiB per MB | peak at {UPLOAD_LIMIT_MB:.0f} MB on that line |",
            "|---|---|---|---:|---:|",
            *slopes,
        ]
    return "\n".join(lines) + "\n"


def _slopes(runs: list[dict[str, Any]]) -> list[str]:
    lines = []
    for name in APPS:
        dry = sorted((_megabytes(r), r["memory"]["peak_mib"]) for r in runs
                     if r["format"] == name and not r["imported"] and "error" not in r)
        if len(dry) < 2 or dry[-1][0] == dry[0][0]:
            continue
        (small, low), (large, high) = dry[0], dry[-1]
        slope = (high - low) / (large - small)
        reach = low + slope * (UPLOAD_LIMIT_MB - small)
        lines.append(f"| {name} | {small:.0f} → {large:.0f} | {low:.0f} → {high:.0f} | {slope:.1f} "
                     f"| {reach:,.0f} |")
    return lines


def _megabytes(run: dict[str, Any]) -> float:
    return float(run.get("inflated_bytes") or run["file_bytes"]) / 1e6


def _stopped(*_: object) -> None:
    raise SystemExit("stopped")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", choices=[*STATEMENTS, *APPS], metavar="FORMAT",
                        help=f"only these formats ({', '.join([*STATEMENTS, *APPS])})")
    parser.add_argument("--statement-mb", type=float, default=25.0)
    parser.add_argument("--app-mb", type=float, nargs="*", default=[50.0, 200.0],
                        help="sizes of the app exports read in a dry run")
    parser.add_argument("--import-mb", type=float, default=4.0, help="the size of the app exports imported")
    parser.add_argument("--limit-s", type=float, default=900.0, help="how long an import is waited for")
    parser.add_argument("--out", default="import_memory", help="the name of the results under bench/results")
    parser.add_argument("--report-only", action="store_true", help="write the report of the saved results")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, _stopped)  # the stack is stopped on the way out (a finally) when killed
    saved = RESULTS / f"{args.out}.json"
    result = json.loads(saved.read_text()) if args.report_only else run(args)
    text = report(result)
    print()
    print(text)
    RESULTS.mkdir(exist_ok=True)
    saved.write_text(json.dumps(result, indent=2, default=str) + "\n")
    (RESULTS / f"{args.out}.md").write_text(text)


if __name__ == "__main__":
    main()
