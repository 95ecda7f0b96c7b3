"""What Beancount itself says of household.beancount: writes household.json for the ledger's history
import tests. Run from the repository with the project's environment (beancount is one of the ledger's
dependencies):

    uv run python services/ledger/tests/histories/beancount/make_figures.py

- `balance_minor`: each Assets and Liabilities account's balance in EUR, from Beancount's realization
  (`realization.realize`, the account's inventory's EUR units), in cents.
- `category_month_minor`: the total of each Income and Expenses account per month, in cents, negated as
  Tally counts (spending negative, income positive): the sum of the weights (`convert.get_weight`, the
  amount at the price or cost it was converted at) in EUR of the postings Beancount realizes on it.

The loader runs here on our own fixture; Tally itself never uses it (see history/beancount.py).
"""

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from beancount import loader
from beancount.core import convert, data, realization

HERE = Path(__file__).resolve().parent
LEDGER = HERE / "household.beancount"
FIGURES = HERE / "household.json"
CURRENCY = "EUR"


def cents(value: Decimal) -> int:
    scaled = value * 100
    assert scaled == scaled.to_integral_value(), value
    return int(scaled)


def main() -> None:
    loader.initialize(use_cache=False)  # no pickle cache beside the fixture
    entries, errors, options = loader.load_file(str(LEDGER))
    assert not errors, errors
    root = realization.realize(entries)
    balances = {}
    months: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for account in realization.iter_children(root):
        name = account.account
        if name.startswith(("Assets:", "Liabilities:")) and account.txn_postings:
            units = account.balance.get_currency_units(CURRENCY)
            if units.number or any(isinstance(p, data.TxnPosting) and p.posting.units.currency == CURRENCY
                                   for p in account.txn_postings):
                balances[name] = cents(units.number)
        if name.startswith(("Income:", "Expenses:")):
            for item in account.txn_postings:
                if isinstance(item, data.TxnPosting):
                    weight = convert.get_weight(item.posting)
                    assert weight.currency == CURRENCY, item
                    months[name][item.txn.date.strftime("%Y-%m")] -= cents(weight.number)
    FIGURES.write_text(json.dumps({
        "currency": CURRENCY,
        "title": options["title"],
        "balance_minor": dict(sorted(balances.items())),
        "category_month_minor": {name: dict(sorted((m, v) for m, v in by_month.items() if v))
                                 for name, by_month in sorted(months.items()) if any(by_month.values())},
    }, indent=2) + "\n")


if __name__ == "__main__":
    main()
