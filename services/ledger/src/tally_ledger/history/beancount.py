"""A Beancount ledger (one text file) read into a neutral `History` with Beancount's own code (v3): its
parser, booking (interpolation of missing amounts), padding and balance checks, its built-in plugins and
its validations, in the order `beancount.loader` runs them. Pure: a file in, dataclasses out.

Not through `beancount.loader` itself, which is made for a person's own files: it follows `include`
directives (reading whatever they name on this server's disk), imports any module a `plugin` line names
(running code the file chooses), lists the folders an `option "documents"` names and keeps pickle caches
beside the file. Here the file is parsed from its bytes; a file with `include` is refused naming the line;
of the plugins only Beancount's own (`beancount.plugins.*`, pure functions of the entries) are run, and
any other is not imported but counted in `skipped`. A file with errors (syntax, booking, failed balance
assertions, postings to accounts not open), as `bean-check` reports them, is refused naming the first
error's line.

Mapped as every double-entry book is (`double_entry`): Assets and Liabilities accounts (whatever the
ledger's `name_*` options call them) are the household's accounts, closed by a `close` directive;
Income and Expenses accounts categories (a closed one hidden); Equity gives opening balances. One
currency is read: the first `operating_currency`, or else the one most postings on assets and
liabilities are in. A posting in another currency on an income or expense account counts on its category
at its weight (the price or cost it was converted at, as Beancount balances it) when that weight is in
the currency; any other (investments held at cost, accounts in another currency) is not imported and its
money is an uncategorised part. Amounts written with more decimals than the currency has are refused
naming the line; amounts Beancount computed (interpolated, converted) are rounded to the minor unit.

Payee → payee (the narration when there is no payee), narration → note when there is a payee; flags
`*` cleared, `!` uncleared (a posting's own flag first); `#tags` → tags, `^links` → tags `link-…`.
Beancount has no ids: a transaction's id is Beancount's stable hash of its content (and the how-manyth of
identical ones), so importing the same ledger again adds nothing, while a transaction edited since comes
as a new one.

Not read: prices, balance assertions (checked, not imported), notes, documents, events, queries, custom
directives, metadata, posting costs and lots.
"""

import importlib
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

from beancount.core import account as bc_account
from beancount.core import compare, convert, data, interpolate
from beancount.core.amount import Amount
from beancount.ops import balance, pad, validation
from beancount.parser import booking, options, parser

from tally_ledger.history.double_entry import BookAccount, Books, Entry, Posting, Role
from tally_ledger.history.model import History, HistoryError, tag
from tallykit.contracts.ledger import AccountKind, ClearedState

SOURCE = "Beancount ledger"
APP = "beancount"
NAMES = (".beancount", ".bean")
# Beancount's own plugins: functions of the entries and options, reading and running nothing else.
BUILT_IN_PLUGINS = frozenset(f"beancount.plugins.{name}" for name in (
    "auto", "auto_accounts", "check_average_cost", "check_closing", "check_commodity", "check_drained",
    "close_tree", "coherent_cost", "commodity_attr", "currency_accounts", "implicit_prices", "leafonly",
    "noduplicates", "nounused", "onecommodity", "pedantic", "sellgains", "unique_prices"))
OTHER_POSTING = "posting not in the currency read (another currency, or held at cost): its money kept " \
    "as uncategorised"
_DIRECTIVE = re.compile(
    rb"^\d{4}-\d{2}-\d{2}[ \t]+(?:open|close|balance|pad|txn|commodity|price|note|event|custom|[*!])[ \t]",
    re.MULTILINE)
_INCLUDE = re.compile(r'^include[ \t]+"([^"\n]*)"', re.MULTILINE)

Plugin = Callable[..., tuple[list[data.Directive], list[Any]]]


def looks_like(head: bytes, filename: str) -> bool:
    """A file named .beancount or .bean, or text whose lines are Beancount directives."""
    if filename.lower().endswith(NAMES):
        return True
    return b"\x00" not in head and _DIRECTIVE.search(head) is not None


def read(file: Path, *, minor_digits: int = 2) -> History:
    """The history in a Beancount ledger, amounts in minor units of a currency with `minor_digits`
    digits. Raises HistoryError naming what is wrong and where (a line of the file)."""
    raw = file.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HistoryError("is not UTF-8 text, as Beancount reads it", _line(raw, exc.start)) from exc
    entries, errors, options_map = parser.parse_string(raw, report_filename="ledger")
    _refuse(errors)
    included = options_map["include"]
    if included:
        found = _INCLUDE.search(text)
        where = _line(raw, len(text[:found.start()].encode())) if found else "include"
        raise HistoryError(f"includes other files ({', '.join(map(repr, included[:3]))}), which are not read "
                           "from this server; merge them into one file and import that", where)
    skipped: dict[str, int] = defaultdict(int)
    entries = _loaded(entries, options_map, skipped)
    return _Ledger(entries, options_map, minor_digits, skipped).history()


def _line(raw: bytes, offset: int) -> str:
    newline = b"\n"
    return f"line {raw.count(newline, 0, offset) + 1}"


def _refuse(errors: list[Any]) -> None:
    if not errors:
        return
    first = errors[0]
    source = first.source or {}
    line = source.get("lineno")
    more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
    message = " ".join(str(first.message).split())[:300]
    raise HistoryError(f"Beancount reports an error: {message}{more}",
                       f"line {line}" if isinstance(line, int) and line > 0 else "ledger")


def _loaded(entries: list[data.Directive], options_map: dict[str, Any],
            skipped: dict[str, int]) -> list[data.Directive]:
    """What beancount.loader makes of parsed entries, less reading the disk and foreign code: booking,
    Beancount's own plugins as the file names them, padding and balance checks, validation."""
    entries.sort(key=data.entry_sortkey)
    entries, errors = booking.book(entries, options_map)  # type: ignore[no-untyped-call]
    _refuse(errors)
    plugins: list[tuple[str, Plugin, str | None]] = []
    for name, config in options_map["plugin"]:
        if name not in BUILT_IN_PLUGINS:
            skipped[f"plugin not run (only Beancount's own are): {name[:80]}"] += 1
            continue
        module = importlib.import_module(name)
        for function in getattr(module, "__plugins__", ()):
            plugins.append((name, getattr(module, function) if isinstance(function, str) else function,
                            config))
    if options_map["plugin_processing_mode"] == "default":
        plugins += [("beancount.ops.pad", pad.pad, None), ("beancount.ops.balance", balance.check, None)]
    for name, function, config in plugins:
        try:
            entries, errors = function(entries, options_map, *(() if config is None else (config,)))
        except Exception as exc:  # a plugin's failure is the file's: Beancount reports it the same way
            raise HistoryError(f"Beancount's plugin {name} failed on it ({exc})"[:300], "ledger") from exc
        _refuse(errors)
        entries.sort(key=data.entry_sortkey)
    _refuse(validation.validate(entries, options_map))  # type: ignore[no-untyped-call]
    return entries


