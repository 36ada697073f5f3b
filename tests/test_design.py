"""Taylor-linearised design variances checked against closed forms and identities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.survey.design import DesignError, SurveyDesign, svy_mean, svy_proportion, svy_total


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
    # the domain's degrees of freedom (R's degf(subset(design, g == "a"))): here every PSU
    assert dom["df"] == design.df_in(df["g"].eq("a").to_numpy())


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


def test_lonely_psu_default_is_r_fail_and_tells_the_user_to_choose():
    design = SurveyDesign(_lonely(), "w", strata="stratum", psu="psu")
    assert design.lonely_psu == "fail"
    with pytest.raises(DesignError, match=r"'S2'.*only one.*lonely_psu: adjust"):
        svy_mean(design, "y")


def test_rows_count_the_lonely_strata_their_domain_touches():
    df = _lonely()
    design = SurveyDesign(df, "w", strata="stratum", psu="psu", lonely_psu="adjust")
    res = svy_mean(design, "y", by="stratum").set_index("stratum")
    assert res["lonely_strata"].to_dict() == {"S0": 0, "S1": 0, "S2": 1}
    assert svy_mean(design, "y")["lonely_strata"].iloc[0] == 1
    share = svy_proportion(design, "g", by="stratum")
    assert share.groupby("stratum")["lonely_strata"].first().to_dict() == {
        "S0": 0,
        "S1": 0,
        "S2": 1,
    }


def test_domain_inside_one_psu_has_no_interval_rather_than_a_zero_width_one():
    # stratum S2 has one PSU: its mean has SE 0 around the domain and df = 1 - 1 = 0, where R's
    # svyciprop gives NaN limits (qt(.975, 0)); a zero-width interval would claim certainty
    design = SurveyDesign(_lonely(), "w", strata="stratum", psu="psu", lonely_psu="adjust")
    row = svy_mean(design, "y", by="stratum").set_index("stratum").loc["S2"]
    assert row["df"] == 0 and row["se"] == pytest.approx(0, abs=1e-12)
    assert np.isnan(row["ci_low"]) and np.isnan(row["ci_high"])
    share = svy_proportion(design, "g", by="stratum")
    s2 = share[share["stratum"] == "S2"]
    assert s2["ci_low"].isna().all() and s2["ci_high"].isna().all()


def test_domain_intervals_use_the_domains_degrees_of_freedom():
    # R's svyciprop uses degf(subset(design, domain)): 4 PSUs - 1 stratum = 3, not 12 - 3 = 9
    df = _frame()
    design = SurveyDesign(df, "w", strata="stratum", psu="psu")
    row = svy_proportion(design, "g", by="stratum").iloc[0]
    assert row["df"] == 3
    p, se = row["estimate"], row["se"]
    q = stats.t.ppf(0.975, 3)
    logit = np.log(p / (1 - p))
    expit = 1 / (1 + np.exp(-(logit + q * se / (p * (1 - p)))))
    assert row["ci_high"] == pytest.approx(expit, rel=1e-12)
    mean = svy_mean(design, "y", by="stratum").iloc[0]
    assert mean["df"] == 3
    assert mean["ci_high"] - mean["estimate"] == pytest.approx(q * mean["se"], rel=1e-12)


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


def _two_stage(seed: int = 5) -> pd.DataFrame:
    """3 strata, 4 of 10 PSUs each, 2-4 of 6-9 SSUs per PSU, 3 rows per SSU."""
    rng = np.random.default_rng(seed)
    rows = []
    for h in range(3):
        for j in range(4):
            m, big_m = int(rng.integers(2, 5)), int(rng.integers(6, 10))
            for k in range(m):
                for _ in range(3):
                    w = (10 / 4) * (big_m / m)
                    rows.append(
                        {
                            "h": h,
                            "psu": j,
                            "ssu": k,
                            "N1": 10,
                            "N2": big_m,
                            "w": w,
                            "y": rng.normal(),
                        }
                    )
    return pd.DataFrame(rows)


def _textbook_two_stage_variance(df: pd.DataFrame) -> float:
    """Var of the HT total, stratified two-stage SRSWOR (Sarndal et al. 4.3.21, per stratum)."""
    var = 0.0
    for _, stratum in df.groupby("h"):
        big_n, n = stratum["N1"].iloc[0], stratum["psu"].nunique()
        psu_totals, within = [], 0.0
        for _, psu in stratum.groupby("psu"):
            big_m, m = psu["N2"].iloc[0], psu["ssu"].nunique()
            ssu = psu.groupby("ssu")["y"].sum()
            psu_totals.append(big_m * ssu.mean())
            within += big_m**2 * (1 - m / big_m) * ssu.var(ddof=1) / m
        t = np.array(psu_totals)
        var += big_n**2 * (1 - n / big_n) * t.var(ddof=1) / n + big_n / n * within
    return var


def test_two_stage_fpc_adds_the_second_stage_as_the_textbook_estimator():
    df = _two_stage()
    design = SurveyDesign(df, "w", strata="h", psu=["psu", "ssu"], fpc=["N1", "N2"])
    row = svy_total(design, "y").iloc[0]
    assert row["se"] ** 2 == pytest.approx(_textbook_two_stage_variance(df), rel=1e-10)
    one_stage = SurveyDesign(df, "w", strata="h", psu="psu", fpc="N1")
    assert row["se"] > svy_total(one_stage, "y")["se"].iloc[0]  # the old, silent under-report
    assert "2-stage" in design.variance_method and "2-stage" in design.describe()
    assert "with-replacement" in SurveyDesign(df, "w", psu=["psu", "ssu"]).variance_method


def test_two_stage_fpc_as_fractions_equals_counts():
    df = _two_stage()
    df["f1"] = 4 / df["N1"]
    df["f2"] = df.groupby(["h", "psu"])["ssu"].transform("nunique") / df["N2"]
    counts = SurveyDesign(df, "w", strata="h", psu=["psu", "ssu"], fpc=["N1", "N2"])
    fractions = SurveyDesign(df, "w", strata="h", psu=["psu", "ssu"], fpc=["f1", "f2"])
    a, b = svy_mean(counts, "y").iloc[0], svy_mean(fractions, "y").iloc[0]
    assert a["se"] == pytest.approx(b["se"], rel=1e-12)


def test_first_stage_fpc_with_two_stages_is_refused_not_under_reported():
    with pytest.raises(DesignError, match=r"fpc.*2 sampling stage.*one fpc column per stage"):
        SurveyDesign(_two_stage(), "w", strata="h", psu=["psu", "ssu"], fpc="N1")


def test_plan_must_choose_lonely_psu(tmp_path):
    import yaml

    from analysis.config.plan import PlanError, load_plan

    plan = {
        "version": 1,
        "datasets": {"survey": {"design": {"weight": "w", "strata": "h", "psu": "p"}}},
    }
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan), encoding="utf-8")
    with pytest.raises(PlanError, match=r"design.*lonely_psu"):
        load_plan(path)
    plan["datasets"]["survey"]["design"].update(lonely_psu="adjust", psu=["p", "s"])
    plan["datasets"]["survey"]["design"]["fpc"] = ["n1", "n2"]
    path.write_text(yaml.safe_dump(plan), encoding="utf-8")
    assert load_plan(path)["survey"]["design"]["psu"] == ["p", "s"]  # one column per stage


def test_estimate_tables_flag_rows_resting_on_lonely_strata():
    from analysis.survey.estimate import COLUMNS, run_estimates

    entry = {
        "design": {"weight": "w", "strata": "stratum", "psu": "psu", "lonely_psu": "adjust"},
        "estimates": [{"id": "y_mean", "variable": "y", "statistic": "mean", "by": ["stratum"]}],
    }
    out = run_estimates(_lonely(), entry)
    assert list(out.columns) == COLUMNS
    flags = dict(zip(out["group_value"], out["lonely_strata"], strict=True))
    assert flags == {"(overall)": 1, "S0": 0, "S1": 0, "S2": 1}
    entry["design"].pop("lonely_psu")  # R's default: fail, naming the stratum and the choice
    with pytest.raises(DesignError, match=r"y_mean.*'S2'.*lonely_psu"):
        run_estimates(_lonely(), entry)
