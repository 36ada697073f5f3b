"""Pre/post knowledge tests of a training: gains, ANCOVA and effect sizes, clustered by cohort.

Officers are trained in cohorts, so cohort is the cluster: standard errors are cluster-robust by
cohort (statsmodels), with t on (cohorts - 1) degrees of freedom, and the confidence interval of
the standardised effect (Hedges' g, d_av form for paired scores) comes from a seeded cluster
bootstrap over cohorts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.formula.api as smf
from scipy import stats

BOOTSTRAP_REPLICATES = 999


def paired(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows with both a pre and a post score."""
    both = frame["pre_score"].notna() & frame["post_score"].notna()
    out = frame.loc[both].copy()
    out["pre_score"] = out["pre_score"].astype(float)
    out["post_score"] = out["post_score"].astype(float)
    out["gain"] = out["post_score"] - out["pre_score"]
    return out


def hedges_g(pre: np.ndarray, post: np.ndarray) -> float:
    """Standardised mean gain d_av = mean(post - pre) / mean SD, with Hedges' small-sample J."""
    n = len(pre)
    if n < 3:
        return float("nan")
    sd_av = np.sqrt((np.var(pre, ddof=1) + np.var(post, ddof=1)) / 2)
    if sd_av == 0:
        return float("nan")
    j = 1 - 3 / (4 * (n - 1) - 1)
    return float(j * np.mean(post - pre) / sd_av)


def _cluster_bootstrap_g(data: pd.DataFrame, cluster: str, rng: np.random.Generator) -> tuple:
    """Percentile CI of Hedges' g, resampling whole cohorts (via per-cohort sums)."""
    pre, post = data["pre_score"].to_numpy(float), data["post_score"].to_numpy(float)
    codes, _ = pd.factorize(data[cluster], sort=True)
    k = codes.max() + 1
    sums = np.stack(
        [
            np.bincount(codes, weights=w, minlength=k)
            for w in (np.ones_like(pre), pre, post, pre**2, post**2)
        ]
    )  # 5 x k: n, sum pre, sum post, sum pre^2, sum post^2 per cohort
    picks = rng.integers(0, k, size=(BOOTSTRAP_REPLICATES, k))
    times = np.stack([np.bincount(row, minlength=k) for row in picks])  # replicates x k
    n, s_pre, s_post, q_pre, q_post = (times @ sums.T).T
    var_pre = (q_pre - s_pre**2 / n) / (n - 1)
    var_post = (q_post - s_post**2 / n) / (n - 1)
    j = 1 - 3 / (4 * (n - 1) - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        draws = j * (s_post - s_pre) / n / np.sqrt((var_pre + var_post) / 2)
    low, high = np.nanpercentile(draws, [2.5, 97.5])
    return float(low), float(high)


def _clustered_mean(data: pd.DataFrame, column: str, cluster: str) -> dict:
    """Mean of a column with a cohort-clustered SE (intercept-only OLS), t on G - 1 df."""
    fit = smf.ols(f"{column} ~ 1", data=data).fit(
        cov_type="cluster", cov_kwds={"groups": data[cluster].astype(int)}
    )
    clusters = data[cluster].nunique()
    df = max(clusters - 1, 1)
    estimate, se = float(fit.params.iloc[0]), float(fit.bse.iloc[0])
    half = stats.t.ppf(0.975, df) * se
    p = 2 * stats.t.sf(abs(estimate / se), df) if se > 0 else float("nan")
    return {
        "estimate": estimate,
        "se": se,
        "ci_low": estimate - half,
        "ci_high": estimate + half,
        "p": p,
        "df": df,
    }


def gains(
    frame: pd.DataFrame,
    *,
    seed: int,
    by: tuple[str, ...] = ("module_label", "sex_label"),
    cluster: str = "cohort",
) -> pd.DataFrame:
    """Mean gain per module, per module and sex, and overall: one tidy row each."""
    data = paired(frame)
    rng = np.random.default_rng(seed)
    rows = []
    groupings: list[tuple[str, ...]] = [(), (by[0],), (by[1],), by]
    for keys in groupings:
        parts = [((), data)] if not keys else data.groupby(list(keys), sort=True, observed=True)
        for values, part in parts:
            values = values if isinstance(values, tuple) else (values,)
            chosen = dict(zip(keys, values, strict=True))
            row = {"group": " x ".join(keys) or "all"}
            row.update({key: str(chosen.get(key, "All")) for key in by})
            row.update(_clustered_mean(part, "gain", cluster))
            row["pre_mean"] = float(part["pre_score"].mean())
            row["post_mean"] = float(part["post_score"].mean())
            row["hedges_g"] = hedges_g(part["pre_score"].to_numpy(), part["post_score"].to_numpy())
            row["g_ci_low"], row["g_ci_high"] = _cluster_bootstrap_g(part, cluster, rng)
            row["n"] = len(part)
            row["clusters"] = int(part[cluster].nunique())
            rows.append(row)
    table = pd.DataFrame(rows)
    table.insert(0, "statistic", "gain")
    return table


def ancova(frame: pd.DataFrame, *, cluster: str = "cohort") -> pd.DataFrame:
    """Post score on pre score, module and sex (ANCOVA), SEs clustered by cohort."""
    data = paired(frame)
    data["module_label"] = data["module_label"].astype(str)
    formula = "post_score ~ pre_score + C(module_label) + women"
    fit = smf.ols(formula, data=data).fit(
        cov_type="cluster", cov_kwds={"groups": data[cluster].astype(int)}
    )
    df = max(int(data[cluster].nunique()) - 1, 1)
    crit = stats.t.ppf(0.975, df)
    out = pd.DataFrame(
        {
            "statistic": "ancova",
            "group": "term",
            "term": fit.params.index,
            "estimate": fit.params.to_numpy(),
            "se": fit.bse.to_numpy(),
        }
    )
    out["ci_low"] = out["estimate"] - crit * out["se"]
    out["ci_high"] = out["estimate"] + crit * out["se"]
    out["p"] = 2 * stats.t.sf(np.abs(out["estimate"] / out["se"]), df)
    out["df"] = df
    out["n"] = int(fit.nobs)
    out["clusters"] = int(data[cluster].nunique())
    return out


def attrition(frame: pd.DataFrame) -> pd.DataFrame:
    """Officers and module tests with both scores, and those lost, by reason."""
    reason = frame.get("post_missing_reason_label")
    if reason is None:
        reason = frame["post_missing_reason"].astype("string")
    has_both = frame["pre_score"].notna() & frame["post_score"].notna()
    status = reason.astype("string").where(~has_both, "Both tests taken").fillna("Unknown")
    table = (
        pd.DataFrame({"status": status, "module_label": frame["module_label"].astype(str)})
        .value_counts()
        .rename("n")
        .reset_index()
        .sort_values(["module_label", "status"], kind="stable")
        .reset_index(drop=True)
    )
    return table
