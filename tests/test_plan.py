"""The analysis plan: schema checks with clear messages, and running it end to end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis.config.plan import PlanError, load_plan
from analysis.survey.design import OVERALL
from analysis.survey.estimate import COLUMNS, run_estimates, run_models

PLAN = Path(__file__).resolve().parents[1] / "config" / "plan.yaml"


def _officers(seed: int = 2025, n_strata: int = 6, stations: int = 5, per: int = 20):
    """A cleaned officer-survey-like table (columns of docs/datasets.md after cleaning)."""
    rng = np.random.default_rng(seed)
    n = n_strata * stations * per
    stratum = np.repeat(np.arange(n_strata), stations * per)
    station = np.repeat(np.arange(n_strata * stations), per)
    women = rng.binomial(1, 0.2, n)
    training = rng.binomial(1, 0.3 + 0.1 * women)
    harassment = rng.binomial(1, 0.1 + 0.15 * women)
    years = rng.integers(0, 35, n)
    band = np.array(["18-29", "30-39", "40-49", "50+"])[np.minimum(years // 9, 3)]
    attitude = np.clip(3 + 0.3 * women + 0.2 * training + rng.normal(0, 0.6, n), 1, 5)
    stay = rng.binomial(1, 1 / (1 + np.exp(-(1 - 0.8 * harassment + 0.3 * training))))
    agency = np.array(["Police", "Immigration", "Border/customs"])[stratum % 3]
    border = rng.binomial(1, np.where(agency == "Border/customs", 0.8, 0.2))
    cases = rng.poisson(np.exp(0.5 + 0.6 * border + 0.1 * women))
    rank = np.array(["Constable/junior", "Inspector", "Senior officer"])[rng.integers(0, 3, n)]
    procedure = rng.choice([0, 1, 2], n, p=[0.3, 0.5, 0.2])
    report_safe = rng.binomial(1, 0.4 - 0.1 * women)
    df = pd.DataFrame(
        {
            "stratum": stratum,
            "station_id": station,
            "stations_in_stratum": 40,
            "weight": rng.uniform(5, 15, n),
            "country_label": np.array(["Cambodia", "Lao PDR", "Thailand"])[stratum // 2],
            "agency_label": agency,
            "rank_label": rank,
            "gs_procedure": pd.array(procedure, dtype="Int64"),
            "report_safe": pd.array(report_safe, dtype="Int64"),
            "women": pd.array(women, dtype="Int64"),
            "age_band": band,
            "border_posting": border,
            "training_gender": pd.array(training, dtype="Int64"),
            "harassment": pd.array(harassment, dtype="Int64"),
            "attitude_index": attitude,
            "intend_stay_5y": pd.array(stay, dtype="Int64"),
            "cases_trafficking_12m": pd.array(cases, dtype="Int64"),
            "years_service": pd.array(years, dtype="Int64"),
        }
    )
    df.loc[rng.choice(n, 15, replace=False), "harassment"] = pd.NA
    latent = 0.5 * women + 0.4 * training + rng.logistic(size=n)  # proportional odds, Likert 1-5
    likert = 1 + (latent[:, None] > np.array([-2.0, -0.5, 1.5, 3.0])).sum(axis=1)
    df["att_women_frontline"] = pd.array(likert, dtype="Int64")
    df["country_label"] = df["country_label"].astype("str")
    return df


def _write(tmp_path: Path, plan: dict) -> Path:
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan), encoding="utf-8")
    return path


def _raw_plan() -> dict:
    return yaml.safe_load(PLAN.read_text(encoding="utf-8"))


def test_project_plan_loads_with_defaults():
    plan = load_plan(PLAN)
    entry = plan["officer_survey"]
    assert entry["design"]["psu"] == "station_id"
    assert {e["id"] for e in entry["estimates"]} >= {"women_share", "attitude_mean"}
    assert all(e["overall"] is True for e in entry["estimates"])
    assert {m["family"] for m in entry["models"]} == {"binomial", "gaussian", "poisson", "ordinal"}


def test_bad_plan_names_file_and_entry(tmp_path):
    plan = _raw_plan()
    plan["datasets"]["officer_survey"]["estimates"][1]["statistic"] = "median"
    path = _write(tmp_path, plan)
    with pytest.raises(PlanError) as err:
        load_plan(path)
    msg = str(err.value)
    assert str(path) in msg
    assert "estimates[1] (id 'training_coverage').statistic" in msg
    assert "'median' is not one of" in msg


def test_duplicate_ids_and_bad_formula_rejected(tmp_path):
    plan = _raw_plan()
    models = plan["datasets"]["officer_survey"]["models"]
    models[1]["id"] = models[0]["id"]
    with pytest.raises(PlanError, match="already used"):
        load_plan(_write(tmp_path, plan))
    plan = _raw_plan()
    plan["datasets"]["officer_survey"]["models"][0]["formula"] = "y ~ (x +"
    with pytest.raises(PlanError, match=r"models\[0\].*not valid patsy"):
        load_plan(_write(tmp_path, plan))
    with pytest.raises(PlanError, match="not valid YAML"):
        load_plan(_write_text(tmp_path, "datasets: [unclosed"))


def _write_text(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_run_estimates_on_officer_like_data():
    entry = load_plan(PLAN)["officer_survey"]
    df = _officers()
    out = run_estimates(df, entry, dataset="officer_survey")
    assert list(out.columns) == COLUMNS
    assert list(pd.unique(out["estimate_id"])) == [e["id"] for e in entry["estimates"]]
    women = out[(out["estimate_id"] == "women_share") & (out["level"] == "1")]
    by_country = women[women["group_var"].isin([OVERALL, "country_label"])]
    assert set(by_country["group_value"]) == {OVERALL, "Cambodia", "Lao PDR", "Thailand"}
    overall = women[women["group_var"] == OVERALL].iloc[0]
    assert overall["estimate"] == pytest.approx(np.average(df["women"], weights=df["weight"]))
    harass = out[out["estimate_id"] == "harassment_prevalence"]
    assert harass[harass["group_var"] == OVERALL]["n"].iloc[0] == len(df) - 15
    spec = next(e for e in entry["estimates"] if e["id"] == "harassment_prevalence")
    declared = {b if isinstance(b, str) else "|".join(b) for b in spec["by"]}
    assert {"women", "age_band"} <= declared
    assert set(harass["group_var"]) == {OVERALL} | declared
    # each row has its domain's degrees of freedom (R's svyciprop: PSUs - strata in the domain)
    assert out.loc[out["group_var"] == OVERALL, "df"].eq(6 * 5 - 6).all()
    assert out.loc[out["group_var"] == "country_label", "df"].eq(2 * 5 - 2).all()
    assert out["lonely_strata"].eq(0).all()
    pd.testing.assert_frame_equal(out, run_estimates(df, entry, dataset="officer_survey"))


def test_run_models_on_officer_like_data():
    entry = load_plan(PLAN)["officer_survey"]
    models = run_models(_officers(), entry, dataset="officer_survey")
    assert list(models) == [m["id"] for m in entry["models"]]
    terms, card = models["stay_logit"]
    assert "C(age_band)[T.30-39]" in set(terms["term"])
    assert not any("18-29" in t for t in terms["term"])
    assert {"odds_ratio", "ame", "ame_ci_low"} <= set(terms.columns)
    assert card["n_dropped_by_variable"]["harassment"] == 15
    assert card["converged"] and card["id"] == "stay_logit"
    terms, _ = models["trafficking_cases_poisson"]
    border = terms.set_index("term").loc["border_posting"]
    assert border["ci_low"] < 0.6 < border["ci_high"]
    terms, _ = models["attitude_women_frontline_ordinal"]
    women = terms.set_index("term").loc["women"]
    assert women["ci_low"] < 0.5 < women["ci_high"] and women["odds_ratio"] > 1
    assert list(terms["term"])[-4:] == ["1|2", "2|3", "3|4", "4|5"]


def test_missing_plan_column_is_named():
    entry = load_plan(PLAN)["officer_survey"]
    with pytest.raises(ValueError, match=r"women_share.*'women'"):
        run_estimates(_officers().drop(columns="women"), entry, dataset="officer_survey")
