"""The end of a run says, once, which jobs failed (the others ran) and what to know about the
data; before, these lived only in job logs and results/quarantine/*.report.json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_provenance import fake_snakemake
from workflow_run import copy_project, run_snakemake, snakemake_executable

from analysis.provenance import job
from analysis.run.summary import clear_failure_notes, failure_notes, run_summary


def test_a_failing_job_leaves_a_note_that_its_next_success_removes(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    log = "results/logs/validate_wave/training/2024.log"
    sm = fake_snakemake("validate_wave", wildcards={"dataset": "training"}, log=[log])
    with pytest.raises(ValueError), job(sm):
        raise ValueError("column 'score' is not in the file")
    notes = failure_notes(Path("results"))
    assert len(notes) == 1
    assert "rule validate_wave failed" in notes[0] and "column 'score'" in notes[0]
    assert log in notes[0]
    record = "results/provenance/jobs/validate_wave/training.json"
    sm = fake_snakemake(
        "validate_wave", wildcards={"dataset": "training"}, log=[log], outputs={"record": record}
    )
    with job(sm):
        pass
    assert failure_notes(Path("results")) == []


def test_data_warnings_and_quarantined_rows_are_summarised(tmp_path: Path):
    report = {
        "dataset": "schools",
        "file": "data/raw/schools/strat.sav",
        "rows_in": 200,
        "rows_quarantined": 3,
        "problems_by_rule": {"out of range": 3},
        "warnings": ["optional codebook fields absent from this wave: sch_wide"],
    }
    path = tmp_path / "quarantine" / "schools" / "strat.report.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(report), encoding="utf-8")
    summary = run_summary(tmp_path)
    assert "schools: data/raw/schools/strat.sav: 3 of 200 rows quarantined" in summary
    assert "out of range (3)" in summary and "strat.csv" in summary
    assert "fields absent from this wave: sch_wide" in summary
    assert run_summary(tmp_path / "nothing") == ""


def test_clearing_forgets_earlier_failures(tmp_path: Path):
    note = tmp_path / "logs" / "x" / "a.failed"
    note.parent.mkdir(parents=True)
    note.write_text("rule x failed\n", encoding="utf-8")
    assert failure_notes(tmp_path) == ["rule x failed"]
    clear_failure_notes(tmp_path)
    assert failure_notes(tmp_path) == []


@pytest.mark.skipif(not snakemake_executable().is_file(), reason="snakemake not installed")
def test_one_failing_dataset_does_not_stop_the_others(tmp_path: Path):
    """A wave that cannot be read fails its own jobs; with --keep-going (as `make run`) the
    other dataset is cleaned, and the summary at the end names the failure once."""
    root = copy_project(tmp_path / "project")
    (root / "data" / "raw" / "training" / "2024.dta").write_bytes(b"not a Stata file")
    targets = ["results/clean/training/2024.parquet", "results/clean/officer_survey/2023.parquet"]
    done = run_snakemake(root, "--keep-going", *targets, cores=2, check=False)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert (root / "results" / "clean" / "officer_survey" / "2023.parquet").is_file()
    assert "1 job(s) failed; the others ran:" in output, output[-3000:]
    assert output.count("1 job(s) failed") == 1
    assert "rule prepare_wave failed on data/raw/training/2024.dta" in output


@pytest.mark.skipif(not snakemake_executable().is_file(), reason="snakemake not installed")
def test_a_wave_with_no_valid_row_stops_and_keeps_its_quarantine(tmp_path: Path):
    """Every row quarantined: the wave's one job fails (Snakemake deletes its outputs), and the
    message names the quarantine kept beside the job's log, owner-only."""
    import hashlib
    import stat

    root = copy_project(tmp_path / "project")
    codebook = root / "data" / "raw" / "training" / "codebook.json"
    data = json.loads(codebook.read_text(encoding="utf-8"))
    pre = next(f for f in data["fields"] if f["name"] == "pre_score")
    pre["constraints"]["maximum"] = -1  # no score fits: every row out of range
    codebook.write_text(json.dumps(data, indent=2), encoding="utf-8")
    sums = root / "data" / "raw" / "SHA256SUMS"
    digest = hashlib.sha256(codebook.read_bytes()).hexdigest()
    sums.write_text(
        "".join(
            f"{digest}  training/codebook.json\n"
            if line.endswith("training/codebook.json")
            else line + "\n"
            for line in sums.read_text(encoding="utf-8").splitlines()
        ),
        encoding="utf-8",
    )
    done = run_snakemake(root, "results/clean/training/2024.parquet", cores=1, check=False)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    kept = "results/logs/prepare_wave/training/2024.quarantine.csv"
    log = (root / "results/logs/prepare_wave/training/2024.log").read_text(encoding="utf-8")
    assert "0 valid rows" in log and kept in log, log[-3000:]
    assert "rule prepare_wave failed" in output, output[-3000:]
    quarantine = root / kept
    assert "out_of_range" in quarantine.read_text(encoding="utf-8")
    assert stat.S_IMODE(quarantine.stat().st_mode) == 0o600
    assert not (root / "results/clean/training/2024.parquet").exists()
