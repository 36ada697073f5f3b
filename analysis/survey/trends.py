"""Trends across survey waves: each estimate's change between consecutive waves, with its CI.

Input: the estimates table of each wave (``{wave: DataFrame}`` with the columns of
:data:`analysis.survey.estimate.COLUMNS`). Waves are ordered by their names (``"2023" < "2025"``, as
the briefs order them). Output: one row per estimate cell (``estimate_id``, ``group_var``,
``group_value``, ``level``) and pair of consecutive waves in which the cell was estimated, with
both waves' estimates and the change ``estimate_to - estimate_from``.

The waves are treated as independent samples: ``se = sqrt(se_from^2 + se_to^2)``, a t interval
and p-value with ``df = min(df_from, df_to)``. When the same PSUs (stations) are sampled in both
waves their estimates are usually positively correlated and this SE is conservative (too
wide); a panel of PSUs would need the covariance of the two waves' PSU totals. Cells estimated in
only one wave of a pair (a breakdown added later, a level absent) have no change row.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from analysis.survey.estimate import COLUMNS

KEY = ["estimate_id", "group_var", "group_value", "level"]
DESCRIPTIVE = ["title", "variable", "statistic"]
PER_WAVE = ["estimate", "se", "df", "n"]
TREND_COLUMNS = [
    *KEY[:1],
    *DESCRIPTIVE,
    *KEY[1:],
    "wave_from",
    "wave_to",
    *(f"{c}_from" for c in PER_WAVE),
    *(f"{c}_to" for c in PER_WAVE),
    "change",
    "se",
    "ci_low",
    "ci_high",
    "df",
    "p",
]
_NO_LEVEL = "\x00"  # stands for a missing level (means, totals) while merging


def _checked(wave: str, table: pd.DataFrame) -> pd.DataFrame:
    """The wave's table with a merge-safe level; one row per estimate cell or raise."""
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(
            f"estimates of wave {wave!r} lack the columns {missing}; expected the table of "
            "analysis.survey.estimate.run_estimates"
        )
    out = table[[*KEY, *DESCRIPTIVE, *PER_WAVE]].copy()
    for col in KEY:
        out[col] = out[col].astype("string").fillna(_NO_LEVEL)
    dup = out.duplicated(KEY, keep=False)
    if dup.any():
        first = out.loc[dup, KEY].iloc[0].to_dict()
        raise ValueError(
            f"estimates of wave {wave!r} hold {int(dup.sum())} rows for the same cell, e.g. "
            f"{first}; each (estimate_id, group_var, group_value, level) must appear once"
        )
    return out


def _pair(wave_from: str, old: pd.DataFrame, wave_to: str, new: pd.DataFrame) -> pd.DataFrame:
    from scipy import stats  # loaded on first use: scipy.stats is slow to import

    both = new.merge(old, on=KEY, suffixes=("_to", "_from"), how="inner", sort=False)
    change = both["estimate_to"] - both["estimate_from"]
    se = np.sqrt(both["se_from"] ** 2 + both["se_to"] ** 2)
    df = np.minimum(both["df_from"], both["df_to"]).astype("int64")
    dfv = df.to_numpy(dtype=float)
    valid = dfv > 0
    q = np.where(valid, stats.t.ppf(0.975, np.where(valid, dfv, 1)), np.nan)
    tval = np.divide(change, se, out=np.full(len(both), np.nan), where=se.to_numpy() > 0)
    p = np.where(valid, 2 * stats.t.sf(np.abs(tval), np.where(valid, dfv, 1)), np.nan)
    out = pd.DataFrame(
        {
            **{c: both[c] for c in KEY},
            **{c: both[f"{c}_to"] for c in DESCRIPTIVE},
            "wave_from": wave_from,
            "wave_to": wave_to,
            **{f"{c}_{s}": both[f"{c}_{s}"] for s in ("from", "to") for c in PER_WAVE},
            "change": change,
            "se": se,
            "ci_low": change - q * se,
            "ci_high": change + q * se,
            "df": df,
            "p": p,
        }
    )
    return out


def compare_waves(estimates: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Changes of every estimate cell between consecutive waves (columns ``TREND_COLUMNS``).

    Rows follow the later wave's table order within each pair of waves; a single wave (or
    none) gives an empty table with the same columns.
    """
    waves = sorted(map(str, estimates))
    tables = {str(w): _checked(str(w), t) for w, t in estimates.items()}
    parts = [_pair(a, tables[a], b, tables[b]) for a, b in zip(waves[:-1], waves[1:], strict=True)]
    if parts:
        out = pd.concat(parts, ignore_index=True)[TREND_COLUMNS]
    else:
        out = pd.DataFrame({c: pd.Series(dtype="float64") for c in TREND_COLUMNS})
    for col in KEY:
        out[col] = out[col].astype("string").replace(_NO_LEVEL, pd.NA)
    text = ["title", "variable", "statistic", "wave_from", "wave_to"]
    ints = ["df_from", "n_from", "df_to", "n_to", "df"]
    return out.astype({**dict.fromkeys(text, "string"), **dict.fromkeys(ints, "int64")})
