"""Coverage of the training intervals with few cohorts: a simulation with known true effects.

Each replicate draws a training like the pilot (``analysis/synth/training.py``): cohorts with
random effects on the level (sd 1.0) and on the gain (sd 0.8), officers with their own level
(sd 1.8) and gain (sd 1.0), and test noise (sd 1.5); the true mean gain is 2.5 points, so the
true standardised gain is delta = 2.5 / sqrt((var_pre + var_post) / 2) with the variances of the
whole population of cohorts. Two designs of cohort sizes:

* ``similar``: 15-30 officers per cohort, as in the pilot;
* ``unequal``: one cohort of 60 and the others of 3-7 (a group, say women, spread thinly).

For 2, 3, 5, 8 and 12 cohorts it reports how often the 95% intervals cover the truth:

* ``g_old``: the seeded percentile cluster bootstrap over cohorts used before issue 15;
* ``g_new``: ``analysis.training.prepost``'s delta-method interval (CR2 SE, Bell-McCaffrey df);
* ``gain_old``: statsmodels' CR1 cluster-robust SE with t on cohorts - 1 df, used before;
* ``gain_new``: ``analysis.training.prepost``'s CR2 SE with t on Bell-McCaffrey df.

With R replicates a coverage near 0.95 has a Monte Carlo standard error of about
sqrt(0.95 x 0.05 / R): 0.007 for 1,000, 0.03 for 50 (``--smoke``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from analysis.training.prepost import gain_row
from benchmarks.machine import git_commit

ROOT = Path(__file__).resolve().parents[1]
COHORTS = (2, 3, 5, 8, 12)
DESIGNS = ("similar", "unequal")
TRUE_GAIN = 2.5
SD = {"cohort_level": 1.0, "cohort_gain": 0.8, "officer_level": 1.8, "officer_gain": 1.0}
SD_TEST = 1.5
BOOTSTRAP_REPLICATES = 999
FULL_REPLICATES = 1000
SMOKE_REPLICATES = 50
SEED = 20260115
METHODS = ("g_old", "g_new", "gain_old", "gain_new")


def true_g() -> float:
    """delta = true mean gain / mean of the population SDs of pre and post scores."""
    var_pre = SD["cohort_level"] ** 2 + SD["officer_level"] ** 2 + SD_TEST**2
    var_post = var_pre + SD["cohort_gain"] ** 2 + SD["officer_gain"] ** 2
    return TRUE_GAIN / float(np.sqrt((var_pre + var_post) / 2))


def cohort_sizes(rng: np.random.Generator, cohorts: int, design: str) -> np.ndarray:
    """Officers per cohort: 15-30 each (``similar``) or one of 60 and the rest 3-7."""
    if design == "similar":
        return rng.integers(15, 31, size=cohorts)
    if design == "unequal":
        return np.r_[rng.integers(3, 8, size=cohorts - 1), 60]
    raise ValueError(f"unknown design {design!r}: use one of {DESIGNS}")


def simulate_training(rng: np.random.Generator, cohorts: int, design: str) -> pd.DataFrame:
    """One training: pre and post scores of officers in cohorts with random effects."""
    cohort = np.repeat(np.arange(1, cohorts + 1), cohort_sizes(rng, cohorts, design))
    n = len(cohort)
    level = rng.normal(0, SD["cohort_level"], cohorts)[cohort - 1]
    level += rng.normal(0, SD["officer_level"], n)
    gain = TRUE_GAIN + rng.normal(0, SD["cohort_gain"], cohorts)[cohort - 1]
    gain += rng.normal(0, SD["officer_gain"], n)
    pre = 8.5 + level + rng.normal(0, SD_TEST, n)
    post = 8.5 + level + gain + rng.normal(0, SD_TEST, n)
    return pd.DataFrame(
        {"pre_score": pre, "post_score": post, "gain": post - pre, "cohort": cohort}
    )


def old_bootstrap_g(data: pd.DataFrame, rng: np.random.Generator) -> tuple[float, float]:
    """The interval of Hedges' g used before issue 15: percentile bootstrap of whole cohorts."""
    pre, post = data["pre_score"].to_numpy(float), data["post_score"].to_numpy(float)
    codes, _ = pd.factorize(data["cohort"], sort=True)
    k = codes.max() + 1
    sums = np.stack(
        [
            np.bincount(codes, weights=w, minlength=k)
            for w in (np.ones_like(pre), pre, post, pre**2, post**2)
        ]
    )
    picks = rng.integers(0, k, size=(BOOTSTRAP_REPLICATES, k))
    offsets = k * np.arange(BOOTSTRAP_REPLICATES)[:, None]  # one bincount for all replicates
    times = np.bincount((picks + offsets).ravel(), minlength=BOOTSTRAP_REPLICATES * k)
    times = times.reshape(BOOTSTRAP_REPLICATES, k)
    n, s_pre, s_post, q_pre, q_post = (times @ sums.T).T
    var_pre = (q_pre - s_pre**2 / n) / (n - 1)
    var_post = (q_post - s_post**2 / n) / (n - 1)
    j = 1 - 3 / (4 * (n - 1) - 1)
    draws = j * (s_post - s_pre) / n / np.sqrt((var_pre + var_post) / 2)
    low, high = np.nanpercentile(draws, [2.5, 97.5])
    return float(low), float(high)


