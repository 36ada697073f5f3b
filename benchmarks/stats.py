"""Medians of repeated measurements, kept with the runs they summarise."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def summary(runs: Sequence[float], digits: int = 3) -> dict[str, float | list[float]]:
    """``{"median": m, "runs": [...]}`` rounded to ``digits`` decimals."""
    if not runs:
        raise ValueError("no runs to summarise")
    return {
        "median": round(statistics.median(runs), digits),
        "runs": [round(float(r), digits) for r in runs],
    }
