"""Recurring series in a household's bookings: a pure function of the bookings and of today.

1. **Payees.** Bookings are grouped by payee as the categoriser cleans bank text
   (`categoriser.text.payee_keys`: numbers, references, processor prefixes and legal forms gone): by
   its first significant word, and a payee whose words a terminal ran together ("SONYINTERACTIVE") joins
   the one written apart ("SONY INTERACTIVE"). So "PAYPAL *SPOTIFY" and "Spotify AB 4711" are one
   payee. Direction and currency part them too. A booking whose payee says nothing is read by its memo.
2. **Chains.** For each period (weekly, monthly, quarterly, yearly; shortest first) chains are built
   through a payee's bookings in date order: a booking continues a chain when it falls within the
   period's window of the chain's next nominal date, or of the one after (one missed payment), and its
   amount is within `AMOUNT_TOLERANCE` of the chain's last three. A payment of exactly the chain's price
   may also come later, up to `late` days (a failed direct debit collected again). Nominal dates are the
   schedules' own (`due_dates.add_months`: the 31st is the 28th in February and the 31st again in March),
   so a payment a few days late, or a late one followed by the month's own in the same month, keeps its
   place. A payee paid more than `BUSY_PER_PERIOD` times a period (a shop) is chained by exact amount
   only: there only a fixed price can stand out of the shopping.
3. **Price changes.** A chain that ends where another of the same payee begins, at another amount
   (within a factor of two), is the same series at a new price.
4. **Series.** A chain is a series when it has `min_occurrences` payments (a yearly one with two
   payments needs the same amount twice), few gaps (one missed payment in four), they keep to their
   dates (median distance to the fitted nominal date at most a third of the window; a day when the
   amount varies), and the payee was not paid much else at those amounts meanwhile (one payment in four:
   a payment that stands for a missed one, or repeats one within days, does not count). A fixed price is
   checked against the chain's own time; a varying amount against the payee's whole history (a varying
   amount is a series only at a payee paid little else at such amounts).
5. **Stopped**: `STOPPED_AFTER_MISSED` expected payments did not come, each past its window.

Not found, by design: other rhythms (every two weeks or months, half-yearly), a series whose payee
writes its name differently each time, two subscriptions at the same price and payee (each counts as
the other's double charge), a varying amount at a payee one also pays other amounts often.
"""

import math
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from itertools import pairwise
from statistics import median
from typing import Any

from tally_ledger.categoriser.text import payee_keys
from tally_ledger.due_dates import add_months

AMOUNT_TOLERANCE = 0.15  # a payment continues a chain within 15 % of its last three amounts
EXTRA_SHARE = 0.25  # payments outside the chain at its amounts, and gaps in it, per payment of it
BUSY_PER_PERIOD = 1.5  # a payee paid more often than this per period is chained by exact price only
MAX_PRICE_FACTOR = 2.0  # a price change at most doubles or halves the price
CHANCE = 0.001  # a fixed-price chain at a busy payee that chance would give this often is none
STOPPED_AFTER_MISSED = 2
MAX_MISSED_COUNTED = 1000


@dataclass(frozen=True)
class Period:
    name: str  # weekly | monthly | quarterly | yearly
    cadence: str  # the schedule's: weekly | monthly | yearly
    interval: int
    months: int  # 0: counted in weeks
    window: int  # days a payment may be early or late
    late: int  # days a payment of exactly the price may be late (collected again)
    min_occurrences: int
    confirm: int  # payments at a new price before it counts as a price change
    days: float  # the period's mean length

    def nominal(self, anchor: date, k: int) -> date:
        if self.months == 0:
            return anchor + timedelta(days=7 * k)
        return _add_months(anchor, k * self.months)

    def step_of(self, anchor: date, day: date) -> int:
        """The occurrence (counted from `anchor`) whose nominal date is nearest to `day`."""
        if self.months == 0:
            return round((day - anchor).days / 7)
        months = (day.year - anchor.year) * 12 + day.month - anchor.month
        k = months // self.months
        at = (day - self.nominal(anchor, k)).days
        other = k + 1 if at > 0 else k - 1  # the nominal date on the other side of `day`
        return other if abs((day - self.nominal(anchor, other)).days) < abs(at) else k


@lru_cache(maxsize=1 << 16)
def _add_months(day: date, months: int) -> date:
    return add_months(day, months)


WEEKLY = Period("weekly", "weekly", 1, 0, 2, 3, 4, 2, 7.0)
MONTHLY = Period("monthly", "monthly", 1, 1, 6, 15, 3, 2, 30.44)
QUARTERLY = Period("quarterly", "monthly", 3, 3, 10, 30, 3, 1, 91.31)
YEARLY = Period("yearly", "yearly", 1, 12, 16, 30, 2, 1, 365.25)
PERIODS = (WEEKLY, MONTHLY, QUARTERLY, YEARLY)
BY_NAME = {p.name: p for p in PERIODS}


@dataclass(frozen=True)
class Booking:
    """A transaction as the detector reads it. `amount_minor` is signed: negative for money out."""

    id: str
    payee: str
    amount_minor: int
    booked_on: date
    currency: str = "EUR"
    account: str = ""
    note: str = ""
    category: str | None = None


@dataclass(frozen=True)
class PriceChange:
    old_minor: int
    new_minor: int
    on: date  # the first payment at the new price


@dataclass(frozen=True)
class Series:
    key: str  # what identifies it across detections: payee, direction, currency, period, first payment
    name: str
    payee: str  # as the bank writes it most often
    payee_key: str
    aliases: tuple[str, ...]  # the first significant words its payments' payees have
    income: bool
    currency: str
    account: str  # of the latest payment
    category: str | None  # the most common among its payments
    period: Period
    amount_minor: int  # the current price (fixed), or the median of the recent payments
    amount_varies: bool
    tolerance_pct: int  # how far a payment may be from `amount_minor` and still be this series'
    first_on: date
    last_on: date
    next_on: date  # the next payment expected (past, when it is late)
    stops_on: date  # the day it counts as stopped unless paid again
    occurrences: int
    missed: int  # expected payments past their window since the last one
    price_changes: tuple[PriceChange, ...]
    transaction_ids: tuple[str, ...]

    @property
    def stopped(self) -> bool:
        return self.missed >= STOPPED_AFTER_MISSED

    @property
    def day_of_month(self) -> int | None:
        return self.next_on.day if self.period.months else None

    def to_json(self) -> dict[str, Any]:
        return {name: _plain(getattr(self, name)) for name in self.__dataclass_fields__}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Series":
        days = ("first_on", "last_on", "next_on", "stops_on")
        return cls(**{**data, "period": BY_NAME[data["period"]], "aliases": tuple(data["aliases"]),
                      "transaction_ids": tuple(data["transaction_ids"]),
                      "price_changes": tuple(PriceChange(old, new, date.fromisoformat(on))
                                             for old, new, on in data["price_changes"]),
                      **{d: date.fromisoformat(data[d]) for d in days}})


def _plain(value: Any) -> Any:
    """A field as JSON has it: dates in ISO form, a period by its name, price changes as lists."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Period):
        return value.name
    if isinstance(value, PriceChange):
        return [value.old_minor, value.new_minor, value.on.isoformat()]
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


@dataclass(slots=True)
class _Chain:
    anchor: date
    ks: list[int]
    items: list[int]  # indices of the bookings, in date order
    breaks: list[int] = field(default_factory=list)  # where a chain at another price was joined
    # The median of the last three amounts, and of the three before the last (kept: asked often).
    references: tuple[float, float] = (0.0, 0.0)

    def settle(self, amounts: Sequence[int]) -> "_Chain":
        """Work out the references again after the items changed."""
        if len(self.items) == 1:
            self.references = (float(amounts[self.items[0]]), 0.0)
        else:
            self.references = (_middle([amounts[i] for i in self.items[-3:]]),
                               _middle([amounts[i] for i in self.items[-4:-1]]))
        return self

    def reference(self, *, without_last: bool = False) -> float:
        return self.references[1] if without_last else self.references[0]


def _middle(paid: Sequence[int]) -> float:
    """The median of at most three amounts (0 of none)."""
    if len(paid) == 3:
        return float(sum(paid) - min(paid) - max(paid))
    return sum(paid) / len(paid) if paid else 0.0


@dataclass(frozen=True)
class _Name:
    word: str  # the first significant word
    spelt: str  # the first two significant words run together


def _name(booking: Booking) -> _Name:
    _, two, one = payee_keys(booking.payee)
    if not one:
        _, two, one = payee_keys(booking.note)
    return _Name(one, two.replace(" ", ""))


def _payees(names: Sequence[_Name], members: Sequence[int]) -> dict[int, str]:
    """Each booking's payee: its first significant word, words a terminal ran together joined with the
    ones written apart ("sonyinteractive" with "sony" of "sony interactive"); named by the shortest."""
    parent: dict[str, str] = {}

    def root(word: str) -> str:
        while parent.get(word, word) != word:
            word = parent[word]
        return word

    for i in members:
        parent.setdefault(names[i].word, names[i].word)
    for i in members:
        together = names[i].spelt
        if together != names[i].word and together in parent:
            a, b = root(together), root(names[i].word)
            if a != b:
                keep, drop = sorted((a, b), key=lambda w: (len(w), w))
                parent[drop] = keep
    return {i: root(names[i].word) for i in members}


def detect(bookings: Sequence[Booking], today: date) -> list[Series]:
    """Every recurring series in the bookings, as of `today` (stopped ones too)."""
    amounts = [abs(b.amount_minor) for b in bookings]
    names = [_name(b) for b in bookings]
    # Indices in date order from here on: a pool is a list of them, in that order.
    order = sorted(range(len(bookings)), key=lambda i: (bookings[i].booked_on, i))
    payees = _payees(names, [i for i in order if amounts[i] and names[i].word])
    groups: dict[tuple[str, bool, str], list[int]] = defaultdict(list)
    for i, payee in payees.items():  # in date order
        groups[(payee, bookings[i].amount_minor > 0, bookings[i].currency)].append(i)
    found: list[Series] = []
    for (key, income, currency), pool in groups.items():
        for period in PERIODS:
            if len(pool) < period.min_occurrences:
                continue
            accepted = _series_of(period, pool, bookings, amounts, names)
            taken = {i for chain in accepted for i in chain.items}
            pool = [i for i in pool if i not in taken]
            found += [_describe(period, chain, bookings, amounts, names, key, income, currency, today)
                      for chain in accepted]
    return sorted(found, key=lambda s: (s.payee_key, s.period.days, s.first_on, s.key))


def _series_of(period: Period, pool: list[int], bookings: Sequence[Booking], amounts: Sequence[int],
               names: Sequence[_Name]) -> list[_Chain]:
    span = (bookings[pool[-1]].booked_on - bookings[pool[0]].booked_on).days + 1
    exact = len(pool) > BUSY_PER_PERIOD * span / period.days + 1
    by_price: dict[int, tuple[list[date], list[int]]] = {}
    for i in pool:  # in date order
        at = by_price.setdefault(amounts[i], ([], []))
        at[0].append(bookings[i].booked_on)
        at[1].append(i)
    chained = pool
    if exact:  # only a price paid again about a period later can be in a chain of two
        repeated = {i for days, at in by_price.values() if _repeats(period, days) for i in at}
        chained = [i for i in pool if i in repeated]
    chains = _chains(period, chained, bookings, amounts, exact)
    density = _Density(sorted(amounts[i] for i in pool), span)
    if exact:  # a run of one price that chance gives is in no series: leave it out before joining
        chains = [c for c in chains if len(c.items) >= 2
                  and _by_chance(period, c.items, by_price, density, bookings, amounts) <= CHANCE]
    chains = _merge(period, chains, chained, bookings, amounts, 2 if exact else period.confirm)
    accepted: list[_Chain] = []
    taken: set[int] = set()
    for chain in sorted(chains, key=lambda c: -len(c.items)):
        if len(chain.items) >= period.min_occurrences and _is_series(
                period, chain, pool, by_price, density, taken, bookings, amounts, names, exact):
            accepted.append(chain)
            taken |= set(chain.items)
    return accepted


def _repeats(period: Period, days: Sequence[date]) -> bool:
    """Whether some payment of these (in date order) has another one a period or two later."""
    shortest = timedelta(days=period.days * 0.9 - 2 * period.window)
    longest = timedelta(days=2 * period.days + period.late + period.window)
    return len(days) > 1 and any(bisect_left(days, day + shortest) < bisect_right(days, day + longest)
                                 for day in days)


_WIDTH = math.log1p(AMOUNT_TOLERANCE)


def _chains(period: Period, pool: Sequence[int], bookings: Sequence[Booking], amounts: Sequence[int],
            exact: bool) -> list[_Chain]:
    """Chains through the pool (in date order), each booking in at most one. Open chains are kept by
    amount: by the amount itself when `exact`, else in buckets as wide as the tolerance (a booking
    looks at its own and the two next to it), so a booking looks at a few chains only."""
    open_: dict[int, list[_Chain]] = defaultdict(list)
    done: list[_Chain] = []
    reach = 2 * period.days + period.late
    for i in pool:
        day, amount = bookings[i].booked_on, amounts[i]
        bucket = amount if exact else int(math.log(amount) / _WIDTH)
        best: tuple[float, _Chain, int, int] | None = None
        for b in (bucket,) if exact else (bucket - 1, bucket, bucket + 1):
            alive = []
            for chain in open_.get(b, ()):
                if (day - bookings[chain.items[-1]].booked_on).days > reach:
                    done.append(chain)  # nothing can continue it any more
                    continue
                alive.append(chain)
                fit = _fit(period, chain, i, bookings, amounts)
                if fit is not None and (best is None or fit[0] < best[0]):
                    best = (fit[0], chain, fit[1], b)
            if b in open_:
                open_[b] = alive
        if best is None:
            open_[bucket].append(_Chain(day, [0], [i]).settle(amounts))
            continue
        _, chain, k, at = best
        if k == chain.ks[-1]:
            chain.items[-1] = i  # the better fit takes the slot; the other one is an extra
        else:
            chain.ks.append(k)
            chain.items.append(i)
        early = (day - period.nominal(chain.anchor, k)).days
        if early < 0:
            # Payments come on their day or late: one earlier than its date says the first was late.
            chain.anchor += timedelta(days=early)
        chain.settle(amounts)
        moved = at if exact else int(math.log(chain.reference()) / _WIDTH)
        if moved != at:
            open_[at].remove(chain)
            open_[moved].append(chain)
    return done + [chain for chains in open_.values() for chain in chains]


def _cost(period: Period, chain: _Chain, i: int, k: int, reference: float, bookings: Sequence[Booking],
          amounts: Sequence[int]) -> float | None:
    """How badly booking `i` fits occurrence `k` of the chain (None: not at all)."""
    offset = (bookings[i].booked_on - period.nominal(chain.anchor, k)).days
    deviation = abs(amounts[i] - reference) / reference
    if deviation > AMOUNT_TOLERANCE:
        return None
    if abs(offset) <= period.window:
        return deviation / AMOUNT_TOLERANCE + abs(offset) / period.window
    if deviation == 0 and 0 < offset <= period.late:
        return 1 + offset / period.late  # collected again, later
    return None


def _fit(period: Period, chain: _Chain, i: int, bookings: Sequence[Booking],
         amounts: Sequence[int]) -> tuple[float, int] | None:
    """(cost, occurrence) of booking `i` continuing the chain, or None when it cannot."""
    day = bookings[i].booked_on
    last = chain.ks[-1]
    k = period.step_of(chain.anchor, day)
    if k > last + 1 and amounts[i] == amounts[chain.items[-1]]:
        # Nearer to the next-but-one date, but maybe the next one collected late.
        late = (day - period.nominal(chain.anchor, last + 1)).days
        if 0 < late <= period.late:
            k = last + 1
    if not last <= k <= last + 2 or (k == last and len(chain.items) < 2):
        return None
    if k > last and len(chain.items) >= 2 and amounts[i] != amounts[chain.items[-1]] == amounts[
            chain.items[-2]]:
        return None  # a chain with a price goes on at that price (a new price is a chain of its own)
    reference = chain.reference(without_last=k == last)
    cost = _cost(period, chain, i, k, reference, bookings, amounts)
    if cost is None:
        return None
    if k == last:  # the slot is taken: only a better fit takes it over
        held = _cost(period, chain, chain.items[-1], k, reference, bookings, amounts)
        return (cost, k) if held is None or cost < held else None
    # A missed payment costs; so does a short chain (a double charge must not draw the next payments).
    return cost + (k - last - 1) + 1 / len(chain.items), k


def _merge(period: Period, chains: list[_Chain], pool: Sequence[int], bookings: Sequence[Booking],
           amounts: Sequence[int], confirm: int) -> list[_Chain]:
    """Join a chain of `confirm` payments or more to one (of two or more) that ended just before it
    began, at another price: one series, a new price. A chain that starts with a price (two payments
    alike) joins only one that ended with one."""
    merged: list[_Chain] = []
    # Chains of two or more by the dates their next two payments were due (a later source looks up
    # the days around its first payment).
    width = 2 * period.window + 1
    due: dict[int, list[tuple[date, _Chain]]] = defaultdict(list)

    def expect(chain: _Chain) -> None:
        for n in (1, 2):
            day = period.nominal(chain.anchor, chain.ks[-1] + n)
            due[day.toordinal() // width].append((day, chain))

    def joins(chain: _Chain, start: int) -> tuple[int, _Chain] | None:
        """(distance, the chain) the chain from its `start`th payment on would continue, if any."""
        items = chain.items[start:]
        paid_from = bookings[items[0]].booked_on
        due_on = period.nominal(chain.anchor, chain.ks[start])
        level = median(amounts[i] for i in items[:3])
        priced = len(items) >= 2 and amounts[items[0]] == amounts[items[1]]
        found: tuple[int, _Chain] | None = None
        bucket = due_on.toordinal() // width
        for day, before in (e for b in (bucket - 1, bucket, bucket + 1) for e in due.get(b, ())):
            offset = abs((due_on - day).days)
            if offset > period.window:
                continue
            reference = before.reference()
            if ((found is not None and offset >= found[0])
                    or bookings[before.items[-1]].booked_on >= paid_from or level == reference
                    or not 1 / MAX_PRICE_FACTOR <= level / reference <= MAX_PRICE_FACTOR
                    or (priced and amounts[before.items[-1]] != amounts[before.items[-2]])):
                continue  # and a price follows a price, not a few odd payments
            if before.ks[-1] < period.step_of(before.anchor, due_on) <= before.ks[-1] + 2:
                found = (offset, before)
        return found

    rank = {i: n for n, i in enumerate(pool)}
    for chain in sorted(chains, key=lambda c: rank[c.items[0]]):
        # A chain may also join without its first payment: a one-off just before the new price.
        starts = [s for s in (0, 1) if len(chain.items) - s >= max(confirm, 1 + s)]
        joined = next(((s, found) for s in starts if (found := joins(chain, s)) is not None), None)
        if joined is None:
            merged.append(chain)
            if len(chain.items) >= 2:
                expect(chain)
            continue
        start, (_, target) = joined
        due_on = period.nominal(chain.anchor, chain.ks[start])
        shift = period.step_of(target.anchor, due_on) - chain.ks[start]
        target.breaks.append(len(target.items))
        target.ks += [k + shift for k in chain.ks[start:]]
        target.items += chain.items[start:]
        expect(target.settle(amounts))
    return merged


def _offsets(period: Period, chain: _Chain, bookings: Sequence[Booking]) -> list[int]:
    return [(bookings[i].booked_on - period.nominal(chain.anchor, k)).days
            for i, k in zip(chain.items, chain.ks, strict=True)]


def _alike(a: str, b: str) -> bool:
    """Two spellings of one payee ("sonyinteractive", "sonyinteractiveamsterdam"); not two payees of the
    same first word ("deutschetelekom", "deutschebahn")."""
    return a.startswith(b) or b.startswith(a)


def _is_series(period: Period, chain: _Chain, pool: Sequence[int],
               by_price: dict[int, tuple[list[date], list[int]]], density: "_Density", taken: set[int],
               bookings: Sequence[Booking], amounts: Sequence[int], names: Sequence[_Name],
               busy: bool) -> bool:
    paid = [amounts[i] for i in chain.items]
    n = len(paid)
    if period is YEARLY and n < 3 and len(set(paid)) > 1:
        return False
    gaps = chain.ks[-1] - chain.ks[0] + 1 - n
    if gaps > EXTRA_SHARE * n:
        return False
    fixed = _fixed(paid)
    if (busy and not fixed) or (not fixed and n <= period.min_occurrences):
        return False  # a varying amount needs a quiet payee and a payment more
    offsets = _offsets(period, chain, bookings)
    shift = median(offsets)
    if median(abs(o - shift) for o in offsets) > (max(1, period.window // 3) if fixed else 1):
        return False
    own = set(chain.items)
    if fixed:
        start = bookings[chain.items[0]].booked_on - timedelta(days=period.window)
        end = bookings[chain.items[-1]].booked_on + timedelta(days=period.window)
        others = [i for price in set(paid) for days, at in (by_price[price],)
                  for i in at[bisect_left(days, start):bisect_right(days, end)]]
    else:
        low, high = min(paid) / (1 + AMOUNT_TOLERANCE), max(paid) * (1 + AMOUNT_TOLERANCE)
        others = [i for i in pool if low <= amounts[i] <= high]
    spelt = {names[i].spelt for i in chain.items}
    strays = sorted((i for i in others if i not in own and i not in taken
                     and any(_alike(names[i].spelt, s) for s in spelt)),
                    key=lambda i: bookings[i].booked_on)
    if _unexplained(period, chain, strays, bookings, amounts) > EXTRA_SHARE * n:
        return False
    edges = [0, *chain.breaks, n]
    return not busy or all(_by_chance(period, chain.items[a:b], by_price, density, bookings, amounts)
                           <= CHANCE for a, b in pairwise(edges))


@dataclass(frozen=True)
class _Density:
    """A payee's amounts, sorted, over the days they span: how many payments fall near a price."""

    amounts: list[int]
    days: int

    def near(self, low: float, high: float, days: int) -> float:
        within = bisect_right(self.amounts, high) - bisect_left(self.amounts, low)
        return within * min(1.0, days / self.days)


def _by_chance(period: Period, items: Sequence[int], by_price: dict[int, tuple[list[date], list[int]]],
               density: _Density, bookings: Sequence[Booking], amounts: Sequence[int]) -> float:
    """How many runs as long as this one (payments a period apart at one price) the payee's other
    payments would give by chance: at a bakery one pays 5-7 euros every few days, and the same 6.06 a
    year apart is no subscription; at a shop paid thousands of times even five months at one price can
    be chance. Other payments at exactly the price count, or those near it (within the tolerance) spread
    over its cents, whichever is more; at the payee's rate over its whole history."""
    price = amounts[items[-1]]
    first, last = bookings[items[0]].booked_on, bookings[items[-1]].booked_on
    days = (last - first).days + 2 * period.window + 1
    low, high = price / (1 + AMOUNT_TOLERANCE), price * (1 + AMOUNT_TOLERANCE)
    on_days = by_price[price][0]
    # A payment charged twice is the run's own, no other payment at its price.
    twice = sum(bisect_right(on_days, bookings[i].booked_on + timedelta(days=DOUBLE_CHARGE_DAYS))
                - bisect_right(on_days, bookings[i].booked_on) > 0 for i in items)
    near = max(0.0, density.near(low, high, days) - len(items) - twice)
    same = max(0.0, (len(on_days) - len(items) - twice) * min(1.0, days / density.days))
    # The chance that a payment of exactly the price falls where a chain takes its next one (its window,
    # or later when collected again), and as many starts as there are near payments.
    hit = min(1.0, max(same, near / (high - low)) * (2 * period.window + 1 + period.late) / days)
    return max(near, same) * hit ** (len(items) - 1)


DOUBLE_CHARGE_DAYS = 3


def _unexplained(period: Period, chain: _Chain, strays: Sequence[int], bookings: Sequence[Booking],
                 amounts: Sequence[int]) -> int:
    """How many payments outside the chain (in date order) are none of its own gone astray: a missed
    payment may have been collected later, once; a payment charged twice within DOUBLE_CHARGE_DAYS, once."""
    missing = set(range(chain.ks[0] + 1, chain.ks[-1])) - set(chain.ks)
    doubled: set[int] = set()
    count = 0
    for i in strays:
        day = bookings[i].booked_on
        k = period.step_of(chain.anchor, day)
        if k in missing:
            missing.discard(k)
            continue
        twin = next((j for j in chain.items if j not in doubled and amounts[j] == amounts[i]
                     and 0 <= (day - bookings[j].booked_on).days <= DOUBLE_CHARGE_DAYS), None)
        if twin is None:
            count += 1
        else:
            doubled.add(twin)
    return count


def _fixed(paid: Sequence[int]) -> bool:
    """A fixed price: at least half the payments cost exactly what the one before did."""
    return sum(a == b for a, b in pairwise(paid)) * 2 >= len(paid) - 1


def _runs(paid: Sequence[int]) -> list[tuple[int, int]]:
    """(start, end) of the runs of one price (consecutive payments of the same amount)."""
    runs, start = [], 0
    for n in range(1, len(paid) + 1):
        if n == len(paid) or paid[n] != paid[n - 1]:
            runs.append((start, n))
            start = n
    return runs


