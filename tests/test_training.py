"""Pre/post training analysis: known truths from the generator and hand-computed statistics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.clean.wave import clean
from analysis.io import read_raw
from analysis.synth.training import MODULES, TRUE_EFFECTS
from analysis.training.prepost import ancova, attrition, gains, hedges_g
from analysis.validate.codebook import load_codebook
from analysis.validate.wave import validate
from benchmarks.training_coverage import coverage_of_setting
from tests.r_oracle import requires_r, run_r

RAW = Path(__file__).resolve().parents[1] / "data" / "raw" / "training"


@pytest.fixture(scope="module")
def training() -> pd.DataFrame:
    """The bundled training wave, read, validated and cleaned as the workflow does."""
    raw = read_raw(RAW / "2024.dta", "training")
    codebook = load_codebook(RAW / "codebook.json")
    valid = validate(raw, codebook, dataset="training", file="2024.dta").valid
    return clean(valid, codebook, dataset="training", wave="2024", key=b"0123456789abcdef").data


def test_module_gains_cover_the_true_gains(training):
    table = gains(training)
    by_module = table[table["group"] == "module_label"].set_index("module_label")
    truth = TRUE_EFFECTS["gain_by_module"]
    assert len(by_module) == len(truth) == 3
    for module, true_gain in truth.items():
        row = by_module.loc[MODULES[module]]
        assert row["ci_low"] <= true_gain <= row["ci_high"], (module, true_gain, row.to_dict())


def test_sex_difference_in_gain_is_not_significant(training):
    terms = ancova(training).set_index("term")
    assert TRUE_EFFECTS["sex_difference_in_gain"] == 0
    assert terms.loc["women", "p"] > 0.05
    assert terms.loc["women", "ci_low"] <= 0 <= terms.loc["women", "ci_high"]
    assert terms.loc["pre_score", "estimate"] > 0


def test_gain_equals_hand_computed_mean_and_counts(training):
    both = training.dropna(subset=["pre_score", "post_score"])
    table = gains(training)
    overall = table[table["group"] == "all"].iloc[0]
    expected = (both["post_score"].astype(float) - both["pre_score"].astype(float)).mean()
    assert overall["estimate"] == pytest.approx(expected)
    assert overall["n"] == len(both)
    assert overall["clusters"] == training["cohort"].nunique()
    assert overall["ci_low"] < overall["estimate"] < overall["ci_high"]
    assert overall["g_ci_low"] < overall["hedges_g"] < overall["g_ci_high"]


def test_hedges_g_matches_formula():
    pre = np.array([5.0, 6, 7, 8, 9, 10])
    post = pre + np.array([1.0, 2, 3, 2, 1, 3])
    sd_av = np.sqrt((pre.var(ddof=1) + post.var(ddof=1)) / 2)
    j = 1 - 3 / (4 * (len(pre) - 1) - 1)
    assert hedges_g(pre, post) == pytest.approx(j * 2.0 / sd_av)


def test_attrition_accounts_for_every_row(training):
    table = attrition(training)
    assert table["n"].sum() == len(training)
    both = table[table["status"] == "Both tests taken"]["n"].sum()
    assert both == training[["pre_score", "post_score"]].notna().all(axis=1).sum()
    assert set(table["status"]) - {"Both tests taken"} <= {
        "Absent",
        "Transferred",
        "Withdrew consent",
    }


# --- Issue 15, defect 5: intervals with few cohorts, and groups with one cohort -------------


def small_training(cohorts: list[int], sizes: list[int], seed: int = 3) -> pd.DataFrame:
    """Paired scores of officers in the given cohorts, with cohort effects on the gain."""
    rng = np.random.default_rng(seed)
    cohort = np.repeat(cohorts, sizes)
    n = len(cohort)
    pre = rng.normal(9, 2.5, n).round()
    effect = dict(zip(cohorts, rng.normal(0, 1.0, len(cohorts)), strict=True))
    post = (pre + 2.5 + np.array([effect[c] for c in cohort]) + rng.normal(0, 1.5, n)).round()
    return pd.DataFrame(
        {
            "pre_score": pre,
            "post_score": post,
            "cohort": cohort,
            "module_label": np.resize(["Awareness", "Investigation", "Self-care"], n),
            "sex_label": np.resize(["Man", "Woman"], n),
            "women": np.resize([0, 1], n),
        }
    )


def r_vector(values) -> str:
    return "c(" + ", ".join(repr(float(v)) for v in values) + ")"


def test_single_cohort_is_refused_with_the_reason_not_a_crash():
    data = small_training([4], [30])
    table = gains(data)  # raised ZeroDivisionError before
    assert len(table) == 1 + 3 + 2 + 6
    assert (table["clusters"] == 1).all()
    interval = ["se", "ci_low", "ci_high", "p", "g_se", "g_ci_low", "g_ci_high"]
    assert table[interval].isna().all().all()
    assert (table["ci_flag"] == "not estimable").all()
    assert table["ci_note"].str.contains("one cohort").all()
    overall = table[table["group"] == "all"].iloc[0]
    assert overall["estimate"] == pytest.approx((data["post_score"] - data["pre_score"]).mean())
    assert overall["hedges_g"] > 0  # the point estimates stay
    terms = ancova(data)  # raised ZeroDivisionError before
    assert terms["se"].isna().all() and terms["estimate"].notna().all()
    assert (terms["ci_flag"] == "not estimable").all()


def test_women_in_one_cohort_only_lose_their_interval_not_the_others():
    data = small_training([1, 2, 3, 4], [20, 20, 20, 20])
    data["sex_label"] = np.where(data["cohort"] == 2, "Woman", "Man")
    table = gains(data).set_index(["group", "module_label", "sex_label"])
    women = table.loc[("sex_label", "All", "Woman")]
    assert women["clusters"] == 1 and women["ci_flag"] == "not estimable"
    assert np.isnan(women["ci_low"]) and np.isnan(women["g_ci_high"])
    men = table.loc[("sex_label", "All", "Man")]
    assert men["clusters"] == 3 and men["ci_flag"] == "ok" and men["ci_note"] == ""
    assert men["ci_low"] < men["estimate"] < men["ci_high"]
    assert men["g_ci_low"] < men["hedges_g"] < men["g_ci_high"]


def test_two_cohorts_give_a_wide_interval_flagged_unreliable():
    table = gains(small_training([1, 2], [25, 25]))
    overall = table[table["group"] == "all"].iloc[0]
    assert overall["ci_flag"] == "unreliable"
    assert "only 2 cohorts" in overall["ci_note"] and "very wide" in overall["ci_note"]
    assert overall["df"] == pytest.approx(1.0)  # t on 1 df: critical value 12.7
    assert overall["ci_high"] - overall["ci_low"] == pytest.approx(
        2 * stats.t.ppf(0.975, 1) * overall["se"]
    )


def test_equal_cohorts_give_the_t_test_on_cohort_means():
    """Known truth: with equal cluster sizes CR2 with Bell-McCaffrey df is the t-test on means."""
    data = small_training([1, 2, 3, 4, 5], [12] * 5)
    overall = gains(data).query("group == 'all'").iloc[0]
    means = (data["post_score"] - data["pre_score"]).groupby(data["cohort"]).mean()
    test = stats.ttest_1samp(means, 0.0)
    low, high = test.confidence_interval(0.95)
    assert overall["df"] == pytest.approx(4)
    assert overall["se"] == pytest.approx(means.std(ddof=1) / np.sqrt(5))
    assert (overall["ci_low"], overall["ci_high"]) == pytest.approx((low, high))
    assert overall["p"] == pytest.approx(test.pvalue)


@requires_r
def test_gain_interval_matches_r_clubsandwich_cr2_with_unequal_cohorts():
    """Oracle: R clubSandwich, vcov = "CR2", Satterthwaite (Bell-McCaffrey) df."""
    data = small_training([1, 2, 3, 4, 5], [4, 9, 30, 6, 13])
    gain = data["post_score"] - data["pre_score"]
    r = run_r(
        f"""
        if (!requireNamespace("clubSandwich", quietly = TRUE)) {{ emit(list(missing = TRUE))
        }} else {{
        d <- data.frame(y = {r_vector(gain)}, g = {r_vector(data["cohort"])})
        ci <- clubSandwich::conf_int(lm(y ~ 1, d), vcov = "CR2", cluster = d$g, level = 0.95)
        emit(list(se = ci$SE, df = ci$df, low = ci$CI_L, high = ci$CI_U)) }}
        """
    )
    if r.get("missing"):
        pytest.skip("R package clubSandwich is absent (apt-get install r-cran-clubsandwich)")
    overall = gains(data).query("group == 'all'").iloc[0]
    assert overall["se"] == pytest.approx(r["se"], rel=1e-6)
    assert overall["df"] == pytest.approx(r["df"], rel=1e-6)
    assert overall["df"] < 4  # unequal cohorts: fewer df than cohorts - 1
    assert (overall["ci_low"], overall["ci_high"]) == pytest.approx((r["low"], r["high"]), rel=1e-6)


@requires_r
def test_g_standard_error_matches_r_survey_linearisation():
    """Oracle: R survey's linearised SE of d = mean gain / mean SD, cohorts as clusters.

    With equal cohort sizes CR2 equals survey's G / (G - 1) cluster factor; g = J d (s0 / s1)
    with s0 / s1 the ratio of the plug-in to the n - 1 SD, so SE(g) = J (s0 / s1) SE(d).
    """
    data = small_training([1, 2, 3, 4, 5, 6], [10] * 6)
    pre, post = data["pre_score"], data["post_score"]
    r = run_r(
        f"""
        d <- data.frame(pre = {r_vector(pre)}, post = {r_vector(post)},
                        g = {r_vector(data["cohort"])})
        des <- svydesign(ids = ~g, data = d)
        m <- svymean(~ pre + post + I(pre^2) + I(post^2), des)
        names(m) <- c("a", "b", "a2", "b2"); attr(m, "var") <- unname(attr(m, "var"))
        dimnames(attr(m, "var")) <- list(names(m), names(m))
        d0 <- svycontrast(m, quote((b - a) / sqrt((a2 - a^2 + b2 - b^2) / 2)))
        emit(list(d = unname(coef(d0)), se = unname(SE(d0))))
        """
    )
    n = len(data)
    j = 1 - 3 / (4 * (n - 1) - 1)
    shrink = np.sqrt((n - 1) / n)
    overall = gains(data).query("group == 'all'").iloc[0]
    assert overall["hedges_g"] == pytest.approx(j * shrink * r["d"], rel=1e-9)
    assert overall["g_se"] == pytest.approx(j * shrink * r["se"], rel=1e-6)
    crit = stats.t.ppf(0.975, 5)
    assert overall["g_ci_low"] == pytest.approx(overall["hedges_g"] - crit * overall["g_se"])


def test_new_intervals_hold_coverage_with_five_unequal_cohorts_where_old_ones_did_not():
    """200 seeded simulated trainings with known truth (benchmarks.training_coverage)."""
    result = coverage_of_setting(5, "unequal", replicates=200, seed=15)
    coverage = result["coverage"]
    assert coverage["g_new"] >= 0.90 and coverage["gain_new"] >= 0.90
    assert coverage["g_old"] < 0.90 and coverage["gain_old"] < 0.90
