"""What every statement parser returns: normalised rows, or an error that says where the file is wrong."""

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class StatementRow:
    """One booked line of a bank statement. `amount_minor` is signed: negative means money went out."""

    where: str  # "line 12", "STMTTRN 3", "Ntry 7": where the row is in the file, for messages
    booked_on: date
    amount_minor: int
    payee: str = ""
    description: str = ""
    bank_id: str | None = None  # the bank's own id of the transaction (OFX FITID, CAMT AcctSvcrRef, ...)
    currency: str | None = None


class StatementError(ValueError):
    """The file cannot be read as a statement; `where` names the line or element at fault."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem
