"""Design-based proportional-odds models: exact identities and known-truth simulations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.miscmodels.ordinal_model import OrderedModel
from statsmodels.tools.numdiff import approx_fprime

from analysis.survey.design import DesignError, SurveyDesign
from analysis.survey.estimate import run_models
from analysis.survey.models import svy_glm
from analysis.survey.ordinal import WeightedOrderedModel, derivatives, svy_ordinal, threshold_names

SLOPES = {"x": 0.8, "z": -0.5}
CUTS = np.array([-1.0, 0.3, 1.6])  # thresholds 1|2, 2|3, 3|4
TRUTH = {**SLOPES, **dict(zip(threshold_names([1, 2, 3, 4]), CUTS, strict=True))}


def _latent_categories(rng: np.random.Generator, eta: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """Categories 1..K of a proportional-odds model: y = 1 + #(eta + logistic error > cut)."""
    latent = eta + rng.logistic(size=eta.size)
    return 1 + (latent[:, None] > cuts[None, :]).sum(axis=1)


def _clustered(rng: np.random.Generator, n_strata=4, psus=8, per=15, cuts=CUTS) -> pd.DataFrame:
    """Stratified cluster sample, unequal weights, a covariate correlated within PSUs."""
    h = np.repeat(np.arange(n_strata), psus * per)
    psu = np.repeat(np.arange(n_strata * psus), per)
    x = rng.normal(0, 1, h.size) + rng.normal(0, 0.5, n_strata * psus)[psu]
    z = rng.binomial(1, 0.4, h.size).astype(float)
    y = _latent_categories(rng, SLOPES["x"] * x + SLOPES["z"] * z, cuts)
    w = rng.uniform(1, 3, n_strata * psus)[psu] * (1 + h)
    return pd.DataFrame({"h": h, "psu": psu, "w": w, "x": x, "z": z, "y": y})


def test_analytic_score_and_hessian_match_numerical_derivatives():
    rng = np.random.default_rng(1)
    df = _clustered(rng)
    x, w = df[["x", "z"]].to_numpy(), df["w"].to_numpy() / df["w"].mean()
    category = df["y"].to_numpy() - 1
    model = WeightedOrderedModel(category, x, weights=w)
    params = model.start_params + np.array([0.3, -0.2, 0.1, -0.3, 0.2])
    numerical = approx_fprime(params, model.loglike, centered=True)
    np.testing.assert_allclose(model.score(params), numerical, rtol=1e-5, atol=1e-5)
    theta = model.natural(params)
    loglik, scores, hessian = derivatives(theta, x, category, w)
    assert loglik == pytest.approx(model.loglike(params), rel=1e-10)
    numerical_hessian = approx_fprime(
        theta, lambda t: derivatives(t, x, category, w)[1].sum(axis=0), centered=True
    )
    np.testing.assert_allclose(hessian, numerical_hessian, rtol=1e-5, atol=1e-4)


def test_equal_weights_without_clusters_match_unweighted_ordered_model():
    rng = np.random.default_rng(2)
    df = _clustered(rng, n_strata=1, psus=1, per=2000)
    df["w"] = 7.0
    terms, card = svy_ordinal("y ~ x + z", SurveyDesign(df, "w"))
    reference = OrderedModel(df["y"], df[["x", "z"]], distr="logit").fit(
        method="bfgs", gtol=1e-9, maxiter=5000, disp=0
    )
    thresholds = reference.model.transform_threshold_params(reference.params.to_numpy())[1:-1]
    est = terms.set_index("term")
    np.testing.assert_allclose(est.loc[["x", "z"], "estimate"], reference.params[["x", "z"]], 1e-5)
    np.testing.assert_allclose(est.loc[["1|2", "2|3", "3|4"], "estimate"], thresholds, rtol=1e-5)
    robust, model_based = est.loc[["x", "z", "1|2"], "se"].to_numpy(), reference.bse.iloc[[0, 1, 2]]
    np.testing.assert_allclose(robust, model_based.to_numpy(), rtol=0.15)
    assert card["converged"] and card["levels"] == ["1", "2", "3", "4"]
    assert card["df"] == 2000 - 1 - 2  # degf - slopes, as R svyolr


