"""Ratios and quantiles in the table form of :mod:`analysis.survey.design`, for every kind of
design.

Both work on Taylor designs (:class:`analysis.survey.design.SurveyDesign`), calibrated ones
(:mod:`analysis.survey.calibrate`) and replicate designs (:mod:`analysis.survey.replicate`),
overall and per
``by`` domain, with the same columns as :func:`analysis.survey.design.svy_mean`.

* :func:`svy_ratio` is R's ``svyratio(~y, ~x, design, na.rm = TRUE)``: ``sum(w y) / sum(w x)``
  over the rows where both are present. Taylor SE from the influence values
  ``w (y - R x) / sum(w x)``; replicate SE from the replicate ratios (R's ``svrVar``). The
  interval is ``R +- t(df) SE`` with the domain's df, as the means.
* :func:`svy_quantile` is R's ``svyquantile`` with survey 4.1.1's defaults: ``qrule = "math"``
  (the smallest value whose weighted cumulative share reaches ``p``: no interpolation) and
  ``interval.type = "mean"`` (Woodruff: the t interval of the weighted share of values <=
  the quantile, mapped back through the same rule; a limit beyond [0, 1] is NaN as in R);
  SE = interval width / (2 t(df)), as R reports it. Missing values are dropped (``na.rm =
  TRUE``), and, as in R, df is that of the domain's rows with a value.

:func:`statistic_function` chooses the function for a plan's estimate spec and design.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial

import numpy as np
import pandas as pd

from analysis.survey.design import (
    DesignError,
    _as_float,
    _check_var,
    _domains,
    _frame,
    _row,
    domain_mask,
    t_interval,
)
from analysis.survey.replicate import REPLICATE_STATISTICS, ReplicateDesign

NAN_RESULT = {"estimate": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan}


def _is_replicate(design) -> bool:
    return isinstance(design, ReplicateDesign)


def _mean_se(design, value: np.ndarray, rows: np.ndarray, estimate: float) -> float:
    """SE of the weighted mean of ``value`` over ``rows`` (Taylor or replicate)."""
    if _is_replicate(design):
        reps = design.replicate_weights
        with np.errstate(divide="ignore", invalid="ignore"):
            thetas = (np.where(rows, value, 0.0) @ reps) / (rows.astype(float) @ reps)
        return float(np.sqrt(max(design.replicate_variance(thetas, estimate), 0.0)))
    w = np.where(rows, design.weights, 0.0)
    z = w * (np.where(rows, value, 0.0) - estimate) / w.sum()
    return float(np.sqrt(max(design.variance(z), 0.0)))


def _ratio_se(design, y: np.ndarray, x: np.ndarray, rows: np.ndarray, ratio: float) -> float:
    """SE of ``sum(w y) / sum(w x)`` over ``rows`` (Taylor or replicate)."""
    yd, xd = np.where(rows, y, 0.0), np.where(rows, x, 0.0)
    if _is_replicate(design):
        reps = design.replicate_weights
        with np.errstate(divide="ignore", invalid="ignore"):
            thetas = (yd @ reps) / (xd @ reps)
        return float(np.sqrt(max(design.replicate_variance(thetas, ratio), 0.0)))
    w = np.where(rows, design.weights, 0.0)
    z = w * (yd - ratio * xd) / (w * xd).sum()
    return float(np.sqrt(max(design.variance(z), 0.0)))


def _common(design, variable: str, mask: np.ndarray, rows: np.ndarray, df_rows) -> dict:
    return {
        "variable": variable,
        "df": design.domain_df(df_rows),
        "n": int(rows.sum()),
        "lonely_strata": design.lonely_strata_in(mask),
        "design": design.describe(),
    }


def svy_ratio(
    design,
    numerator: str,
    denominator: str,
    by: str | Sequence[str] | None = None,
    domain: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Ratio of weighted totals ``numerator / denominator`` (R ``svyratio``), per domain."""
    _check_var(design, numerator)
    _check_var(design, denominator)
    y, x = _as_float(design.data[numerator]), _as_float(design.data[denominator])
    ok = np.isfinite(y) & np.isfinite(x)
    out = []
    for group, mask in _domains(design, by, domain_mask(design.data, domain)):
        rows = mask & ok
        common = _common(design, f"{numerator}/{denominator}", mask, rows, mask)
        den = float(np.where(rows, design.weights * x, 0.0).sum())
        if den == 0:
            out.append(_row(group, **NAN_RESULT, **common))
            continue
        ratio = float(np.where(rows, design.weights * y, 0.0).sum()) / den
        se = _ratio_se(design, y, x, rows, ratio)
        lo, hi = t_interval(ratio, se, common["df"])
        out.append(_row(group, estimate=ratio, se=se, ci_low=lo, ci_high=hi, **common))
    return _frame(out, by)


