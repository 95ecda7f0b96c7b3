"""Features of a transaction for the categoriser: a sparse row of hashed character n-grams and tokens.

Three blocks side by side, each hashed into its own 2**20 columns (so the blocks never collide):

- the cleaned payee's character n-grams (`char_wb`, 2 to 5 characters, L2-normalised): "REWE SAGT DANKE
  4711" and "REWE Markt GmbH" share most of theirs, and a merchant never seen before still shares some
  with merchants of its kind ("pizzeria", "apotheke", "tankstelle");
- the cleaned memo's character n-grams (3 to 5, L2-normalised, weight `NOTE_WEIGHT`): what the bank
  wrote besides the payee;
- tokens (weight `TOKEN_WEIGHT` each): the payee's words and keys, the sign (money in or out), the
  amount's size in half-octaves alone and crossed with the payee's first word (an online shop's small
  orders are not its large ones), the account alone and crossed with the sign, the day of the month and
  of the week.

Hashing needs no vocabulary kept per household; collisions in 2**20 columns are rare for one
household's texts. Rows with the same payee or memo text are hashed once.
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import numpy as np
import scipy.sparse as sp

from tally_ledger.categoriser.text import clean, payee_keys

HASH_BITS = 20
BLOCK = 2**HASH_BITS
N_FEATURES = 3 * BLOCK
NOTE_WEIGHT = 0.5
TOKEN_WEIGHT = 0.35


@dataclass(frozen=True)
class Example:
    """A transaction as the categoriser sees it: what the bank wrote and the booking's facts.

    `amount_minor` is signed: negative for money out (an expense), positive for money in."""

    payee: str
    note: str
    amount_minor: int
    account: str
    booked_on: date

    @property
    def income(self) -> bool:
        return self.amount_minor > 0


def amount_bucket(amount_minor: int) -> int:
    """The amount's size in half-octaves of whole units: 0 below one unit, 1 for one, … 2**k halves."""
    units = abs(amount_minor) / 100
    return 0 if units < 1 else 1 + int(2 * math.log2(units))


def tokens(example: Example) -> list[str]:
    """The token features of an example (see the module's doc)."""
    whole, two, one = payee_keys(example.payee)
    sign = "+" if example.income else "-"
    size = amount_bucket(example.amount_minor)
    found = [f"w:{w}" for w in whole.split()]
    found += [f"k2:{two}", f"k1:{one}", f"s:{sign}", f"a:{sign}{size}", f"k1a:{one}|{sign}{size}",
              f"acct:{example.account}", f"acct:{example.account}|{sign}",
              f"dom:{example.booked_on.day}", f"dow:{example.booked_on.weekday()}"]
    return found


@cache
def _vectorizers() -> tuple[Any, Any, Any]:
    """scikit-learn's hashing vectorizers, imported on first use: the ledger starts without it."""
    from sklearn.feature_extraction.text import HashingVectorizer

    payee = HashingVectorizer(analyzer="char_wb", ngram_range=(2, 5), n_features=BLOCK, alternate_sign=False,
                              norm="l2", lowercase=False, dtype=np.float32)
    note = HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), n_features=BLOCK, alternate_sign=False,
                             norm="l2", lowercase=False, dtype=np.float32)
    token = HashingVectorizer(analyzer=_identity, n_features=BLOCK, alternate_sign=False, norm=None,
                              binary=True, dtype=np.float32)
    return payee, note, token


def warm() -> None:
    """Import scikit-learn's hashing now (seconds, the first time in a process), off a request's path."""
    _vectorizers()


def _identity(value: list[str]) -> list[str]:
    return value


def _hashed(vectorizer: Any, values: Sequence[Any], key: Callable[[Any], Any] = lambda v: v) -> sp.csr_matrix:
    """`vectorizer.transform(values)`, each distinct value (by `key`) transformed once."""
    index: dict[Any, int] = {}
    distinct: list[Any] = []
    rows = np.empty(len(values), dtype=np.int64)
    for n, value in enumerate(values):
        k = key(value)
        found = index.get(k)
        if found is None:
            found = index[k] = len(distinct)
            distinct.append(value)
        rows[n] = found
    matrix: sp.csr_matrix = vectorizer.transform(distinct)
    return matrix[rows]


def featurize(examples: Sequence[Example]) -> sp.csr_matrix:
    """The examples' feature rows (len(examples) by N_FEATURES, float32, CSR)."""
    payee_v, note_v, token_v = _vectorizers()
    payees = _hashed(payee_v, [clean(e.payee) for e in examples])
    notes = _hashed(note_v, [clean(e.note) for e in examples])
    toks = _hashed(token_v, [tokens(e) for e in examples], key=tuple)
    matrix: sp.csr_matrix = sp.hstack([payees, notes * NOTE_WEIGHT, toks * TOKEN_WEIGHT], format="csr",
                                      dtype=np.float32)
    return matrix