def old_gain_interval(data: pd.DataFrame) -> tuple[float, float]:
    """The interval of the mean gain used before: statsmodels CR1, t on cohorts - 1 df."""
    gain = data["gain"].to_numpy(float)
    fit = sm.OLS(gain, np.ones_like(gain)).fit(
        cov_type="cluster", cov_kwds={"groups": data["cohort"].to_numpy()}
    )
    half = stats.t.ppf(0.975, data["cohort"].nunique() - 1) * float(fit.bse[0])
    estimate = float(fit.params[0])
    return estimate - half, estimate + half


def intervals(data: pd.DataFrame, rng: np.random.Generator) -> dict[str, tuple[float, float]]:
    """The four intervals of one simulated training."""
    new = gain_row(data, "cohort")
    return {
        "g_old": old_bootstrap_g(data, rng),
        "g_new": (new["g_ci_low"], new["g_ci_high"]),
        "gain_old": old_gain_interval(data),
        "gain_new": (new["ci_low"], new["ci_high"]),
    }


def coverage_of_setting(cohorts: int, design: str, replicates: int, seed: int) -> dict[str, Any]:
    """Coverage and median width of each method's 95% interval in one setting."""
    rng = np.random.default_rng([seed, cohorts, DESIGNS.index(design)])
    truth = {"g": true_g(), "gain": TRUE_GAIN}
    covered = {m: 0 for m in METHODS}
    widths: dict[str, list[float]] = {m: [] for m in METHODS}
    for _ in range(replicates):
        for method, (low, high) in intervals(simulate_training(rng, cohorts, design), rng).items():
            target = truth[method.split("_")[0]]
            covered[method] += bool(low <= target <= high)
            widths[method].append(high - low)
    return {
        "cohorts": cohorts,
        "design": design,
        "replicates": replicates,
        "coverage": {m: round(covered[m] / replicates, 3) for m in METHODS},
        "median_width": {m: round(float(np.median(widths[m])), 3) for m in METHODS},
    }


def bench_training_coverage(
    replicates: int, log: Callable[[str], None], seed: int = SEED
) -> dict[str, Any]:
    """Every setting (cohorts x design), as the ``training_coverage`` part of results.json."""
    start = time.perf_counter()
    settings = []
    for design in DESIGNS:
        for cohorts in COHORTS:
            log(f"training coverage: {cohorts} cohorts, {design} sizes, {replicates} replicates")
            settings.append(coverage_of_setting(cohorts, design, replicates, seed))
    return {
        "replicates": replicates,
        "seed": seed,
        "true_g": round(true_g(), 4),
        "true_gain": TRUE_GAIN,
        "monte_carlo_se_at_95": round(float(np.sqrt(0.95 * 0.05 / replicates)), 4),
        "settings": settings,
        "seconds": round(time.perf_counter() - start, 1),
        "commit": git_commit(ROOT),
    }


def coverage_table(part: dict[str, Any]) -> list[str]:
    """The results.md section: one row per setting, coverage then median width per method."""
    if "skipped" in part:
        return [f"Skipped ({part['skipped']})."]
    out = [
        f"{part['replicates']:,} simulated trainings per row (seed {part['seed']}, commit "
        f"{part.get('commit') or 'unknown'}; true g "
        f"{part['true_g']}, true gain {part['true_gain']} points); nominal coverage 0.95, Monte "
        f"Carlo SE about {part['monte_carlo_se_at_95']}. Old: cluster bootstrap (g), CR1 with "
        "t on cohorts - 1 df (gain). New: CR2 SE, t on Bell-McCaffrey df (g by the delta "
        "method). Width: median width of the interval.",
        "",
        "| Cohorts | Sizes | g old | g new | gain old | gain new | width g old | width g new |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for s in part["settings"]:
        c, w = s["coverage"], s["median_width"]
        out.append(
            f"| {s['cohorts']} | {s['design']} | {c['g_old']:.3f} | {c['g_new']:.3f} | "
            f"{c['gain_old']:.3f} | {c['gain_new']:.3f} | {w['g_old']:.2f} | {w['g_new']:.2f} |"
        )
    return out
