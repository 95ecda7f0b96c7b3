"""Small helpers the benchmarks share."""

import os


def percentile(samples: list[float], p: float) -> float:
    """The nearest-rank `p`th percentile of `samples` (NaN for no samples)."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def sharing(load_average: float) -> str:
    """How busy the machine was, for a results table: figures from a busy one are not comparable."""
    cores = os.cpu_count() or 1
    return "other work shared the machine" if load_average > cores else "the machine was otherwise quiet"
