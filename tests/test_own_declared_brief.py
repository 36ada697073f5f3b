"""A researcher's own declared brief of their own survey (config: datasets.<name>.brief, the
folder reports/<brief>/): the one engine builds its findings from the dataset's tables, the
config is checked before any rule runs, and the workflow renders it (the API data of R survey).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from test_dataset_brief import ENTRY  # the API plan entry (stratified sample)

from analysis.config.plan import validate_plan
from analysis.errors import WpsInputError
from analysis.findings.declaration import DeclarationError, parse_declaration
from analysis.findings.declared import BriefRun, build_brief
from analysis.render.own_briefs import own_briefs
from analysis.survey.estimate import run_estimates, run_models

REPO = Path(__file__).resolve().parents[1]
API = REPO.parent / "shared" / "reference-data" / "api"
# svymean(~api00, dstrat) in R survey's documentation; apistrat has 100 E, 50 H, 50 M schools
PUBLISHED_MEAN = 662.29
DECLARATION = {
    "title": "Schools of {dataset}, {wave}",
    "numbers": {
        "mean_api": {"estimate": "api_mean", "format": "number", "digits": 2},
        "schools": {"estimate": "api_mean", "column": "n", "format": "integer"},
        "met_high": {"estimate": "met_target", "level": "Yes", "group": {"stype": "H"},
                     "suppressed": "too few high schools to say"},
        "ell_or": {"model": "target_logit", "term": "ell", "column": "odds_ratio",
                   "format": "number", "digits": 3},
        "model_n": {"card": "target_logit", "field": "n", "format": "integer"},
    },
    "sections": [
        {"kind": "estimate_table", "name": "api_by_type", "caption": "Mean API by school type",
         "estimate": "api_mean", "by": "stype",
         "columns": [{"header": "Type", "show": "group"}, {"header": "Mean", "show": "number"}]},
    ],
}  # fmt: skip


def apistrat() -> pd.DataFrame:
    path = API / "apistrat.csv"
    if not path.is_file():
        pytest.skip(f"reference data {path} is absent (shared/reference-data not beside the repo)")
    return pd.read_csv(path).rename(columns=lambda c: c.replace(".", "_"))  # R's sch.wide


def tables_of_wave(tmp_path: Path) -> dict[str, str]:
    """The dataset's estimates and model files as the workflow writes them."""
    data = apistrat()
    entry = validate_plan({"version": 1, "datasets": {"schools": ENTRY}})["schools"]
    paths = {"estimates": str(tmp_path / "estimates.parquet")}
    run_estimates(data, entry, "schools").to_parquet(paths["estimates"])
    for model, (terms, card) in run_models(data, entry, "schools").items():
        paths[f"model_{model}"] = str(tmp_path / f"{model}.parquet")
        paths[f"card_{model}"] = str(tmp_path / f"{model}.card.json")
        terms.to_parquet(paths[f"model_{model}"])
        Path(paths[f"card_{model}"]).write_text(json.dumps(card, default=str), "utf-8")
    return paths


def test_an_own_declaration_quotes_the_datasets_cells_through_disclosure_control(
    tmp_path: Path,
):
    paths = tables_of_wave(tmp_path)
    declaration = parse_declaration(DECLARATION, "reports/schools_brief/numbers.yaml")
    # 60 schools: the 50 high schools' share is withheld, the 100 elementary schools' is not
    book, title = build_brief(
        declaration, paths, BriefRun(wave="strat", threshold=60), brief="schools_brief",
        parameters={"dataset": "schools"},
    )  # fmt: skip
    found = book.findings
    assert title == "Schools of schools, strat"
    assert float(found["mean_api"]["text"]) == pytest.approx(PUBLISHED_MEAN, abs=0.005)
    assert found["mean_api"]["source"]["row"]["level"] == ""  # a mean has no level
    assert found["schools"]["text"] == str(len(apistrat()))
    assert found["met_high"]["text"] == "too few high schools to say"
    assert found["met_high"]["value"] is None and book.suppressed_cells >= 1
    terms = pd.read_parquet(paths["model_target_logit"]).set_index("term")
    assert found["ell_or"]["text"] == f"{terms.loc['ell', 'odds_ratio']:.3f}"
    assert found["ell_or"]["source"]["row"] == {"model_id": "target_logit", "term": "ell"}
    assert found["model_n"]["text"] == str(len(apistrat()))
    rows = book.tables["api_by_type"]["rows"]
    assert [r[0] for r in rows] == ["E", "H", "M"]
    assert rows[0][1] != "suppressed" and rows[1][1] == "suppressed"  # 50 < 60 schools


