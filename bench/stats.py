"""Summaries of repeated measurements: every figure we publish is a median."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between the closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summarize(values: Sequence[float]) -> dict:
    """Median, p10, p90, min, max and count; the median is the figure we report."""
    if not values:
        raise ValueError("no values")
    return {
        "median": statistics.median(values),
        "p10": percentile(values, 10),
        "p90": percentile(values, 90),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def wilson_lower(successes: int, n: int, z: float = 1.96) -> float | None:
    """Lower end of the 95% Wilson interval of a proportion: what n images can vouch for.
    (0 errors in 275 images says only "at least ~98.6%", not "100%".)"""
    if n == 0:
        return None
    p = successes / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)