def test_binary_outcome_gives_the_logit_model_with_the_threshold_sign_flipped():
    rng = np.random.default_rng(3)
    df = _clustered(rng, cuts=np.array([0.4]))
    df["y"] = df["y"] - 1  # 0/1
    design = SurveyDesign(df, "w", strata="h", psu="psu")
    ordinal, ocard = svy_ordinal("y ~ x + z", design)
    logit, lcard = svy_glm("y ~ x + z", design, family="binomial")
    o, lg = ordinal.set_index("term"), logit.set_index("term")
    for term in ("x", "z"):
        assert o.loc[term, "estimate"] == pytest.approx(lg.loc[term, "estimate"], rel=1e-6)
        assert o.loc[term, "se"] == pytest.approx(lg.loc[term, "se"], rel=1e-5)
        assert o.loc[term, "odds_ratio"] == pytest.approx(lg.loc[term, "odds_ratio"], rel=1e-6)
    # logit P(y <= 0) = threshold - x'b, so logit P(y = 1) = -threshold + x'b
    assert o.loc["0|1", "estimate"] == pytest.approx(-lg.loc["Intercept", "estimate"], rel=1e-6)
    assert o.loc["0|1", "se"] == pytest.approx(lg.loc["Intercept", "se"], rel=1e-5)
    assert ocard["df"] == lcard["df"]
    assert np.isnan(o.loc["0|1", "odds_ratio"])


def test_design_intervals_cover_the_known_slopes_and_thresholds():
    rng = np.random.default_rng(20250602)
    reps, hits = 40, dict.fromkeys(TRUTH, 0)
    for _ in range(reps):
        df = _clustered(rng)
        terms, _ = svy_ordinal("y ~ x + z", SurveyDesign(df, "w", strata="h", psu="psu"))
        for _, t in terms.iterrows():
            hits[t["term"]] += t["ci_low"] <= TRUTH[t["term"]] <= t["ci_high"]
    for term, k in hits.items():
        assert k / reps >= 0.85, f"{term}: coverage {k / reps:.2f}"


def test_missing_rows_are_dropped_counted_and_kept_in_the_design():
    rng = np.random.default_rng(4)
    df = _clustered(rng).astype({"y": "Int64"})
    df.loc[[0, 5, 9], "x"] = np.nan
    df.loc[df["psu"] == 3, "y"] = pd.NA  # a whole PSU without answers stays in the design
    design = SurveyDesign(df, "w", strata="h", psu="psu")
    terms, card = svy_ordinal("y ~ x + z", design)
    lost = int((df["psu"] == 3).sum())
    assert card["n_dropped_by_variable"] == {"y": lost, "x": 3, "z": 0}
    assert card["n"] == len(df) - lost - 3 == terms["n"].iloc[0]
    assert card["n_psu"] == design.n_psu
    assert (terms["df"] == design.df - 1 - 2).all()  # R svyolr: degf of the analysed rows - slopes
    complete = df.dropna().reset_index(drop=True)
    subset, _ = svy_ordinal("y ~ x + z", SurveyDesign(complete, "w", strata="h", psu="psu"))
    np.testing.assert_allclose(terms["estimate"], subset["estimate"], rtol=1e-8)
    assert not np.allclose(terms["se"], subset["se"], rtol=1e-3)  # the empty PSU still counts


def test_bad_ordinal_requests_are_refused_with_the_reason():
    rng = np.random.default_rng(5)
    df = _clustered(rng)
    design = SurveyDesign(df, "w", strata="h", psu="psu")
    with pytest.raises(DesignError, match="distinct values"):
        svy_ordinal("x ~ z", design)
    with pytest.raises(DesignError, match="thresholds take the place of the intercept"):
        svy_ordinal("y ~ x + z - 1", design)


def test_plan_dispatches_the_ordinal_family():
    rng = np.random.default_rng(6)
    df = _clustered(rng, cuts=np.array([-2.0, -0.5, 0.5, 2.0]))
    df["band"] = np.where(df["x"] > 0, "old", "young")
    entry = {
        "design": {"weight": "w", "strata": "h", "psu": "psu"},
        "models": [{"id": "likert", "formula": "y ~ z + C(band)", "family": "ordinal"}],
    }
    ((terms, card),) = run_models(df, entry).values()
    assert list(terms["term"]) == ["C(band)[T.young]", "z", "1|2", "2|3", "3|4", "4|5"]
    assert (terms["model_id"] == "likert").all() and (terms["family"] == "ordinal").all()
    assert terms["odds_ratio"].notna().sum() == 2
    assert card["id"] == "likert" and card["link"] == "logit"
