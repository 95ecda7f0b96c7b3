"""Money is an integer amount in minor units plus an ISO 4217 currency code. Never a float."""

from typing import Annotated

from babel.numbers import get_currency_precision, list_currencies
from pydantic import AfterValidator, BaseModel, ConfigDict, StrictInt

_KNOWN_CURRENCIES = frozenset(list_currencies())
# Amounts beyond this are certainly typos and would overflow a PostgreSQL bigint when summed.
MAX_MINOR_UNITS = 10**15


def _check_currency(code: str) -> str:
    if code not in _KNOWN_CURRENCIES:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


def _check_amount(amount: int) -> int:
    if abs(amount) > MAX_MINOR_UNITS:
        raise ValueError(f"amount must be within ±{MAX_MINOR_UNITS} minor units")
    return amount


CurrencyCode = Annotated[str, AfterValidator(_check_currency)]
MinorUnits = Annotated[StrictInt, AfterValidator(_check_amount)]


def minor_unit_digits(currency: str) -> int:
    """How many decimal digits a currency's minor unit has (EUR 2, JPY 0, KWD 3)."""
    return int(get_currency_precision(_check_currency(currency)))


class Money(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    amount_minor: MinorUnits
    currency: CurrencyCode

    def __add__(self, other: "Money") -> "Money":
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(amount_minor=self.amount_minor + other.amount_minor, currency=self.currency)

    def format(self) -> str:
        digits = minor_unit_digits(self.currency)
        sign = "-" if self.amount_minor < 0 else ""
        whole, frac = divmod(abs(self.amount_minor), 10**digits)
        body = f"{whole}.{frac:0{digits}d}" if digits else str(whole)
        return f"{sign}{body} {self.currency}"