def _long_cumsum(w: np.ndarray) -> np.ndarray:
    """Cumulative sums accumulated in extended precision and stored as doubles (R's)."""
    return np.cumsum(w.astype(np.longdouble)).astype(float)


def qrule_math(x: np.ndarray, w: np.ndarray, p: float) -> float:
    """R's ``survey:::qrule_math``: smallest x whose weighted cumulative share reaches p."""
    keep = w != 0
    x, w = x[keep], w[keep]
    order = np.argsort(x, kind="stable")
    x, cumw = x[order], _long_cumsum(w[order])
    total = float(cumw[-1])
    below = np.flatnonzero(cumw <= p * total)
    pos = int(below[-1]) if below.size else 0
    after = pos if pos == x.size - 1 else pos + 1
    return float(x[pos] if p - cumw[pos] / total == 0 else x[after])


def _woodruff(design, x, rows, qhat: float, p: float, df: int, level: float = 0.95):
    """R's ``woodruffCI(method = "mean")``: interval and SE of a quantile."""
    from scipy import stats  # loaded on first use: scipy.stats is slow to import

    below = (x <= qhat).astype(float)
    w = np.where(rows, design.weights, 0.0)
    share = float((w * np.where(rows, below, 0.0)).sum() / w.sum())
    se_share = _mean_se(design, below, rows, share)
    q = stats.t.ppf(0.5 + level / 2, df) if df > 0 else np.nan
    lo_p, hi_p = share - q * se_share, share + q * se_share
    xs, ws = x[rows], design.weights[rows]
    lower = np.nan if not lo_p >= 0 else qrule_math(xs, ws, lo_p)
    upper = np.nan if not hi_p <= 1 else qrule_math(xs, ws, hi_p)
    return lower, upper, (upper - lower) / (2 * q)


def svy_quantile(
    design,
    variable: str,
    quantiles: Sequence[float] = (0.5,),
    by: str | Sequence[str] | None = None,
    domain: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Quantiles of a numeric column per domain (R ``svyquantile``, survey 4.1.1 defaults).

    One row per quantile; ``level`` holds the probability (``0.5`` for the median).
    """
    _check_var(design, variable)
    bad = [q for q in quantiles if not 0 <= float(q) <= 1]
    if bad:
        raise DesignError(f"{design._where()}quantiles must lie in [0, 1]; got {bad}")
    x = _as_float(design.data[variable])
    ok = np.isfinite(x)
    out = []
    for p in quantiles:
        for group, mask in _domains(design, by, domain_mask(design.data, domain)):
            rows = mask & ok & (design.weights > 0)
            common = _common(design, variable, mask, mask & ok, mask & ok)
            common["level"] = float(p)
            if not rows.any():
                out.append(_row(group, **NAN_RESULT, **common))
                continue
            qhat = qrule_math(x[rows], design.weights[rows], float(p))
            lo, hi, se = _woodruff(design, x, rows, qhat, float(p), common["df"])
            out.append(_row(group, estimate=qhat, se=se, ci_low=lo, ci_high=hi, **common))
    table = _frame(out, by, extra_cols=["level"])
    table["n_level"] = pd.Series([pd.NA] * len(table), dtype="Int64")
    return table


def statistic_function(design, spec: Mapping) -> Callable[..., pd.DataFrame] | None:
    """``func(design, by=, domain=)`` for a plan estimate spec, or None for the Taylor
    mean/proportion/total of :mod:`analysis.survey.design` (the caller's own table)."""
    statistic = spec["statistic"]
    if statistic == "ratio":
        if not spec.get("denominator"):
            raise DesignError(
                f"estimate {spec.get('id')!r}: statistic ratio needs a denominator column",
                hint="add denominator: <column> (variable is the numerator)",
            )
        return partial(_call_ratio, numerator=spec["variable"], denominator=spec["denominator"])
    if statistic == "quantile":
        quantiles = tuple(spec.get("quantiles", [0.5]))
        return partial(_call_quantile, variable=spec["variable"], quantiles=quantiles)
    if _is_replicate(design):
        return partial(_call_plain, func=REPLICATE_STATISTICS[statistic], variable=spec["variable"])
    return None


def _call_ratio(design, numerator, denominator, by=None, domain=None) -> pd.DataFrame:
    return svy_ratio(design, numerator, denominator, by=by, domain=domain)


def _call_quantile(design, variable, quantiles, by=None, domain=None) -> pd.DataFrame:
    return svy_quantile(design, variable, quantiles, by=by, domain=domain)


def _call_plain(design, func, variable, by=None, domain=None) -> pd.DataFrame:
    return func(design, variable, by=by, domain=domain)
