"""Design-based GLMs: known-truth simulations and exact identities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis.survey.design import DesignError, SurveyDesign, svy_mean
from analysis.survey.models import svy_glm

TRUTH = {"Intercept": 0.4, "x": 0.5, "z": -0.6}


def _clustered(rng: np.random.Generator, family: str, n_strata=4, psus=10, per=12) -> pd.DataFrame:
    """Stratified cluster sample with unequal weights and a cluster-level covariate effect."""
    h = np.repeat(np.arange(n_strata), psus * per)
    psu = np.repeat(np.arange(n_strata * psus), per)
    u = rng.normal(0, 0.3, n_strata * psus)[psu]
    x = rng.normal(0, 1, h.size) + u
    z = rng.integers(0, 2, h.size).astype(float)
    eta = TRUTH["Intercept"] + TRUTH["x"] * x + TRUTH["z"] * z
    p = 1 / (1 + np.exp(-eta))
    y = rng.poisson(np.exp(eta)) if family == "poisson" else rng.binomial(1, p)
    w = rng.uniform(1, 3, n_strata * psus)[psu] * (1 + h)
    return pd.DataFrame({"h": h, "psu": psu, "w": w, "x": x, "z": z, "y": y.astype(float)})


@pytest.mark.parametrize("family", ["poisson", "binomial"])
def test_ci_coverage_on_simulated_truth(family):
    rng = np.random.default_rng(20250601)
    reps, hits = 100, {k: 0 for k in TRUTH}
    for _ in range(reps):
        df = _clustered(rng, family)
        terms, _ = svy_glm("y ~ x + z", SurveyDesign(df, "w", strata="h", psu="psu"), family=family)
        for _, t in terms.iterrows():
            hits[t["term"]] += t["ci_low"] <= TRUTH[t["term"]] <= t["ci_high"]
    for term, k in hits.items():
        assert 0.86 <= k / reps <= 1.0, f"{family} {term}: coverage {k / reps:.2f}"


def test_intercept_only_gaussian_equals_design_mean():
    rng = np.random.default_rng(5)
    df = _clustered(rng, "poisson")
    design = SurveyDesign(df, "w", strata="h", psu="psu")
    terms, _ = svy_glm("y ~ 1", design)
    mean = svy_mean(design, "y").iloc[0]
    assert terms["estimate"].iloc[0] == pytest.approx(mean["estimate"], rel=1e-10)
    assert terms["se"].iloc[0] == pytest.approx(mean["se"], rel=1e-8)


def test_binary_ame_equals_difference_of_domain_means():
    rng = np.random.default_rng(11)
    df = _clustered(rng, "binomial")
    design = SurveyDesign(df, "w", strata="h", psu="psu")
    terms, _ = svy_glm("y ~ z", design, family="binomial")
    ame = terms.set_index("term").loc["z"]
    w, y, z = df["w"].to_numpy(), df["y"].to_numpy(), df["z"].to_numpy()
    infl = np.zeros(len(df))
    diff = 0.0
    for level, sign in ((1.0, 1), (0.0, -1)):
        d = z == level
        m = np.average(y[d], weights=w[d])
        diff += sign * m
        infl += sign * np.where(d, w * (y - m), 0) / w[d].sum()
    assert ame["ame"] == pytest.approx(diff, rel=1e-8)
    assert ame["ame_se"] == pytest.approx(np.sqrt(design.variance(infl)), rel=1e-6)
    assert ame["odds_ratio"] == pytest.approx(np.exp(ame["estimate"]))
    assert ame["ame_ci_low"] < ame["ame"] < ame["ame_ci_high"]


def test_missing_rows_dropped_counted_and_kept_in_design():
    rng = np.random.default_rng(7)
    df = _clustered(rng, "poisson")
    df.loc[[0, 5, 9], "x"] = np.nan
    df.loc[[5, 20], "y"] = np.nan
    design = SurveyDesign(df, "w", strata="h", psu="psu")
    terms, card = svy_glm("y ~ x + z", design, family="poisson")
    assert card["n_dropped"] == 4 and card["n"] == len(df) - 4
    assert card["n_dropped_by_variable"] == {"y": 2, "x": 3, "z": 0}
    zero = df.copy()
    zero.loc[zero[["x", "y"]].isna().any(axis=1), ["w", "x", "y"]] = [0.0, 0.0, 0.0]
    ref, _ = svy_glm("y ~ x + z", SurveyDesign(zero, "w", strata="h", psu="psu"), "poisson")
    assert terms["estimate"].to_numpy() == pytest.approx(ref["estimate"].to_numpy(), rel=1e-8)
    assert terms["se"].to_numpy() == pytest.approx(ref["se"].to_numpy(), rel=1e-8)


def test_reference_level_and_domain():
    rng = np.random.default_rng(9)
    df = _clustered(rng, "poisson")
    df["band"] = np.where(df["x"] > 0.5, "high", np.where(df["x"] < -0.5, "low", "mid"))
    design = SurveyDesign(df, "w", strata="h", psu="psu")
    terms, card = svy_glm("y ~ C(band)", design, "poisson", reference={"band": "mid"})
    assert list(terms["term"]) == ["Intercept", "C(band)[T.high]", "C(band)[T.low]"]
    assert terms["rate_ratio"].iloc[1] > 1 > terms["rate_ratio"].iloc[2]
    sub, card = svy_glm("y ~ x", design, "poisson", domain={"z": [1]})
    assert card["n"] == int((df["z"] == 1).sum())


def test_negbin_recovers_truth_on_overdispersed_counts():
    rng = np.random.default_rng(13)
    n = 4000
    x = rng.normal(size=n)
    mu = np.exp(1.0 + 0.4 * x)
    y = rng.negative_binomial(2, 2 / (2 + mu))  # alpha = 0.5
    df = pd.DataFrame({"x": x, "y": y, "w": rng.uniform(1, 2, n)})
    terms, card = svy_glm("y ~ x", SurveyDesign(df, "w"), family="negbin")
    assert card["alpha"] == pytest.approx(0.5, abs=0.1)
    est = terms.set_index("term")
    assert est.loc["x", "ci_low"] < 0.4 < est.loc["x", "ci_high"]
    assert est.loc["Intercept", "ci_low"] < 1.0 < est.loc["Intercept", "ci_high"]


def test_bad_models_are_explained():
    rng = np.random.default_rng(1)
    df = _clustered(rng, "poisson")
    design = SurveyDesign(df, "w", strata="h", psu="psu")
    with pytest.raises(DesignError, match="0/1"):
        svy_glm("y ~ x", design, family="binomial")
    with pytest.raises(DesignError, match="family"):
        svy_glm("y ~ x", design, family="probit")
    df["x2"] = 2 * df["x"]
    with pytest.raises(DesignError, match="rank deficient"):
        svy_glm("y ~ x + x2", SurveyDesign(df, "w", strata="h", psu="psu"))


def _psu_linearised_se(df: pd.DataFrame, design: SurveyDesign, statistic) -> float:
    """SE of ``statistic(weights)`` by numerical linearisation, independent of svy_glm: each PSU's
    total influence is the derivative of the statistic when that PSU's weights are scaled by
    (1 + e); the design variance of those totals is the SE squared."""
    w = df["w"].to_numpy()
    totals = np.zeros(len(df))
    for psu in df["psu"].unique():
        rows = (df["psu"] == psu).to_numpy()
        first = np.flatnonzero(rows)[0]
        e = 1e-5
        up, down = w.copy(), w.copy()
        up[rows] *= 1 + e
        down[rows] *= 1 - e
        totals[first] = (statistic(up) - statistic(down)) / (2 * e)
    return float(np.sqrt(design.variance(totals)))


def _logit_beta(df: pd.DataFrame, columns: list[np.ndarray], w: np.ndarray) -> np.ndarray:
    x = np.column_stack([np.ones(len(df)), *columns])
    fit = sm.GLM(df["y"].to_numpy(), x, family=sm.families.Binomial(), var_weights=w)
    return np.asarray(fit.fit(tol=1e-12).params)


def _mean_w(values: np.ndarray, w: np.ndarray) -> float:
    return float((w * values).sum() / w.sum())


def _expit(eta: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-eta))


def test_ame_of_a_variable_in_a_squared_term():
    """AME of x in ``x + I(x**2)``: mean of p(1-p)(b1 + 2 b2 x), not of p(1-p) b1."""
    df = _clustered(np.random.default_rng(21), "binomial")
    design = SurveyDesign(df, "w", strata="h", psu="psu")
    x, z = df["x"].to_numpy(), df["z"].to_numpy()

    def ame_x(w):
        b = _logit_beta(df, [x, x**2, z], w)
        p = _expit(b[0] + b[1] * x + b[2] * x**2 + b[3] * z)
        return _mean_w(p * (1 - p) * (b[1] + 2 * b[2] * x), w)

    def ame_z(w):
        b = _logit_beta(df, [x, x**2, z], w)
        eta = b[0] + b[1] * x + b[2] * x**2
        return _mean_w(_expit(eta + b[3]) - _expit(eta), w)

    terms, _ = svy_glm("y ~ x + I(x**2) + z", design, family="binomial")
    got = terms.set_index("term")
    w = df["w"].to_numpy()
    assert got.loc["x", "ame"] == pytest.approx(ame_x(w), rel=1e-7)
    assert got.loc["z", "ame"] == pytest.approx(ame_z(w), rel=1e-7)
    assert got.loc["x", "ame_se"] == pytest.approx(_psu_linearised_se(df, design, ame_x), rel=1e-4)
    assert got.loc["z", "ame_se"] == pytest.approx(_psu_linearised_se(df, design, ame_z), rel=1e-4)
    assert np.isnan(got.loc["I(x ** 2)", "ame"])


def test_ame_of_variables_in_an_interaction():
    """AMEs in ``x * z``: dp/dx = p(1-p)(b_x + b_xz z); z (0/1) the change 0 -> 1 at each x."""
    df = _clustered(np.random.default_rng(22), "binomial")
    design = SurveyDesign(df, "w", strata="h", psu="psu")
    x, z = df["x"].to_numpy(), df["z"].to_numpy()

    def ame_x(w):
        b = _logit_beta(df, [x, z, x * z], w)
        p = _expit(b[0] + b[1] * x + b[2] * z + b[3] * x * z)
        return _mean_w(p * (1 - p) * (b[1] + b[3] * z), w)

    def ame_z(w):
        b = _logit_beta(df, [x, z, x * z], w)
        return _mean_w(_expit(b[0] + b[1] * x + b[2] + b[3] * x) - _expit(b[0] + b[1] * x), w)

    terms, _ = svy_glm("y ~ x * z", design, family="binomial")
    got = terms.set_index("term")
    w = df["w"].to_numpy()
    assert got.loc["x", "ame"] == pytest.approx(ame_x(w), rel=1e-7)
    assert got.loc["z", "ame"] == pytest.approx(ame_z(w), rel=1e-7)
    assert got.loc["x", "ame_se"] == pytest.approx(_psu_linearised_se(df, design, ame_x), rel=1e-4)
    assert got.loc["z", "ame_se"] == pytest.approx(_psu_linearised_se(df, design, ame_z), rel=1e-4)
    assert np.isnan(got.loc["x:z", "ame"])


def test_text_outcome_counts_the_named_event_never_the_complement():
    df = _clustered(np.random.default_rng(23), "binomial")
    df["answer"] = np.where(df["y"] == 1, "Yes", "No")
    design = SurveyDesign(df, "w", strata="h", psu="psu")
    numeric, _ = svy_glm("y ~ x + z", design, family="binomial")
    yes, card = svy_glm("answer ~ x + z", design, family="binomial", event="Yes")
    assert yes["estimate"].to_numpy() == pytest.approx(numeric["estimate"].to_numpy(), rel=1e-10)
    assert card["modelled"] == "P(answer = Yes)" and set(yes["modelled"]) == {"P(answer = Yes)"}
    no, _ = svy_glm("answer ~ x + z", design, family="binomial", event="No")
    assert no["estimate"].to_numpy() == pytest.approx(-numeric["estimate"].to_numpy(), rel=1e-10)
    logical, card = svy_glm("I(y > 0) ~ x + z", design, family="binomial")
    assert logical["estimate"].to_numpy() == pytest.approx(numeric["estimate"], rel=1e-10)
    assert card["modelled"] == "P(y > 0)"
    zero, card = svy_glm("y ~ x + z", design, family="binomial", event=0)
    assert zero["estimate"].to_numpy() == pytest.approx(-numeric["estimate"].to_numpy(), rel=1e-10)
    assert card["modelled"] == "P(y = 0)"


def test_ambiguous_binary_outcomes_are_refused():
    df = _clustered(np.random.default_rng(24), "binomial")
    df["answer"] = np.where(df["y"] == 1, "Yes", "No")
    df["three"] = np.where(df["x"] > 1, "maybe", df["answer"])
    design = SurveyDesign(df, "w", strata="h", psu="psu")
    with pytest.raises(DesignError, match=r"'answer' has the text levels \['No', 'Yes'\].*event:"):
        svy_glm("answer ~ x", design, family="binomial")
    with pytest.raises(DesignError, match="none of its levels"):
        svy_glm("answer ~ x", design, family="binomial", event="yes")
    with pytest.raises(DesignError, match="3 levels"):
        svy_glm("three ~ x", design, family="binomial", event="Yes")
    with pytest.raises(DesignError, match="binomial models only"):
        svy_glm("y ~ x", design, family="poisson", event=1)
    with pytest.raises(DesignError, match="not numeric"):
        svy_glm("answer ~ x", design, family="gaussian")


def test_term_tests_are_wald_f_tests_of_each_term():
    """A one-column term's F is its t squared (same p); a factor's F has one df per level."""
    df = _clustered(np.random.default_rng(25), "binomial")
    df["band"] = np.where(df["x"] > 0.5, "high", np.where(df["x"] < -0.5, "low", "mid"))
    design = SurveyDesign(df, "w", strata="h", psu="psu")
    terms, card = svy_glm("y ~ z + C(band)", design, family="binomial")
    tests = {t["term"]: t for t in card["term_tests"]}
    assert set(tests) == {"z", "C(band)"}
    z = terms.set_index("term").loc["z"]
    assert tests["z"]["F"] == pytest.approx((z["estimate"] / z["se"]) ** 2, rel=1e-10)
    assert tests["z"]["p"] == pytest.approx(z["p"], rel=1e-8)
    assert (tests["C(band)"]["df_num"], tests["C(band)"]["df_den"]) == (2, card["df"])
    assert tests["C(band)"]["question"] == "Is C(band) associated with the outcome at all?"


def test_plan_event_reaches_the_model_and_a_missing_one_is_named():
    from analysis.survey.estimate import run_models

    df = _clustered(np.random.default_rng(26), "binomial")
    df["answer"] = np.where(df["y"] == 1, "Yes", "No")
    model = {"id": "answer_logit", "formula": "answer ~ x + z", "family": "binomial"}
    entry = {"design": {"weight": "w", "strata": "h", "psu": "psu"}, "models": [model]}
    with pytest.raises(DesignError) as refused:
        run_models(df, entry, dataset="officer_survey")
    message = str(refused.value)
    for part in ("officer_survey", "answer_logit", "'answer'", "['No', 'Yes']", "event:"):
        assert part in message
    entry["models"] = [{**model, "event": "Yes"}]
    ((terms, card),) = run_models(df, entry, dataset="officer_survey").values()
    assert card["modelled"] == "P(answer = Yes)" and terms["estimate"].iloc[1] > 0


def test_model_figure_says_which_event_is_modelled(tmp_path):
    from analysis.figures.models import model_terms_figure

    df = _clustered(np.random.default_rng(27), "binomial")
    df["answer"] = np.where(df["y"] == 1, "Yes", "No")
    design = SurveyDesign(df, "w", strata="h", psu="psu")
    terms, _ = svy_glm("answer ~ x + z", design, family="binomial", event="Yes")
    paths = model_terms_figure(terms, "Answer", tmp_path / "answer")
    alt = paths["alt"].read_text(encoding="utf-8")
    assert "'Answer (modelled: P(answer = Yes))'" in alt
    assert "modelled: P(answer = Yes)" in paths["svg"].read_text(encoding="utf-8")
