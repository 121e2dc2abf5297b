"""Summaries of timed samples. Nothing here judges: the report only prints."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile: a value that was actually measured."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Stats:
    """Milliseconds."""

    count: int
    p50: float
    p95: float
    max: float

    @classmethod
    def of(cls, samples_ms: Sequence[float]) -> Stats:
        return cls(
            count=len(samples_ms),
            p50=percentile(samples_ms, 0.50),
            p95=percentile(samples_ms, 0.95),
            max=max(samples_ms) if samples_ms else math.nan,
        )


def ratio(value: float, baseline: float) -> float:
    return value / baseline if baseline > 0 else math.nan
