"""Exchange rates, in plain Python: the rate of a day, conversion of minor units, and CSV of rates.

A rate says 1 `base` = `rate` `quote` on a day. The rate of a day is the latest one entered on or
before it (rates are not published on weekends); the inverse pair serves when only it is known.
Conversions go through Decimal and round half to even once, at the end, to the target's minor unit.
"""

import csv
import io
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from tallykit.money import minor_unit_digits

MAX_RATE_ROWS = 100_000
MAX_RATE = Decimal("1e12")


class RateError(ValueError):
    def __init__(self, message: str, where: str | None = None) -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where


@dataclass(frozen=True)
class Rate:
    on: date
    base: str
    quote: str
    rate: Decimal

    def __post_init__(self) -> None:
        if self.base == self.quote:
            raise RateError(f"a rate needs two currencies, not {self.base} twice")
        if not (Decimal(0) < self.rate < MAX_RATE):
            raise RateError(f"the rate {self.rate} is not a positive number")


class RateTable:
    """Rates by currency pair, each pair's days in order."""

    def __init__(self, rates: Iterable[Rate]) -> None:
        by_pair: dict[tuple[str, str], dict[date, Decimal]] = defaultdict(dict)
        for rate in rates:
            by_pair[(rate.base, rate.quote)][rate.on] = rate.rate
        self._days = {pair: sorted(days) for pair, days in by_pair.items()}
        self._rates = by_pair

    def _latest(self, pair: tuple[str, str], day: date) -> tuple[date, Decimal] | None:
        days = self._days.get(pair)
        if not days:
            return None
        index = bisect_right(days, day)
        return (days[index - 1], self._rates[pair][days[index - 1]]) if index else None

    def rate(self, base: str, quote: str, day: date) -> Decimal | None:
        """How many `quote` one `base` was worth on a day (the latest rate by then, direct or inverse)."""
        if base == quote:
            return Decimal(1)
        direct, inverse = self._latest((base, quote), day), self._latest((quote, base), day)
        if direct and (not inverse or direct[0] >= inverse[0]):
            return direct[1]
        if inverse:
            return Decimal(1) / inverse[1]
        return None

    def convert(self, amount_minor: int, base: str, quote: str, day: date) -> int | None:
        """An amount in `base` minor units, in `quote` minor units at the rate of the day (None: no rate)."""
        rate = self.rate(base, quote, day)
        if rate is None:
            return None
        return convert(amount_minor, base, quote, rate)


def convert(amount_minor: int, base: str, quote: str, rate: Decimal) -> int:
    scale = Decimal(10) ** (minor_unit_digits(quote) - minor_unit_digits(base))
    return int((Decimal(amount_minor) * rate * scale).to_integral_value(rounding=ROUND_HALF_EVEN))


def parse_number(text: str) -> Decimal:
    """A rate as people write it: 1.0842, 1,0842, 1 084.2 (a comma alone is a decimal comma)."""
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "").replace("'", "")
    # Both marks: the comma groups thousands; a comma alone is a decimal comma.
    cleaned = cleaned.replace(",", "") if "," in cleaned and "." in cleaned else cleaned.replace(",", ".")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise RateError(f"{text!r} is not a number") from exc
    if not value.is_finite():
        raise RateError(f"{text!r} is not a number")
    return value


_COLUMNS = {
    "date": ("date", "day", "on"),
    "base": ("base", "from", "currency"),
    "quote": ("quote", "to", "counter"),
    "rate": ("rate", "value", "price"),
}


def parse_csv(content: bytes) -> list[Rate]:
    """Rates from a CSV with a header naming date, base (from), quote (to) and rate columns; comma,
    semicolon or tab separated; UTF-8 (with or without BOM). A bad line fails the whole file, named."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RateError("the file is not UTF-8 text") from exc
    lines = text.splitlines()
    if not lines:
        raise RateError("the file is empty")
    delimiter = max((",", ";", "\t"), key=lines[0].count)
    try:  # newline="" lets the reader see a lone \r as the line end it is, as the statement import does
        table = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise RateError(f"not readable as CSV: {exc}") from exc
    header = [h.strip().lower() for h in table[0]]
    positions = {}
    for column, names in _COLUMNS.items():
        found = next((header.index(n) for n in names if n in header), None)
        if found is None:
            raise RateError(f"no {column} column (looked for {', '.join(names)})", "line 1")
        positions[column] = found
    rates: list[Rate] = []
    for number, row in enumerate(table[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        where = f"line {number}"
        if len(rates) >= MAX_RATE_ROWS:
            raise RateError(f"at most {MAX_RATE_ROWS} rates per file", where)
        try:
            cells = {c: row[i].strip() for c, i in positions.items()}
        except IndexError:
            raise RateError("too few columns", where) from None
        try:
            on = date.fromisoformat(cells["date"])
        except ValueError:
            raise RateError(f"{cells['date']!r} is not a date (YYYY-MM-DD)", where) from None
        base, quote = cells["base"].upper(), cells["quote"].upper()
        for code in (base, quote):
            try:
                minor_unit_digits(code)
            except ValueError:
                raise RateError(f"{code!r} is not an ISO 4217 currency code", where) from None
        try:
            rates.append(Rate(on, base, quote, parse_number(cells["rate"])))
        except RateError as exc:
            raise RateError(str(exc), where) from None
    if not rates:
        raise RateError("the file holds no rates")
    return rates
