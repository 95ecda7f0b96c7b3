"""The bank's own closing balance, where a statement carries one: OFX `LEDGERBAL`, CAMT `Bal` of type
`CLBD` (closing booked), MT940 `:62F:` (else `:62M:`). With it an import can check that the rows it records
bring Tally's balance to the bank's. Each parser exposes `closing_balances(data)`; a file of several
statements (one per day, or several accounts) gives the latest balance of each account."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tally_ledger.importers.values import decimal_to_minor
from tallykit.money import minor_unit_digits


@dataclass(frozen=True)
class ClosingBalance:
    account_key: str | None  # the SourceAccount key of the rows it is the balance of (None: not named)
    on: date  # at the end of this day
    amount_minor: int  # signed: negative is owed (an overdraft, a credit card's debt)
    currency: str | None


def minor(amount: Decimal, currency: str | None, where: str) -> int:
    """The amount in minor units of its currency (two decimals when the currency is unknown)."""
    try:
        digits = minor_unit_digits(currency.upper()) if currency else 2
    except ValueError:
        digits = 2
    return decimal_to_minor(amount, digits=digits, where=where)


def latest(balances: Iterable[ClosingBalance]) -> list[ClosingBalance]:
    """Per account the balance of the latest day (the later one in the file on the same day)."""
    found: dict[str | None, ClosingBalance] = {}
    for balance in balances:
        kept = found.get(balance.account_key)
        if kept is None or balance.on >= kept.on:
            found[balance.account_key] = balance
    return list(found.values())
