"""Irregular spending by robust statistics: an amount is unusual when it lies far above its category's
median, measured in MADs (median absolute deviation, scaled to be comparable with a standard deviation),
so that the outliers themselves cannot widen the usual range the way they would a mean and deviation.
An amount must also stand well above the category's high end (its 95th percentile), so categories with
two usual sizes do not alert on the larger one."""

from dataclasses import dataclass
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
