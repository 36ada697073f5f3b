"""`wps audit` and `wps trace` on a fake run: verdicts, the files and jobs they name, exit codes."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_provenance import (  # noqa: E402
    BRIEF,
    CLEAN,
    FINDINGS,
    INGESTED,
    JOBS,
    RAW,
    fake_run,
    write,
)

from analysis.cli import main  # noqa: E402
from analysis.provenance import build_manifest, write_manifest  # noqa: E402


def sha(path: Path | str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def run(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    fake_run(tmp_path)
    write_manifest(build_manifest(JOBS, "results", "data/raw"), "results/provenance/manifest.json")
    return tmp_path


def audit(capsys, *extra: str) -> tuple[int, str]:
    code = main(["audit", "--results", "results", *extra])
    return code, capsys.readouterr().out


def test_fresh_run_passes(run, capsys):
    code, out = audit(capsys)
    assert code == 0
    assert out.startswith("OK: 4 outputs and 2 raw files match the manifest")


def test_audit_from_another_folder(run, capsys, monkeypatch, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert main(["audit", "--results", str(run / "results")]) == 0
    write(str(run / CLEAN), "edited\n")
    assert main(["audit", "--results", str(run / "results")]) == 1
    assert f"CHANGED {CLEAN}" in capsys.readouterr().out


def test_edited_output_is_named_with_its_job_and_hashes(run, capsys):
    old = sha(CLEAN)
    write(CLEAN, "id,sex,n\n1,2,5\n2,1,70\n")
    code, out = audit(capsys)
    assert code == 1
    assert out.splitlines()[0] == "FAILED: 1 problem(s) found"
    assert (
        f"CHANGED {CLEAN} (made by job clean_wave officer_survey/2025): "
        f"sha256 expected {old} got {sha(CLEAN)}"
    ) in out.splitlines()


def test_deleted_output_is_missing(run, capsys):
    Path(FINDINGS).unlink()
    code, out = audit(capsys)
    assert code == 1
    assert f"MISSING {FINDINGS} (made by job make_findings 2025): the file is gone" in out


def test_changed_raw_file_fails_and_taints_the_brief(run, capsys):
    old = sha(RAW)
    write(RAW, "id,sex,n\n1,2,5\n2,1,9\n")
    code, out = audit(capsys)
    assert code == 1
    assert f"RAW CHANGED {RAW} since the run: sha256 expected {old} got {sha(RAW)}" in out
    assert f"BRIEF {BRIEF} (made by job render_brief 2025): derives from raw files" in out
    assert RAW in out.splitlines()[-1]


def test_deleted_and_new_raw_files(run, capsys):
    Path(RAW).unlink()
    write("data/raw/officer_survey/2027.csv", "id\n1\n")
    code, out = audit(capsys)
    assert code == 1
    assert f"RAW MISSING {RAW} since the run: the file is gone" in out
    assert "RAW NEW data/raw/officer_survey/2027.csv" in out


def test_hand_edited_manifest_is_caught(run, capsys):
    path = Path("results/provenance/manifest.json")
    manifest = json.loads(path.read_text())
    manifest["outputs"][CLEAN]["sha256"] = "0" * 64
    path.write_text(json.dumps(manifest))
    code, out = audit(capsys)
    assert code == 1
    assert "MANIFEST content_hash" in out
    assert f"CHANGED {CLEAN}" in out


def test_missing_manifest_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit, match="Run the workflow first"):
        main(["audit"])


def test_trace_prints_the_chain_from_raw_to_brief(run, capsys):
    assert main(["trace", BRIEF]) == 0
    out = capsys.readouterr().out
    assert f"{RAW}  sha256 {sha(RAW)}" in out
    jobs = [
        line.split("job ")[1].split(" (rule")[0] for line in out.splitlines() if "step " in line
    ]
    assert jobs == [
        "ingest_wave officer_survey/2025",
        "clean_wave officer_survey/2025",
        "make_findings 2025",
        "render_brief 2025",
    ]
    assert f"out  {BRIEF}  {sha(BRIEF)[:16]}  <==" in out


def test_trace_a_finding_to_its_table_cell_and_lineage(run, capsys):
    assert main(["trace", BRIEF, "n_men"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"finding n_men in {FINDINGS}: 7 men (value 7)"
    assert out[1] == f"  source: {CLEAN}, row 1, column 'n': 7"
    assert out[2] == f"lineage of {CLEAN}"
    assert any("step 2: job clean_wave officer_survey/2025" in line for line in out)
    assert not any("make_findings" in line for line in out)  # only the table's lineage


def test_trace_unknown_finding_and_unknown_path(run, capsys):
    assert main(["trace", BRIEF, "no_such"]) == 2
    assert "keys: n_men" in capsys.readouterr().err
    assert main(["trace", "results/briefs/2025/none.html"]) == 2
    assert "not in the manifest" in capsys.readouterr().err


def test_python_dash_m_analysis_runs_the_cli():
    done = subprocess.run(
        [sys.executable, "-m", "analysis", "--help"],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert all(name in done.stdout for name in ("audit", "trace", "example-data"))


def test_temporary_outputs_are_recorded_and_audited_only_when_present(run, capsys):
    """Ingested tables are temp() files (raw rows with identifiers), deleted after use: the
    manifest keeps their hashes for the lineage; audit checks one only if it is there."""
    manifest = json.loads(Path("results/provenance/manifest.json").read_text())
    assert manifest["outputs"][INGESTED]["temporary"] is True
    assert not manifest["outputs"][CLEAN].get("temporary")
    assert RAW in manifest["lineage"][BRIEF]  # the brief traces back through the temp file
    Path(INGESTED).unlink()  # as Snakemake removes a temp() output once its consumers ran
    code, out = audit(capsys)
    assert code == 0, out
    write(INGESTED, "brought back by hand\n")  # if it is there again, it must match its hash
    code, out = audit(capsys)
    assert code == 1 and f"CHANGED {INGESTED}" in out