def test_an_own_declaration_naming_an_estimate_the_plan_does_not_make_is_refused(
    tmp_path: Path,
):
    paths = tables_of_wave(tmp_path)
    wrong = {**DECLARATION, "numbers": {"x": {"estimate": "women_share"}}, "sections": []}
    declaration = parse_declaration(wrong, "reports/schools_brief/numbers.yaml")
    with pytest.raises(DeclarationError) as err:
        build_brief(
            declaration, paths, BriefRun(wave="strat", threshold=10), brief="b",
            parameters={"dataset": "schools"},
        )  # fmt: skip
    message = str(err.value)
    assert "reports/schools_brief/numbers.yaml" in message and "'women_share'" in message
    assert "api_mean, met_target" in message


# -- the config, checked before any rule runs -----------------------------------------------
PLAN = {"schools": {}}


def config_with(brief: object, kind: str = "survey") -> dict:
    return {"datasets": {"schools": {"kind": kind, "brief": brief}}}


def own_folder(reports: Path, name: str = "schools_brief") -> Path:
    folder = reports / name
    folder.mkdir(parents=True)
    (folder / f"{name}.qmd").write_text("---\ntitle: x\n---\n{{< var mean_api >}}\n", "utf-8")
    (folder / "_quarto.yml").write_text("project: {type: default}\n", "utf-8")
    (folder / "numbers.yaml").write_text(yaml.safe_dump(DECLARATION), "utf-8")
    return folder


def test_a_configured_own_brief_is_found(tmp_path: Path):
    own_folder(tmp_path)
    assert own_briefs(config_with("schools_brief"), PLAN, tmp_path) == {"schools": "schools_brief"}
    assert own_briefs({"datasets": {"schools": {"kind": "survey"}}}, PLAN, tmp_path) == {}


@pytest.mark.parametrize(
    ("brief", "says"),
    [
        ("../../etc", "not a plain folder name"),
        ("reports/schools_brief", "not a plain folder name"),
        ("survey", "one of the project's own kinds"),
        ("absent_brief", "does not exist"),
    ],
)
def test_an_unusable_own_brief_folder_is_refused_naming_the_dataset(
    tmp_path: Path, brief: str, says: str
):
    own_folder(tmp_path)
    (tmp_path / "survey").mkdir()
    with pytest.raises(WpsInputError) as err:
        own_briefs(config_with(brief), PLAN, tmp_path)
    message = str(err.value)
    assert says in message and "schools" in message and "config/config.yaml" in message
    assert "What to do:" in message


def test_an_own_brief_folder_lacking_a_file_is_refused_naming_it(tmp_path: Path):
    (own_folder(tmp_path) / "_quarto.yml").unlink()
    with pytest.raises(WpsInputError, match=r"has no _quarto\.yml"):
        own_briefs(config_with("schools_brief"), PLAN, tmp_path)


def test_an_own_brief_of_a_dataset_without_a_plan_entry_is_refused(tmp_path: Path):
    own_folder(tmp_path)
    with pytest.raises(WpsInputError, match="no plan entry"):
        own_briefs(config_with("schools_brief"), {}, tmp_path)
    with pytest.raises(WpsInputError, match="kind training"):
        own_briefs(config_with("schools_brief", kind="training"), PLAN, tmp_path)


def test_a_bad_own_declaration_is_refused_before_rules_run(tmp_path: Path):
    folder = own_folder(tmp_path)
    bad = {**DECLARATION, "numbers": {"mean_api": {"format": "percent"}}}
    (folder / "numbers.yaml").write_text(yaml.safe_dump(bad), "utf-8")
    with pytest.raises(DeclarationError) as err:
        own_briefs(config_with("schools_brief"), PLAN, tmp_path)
    message = str(err.value)
    assert message.startswith("schools: ") and str(folder / "numbers.yaml") in message
    assert "number 'mean_api'" in message