def _prices(period: Period, chain: _Chain, paid: Sequence[int], days: Sequence[date],
            fixed: bool) -> tuple[int, tuple[PriceChange, ...], int]:
    """The current price, the price changes, and where the current price began. A fixed price changes
    where a run of a new price starts that has lasted `confirm` payments (a single odd payment is no
    change); a varying amount changes where a chain at another price was joined (medians either side)."""
    if fixed:
        runs = [r for n, r in enumerate(_runs(paid)) if n == 0 or r[1] - r[0] >= period.confirm]
        changes = tuple(PriceChange(paid[a[1] - 1], paid[b[0]], days[b[0]])
                        for a, b in pairwise(runs) if paid[a[1] - 1] != paid[b[0]])
        return paid[runs[-1][1] - 1], changes, runs[-1][0]
    edges = [0, *chain.breaks, len(paid)]
    changes = tuple(PriceChange(int(median(paid[max(a, b - 3):b])), int(median(paid[b:min(c, b + 3)])),
                                days[b])
                    for a, b, c in zip(edges, edges[1:], edges[2:], strict=False))
    since = max(edges[-2], len(paid) - 6)
    return int(median(paid[since:])), changes, since


def _describe(period: Period, chain: _Chain, bookings: Sequence[Booking], amounts: Sequence[int],
              names: Sequence[_Name], key: str, income: bool, currency: str, today: date) -> Series:
    items = chain.items
    paid = [amounts[i] for i in items]
    days = [bookings[i].booked_on for i in items]
    fixed = _fixed(paid)
    amount, changes, since = _prices(period, chain, paid, days, fixed)
    spread = max(abs(a - amount) / amount for a in paid[since:])
    shift = int(median(_offsets(period, chain, bookings)))

    def expected(n: int) -> date:
        return period.nominal(chain.anchor, chain.ks[-1] + n) + timedelta(days=shift)

    missed = 0
    while missed < MAX_MISSED_COUNTED and (today - expected(missed + 1)).days > period.window:
        missed += 1
    raw = Counter(bookings[i].payee.strip() for i in items).most_common(1)[0]
    spelt = Counter(payee_keys(bookings[i].payee)[1] for i in items).most_common(1)[0][0]
    name = raw[0] if raw[1] * 2 >= len(items) and raw[0] else (spelt.title() or key.title())
    categories = Counter(bookings[i].category for i in items if bookings[i].category)
    return Series(
        key=f"{key}|{'in' if income else 'out'}|{currency}|{period.name}|{days[0]}|{paid[0]}",
        name=name[:100], payee=raw[0][:200], payee_key=key,
        aliases=tuple(sorted({names[i].word for i in items})), income=income, currency=currency,
        account=bookings[items[-1]].account,
        category=categories.most_common(1)[0][0] if categories else None,
        period=period, amount_minor=amount, amount_varies=not fixed,
        tolerance_pct=min(50, max(5, math.ceil(spread * 100) + 2)),
        first_on=days[0], last_on=days[-1], next_on=expected(1),
        stops_on=expected(STOPPED_AFTER_MISSED) + timedelta(days=period.window + 1), occurrences=len(items),
        missed=missed,
        price_changes=changes, transaction_ids=tuple(bookings[i].id for i in items))


def covers(payee: str, income: bool, amount_minor: int, series: Series) -> bool:
    """Whether a schedule (its payee, direction, amount) stands for the series already: the same payee and
    direction, the amount within the factor a price may change by."""
    _, two, one = payee_keys(payee)
    return ((one in series.aliases or two.replace(" ", "") in series.aliases) and income == series.income
            and amount_minor > 0
            and 1 / MAX_PRICE_FACTOR <= amount_minor / series.amount_minor <= MAX_PRICE_FACTOR)
