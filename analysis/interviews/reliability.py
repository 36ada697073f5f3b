"""Inter-coder reliability of interview coding on the double-coded subset.

For each code, the data are a 2 x N presence/absence matrix (coders A and B x the N interviews
both coded). Krippendorff's alpha (nominal) comes from the ``krippendorff`` package and Cohen's
kappa from ``statsmodels.stats.inter_rater.cohens_kappa`` on the 2 x 2 agreement table. 95%
confidence intervals are percentile bootstraps that resample interviews with a caller-given seed.
The overall alpha treats every (interview, code) pair as a unit; its bootstrap resamples whole
interviews, so the codes of one interview stay together.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import krippendorff
import numpy as np
import pandas as pd

from analysis.interviews.themes import ID, _error, code_table, indicator_matrix, to_long

RELIABLE = 0.8
TENTATIVE = 0.667
ALL_CODES = "(all codes)"


def krippendorff_alpha(data: Any, level: str = "nominal") -> float:
    """Krippendorff's alpha of a coders x units matrix (NaN = missing); NaN if not estimable."""
    matrix = np.asarray(data, dtype=float)
    if np.unique(matrix[~np.isnan(matrix)]).size < 2:
        return float("nan")  # one value only: expected disagreement is zero
    return float(krippendorff.alpha(reliability_data=matrix, level_of_measurement=level))


