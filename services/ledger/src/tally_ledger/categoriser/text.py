"""What banks write, cleaned for the categoriser: plain functions on strings, no I/O.

A bank's payee or memo carries noise around the merchant's name: card numbers (`VISA 4871 XXXX 1234`),
dates and times (`12.03. 14:22`), references (`2K4LM0ZQ5`, `REF 7F3K2A91`), IBANs, store numbers, a
payment processor in front (`SUMUP *`, `PAYPAL *`), a city behind. `clean` folds case and accents and
drops what carries no meaning for a category (numbers, long codes with digits, masked card numbers,
control characters); the words stay, cities included (the model learns they say little).

`payee_keys` gives the keys the payee-history fallback looks a payee up by, from the most exact to the
loosest: the whole cleaned payee, its first two significant words, its first significant word.
"""

import re
import unicodedata
from functools import lru_cache

MAX_TEXT = 400  # characters of a payee or memo the categoriser reads (the rest is noise)

_WORD = re.compile(r"[^\W_]+")
# Words that name no merchant: legal forms, payment processors and schemes, banking words, fillers.
_GENERIC_WORDS = """
gmbh mbh ag kg ohg se co ltd limited inc llc plc sa sarl sas srl bv nv ug eg ev kgaa gbr corp
und and the of der die das den dem des de du la le les el eu uk dt am im an bei zum zur
sumup sq pp paypal zettle izettle stripe klarna adyen payone worldline square
visa mastercard maestro girocard vpay amex debit credit kartenzahlung karte card pos ec
lastschrift sepa basislastschrift ueberweisung gutschrift dauerauftrag einzug mandat
purchase payment zahlung online www com net org mktp marketplace sagt danke thank you
nr no ref kd kundennr rechnung
"""
GENERIC = frozenset(_GENERIC_WORDS.split())


def _is_noise(word: str) -> bool:
    if word.isdigit():
        return True  # amounts, dates, card and store numbers
    if len(word) >= 6 and any(ch.isdigit() for ch in word):
        return True  # references, IBANs, order numbers
    return set(word) <= {"x"} and len(word) >= 2  # a masked card number: XXXX


@lru_cache(maxsize=65_536)
def clean(text: str) -> str:
    """Lower case, no accents, only the words that may mean something, single-spaced."""
    folded = text[:MAX_TEXT].casefold()
    if not folded.isascii():
        folded = "".join(ch for ch in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(ch))
    return " ".join(w for w in _WORD.findall(folded) if not _is_noise(w))


@lru_cache(maxsize=65_536)
def payee_keys(payee: str) -> tuple[str, str, str]:
    """(whole, first two significant words, first significant word) of a payee; '' where there is none."""
    words = clean(payee).split()
    significant = [w for w in words if w not in GENERIC and len(w) > 1] or words
    return " ".join(words), " ".join(significant[:2]), significant[0] if significant else ""