class _Ledger:
    def __init__(self, entries: list[data.Directive], options_map: dict[str, Any], minor_digits: int,
                 skipped: dict[str, int]) -> None:
        self.entries = entries
        self.options = options_map
        self.types = options.get_account_types(options_map)  # type: ignore[no-untyped-call]
        self.digits = minor_digits
        self.skipped = skipped
        self.transactions = [e for e in entries if isinstance(e, data.Transaction)]

    def history(self) -> History:
        currency = self.currency()
        accounts = self.accounts(currency)
        seen: Counter[str] = Counter()
        book = []
        for transaction in self.transactions:
            content = compare.hash_entry(transaction, exclude_meta=True)
            seen[content] += 1
            source_id = content if seen[content] == 1 else f"{content}-{seen[content]}"
            book.append(self.entry(transaction, source_id, accounts, currency))
        title = str(self.options.get("title") or "").strip()[:200] or "Beancount ledger"
        return Books(list(accounts.values())).history(book, source=SOURCE, name=title, app=APP,
                                                       currency=currency, skipped=dict(self.skipped))

    def role(self, name: str) -> Role | None:
        root = bc_account.split(name)[0]
        if root in (self.types.assets, self.types.liabilities):
            return Role.own
        if root == self.types.income:
            return Role.income
        if root == self.types.expenses:
            return Role.expense
        if root == self.types.equity:
            return Role.equity
        return None

    def currency(self) -> str:
        operating = self.options.get("operating_currency") or []
        if operating:
            return str(operating[0])
        counted = Counter(_units(p).currency for t in self.transactions for p in t.postings
                          if self.role(p.account) == Role.own)
        if not counted:
            raise HistoryError("has no transaction on an Assets or Liabilities account", "ledger")
        return counted.most_common(1)[0][0]

    def accounts(self, currency: str) -> dict[str, BookAccount]:
        """The ledger's accounts that hold money in `currency` (or are opened for it), by name."""
        opened = {e.account: e for e in self.entries if isinstance(e, data.Open)}
        closed = {e.account for e in self.entries if isinstance(e, data.Close)}
        in_currency: set[str] = set()
        used: set[str] = set()
        for transaction in self.transactions:
            for posting in transaction.postings:
                used.add(posting.account)
                if _units(posting).currency == currency or (
                        self.role(posting.account) in (Role.income, Role.expense)
                        and _weight(posting).currency == currency):
                    in_currency.add(posting.account)
        names = sorted(set(opened) | used, key=self._order)
        parents = {bc_account.parent(name) for name in names}
        found = {}
        for name in names:
            role = self.role(name)
            if role is None:
                continue
            allowed = opened[name].currencies if name in opened else None
            if name not in in_currency and (name in used or (allowed and currency not in allowed)):
                if name in used:
                    self.skipped[f"account without money in {currency}: not imported"] += 1
                continue
            path = tuple(bc_account.split(name))
            found[name] = BookAccount(source_id=name, path=path, role=role,
                                      kind=_kind(name, liability=path[0] == self.types.liabilities),
                                      closed=name in closed, placeholder=name in parents)
        return found

    def _order(self, name: str) -> tuple[int, str]:
        roots = [self.types.assets, self.types.liabilities, self.types.income, self.types.expenses,
                 self.types.equity]
        root = bc_account.split(name)[0]
        return (roots.index(root) if root in roots else len(roots), name)

    def entry(self, transaction: data.Transaction, source_id: str, accounts: dict[str, BookAccount],
              currency: str) -> Entry:
        postings, elsewhere = [], []
        for n, posting in enumerate(transaction.postings):
            where = f"line {(posting.meta or transaction.meta).get('lineno', '?')}"
            account = accounts.get(posting.account)
            amount = None
            units = _units(posting)
            if account is not None and units.currency == currency:
                computed = bool(posting.meta and posting.meta.get(interpolate.AUTOMATIC_META))
                amount = self.minor(units.number, currency, where, exact=not computed)
            elif account is not None and account.role in (Role.income, Role.expense):
                weight = _weight(posting)
                if weight.currency == currency:
                    amount = self.minor(weight.number, currency, where, exact=False)
            if amount is None:
                self.skipped[OTHER_POSTING] += 1
                elsewhere.append(posting.account)
                continue
            flag = posting.flag or transaction.flag or ""
            postings.append(Posting(source_id=f"{source_id}/{n}", account_id=posting.account,
                                    amount_minor=amount, status=_STATUS.get(flag, ClearedState.uncleared)))
        payee, narration = (transaction.payee or "").strip(), (transaction.narration or "").strip()
        if transaction.flag == "P" or not payee:  # padding has no payee, its narration says what it is
            payee, narration = ("", narration) if transaction.flag == "P" else (narration, "")
        tags = [tag(t) for t in sorted(transaction.tags or ())] + \
            [tag(f"link-{link}") for link in sorted(transaction.links or ())]
        return Entry(source_id=source_id, booked_on=transaction.date, postings=tuple(postings), payee=payee,
                     note=narration, tags=tuple(dict.fromkeys(t for t in tags if t)),
                     elsewhere=tuple(dict.fromkeys(elsewhere)))

    def minor(self, number: Decimal | None, currency: str, where: str, *, exact: bool) -> int:
        if number is None:
            raise HistoryError(f"an amount in {currency} Beancount left open", where)
        scaled = number.scaleb(self.digits)
        whole = scaled.to_integral_value(rounding=ROUND_HALF_EVEN)
        if exact and whole != scaled:
            raise HistoryError(f"amount {number} {currency} has more decimals than the currency's "
                               f"{self.digits}", where)
        return int(whole)


_STATUS = {"*": ClearedState.cleared, "!": ClearedState.uncleared}


def _units(posting: data.Posting) -> Amount:
    if posting.units is None or posting.units.number is None:  # booking leaves none open
        raise HistoryError("a posting Beancount left without an amount",
                           f"line {(posting.meta or {}).get('lineno', '?')}")
    return posting.units


def _weight(posting: data.Posting) -> Amount:
    weight: Amount = convert.get_weight(posting)  # type: ignore[no-untyped-call]
    return weight


def _kind(name: str, *, liability: bool) -> AccountKind:
    """What the account's name says it is."""
    words = name.lower()
    if any(w in words for w in ("card", "credit", "visa", "mastercard", "amex")):
        return AccountKind.credit_card
    if liability:
        return AccountKind.loan
    if any(w in words for w in ("cash", "wallet")):
        return AccountKind.cash
    if "saving" in words:
        return AccountKind.savings
    if any(w in words for w in ("invest", "broker", "retire", "pension", "stock")):
        return AccountKind.investment
    return AccountKind.checking