def cohen_kappa(table: Any) -> float:
    """Cohen's kappa of a square agreement table (rows coder A, columns coder B)."""
    from statsmodels.stats.inter_rater import cohens_kappa  # slow import: loaded when used

    table = np.asarray(table, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(cohens_kappa(table, return_results=False))


def agreement_table(a: Any, b: Any) -> np.ndarray:
    """2 x 2 table of two 0/1 vectors: rows coder A present/absent, columns coder B."""
    a, b = np.asarray(a, dtype=int), np.asarray(b, dtype=int)
    return np.array(
        [
            [np.sum((a == 1) & (b == 1)), np.sum((a == 1) & (b == 0))],
            [np.sum((a == 0) & (b == 1)), np.sum((a == 0) & (b == 0))],
        ]
    )


def reliability_flag(alpha: float) -> str:
    """'unreliable' below 0.667, 'tentative' below 0.8, else 'reliable'."""
    if not np.isfinite(alpha):
        return "not estimable"
    if alpha < TENTATIVE:
        return "unreliable"
    if alpha < RELIABLE:
        return "tentative"
    return "reliable"


def double_coded(
    long: pd.DataFrame, codes: Any, coders: Sequence[str] = ("A", "B")
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Indicator matrices (interviews x codes) of both coders on the interviews both coded."""
    table = code_table(codes)
    long = to_long(long, table)
    first, second = (indicator_matrix(long, table, c) for c in coders)
    both = first.index.intersection(second.index).sort_values()
    if len(both) < 2:
        raise _error(
            f"only {len(both)} interview(s) were coded by both {coders[0]!r} and {coders[1]!r}.",
            column="coder",
            hint="reliability needs a double-coded subset of at least 2 "
            "interviews; check the coder column.",
        )
    return first.loc[both], second.loc[both]


def _ci(values: np.ndarray, level: float) -> tuple[float, float, int]:
    """Percentile interval over the estimable replicates, and how many there were."""
    ok = values[np.isfinite(values)]
    if ok.size == 0:
        return float("nan"), float("nan"), 0
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(ok, [tail, 100 - tail])
    return float(low), float(high), int(ok.size)


def reliability_table(
    long: pd.DataFrame,
    codes: Any,
    *,
    seed: int,
    n_boot: int = 1000,
    level: float = 0.95,
    coders: Sequence[str] = ("A", "B"),
) -> pd.DataFrame:
    """Reviewer table: one row per code plus an overall row (code ``"(all codes)"``).

    Columns: code, theme, interviews (double-coded), applied_a, applied_b, agreement (share of
    interviews where the coders agree), alpha, alpha_low, alpha_high, kappa, kappa_low,
    kappa_high, bootstrap_valid (replicates where alpha was estimable), flag. Deterministic for a
    given ``seed``; each code's bootstrap draws from its own stream spawned from that seed.
    """
    table = code_table(codes)
    a, b = double_coded(long, codes, coders)
    streams = np.random.SeedSequence(seed).spawn(len(table) + 1)
    rows = [
        _reliability_row(
            info["code"],
            info["theme"],
            a[[info["code"]]].to_numpy(),
            b[[info["code"]]].to_numpy(),
            n_boot,
            level,
            stream,
        )
        for (_, info), stream in zip(table.iterrows(), streams[:-1], strict=True)
    ]
    rows.append(
        _reliability_row(ALL_CODES, "", a.to_numpy(), b.to_numpy(), n_boot, level, streams[-1])
    )
    out = pd.DataFrame(rows)
    float_cols = ["alpha", "alpha_low", "alpha_high", "kappa", "kappa_low", "kappa_high"]
    out[float_cols] = out[float_cols].astype(float).round(6)
    return out


def _pair_counts(xa: np.ndarray, xb: np.ndarray) -> np.ndarray:
    """Per interview (rows), counts of codes both/only A/only B/neither applied (4 columns)."""
    return np.stack(
        [
            ((xa == 1) & (xb == 1)).sum(1),
            ((xa == 1) & (xb == 0)).sum(1),
            ((xa == 0) & (xb == 1)).sum(1),
            ((xa == 0) & (xb == 0)).sum(1),
        ],
        axis=1,
    )


def _statistics(counts: tuple[int, int, int, int]) -> tuple[float, float]:
    """Alpha (krippendorff package) and kappa (statsmodels) of pooled presence/absence pairs.

    With two coders, binary values and no missing data both depend only on the 2 x 2 table, so
    the data are rebuilt from it (unit order does not matter).
    """
    both, only_a, only_b, neither = counts
    first = [1] * (both + only_a) + [0] * (only_b + neither)
    second = [1] * both + [0] * only_a + [1] * only_b + [0] * neither
    alpha = krippendorff_alpha(np.array([first, second], dtype=float))
    return alpha, cohen_kappa(np.array([[both, only_a], [only_b, neither]]))


def _reliability_row(
    code: str,
    theme: str,
    xa: np.ndarray,
    xb: np.ndarray,
    n_boot: int,
    level: float,
    stream: np.random.SeedSequence,
) -> dict[str, Any]:
    """Point estimates and percentile bootstrap CIs resampling interviews (rows of xa, xb)."""
    per_interview = _pair_counts(xa, xb)
    n = len(per_interview)
    draws = np.random.default_rng(stream).integers(0, n, size=(n_boot, n))
    tables = per_interview[draws].sum(axis=1)
    cache: dict[tuple[int, ...], tuple[float, float]] = {}
    for t in map(tuple, tables.tolist()):
        if t not in cache:
            cache[t] = _statistics(t)
    boot = np.array([cache[t] for t in map(tuple, tables.tolist())], dtype=float).reshape(-1, 2)
    alpha, kappa = _statistics(tuple(int(v) for v in per_interview.sum(axis=0)))
    a_lo, a_hi, valid = _ci(boot[:, 0], level)
    k_lo, k_hi, _ = _ci(boot[:, 1], level)
    return {
        "code": code,
        "theme": theme,
        "interviews": n,
        "applied_a": int(xa.sum()),
        "applied_b": int(xb.sum()),
        "agreement": round(float(np.mean(xa == xb)), 4),
        "alpha": alpha,
        "alpha_low": a_lo,
        "alpha_high": a_hi,
        "kappa": kappa,
        "kappa_low": k_lo,
        "kappa_high": k_hi,
        "bootstrap_valid": valid,
        "flag": reliability_flag(alpha),
    }


def double_coded_ids(long: pd.DataFrame, coders: Sequence[str] = ("A", "B")) -> list[str]:
    """Interview ids coded by every one of ``coders`` (sorted)."""
    sets = [set(long.loc[long["coder"].astype("string") == c, ID].astype(str)) for c in coders]
    return sorted(set.intersection(*sets))
