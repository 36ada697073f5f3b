"""The plan's design-based models recover the effects the generator embedded (known truth)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from analysis.clean.wave import clean
from analysis.config.plan import load_plan
from analysis.io import read_raw
from analysis.survey.estimate import run_models
from analysis.synth.officer_survey import TRUE_ATTITUDE, TRUE_CASES_TRAFFICKING, TRUE_INTEND_STAY_OR
from analysis.validate.codebook import load_codebook
from analysis.validate.wave import validate

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw" / "officer_survey"


@pytest.fixture(scope="module", params=["2023", "2025"])
def models(request) -> dict[str, pd.DataFrame]:
    """Every model of the plan, fitted to one cleaned bundled wave: {model_id: terms}."""
    wave = request.param
    raw = read_raw(RAW / f"{wave}.sav", "officer_survey")
    codebook = load_codebook(RAW / "codebook.json")
    valid = validate(raw, codebook, dataset="officer_survey", file=f"{wave}.sav").valid
    data = clean(valid, codebook, dataset="officer_survey", wave=wave, key=b"0123456789abcdef")
    plan = load_plan(ROOT / "config" / "plan.yaml")["officer_survey"]
    fitted = run_models(data.data, plan, dataset="officer_survey")
    return {model: terms.set_index("term") for model, (terms, _card) in fitted.items()}


def test_odds_ratios_of_staying_cover_the_truth(models):
    terms = models["stay_logit"]
    for term, odds_ratio in TRUE_INTEND_STAY_OR.items():
        row = terms.loc[term]
        assert row["or_ci_low"] <= odds_ratio <= row["or_ci_high"], (term, row.to_dict())
    assert terms.loc["harassment", "p"] < 0.05  # a large true effect is detected


def test_attitude_effects_cover_the_truth_and_the_null_is_not_significant(models):
    terms = models["attitude_linear"]
    for term in ("women", "training_gender", "years_service"):
        row = terms.loc[term]
        assert row["ci_low"] <= TRUE_ATTITUDE[term] <= row["ci_high"], (term, row.to_dict())
    assert TRUE_ATTITUDE["years_service"] == 0
    assert terms.loc["years_service", "p"] > 0.05


def test_border_posting_rate_ratio_covers_the_truth(models):
    row = models["trafficking_cases_poisson"].loc["border_posting"]
    truth = math.log(TRUE_CASES_TRAFFICKING["border_posting"])
    assert row["ci_low"] <= truth <= row["ci_high"], row.to_dict()
