"""Officer surveys of any size for the scale benchmark, built from the bundled generator.

:func:`analysis.synth.officer_survey.generate_wave` draws a fixed design of about 3,000 officers
(24 stations a country), so it cannot make 1,000,000 rows by itself. Here its 2025 wave is
replicated as independent copies of the population: copy ``k`` gets its own stations
(``station_id + k * 100000``) and respondent IDs, and ``stations_in_stratum`` is multiplied by
the number of copies so the finite population correction stays valid. Weights are kept (the
codebook requires weight >= 1), so proportions, means and model coefficients equal those of the
base wave while totals scale with the copies. The last copy is cut to the exact row count.
The file is written with the generator's own :func:`write_wave` (labels, missing codes).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from analysis.synth import officer_survey

BASE_WAVE = 2025
STATION_OFFSET = 100_000  # above any bundled station_id (stratum * 1000 + n <= 83,999)


def scaled_wave(rows: int, base: pd.DataFrame | None = None) -> pd.DataFrame:
    """``rows`` officers: copies of the base wave with distinct stations and respondent IDs."""
    if rows < 1:
        raise ValueError(f"rows must be positive, got {rows}")
    base = officer_survey.generate_wave(BASE_WAVE) if base is None else base
    copies = math.ceil(rows / len(base))
    parts = []
    for k in range(copies):
        part = base.copy()
        part["station_id"] = part["station_id"] + k * STATION_OFFSET
        parts.append(part)
    out = pd.concat(parts, ignore_index=True).iloc[:rows].copy()
    out["stations_in_stratum"] = out["stations_in_stratum"] * copies
    out["respondent_id"] = [f"OS{BASE_WAVE}-{i:07d}" for i in range(1, rows + 1)]
    return out


def write_scaled_sav(rows: int, path: Path) -> Path:
    """Write a scaled survey to ``path`` (.sav) unless a file of that size is already there."""
    path = Path(path)
    marker = path.with_suffix(".rows")
    if path.is_file() and marker.is_file() and marker.read_text().strip() == str(rows):
        return path
    officer_survey.write_wave(scaled_wave(rows), path)
    marker.write_text(f"{rows}\n")
    return path
