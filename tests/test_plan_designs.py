"""Designs per wave (a cluster sample after a stratified one) and data with no design, checked
against R survey's published API figures and against plain arithmetic."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from r_oracle import requires_r, run_r

from analysis.config.plan import PlanError, design_of, validate_plan
from analysis.survey.design import DesignError
from analysis.survey.estimate import make_design, run_estimates, run_models

API = Path(__file__).resolve().parents[2] / "shared" / "reference-data" / "api"
STRATIFIED = {"weight": "pw", "strata": "stype", "fpc": "fpc", "lonely_psu": "fail"}
CLUSTER = {"weight": "pw", "psu": "dnum", "fpc": "fpc", "lonely_psu": "fail"}
MEAN = {"id": "api_mean", "variable": "api00", "statistic": "mean"}


def api(name: str) -> pd.DataFrame:
    path = API / f"{name}.csv"
    if not path.is_file():
        pytest.skip(f"reference data {path} is absent (shared/reference-data not beside the repo)")
    return pd.read_csv(path)


def plan(**entry) -> dict:
    return validate_plan({"version": 1, "datasets": {"schools": entry}})["schools"]


def test_each_wave_is_analysed_with_its_own_design():
    """Before, one design per dataset: the cluster wave got the stratified design's SE (7.19)
    instead of svymean's 23.54 (R survey, apiclus1, published)."""
    entry = plan(design=STRATIFIED, waves={"clus": {"design": CLUSTER}}, estimates=[MEAN])
    assert design_of(entry, "strat") == STRATIFIED
    assert design_of(entry, "clus") == CLUSTER
    strat = run_estimates(api("apistrat"), {**entry, "design": design_of(entry, "strat")})
    clus = run_estimates(api("apiclus1"), {**entry, "design": design_of(entry, "clus")})
    assert strat.loc[0, "estimate"] == pytest.approx(662.29, abs=0.005)
    assert strat.loc[0, "se"] == pytest.approx(9.4089, abs=0.00005)
    assert clus.loc[0, "estimate"] == pytest.approx(644.17, abs=0.005)
    assert clus.loc[0, "se"] == pytest.approx(23.542, abs=0.0005)
    assert "psu=dnum" in clus.loc[0, "design"] and "strata=stype" in strat.loc[0, "design"]


def test_data_with_no_design_get_unweighted_estimates():
    """`design: none`: every respondent counts once and the variance is a simple random
    sample's, as R's svydesign(ids = ~1) without weights."""
    rng = np.random.default_rng(3)
    data = pd.DataFrame({"score": rng.normal(50, 10, 40).round(1)})
    entry = plan(design="none", estimates=[{**MEAN, "variable": "score"}])
    row = run_estimates(data, entry).iloc[0]
    assert row["estimate"] == pytest.approx(data["score"].mean())
    assert row["se"] == pytest.approx(data["score"].std(ddof=1) / np.sqrt(40))
    assert row["df"] == 39
    assert "unweighted" in row["design"]
    assert make_design(data, entry).weights.tolist() == [1.0] * 40


@pytest.mark.parametrize(
    ("estimate", "model"),
    [
        ({**MEAN, "variable": "scor"}, None),
        (None, {"id": "m", "formula": "score ~ agee", "family": "gaussian"}),
    ],
)
def test_a_missing_column_lists_the_data_s_columns_not_the_added_weight(estimate, model):
    """`design: none` adds a weight column of ones; a message listing the columns a plan entry
    may name must not offer it (it read 'available: score, unweighted (each ...)')."""
    data = pd.DataFrame({"score": [1.0, 2.0, 3.0], "age": [30, 40, 50]})
    entry = plan(design="none", estimates=[estimate] if estimate else [],
                 models=[model] if model else [])  # fmt: skip
    run = run_estimates if estimate else run_models
    with pytest.raises(DesignError) as caught:
        run(data, entry, "study")
    message = str(caught.value)
    assert "study" in message and "score" in message and "age" in message
    assert "unweighted" not in message
    assert "What to do:" in message  # where to correct it


def test_a_wave_design_must_be_a_design():
    with pytest.raises(PlanError, match="waves"):
        plan(design=STRATIFIED, waves={"clus": {"design": {"psu": "dnum"}}})


@requires_r
def test_no_design_matches_r_svydesign_without_weights():
    """`design: none` is R's svydesign(ids = ~1) with no weights (R warns it assumes equal
    probability): the same mean, SE and df on the API simple random sample."""
    data = api("apisrs")
    entry = plan(design="none", estimates=[MEAN])
    row = run_estimates(data, entry).iloc[0]
    r = run_r(
        "data(api); d <- suppressWarnings(svydesign(ids = ~1, data = apisrs))\n"
        "m <- svymean(~api00, d)\n"
        "emit(list(mean = as.numeric(coef(m)), se = as.numeric(SE(m)), df = degf(d)))"
    )
    assert row["estimate"] == pytest.approx(r["mean"], rel=1e-10)
    assert row["se"] == pytest.approx(r["se"], rel=1e-10)
    assert row["df"] == r["df"]
