"""The configuration is checked against the plan before any rule runs: a survey without a plan
entry is cleaned only (it was a KeyError), and brief settings that cannot work are named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from workflow_run import copy_project, run_snakemake, snakemake_executable

from analysis.config.checks import check_config
from analysis.errors import WpsInputError

PLAN = {"officer_survey": {"design": {}, "estimates": [], "models": []}}
DATASETS = {"officer_survey": {"kind": "survey"}, "training": {"kind": "training"}}


def config(**changes) -> dict:
    return {"datasets": dict(DATASETS), "brief_dataset": "officer_survey", **changes}


def test_a_survey_without_a_plan_entry_is_cleaned_only():
    datasets = {**DATASETS, "legacy": {"kind": "survey"}}
    notes = check_config(config(datasets=datasets), PLAN)
    assert any("'legacy'" in n and "cleaned only" in n for n in notes)


def test_no_brief_dataset_means_no_regional_brief():
    assert check_config(config(brief_dataset=None), PLAN) == []


@pytest.mark.parametrize(
    ("brief_dataset", "message"),
    [("schools", "not one of the datasets"), ("training", "of kind training")],
)
def test_a_brief_dataset_that_cannot_work_is_named(brief_dataset: str, message: str):
    with pytest.raises(WpsInputError, match=message) as caught:
        check_config(config(brief_dataset=brief_dataset), PLAN)
    assert "config/config.yaml" in str(caught.value) and "null" in str(caught.value)


def test_a_design_for_a_wave_with_no_file_is_refused():
    """`waves: {clus1: ...}` while the file is clus.csv: the cluster wave would be analysed
    with the dataset's stratified design, silently. The error names dataset, plan and waves."""
    plan = {
        **PLAN,
        "schools": {"design": {}, "waves": {"clus1": {"design": {}}}, "estimates": []},
    }
    datasets = {**DATASETS, "schools": {"kind": "survey"}}
    found = {"officer_survey": ["2023", "2025"], "schools": ["clus", "strat"]}
    cfg = config(datasets=datasets, plan="config/plan.yaml")
    with pytest.raises(WpsInputError) as caught:
        check_config(cfg, plan, found)
    message = str(caught.value)
    assert message.startswith("schools: config/plan.yaml: ")
    assert "'clus1'" in message and "clus, strat" in message
    good = {**plan, "schools": {**plan["schools"], "waves": {"clus": {"design": {}}}}}
    assert check_config(cfg, good, found) == []


@pytest.mark.skipif(not snakemake_executable().is_file(), reason="snakemake not installed")
def test_the_workflow_plans_a_survey_with_no_plan_entry_and_no_brief_dataset(tmp_path: Path):
    """A new dataset folder with a wave and a codebook, registered in config with no plan
    entry, and no regional brief: the run plans its cleaning and nothing that needs a plan."""
    root = copy_project(tmp_path / "project")
    raw = root / "data" / "raw"
    shutil.copytree(raw / "officer_survey", raw / "legacy")
    cfg_path = root / "config" / "config.yaml"
    cfg = yaml.safe_load(cfg_path.read_text(encoding="utf-8"))
    cfg["datasets"]["legacy"] = {"kind": "survey"}
    cfg["brief_dataset"] = None
    cfg_path.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    done = run_snakemake(root, "-n", cores=1, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "'legacy' (kind survey) has no entry in the analysis plan" in output
    assert "results/clean/legacy/2025.parquet" in output
    assert "tables/legacy" not in output and "briefs/2025/regional" not in output
