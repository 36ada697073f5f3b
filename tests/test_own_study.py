"""A researcher's own survey, from file to brief, with no Python and no raw file edited: the
California API samples (a stratified wave and a cluster wave, each with its own design), as a
new user would bring them: `wps codebook draft`, decide what it flags, then config and plan
edits only, then the workflow. Estimates must equal R survey's published figures."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from workflow_run import copy_project, run_snakemake, snakemake_executable

API = Path(__file__).resolve().parents[2] / "shared" / "reference-data" / "api"
WAVES = {"strat": "apistrat.csv", "clus": "apiclus1.csv"}
PLAN = {
    "design": {"weight": "pw", "strata": "stype", "fpc": "fpc", "lonely_psu": "fail"},
    "waves": {"clus": {"design": {"weight": "pw", "psu": "dnum", "fpc": "fpc",
                                  "lonely_psu": "fail"}}},
    "estimates": [
        {"id": "api_mean", "title": "Mean Academic Performance Index, 2000",
         "variable": "api00", "statistic": "mean", "by": ["stype"]},
        {"id": "met_target", "title": "Schools that met their school-wide growth target",
         "variable": "sch_wide", "statistic": "proportion", "by": ["stype"]},
    ],
    "models": [
        {"id": "target_logit", "title": "Meeting the growth target (logistic)",
         "formula": "sch_wide ~ ell + meals", "family": "binomial", "event": "Yes"},
    ],
}  # fmt: skip
# svymean(~api00, design) in R survey's documentation (apistrat: dstrat; apiclus1: dclus1)
PUBLISHED = {"strat": (662.29, 9.4089), "clus": (644.17, 23.542)}

pytestmark = [
    pytest.mark.workflow,
    pytest.mark.skipif(not snakemake_executable().is_file(), reason="snakemake not installed"),
]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def set_up_schools(root: Path) -> dict:
    """In a copied project: the API waves as dataset `schools`, its codebook drafted and
    decided, its config and plan entries, as a new user does. Returns the config."""
    if not all((API / name).is_file() for name in WAVES.values()):
        pytest.skip(f"reference data {API} is absent (shared/reference-data not beside the repo)")
    raw = root / "data" / "raw" / "schools"
    raw.mkdir()
    for wave, name in WAVES.items():
        shutil.copyfile(API / name, raw / f"{wave}.csv")
    wps = [sys.executable, "-m", "analysis"]
    draft = subprocess.run(
        [*wps, "codebook", "draft", str(raw / "strat.csv"), "--dataset", "schools",
         "--out", str(raw / "codebook.json")],
        cwd=root, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "to review" in draft.stdout
    codebook = json.loads((raw / "codebook.json").read_text(encoding="utf-8"))
    for field in codebook["fields"]:  # the user's decision: school IDs and names are public
        if field.get("x-identifier") == "review":
            field["x-identifier"] = "none"
            field.pop("x-identifier-reason", None)
    (raw / "codebook.json").write_text(json.dumps(codebook, indent=2), encoding="utf-8")
    check = subprocess.run([*wps, "codebook", "check", str(raw / "codebook.json")], cwd=root)
    assert check.returncode == 0
    config_path = root / "config" / "config.yaml"
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["datasets"]["schools"] = {"kind": "survey"}
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    plan_path = root / config["plan"]
    plan = yaml.safe_load(plan_path.read_text(encoding="utf-8"))
    plan["datasets"]["schools"] = PLAN
    plan_path.write_text(yaml.safe_dump(plan, sort_keys=False), encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_project(tmp_path_factory.mktemp("own-study") / "project")
    set_up_schools(root)
    raw = root / "data" / "raw" / "schools"
    before = {p.name: sha(p) for p in raw.glob("*.csv")}
    targets = [
        f"results/briefs/survey/schools/{wave}/schools.{fmt}"
        for wave in WAVES
        for fmt in ("html", "pdf", "docx")
    ]
    run_snakemake(root, *targets, cores=2)
    assert {p.name: sha(p) for p in raw.glob("*.csv")} == before, "a raw file was modified"
    return root


@pytest.mark.parametrize("wave", sorted(WAVES))
def test_each_wave_matches_r_survey_with_its_own_design(study: Path, wave: str):
    table = pd.read_parquet(study / f"results/tables/schools/{wave}/estimates.parquet")
    overall = table[(table["estimate_id"] == "api_mean") & (table["group_var"] == "(overall)")]
    mean, se = PUBLISHED[wave]
    assert overall["estimate"].iloc[0] == pytest.approx(mean, abs=0.005)
    assert overall["se"].iloc[0] == pytest.approx(se, rel=5e-5)


def test_the_model_counts_the_declared_event(study: Path):
    card = json.loads(
        (study / "results/models/schools/strat/target_logit.card.json").read_text("utf-8")
    )
    assert card["modelled"] == "P(sch_wide = Yes)"


@pytest.mark.parametrize("wave", sorted(WAVES))
def test_each_wave_has_its_brief_in_every_format(study: Path, wave: str):
    folder = study / "results" / "briefs" / "survey" / "schools" / wave
    for fmt in ("html", "pdf", "docx"):
        assert (folder / f"schools.{fmt}").stat().st_size > 1000
    html = (folder / "schools.html").read_text(encoding="utf-8")
    assert f"{PUBLISHED[wave][0]:.2f}" in html
    assert "P(sch_wide = Yes)" in html.replace("\\_", "_")
