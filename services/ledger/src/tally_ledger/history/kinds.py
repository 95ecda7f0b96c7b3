"""Whether a category is income or spending, for sources whose categories do not say (Firefly III, Mint,
Monarch and other CSV exports): the way most of the money booked on it went."""

from collections.abc import Iterable

from tallykit.contracts.ledger import CategoryKind


def kind_of(amounts: Iterable[int]) -> CategoryKind:
    """Income when more of the entries booked on the category brought money in than took it out; on a
    tie, when more money came in than went out; else spending. A refund or two on a spending category,
    or a correction on an income one, does not turn it over."""
    into = out = total = 0
    for amount in amounts:
        total += amount
        into += amount > 0
        out += amount < 0
    if into != out:
        return CategoryKind.income if into > out else CategoryKind.expense
    return CategoryKind.income if total > 0 else CategoryKind.expense
