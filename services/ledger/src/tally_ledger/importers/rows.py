"""What every statement parser returns: normalised rows, or an error that says where the file is wrong."""

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class SourceAccount:
    """The account a statement names for its rows, as the bank writes it. Remembered on the Tally account
    the rows went into, so the next statement of that account finds it."""

    key: str  # stable identity: "iban:DE89…", "ofx:<BANKID>/<ACCTID>", "qif:<name>", "mt940:<:25: value>"
    name: str = ""  # what to call a Tally account opened for it
    currency: str | None = None
    kind: str | None = None  # "checking", "savings", "credit_card", "cash", when the file says


@dataclass(frozen=True)
class SplitRow:
    """One part of a split row (QIF S/$/E lines): signed like its row."""

    amount_minor: int
    category: str = ""
    memo: str = ""


@dataclass(frozen=True)
class StatementRow:
    """One booked line of a bank statement. `amount_minor` is signed: negative means money went out.

    `payee` is who the bank says was paid or paid in, and only that: a row with only a memo has an empty
    payee and the memo as `description` (rules and the categoriser read both)."""

    where: str  # "line 12", "STMTTRN 3", "Ntry 7": where the row is in the file, for messages
    booked_on: date
    amount_minor: int
    payee: str = ""
    description: str = ""
    bank_id: str | None = None  # the bank's own id of the transaction (OFX FITID, CAMT AcctSvcrRef, ...)
    currency: str | None = None
    account: SourceAccount | None = None  # for files that name it (all but CSV), several in one file
    category: str = ""  # as the file names it ("Food:Groceries"), where it has one (QIF L)
    transfer_account: str = ""  # the other account of a transfer, as the file names it (QIF L[Savings])
    splits: tuple[SplitRow, ...] = ()  # parts adding up to `amount_minor`, when the file splits the row


class StatementError(ValueError):
    """The file cannot be read as a statement; `where` names the line or element at fault."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem
