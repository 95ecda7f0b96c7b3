"""Small helpers the benchmarks share."""


def percentile(samples: list[float], p: float) -> float:
    """The nearest-rank `p`th percentile of `samples` (NaN for no samples)."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]