def test_a_document_quoting_an_undeclared_number_is_refused_before_rules_run(tmp_path: Path):
    folder = own_folder(tmp_path)
    (folder / "text").mkdir()
    (folder / "text" / "words.md").write_text("{{< var median_api >}}\n", "utf-8")
    qmd = folder / "schools_brief.qmd"
    qmd.write_text(qmd.read_text("utf-8") + "{{< include text/words.md >}}\n", "utf-8")
    with pytest.raises(DeclarationError) as err:
        own_briefs(config_with("schools_brief"), PLAN, tmp_path)
    assert "{{< var median_api >}} in " + str(folder / "text" / "words.md") in str(err.value)


def test_the_config_schema_refuses_a_brief_given_as_a_path():
    import jsonschema

    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text("utf-8"))
    brief = schema["properties"]["datasets"]["additionalProperties"]["properties"]["brief"]
    jsonschema.validate("schools_brief", brief)
    for bad in ("../x", "reports/x", "X", ""):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, brief)


# -- the workflow: the API data with a brief of the user's own ---------------------------------
OWN_QMD = """---
title: "Schools"
wps-kicker: "Schools brief"
---

{{< include text/intro.md >}}

The mean Academic Performance Index of the {{< var schools >}} schools sampled was
{{< var mean_api >}}; each percentage point more English language learners multiplied the odds
of meeting the growth target by {{< var ell_or >}}.

{{< include _tables/api_by_type.md >}}

{{< include _figures/target_logit.md >}}

{{< var suppressed_note >}}

{{< include _tables/provenance_run.md >}}
"""


def write_own_brief(root: Path, name: str = "schools_brief") -> None:
    """What the user writes: a folder of words and a declaration, no Python."""
    folder = root / "reports" / name
    (folder / "text").mkdir(parents=True)
    (folder / f"{name}.qmd").write_text(OWN_QMD, "utf-8")
    (folder / "text" / "intro.md").write_text("Written by the school study's team.\n", "utf-8")
    shutil.copyfile(root / "reports" / "survey" / "_quarto.yml", folder / "_quarto.yml")
    figure = {"kind": "figures", "figures": [{"name": "target_logit", "caption": "Odds ratios"}]}
    declaration = {**DECLARATION, "sections": [*DECLARATION["sections"], figure]}
    (folder / "numbers.yaml").write_text(yaml.safe_dump(declaration), "utf-8")


@pytest.mark.workflow
def test_the_workflow_renders_an_own_declared_brief(tmp_path: Path):
    from test_own_study import set_up_schools
    from workflow_run import copy_project, run_snakemake, snakemake_executable

    if not snakemake_executable().is_file():
        pytest.skip("snakemake not installed")
    root = copy_project(tmp_path / "project")
    config = set_up_schools(root)
    config_path = root / "config" / "config.yaml"
    config["datasets"]["schools"]["brief"] = "schools_brief"
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    refused = run_snakemake(root, "-n", check=False)  # the folder is not written yet
    said = refused.stdout + refused.stderr
    assert refused.returncode != 0 and "rule " not in refused.stdout, said
    assert "schools: config/config.yaml: datasets.schools.brief" in said, said
    assert "reports/schools_brief does not exist" in said, said

    write_own_brief(root)
    folder = "results/briefs/schools_brief/schools/strat"
    run_snakemake(root, *(f"{folder}/schools_brief.{fmt}" for fmt in ("html", "pdf", "docx")))
    for fmt in ("html", "pdf", "docx"):
        assert (root / folder / f"schools_brief.{fmt}").stat().st_size > 1000
    findings = yaml.safe_load(
        (root / "results/findings/schools_brief/schools/strat.yaml").read_text("utf-8")
    )
    assert findings["kind"] == "schools_brief" and findings["brief"] == "schools_brief"
    assert findings["title"] == "Schools of schools, strat"
    mean = findings["findings"]["mean_api"]
    assert float(mean["text"]) == pytest.approx(PUBLISHED_MEAN, abs=0.005)
    assert mean["source"]["table"] == "results/tables/schools/strat/estimates.parquet"
    html = (root / folder / "schools_brief.html").read_text("utf-8")
    assert mean["text"] in html and "Written by the school study" in html
    assert findings["findings"]["ell_or"]["text"] in html
