"""A brief's inputs description and run ID (analysis/provenance/runinfo.py): what it covers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.provenance.runinfo import (
    attach_provenance,
    describe_brief,
    describe_inputs,
    quoted_plan,
)

PLAN = {
    "dataset": "officer_survey",
    "design": {"weight": "weight", "strata": "stratum"},
    "derive": [],
    "estimates": [{"id": "women_share", "variable": "women"}, {"id": "unused", "variable": "x"}],
    "models": [{"id": "stay_logit", "formula": "y ~ x"}, {"id": "other", "formula": "z ~ x"}],
}
FINDINGS = {
    "findings": {
        "women_share": {"value": 0.1, "source": {"row": {"estimate_id": "women_share"}}},
        "model_stay_or": {"value": 1.2, "source": {"row": {"model_id": "stay_logit"}}},
    }
}


@pytest.fixture
def wave(tmp_path: Path) -> dict:
    raw = tmp_path / "2025.sav"
    raw.write_bytes(b"raw rows")
    return describe_inputs({"raw_officer_survey": raw}, source_date_epoch=1)


@pytest.fixture
def figure(tmp_path: Path) -> Path:
    path = tmp_path / "women.svg"
    path.write_text("<svg/>")
    return path


def run_id(wave: dict, settings: dict, figure: Path) -> str:
    return describe_brief(wave, settings=settings, files={"figure_svg": figure})["run_id"]


def test_the_plan_slice_keeps_the_entries_the_findings_cite():
    cited = quoted_plan(PLAN, FINDINGS)
    assert [e["id"] for e in cited["estimates"]] == ["women_share"]
    assert [m["id"] for m in cited["models"]] == ["stay_logit"]
    assert cited["design"] == PLAN["design"]


def test_the_run_id_changes_with_any_input_and_only_then(wave, figure, tmp_path):
    settings = {"plan": quoted_plan(PLAN, FINDINGS), "config": {"threshold_officers": 10}}
    first = run_id(wave, settings, figure)
    assert run_id(wave, json.loads(json.dumps(settings)), figure) == first
    # an entry the brief does not cite leaves it; one it cites, a config value or a figure not
    more = {**PLAN, "estimates": [*PLAN["estimates"], {"id": "new", "variable": "y"}]}
    assert run_id(wave, {**settings, "plan": quoted_plan(more, FINDINGS)}, figure) == first
    edited = {**PLAN, "estimates": [{"id": "women_share", "variable": "sex"}]}
    assert run_id(wave, {**settings, "plan": quoted_plan(edited, FINDINGS)}, figure) != first
    assert run_id(wave, {**settings, "config": {"threshold_officers": 5}}, figure) != first
    figure.write_text("<svg>changed</svg>")
    assert run_id(wave, settings, figure) != first
    other_raw = tmp_path / "other.sav"
    other_raw.write_bytes(b"other rows")
    other_wave = describe_inputs({"raw_officer_survey": other_raw}, source_date_epoch=1)
    assert run_id(other_wave, settings, figure) != run_id(wave, settings, figure)


def test_the_description_lists_the_waves_files_its_own_and_the_settings(wave, figure, tmp_path):
    wave_path = tmp_path / "inputs.json"
    wave_path.write_text(json.dumps(wave))
    described = tmp_path / "brief.json"
    settings = {"plan": PLAN, "config": {"seed": 1}}
    findings = attach_provenance(
        {"findings": {}}, wave_path, described, settings=settings, files={"figure_svg": figure}
    )
    description = json.loads(described.read_text())
    assert {f["role"] for f in description["files"]} == {"raw_officer_survey", "figure_svg"}
    assert description["settings"] == settings
    assert description["wave_inputs_sha256"] == wave["inputs_sha256"]
    assert findings["provenance"]["run_id"] == description["run_id"] != wave["run_id"]
    assert [f["role"] for f in findings["provenance"]["data_files"]] == ["raw_officer_survey"]
