"""Irregular spending by robust statistics: an amount is unusual when it lies far above its category's
median, measured in MADs (median absolute deviation, scaled to be comparable with a standard deviation),
so that the outliers themselves cannot widen the usual range the way they would a mean and deviation.
An amount must also stand well above the category's high end (its 95th percentile), so categories with
two usual sizes do not alert on the larger one.

Only spending recent enough to matter is judged: an expense booked on or after the first day of the
previous month, as the household's calendar has it (today in its time zone; `judged_since`). An alert is
news about this month's or last month's money, something to look at while it can still be queried or
planned around; an expense from years ago — a history import brings in thousands — alerts nobody. It
still counts in the usual range of later expenses (the rollup holds it). Expenses booked ahead (a
future date) are judged like today's."""

from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median

# At least this many earlier amounts before judging: a category seen twice has no "usual" yet.
MIN_SAMPLE = 8
# Robust z-score above which an amount is unusual (3.5 is the customary cut-off of Iglewicz & Hoaglin).
THRESHOLD = 3.5
# ... and it must also be at least this multiple of the median: a tight category (rent, always 1,000.00)
# would otherwise flag 1,000.01.
MIN_RATIO = 2.0
# ... and well above the category's own high end: a category with two usual sizes (a big weekly shop and
# small top-ups) has a median near the small ones, and the big shop is not unusual.
HIGH_QUANTILE = 0.95
HIGH_RATIO = 1.5
MAD_SCALE = 1.4826


def judged_since(today: date) -> date:
    """The first booking day judged on `today` (the household's): the first day of the previous month."""
    return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def recent_enough(booked_on: date, today: date) -> bool:
    """Whether an expense booked on `booked_on` is judged at all on `today` (the household's)."""
    return booked_on >= judged_since(today)


@dataclass(frozen=True)
class Verdict:
    typical_minor: int
    score: float
    reason: str


def robust_score(amount: int, sample: list[int]) -> tuple[int, float]:
    """(median, robust z-score of `amount`); a zero MAD (all equal) uses 1 % of the median as spread."""
    mid = median(sample)
    mad = median(abs(x - mid) for x in sample) * MAD_SCALE
    spread = mad if mad > 0 else max(abs(mid) * 0.01, 1.0)
    return round(mid), (amount - mid) / spread


def judge(amount: int, sample: list[int]) -> Verdict | None:
    """None when `amount` is usual (or there is too little history to say)."""
    if len(sample) < MIN_SAMPLE:
        return None
    typical, score = robust_score(amount, sample)
    ordered = sorted(sample)
    high = ordered[min(len(ordered) - 1, int(HIGH_QUANTILE * len(ordered)))]
    if score < THRESHOLD or amount < MIN_RATIO * typical or amount < HIGH_RATIO * high:
        return None
    ratio = amount / typical if typical else float("inf")
    return Verdict(
        typical_minor=max(typical, 0),
        score=round(score, 1),
        reason=f"{ratio:.1f} times the usual amount ({score:.1f} robust deviations above the median of "
        f"{len(sample)} earlier entries)",
    )
