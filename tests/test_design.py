"""Taylor-linearised design variances checked against closed forms and identities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.design import DesignError, SurveyDesign, svy_mean, svy_proportion, svy_total


def _frame(seed: int = 1, n_strata: int = 3, psus: int = 4, per_psu: int = 5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for h in range(n_strata):
        for j in range(psus):
            for _ in range(per_psu):
                rows.append(
                    {
                        "stratum": f"S{h}",
                        "psu": f"S{h}P{j}",
                        "w": float(rng.uniform(1, 5)),
                        "y": float(rng.normal(10 + h, 2)),
                        "g": rng.choice(["a", "b"]),
                        "npop": 10,
                    }
                )
    return pd.DataFrame(rows)


def test_srs_mean_se_is_sd_over_root_n():
    rng = np.random.default_rng(3)
    df = pd.DataFrame({"y": rng.normal(size=50), "w": 2.0})
    row = svy_mean(SurveyDesign(df, weight="w"), "y").iloc[0]
    assert row["estimate"] == pytest.approx(df["y"].mean())
    assert row["se"] == pytest.approx(df["y"].std(ddof=1) / np.sqrt(50), rel=1e-10)
    assert row["df"] == 49 and row["n"] == 50


def test_fpc_scales_variance_by_one_minus_sampling_fraction():
    df = _frame()
    with_fpc = svy_total(SurveyDesign(df, "w", strata="stratum", psu="psu", fpc="npop"), "y")
    without = svy_total(SurveyDesign(df, "w", strata="stratum", psu="psu"), "y")
    # 4 of 10 PSUs sampled in every stratum
    assert with_fpc["se"].iloc[0] ** 2 == pytest.approx(0.6 * without["se"].iloc[0] ** 2)
    assert with_fpc["estimate"].iloc[0] == pytest.approx(without["estimate"].iloc[0])


def test_stratified_cluster_total_by_hand():
    df = _frame()
    design = SurveyDesign(df, "w", strata="stratum", psu="psu")
    t = (df["w"] * df["y"]).groupby([df["stratum"], df["psu"]]).sum()
    var = sum(4 / 3 * ((g - g.mean()) ** 2).sum() for _, g in t.groupby(level=0))
    row = svy_total(design, "y").iloc[0]
    assert row["se"] == pytest.approx(np.sqrt(var), rel=1e-12)
    assert row["df"] == 12 - 3


def test_domain_total_equals_total_of_masked_variable():
    df = _frame()
    df["y_a"] = np.where(df["g"] == "a", df["y"], 0.0)
    design = SurveyDesign(df, "w", strata="stratum", psu="psu")
    dom = svy_total(design, "y", by="g").set_index("g").loc["a"]
    masked = svy_total(design, "y_a").iloc[0]
    assert dom["estimate"] == pytest.approx(masked["estimate"])
    assert dom["se"] == pytest.approx(masked["se"], rel=1e-12)
    assert dom["df"] == design.df  # full design degrees of freedom, not the domain's


def test_missing_values_leave_the_design_intact():
    df = _frame()
    df.loc[df["psu"] == "S0P0", "y"] = np.nan
    design = SurveyDesign(df, "w", strata="stratum", psu="psu")
    row = svy_mean(design, "y").iloc[0]
    assert row["n"] == len(df) - 5
    assert row["df"] == 9  # the PSU with only missing answers still counts
    ok = df["y"].notna()
    assert row["estimate"] == pytest.approx(np.average(df["y"][ok], weights=df["w"][ok]))


def test_proportions_sum_to_one_within_group_and_ci_inside_unit_interval():
    df = _frame()
    design = SurveyDesign(df, "w", strata="stratum", psu="psu")
    res = svy_proportion(design, "g", by="stratum")
    assert res.groupby("stratum")["estimate"].sum().to_numpy() == pytest.approx([1, 1, 1])
    assert ((res["ci_low"] >= 0) & (res["ci_high"] <= 1)).all()
    assert (res["ci_low"] < res["estimate"]).all() and (res["estimate"] < res["ci_high"]).all()
    assert (res.groupby("stratum")["n_level"].sum() == res.groupby("stratum")["n"].first()).all()


def _lonely() -> pd.DataFrame:
    df = _frame(psus=2)
    return df[df["psu"] != "S2P1"].reset_index(drop=True)  # stratum S2 keeps one PSU


def test_lonely_psu_fail_names_the_stratum():
    design = SurveyDesign(_lonely(), "w", strata="stratum", psu="psu", lonely_psu="fail")
    with pytest.raises(DesignError, match="S2"):
        svy_total(design, "y")


def test_lonely_psu_adjust_centres_on_grand_mean_and_remove_drops_it():
    df = _lonely()
    adjust = SurveyDesign(df, "w", strata="stratum", psu="psu", lonely_psu="adjust")
    remove = SurveyDesign(df, "w", strata="stratum", psu="psu", lonely_psu="remove")
    assert adjust.lonely_strata() == ["S2"]
    t = (df["w"] * df["y"]).groupby(df["psu"]).sum()
    grand = t.mean()
    v_remove = svy_total(remove, "y")["se"].iloc[0] ** 2
    v_adjust = svy_total(adjust, "y")["se"].iloc[0] ** 2
    assert v_adjust - v_remove == pytest.approx((t["S2P0"] - grand) ** 2, rel=1e-10)


def test_bad_weights_and_missing_columns_are_named():
    df = _frame()
    df.loc[[3, 7], "w"] = -1
    with pytest.raises(DesignError, match=r"'w'.*rows.*4, 8"):
        SurveyDesign(df, "w", strata="stratum", psu="psu")
    with pytest.raises(DesignError, match="nope"):
        SurveyDesign(_frame(), "w", strata="nope")


def test_fpc_smaller_than_sample_is_rejected():
    df = _frame()
    df["npop"] = 3
    with pytest.raises(DesignError, match="population count"):
        SurveyDesign(df, "w", strata="stratum", psu="psu", fpc="npop")
