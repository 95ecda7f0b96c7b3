"""The bank's closing balance a statement carries (OFX LEDGERBAL, CAMT CLBD, MT940 :62F:) and the import
preview's check against it: what Tally's balance will be at the end of that day once the new rows are
recorded, and the difference, which is zero when the rows and the account's opening balance add up."""

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from tally_ledger.importers import StatementFormat
from tally_ledger.importers.balances import ClosingBalance
from tally_ledger.statement_check import closing_balances

from .ledger_helpers import open_account

STATEMENTS = Path(__file__).parent / "statements"


def _read(name: str, statement_format: StatementFormat) -> list[ClosingBalance]:
    return closing_balances(statement_format, (STATEMENTS / name).read_bytes())


def test_each_format_gives_the_latest_closing_balance_per_account() -> None:
    assert _read("ofx_creditcard.qfx", StatementFormat.ofx) == [
        ClosingBalance("ofx:cc/4266841234567890", date(2025, 3, 31), -193_477, "USD")]  # owed: negative
    assert _read("camt053_v04_batches.xml", StatementFormat.camt053) == [
        ClosingBalance("acct:000778812", date(2025, 3, 6), 2_644_000, "USD")]
    assert _read("mt940_ing_nl_2025-04.mt940", StatementFormat.mt940) == [
        ClosingBalance("iban:NL20INGB0001234567", date(2025, 4, 30), 271_235, "EUR")]
    # One statement a day for one account and one for another: each account's last.
    daily = _read("mt940_sparkasse_2025-03_latin1.sta", StatementFormat.mt940)
    assert [(b.account_key, b.on) for b in daily] == [
        ("mt940:37040044/0532013000", date(2025, 3, 4)), ("iban:DE62370400440532013001", date(2025, 3, 31))]
    # No balance in the file (a camt.054 notification, a CSV): nothing to check against.
    assert _read("camt054_v08_notification.xml", StatementFormat.camt054) == []
    assert _read("chase_checking_2025-02_utf8.csv", StatementFormat.csv) == []


async def _preview_check(ledger: httpx.AsyncClient, home: Any, opening: int) -> dict[str, Any]:
    account = await open_account(ledger, home.headers, "USD", name=f"Checking {opening}",
                                 opening_balance_minor=opening)
    name = "wellsfargo_checking_2025-01_ofx1.qfx"
    uploaded = await ledger.post("/imports", files={"file": (name, (STATEMENTS / name).read_bytes())},
                                 data={"account_id": account["id"]}, headers=home.headers)
    assert uploaded.status_code == 201, uploaded.text
    preview = uploaded.json()
    [check] = preview["balance_checks"]
    assert (check["account_id"], check["on"], check["bank_balance_minor"]) == (account["id"], "2025-01-31",
                                                                                 812_345)
    # The file goes on past its balance's day: those rows do not count towards it.
    rows = sum(r["amount_minor"] for r in preview["rows"] if r["booked_on"] <= "2025-01-31")
    assert any(r["booked_on"] > "2025-01-31" for r in preview["rows"])
    assert preview["rows_total"] == len(preview["rows"])
    assert check["tally_balance_minor"] == opening + rows
    assert check["difference_minor"] == 812_345 - opening - rows
    return dict(check)


async def test_the_preview_warns_when_the_rows_do_not_add_up_to_the_banks_balance(
    ledger: httpx.AsyncClient, household: Callable[[], Any]
) -> None:
    home = household()
    off = await _preview_check(ledger, home, 0)
    assert off["difference_minor"] != 0
    # With the opening balance the bank's statement implies, the import agrees with the bank.
    assert (await _preview_check(ledger, home, off["difference_minor"]))["difference_minor"] == 0
