"""`wps trace` shows, for every job from raw bytes to the number, its parameters (the plan
entry), its software versions and its code, not only the files' hashes."""

from __future__ import annotations

from analysis.cli import _print_chain

RAW = "data/raw/officer_survey/2025.sav"
CLEAN = "results/clean/officer_survey/2025.parquet"
MODEL = "results/models/officer_survey/2025/stay_logit.csv"
FORMULA = "intend_stay_5y ~ harassment + women + C(age_band)"


def _file(path: str, sha: str) -> dict:
    return {"path": path, "sha256": sha}


def _job(rule: str, inputs: list, outputs: list, params: dict, software: dict, dirty: bool):
    return {
        "rule": rule,
        "wildcards": {},
        "inputs": inputs,
        "outputs": outputs,
        "params": params,
        "seeds": {"config": 20250601},
        "software": software,
        "code": {
            "git": {"commit": "0123456789abcdef" * 2 + "01234567", "dirty": dirty},
            "script": {"path": f"workflow/scripts/{rule}.py", "sha256": "f" * 64},
        },
    }


def manifest() -> dict:
    clean = _job(
        "clean_wave",
        [_file(RAW, "a" * 64)],
        [_file(CLEAN, "b" * 64)],
        {"pseudonymisation": {"allow_example_key": False}},
        {"python": "3.11.7", "pandas": "3.1.1"},
        dirty=False,
    )
    model = _job(
        "fit_model",
        [_file(CLEAN, "b" * 64)],
        [_file(MODEL, "c" * 64)],
        {"spec": {"id": "stay_logit", "family": "binomial", "formula": FORMULA}},
        {"python": "3.11.7", "statsmodels": "0.15.0"},
        dirty=True,
    )
    return {
        "raw": {RAW: {"sha256": "a" * 64}},
        "outputs": {CLEAN: {"job": "clean"}, MODEL: {"job": "model"}},
        "jobs": {"clean": clean, "model": model},
        "lineage": {MODEL: [RAW], CLEAN: [RAW]},
    }


def steps_of(text: str) -> list[str]:
    """The printed trace cut into one block per job step."""
    return text.split("  step ")[1:]


def test_trace_shows_each_jobs_plan_entry_software_and_code(capsys):
    _print_chain(manifest(), MODEL)
    clean, model = steps_of(capsys.readouterr().out)
    assert "allow_example_key: false" in clean
    assert "python 3.11.7" in clean and "pandas 3.1.1" in clean
    assert "statsmodels" not in clean  # each job's own environment, not a run-wide list
    assert f"formula: {FORMULA}" in model and "family: binomial" in model
    assert "python 3.11.7" in model and "statsmodels 0.15.0" in model
    assert "seeds     config 20250601" in model
    assert "workflow/scripts/fit_model.py" in model
    assert "(uncommitted changes)" in model and "(uncommitted changes)" not in clean


def test_trace_of_a_job_without_params_says_so(capsys):
    data = manifest()
    data["jobs"]["clean"]["params"] = {}
    data["jobs"]["clean"]["software"] = {}
    _print_chain(data, CLEAN)
    (clean,) = steps_of(capsys.readouterr().out)
    assert "params:\n      (none)" in clean and "software  (not recorded)" in clean


def _run_table(git: dict, tmp_path) -> dict[str, str]:
    """The brief's provenance table (item -> value) for inputs described with this git state."""
    from types import SimpleNamespace

    from analysis.provenance.runinfo import brief_provenance
    from analysis.render.staging import _provenance_tables

    described = tmp_path / "inputs.json"
    described.write_text("{}")
    inputs = {"run_id": "r1", "files": [], "software": {}, "git": git}
    provenance = brief_provenance(inputs, described)
    variables = {
        "run_id": "r1",
        "git_commit": provenance["git_commit"],
        "manifest_hash": provenance["manifest_hash"],
        "date": "1 June 2025",
        "render_engine": "pandoc",
    }
    tables = _provenance_tables(SimpleNamespace(provenance=provenance), variables)
    return {row[0]: row[1] for row in tables["provenance_run"]["rows"]}


def test_brief_from_a_checkout_with_uncommitted_changes_says_so(tmp_path):
    commit = "0123456789abcdef0123456789abcdef01234567"
    dirty = _run_table({"commit": commit, "dirty": True}, tmp_path)
    assert dirty["Git commit"] == f"`{commit}` (uncommitted changes)"
    clean = _run_table({"commit": commit, "dirty": False}, tmp_path)
    assert clean["Git commit"] == f"`{commit}`"
