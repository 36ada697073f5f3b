"""Pre/post training analysis: known truths from the generator and hand-computed statistics."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.clean import clean
from analysis.codebook import load_codebook
from analysis.io import read_raw
from analysis.synth.training import MODULES, TRUE_EFFECTS
from analysis.training import ancova, attrition, gains, hedges_g
from analysis.validate import validate

RAW = Path(__file__).resolve().parents[1] / "data" / "raw" / "training"


@pytest.fixture(scope="module")
def training() -> pd.DataFrame:
    """The bundled training wave, read, validated and cleaned as the workflow does."""
    raw = read_raw(RAW / "2024.dta", "training")
    codebook = load_codebook(RAW / "codebook.json")
    valid = validate(raw, codebook, dataset="training", file="2024.dta").valid
    return clean(valid, codebook, dataset="training", wave="2024", key=b"0123456789abcdef").data


def test_module_gains_cover_the_true_gains(training):
    table = gains(training, seed=1)
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
    table = gains(training, seed=1)
    overall = table[table["group"] == "all"].iloc[0]
    expected = (both["post_score"].astype(float) - both["pre_score"].astype(float)).mean()
    assert overall["estimate"] == pytest.approx(expected)
    assert overall["n"] == len(both)
    assert overall["clusters"] == training["cohort"].nunique()
    assert overall["ci_low"] < overall["estimate"] < overall["ci_high"]
    assert overall["g_ci_low"] < overall["hedges_g"] < overall["g_ci_high"]


def test_bootstrap_is_seeded(training):
    a, b, c = gains(training, seed=7), gains(training, seed=7), gains(training, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not a["g_ci_low"].equals(c["g_ci_low"])


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
