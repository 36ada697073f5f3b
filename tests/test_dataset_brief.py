"""The default brief of any survey dataset, made from a plan alone, on a real public survey
(the California API stratified sample that R's survey package documents)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from r_oracle import run_r

from analysis.config.plan import validate_plan
from analysis.figures.models import model_terms_figure
from analysis.findings.book import estimate_row, to_yaml
from analysis.findings.dataset import DatasetBrief, Labels, ModelInputs, group_label
from analysis.render import render_brief
from analysis.render.findings_file import load_findings
from analysis.render.projects import brief_document
from analysis.render.quarto_md import table_markdown
from analysis.survey.estimate import run_estimates, run_models

REPO = Path(__file__).resolve().parents[1]
API = REPO.parent / "shared" / "reference-data" / "api"
SURVEY_QMD = brief_document("survey", REPO / "reports")
EPOCH = 1735603200
ENTRY = {
    "design": {"weight": "pw", "strata": "stype", "fpc": "fpc", "lonely_psu": "fail"},
    "estimates": [
        {"id": "api_mean", "title": "Mean API in 2000", "variable": "api00",
         "statistic": "mean", "by": ["stype"]},
        {"id": "met_target", "title": "Schools that met their growth target",
         "variable": "sch_wide", "statistic": "proportion", "by": ["stype"]},
    ],
    "models": [
        {"id": "target_logit", "title": "Meeting the growth target (logistic)",
         "formula": "sch_wide ~ ell + meals", "family": "binomial", "event": "Yes"},
    ],
}  # fmt: skip
CODEBOOK = {
    "title": "California Academic Performance Index, stratified sample",
    "fields": [
        {"name": "stype", "title": "School type", "categories": [
            {"value": "E", "label": "Elementary"}, {"value": "M", "label": "Middle"},
            {"value": "H", "label": "High"}]},
        {"name": "sch_wide", "title": "Met school-wide growth target"},
        {"name": "ell", "title": "English language learners (%)"},
        {"name": "meals", "title": "Pupils eligible for subsidised meals (%)"},
    ],
}  # fmt: skip


def apistrat() -> pd.DataFrame:
    path = API / "apistrat.csv"
    if not path.is_file():
        pytest.skip(f"reference data {path} is absent (shared/reference-data not beside the repo)")
    data = pd.read_csv(path)
    return data.rename(columns=lambda c: c.replace(".", "_"))  # R's sch.wide


def build(tmp_path: Path, threshold: int = 10) -> tuple[DatasetBrief, dict, pd.DataFrame]:
    data = apistrat()
    entry = validate_plan({"version": 1, "datasets": {"schools": ENTRY}})["schools"]
    estimates = run_estimates(data, entry, "schools")
    models = []
    for model_id, (terms, card) in run_models(data, entry, "schools").items():
        files = model_terms_figure(terms, card["title"], tmp_path / "models" / model_id)
        models.append(
            ModelInputs(
                model_id=model_id,
                terms=terms,
                table=f"results/models/schools/strat/{model_id}.parquet",
                card=card,
                figure={"svg": str(files["svg"]), "png": str(files["png"])},
                alt=files["alt"].read_text(encoding="utf-8") if "alt" in files else "A chart.",
            )
        )
    brief = DatasetBrief(
        dataset="schools",
        wave="strat",
        estimates=estimates,
        estimates_table="results/tables/schools/strat/estimates.parquet",
        models=models,
        labels=Labels.from_codebook(CODEBOOK),
        threshold=threshold,
    )
    findings = brief.findings(EPOCH, {"run_id": "test-run", "manifest_hash": "ab" * 32})
    return brief, findings, estimates


def test_findings_quote_the_design_based_estimates_r_publishes(tmp_path: Path):
    _, findings, estimates = build(tmp_path)
    mean = findings["findings"]["api_mean__overall"]
    assert mean["text"] == "662.29"  # svymean(~api00, dstrat): 662.29 (SE 9.4089)
    row, locator = estimate_row(estimates, "t", **{"estimate_id": "api_mean"})
    assert mean["source"]["row"] == locator["row"]
    assert row["estimate"] == pytest.approx(mean["value"])
    r = run_r(
        "data(api); d <- svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc, data=apistrat)\n"
        "p <- svyciprop(~I(sch.wide == 'Yes'), d, method = 'logit')\n"
        "emit(list(p = as.numeric(p), ci = as.numeric(confint(p))))"
    )
    share = findings["findings"]["met_target__overall__Yes"]
    assert share["value"] == pytest.approx(r["p"], rel=1e-4)
    assert share["text"] == f"{100 * r['p']:.1f}%"
    key_messages = findings["sections"]["key_messages"]["markdown"]
    ci = f"{round(100 * r['ci'][0])}–{round(100 * r['ci'][1])}%"
    assert f"**{share['text']}** (95% CI {ci})" in key_messages


def test_small_groups_are_suppressed_in_every_table(tmp_path: Path):
    _, findings, estimates = build(tmp_path, threshold=60)  # 50 middle and 50 high schools
    table = findings["tables"]["estimate_api_mean"]
    rows = {row[0]: row for row in table["rows"]}
    assert rows["School type: Middle"][1:3] == ["suppressed", "suppressed"]
    assert rows["School type: High"][1:3] == ["suppressed", "suppressed"]
    assert rows["School type: Elementary"][1] != "suppressed"
    middle = estimates[(estimates["estimate_id"] == "api_mean") & (estimates["group_value"] == "M")]
    assert f"{middle['estimate'].iloc[0]:.2f}" not in to_yaml(findings)
    assert findings["suppressed_cells"] >= 4


def test_the_model_states_its_event_and_tests_its_terms(tmp_path: Path):
    _, findings, _ = build(tmp_path)
    models = findings["sections"]["models"]["markdown"]
    assert "P(sch\\_wide = Yes)" in models
    table = findings["tables"]["model_target_logit"]
    assert table["columns"][1] == "Odds ratio"
    assert [row[0] for row in table["rows"]] == [
        "English language learners (%)",
        "Pupils eligible for subsidised meals (%)",
    ]


def test_the_default_brief_renders_with_no_declaration(tmp_path: Path):
    _, findings, _ = build(tmp_path)
    path = tmp_path / "schools.yaml"
    path.write_text(to_yaml(findings), encoding="utf-8")
    assert load_findings(path).kind == "survey"
    out = render_brief(
        SURVEY_QMD, path, tmp_path / "out", formats=("html",), engine="pandoc",
        work_dir=tmp_path / "work", data_root=tmp_path,
    )  # fmt: skip
    html = out["html"].read_text(encoding="utf-8")
    assert "662.29" in html
    assert "California Academic Performance Index, stratified sample: strat" in html
    assert "Elementary" in html and "{{<" not in html


def test_group_labels_read_like_words():
    labels = Labels.from_codebook(
        {
            "fields": [
                {"name": "women", "title": "Woman", "categories": [
                    {"value": 0, "label": "Man"}, {"value": 1, "label": "Woman"}]},
                {"name": "country_label", "title": "Country (label)"},
            ]
        }
    )  # fmt: skip
    assert group_label("(overall)", "(overall)", labels) == "All"
    assert group_label("women", "1", labels) == "Woman"
    assert group_label("country_label|women", "Thailand|0", labels) == "Country: Thailand × Man"
    assert yaml.safe_dump(group_label("country_label", "Lao PDR", labels)).startswith("'Country")


def test_rows_resting_on_a_lonely_stratum_are_marked_and_the_variance_named():
    """A stratum with one sampled cluster: its rows carry a mark and a note, and the methods
    box says which variance estimator the design used (issue 15)."""
    rng = np.random.default_rng(7)
    data = pd.DataFrame(
        {
            "region": ["north"] * 40 + ["south"] * 20,
            "cluster": [1] * 20 + [2] * 20 + [3] * 20,
            "w": 2.0,
            "score": rng.normal(10, 2, 60).round(2),
        }
    )
    entry = validate_plan(
        {"version": 1, "datasets": {"d": {
            "design": {"weight": "w", "strata": "region", "psu": "cluster",
                       "lonely_psu": "adjust"},
            "estimates": [{"id": "score_mean", "variable": "score", "statistic": "mean",
                           "by": ["region"]}],
        }}}
    )["d"]  # fmt: skip
    estimates = run_estimates(data, entry, "d")
    assert estimates.set_index("group_value").loc["south", "lonely_strata"] == 1
    brief = DatasetBrief(
        dataset="d", wave="1", estimates=estimates, estimates_table="t.parquet", models=[],
        labels=Labels(), threshold=10,
    )  # fmt: skip
    findings = brief.findings(EPOCH, {})
    rows = {row[0]: row for row in findings["tables"]["estimate_score_mean"]["rows"]}
    assert "region: south †" in rows and "region: north" in rows
    assert "single sampled cluster" in findings["tables"]["estimate_score_mean"]["note"]
    methods = findings["sections"]["methods"]["markdown"]
    assert "Variances: Taylor linearisation" in methods and "lonely PSUs: adjust" in methods


def no_design_brief(tmp_path: Path) -> dict:
    """A brief of data with no design whose names hold markdown punctuation (`Sepal_Width`, as
    a codebook drafted from R's iris has them), with no titles in the codebook."""
    rng = np.random.default_rng(11)
    data = pd.DataFrame(
        {
            "Sepal_Width": rng.normal(3, 0.4, 60).round(1),
            "Petal_Length": rng.normal(4, 1.5, 60).round(1),
            "flower_type": ["a_b"] * 30 + ["c*d"] * 30,
        }
    )
    data["long_sepal"] = (data["Petal_Length"] + rng.normal(0, 1, 60) > 4).astype(int)
    entry = validate_plan(
        {"version": 1, "datasets": {"iris": {
            "design": "none",
            "estimates": [{"id": "width_mean", "variable": "Sepal_Width", "statistic": "mean",
                           "by": ["flower_type"]}],
            "models": [{"id": "long_logit", "formula": "long_sepal ~ Sepal_Width + Petal_Length",
                        "family": "binomial", "event": 1}],
        }}}
    )["iris"]  # fmt: skip
    models = []
    for model_id, (terms, card) in run_models(data, entry, "iris").items():
        files = model_terms_figure(terms, card["title"], tmp_path / model_id)
        figure = {"svg": str(files["svg"]), "png": str(files["png"])}
        models.append(ModelInputs(model_id, terms, "m.parquet", card, figure, "A chart."))
    brief = DatasetBrief(
        dataset="iris", wave="r", estimates=run_estimates(data, entry, "iris"),
        estimates_table="t.parquet", models=models, labels=Labels(), threshold=10,
    )  # fmt: skip
    return brief.findings(EPOCH, {})


def test_table_cells_are_escaped_once(tmp_path: Path):
    """Cells are plain text: the renderer escapes them. Escaped here too, the briefs printed
    'Sepal\\_Width' (found with R's iris from haven/iris.sav)."""
    findings = no_design_brief(tmp_path)
    terms = [row[0] for row in findings["tables"]["model_long_logit"]["rows"]]
    assert terms == ["Sepal_Width", "Petal_Length"]
    groups = [row[0] for row in findings["tables"]["estimate_width_mean"]["rows"]]
    assert groups == ["All", "flower_type: a_b", "flower_type: c*d"]
    markdown = table_markdown("model_long_logit", findings["tables"]["model_long_logit"])
    assert "| Sepal\\_Width |" in markdown and "\\\\" not in markdown


def test_a_brief_of_data_with_no_design_does_not_call_them_weighted(tmp_path: Path):
    findings = no_design_brief(tmp_path)
    caption = findings["tables"]["estimate_width_mean"]["caption"]
    assert "unweighted" in caption and "weighted, design-based" not in caption
    methods = findings["sections"]["methods"]["markdown"]
    assert "Estimates are unweighted" in methods and "weighted and design-based" not in methods
