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
    CODEBOOK,
    FINDINGS,
    INGESTED,
    JOBS,
    RAW,
    WC,
    fake_run,
    run_step,
    write,
)

from analysis.cli import main  # noqa: E402
from analysis.provenance import build_manifest, write_manifest  # noqa: E402
from analysis.provenance.tiers import protect_tree  # noqa: E402


def sha(path: Path | str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.fixture
def run(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    fake_run(tmp_path)
    write_manifest(build_manifest(JOBS, "results", "data/raw"), "results/provenance/manifest.json")
    finish_like_a_run("results")
    return tmp_path


def finish_like_a_run(results: str) -> None:
    """What the end of a real run does: temporary raw rows swept, restricted files owner-only."""
    for leftover in Path(results).glob("ingest/**/*.*"):
        leftover.unlink()
    protect_tree(results)


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
    assert not Path(INGESTED).exists()  # Snakemake removes a temp() output once its consumers ran
    code, out = audit(capsys)
    assert code == 0, out
    write(INGESTED, "brought back by hand\n")  # if it is there again, it must match its hash
    code, out = audit(capsys)
    assert code == 1 and f"CHANGED {INGESTED}" in out


# --- issue 14: every output known, nothing empty, the whole manifest hashed ------------------

MANIFEST_PATH = Path("results/provenance/manifest.json")
FIGURE = "results/figures/2025/women"


def rebuild(targets=()) -> dict:
    """Rebuild and write the manifest of the fake run (as write_manifest does)."""
    manifest = build_manifest(JOBS, "results", "data/raw", targets=targets)
    write_manifest(manifest, MANIFEST_PATH)
    return manifest


def edit_manifest(change, rehash: bool = False) -> None:
    """Edit the manifest on disk; with `rehash`, recompute its content_hash as a forger would."""
    from analysis.provenance.manifest import content_hash

    manifest = json.loads(MANIFEST_PATH.read_text())
    change(manifest)
    if rehash:
        manifest["content_hash"] = content_hash(manifest)
    MANIFEST_PATH.write_text(json.dumps(manifest))


def draw_figure_job() -> list[str]:
    """A figure job like draw_figures: SVG, PNG and alt text of one chart, via save_figure."""
    import matplotlib.pyplot as plt

    from analysis.figures.draw import save_figure

    files = {"svg": f"{FIGURE}.svg", "png": f"{FIGURE}.png", "alt": f"{FIGURE}.alt.txt"}

    def draw(sm, j):
        fig, ax = plt.subplots()
        ax.bar([0, 1], [1, 2])
        save_figure(fig, Path(FIGURE), "Bar chart of two made-up numbers.")
        plt.close(fig)

    run_step("draw_figures", {"table": CLEAN}, files, draw, {"wave": WC["wave"]})
    return sorted(files.values())


def test_output_empty_when_recorded_is_caught(run, capsys):
    """A job cut short can leave a 0-byte file that its record hashes as it is: the hash then
    matches, so only the size tells (the stay_logit.svg of the issue)."""
    from test_provenance import WC, run_step

    write(INGESTED, "id\n1\n")  # the temporary input, back for this one job
    run_step(
        "clean_wave", {"table": INGESTED}, {"table": CLEAN}, lambda sm, j: write(CLEAN, ""), WC
    )
    rebuild()
    finish_like_a_run("results")
    code, out = audit(capsys)
    assert code == 1
    assert f"EMPTY {CLEAN} (made by job clean_wave officer_survey/2025): the file is 0 bytes" in out


def test_output_emptied_after_the_run_is_caught_as_empty(run, capsys):
    Path(FINDINGS).write_bytes(b"")
    code, out = audit(capsys)
    assert code == 1
    assert f"EMPTY {FINDINGS} (made by job make_findings 2025)" in out


def test_missing_png_is_named(run, capsys):
    files = draw_figure_job()
    rebuild(targets=files)
    assert audit(capsys)[0] == 0
    Path(f"{FIGURE}.png").unlink()
    code, out = audit(capsys)
    assert code == 1
    assert f"MISSING {FIGURE}.png (made by job draw_figures 2025): the file is gone" in out


def test_figure_job_whose_record_is_gone_is_not_made(run, capsys):
    """The issue's run: a job's record gone, its outputs absent from the manifest, and the
    audit said OK with 193 of 199 outputs. The targets the workflow asked for tell."""
    files = draw_figure_job()
    Path(f"{JOBS}/draw_figures/2025.json").unlink()
    Path(f"{FIGURE}.png").unlink()
    rebuild(targets=[*files, BRIEF])
    code, out = audit(capsys)
    assert code == 1
    for path in files:
        assert f"NOT MADE {path}: the workflow was asked for it but no recorded job made it" in out


def test_file_read_by_a_job_but_made_by_no_recorded_job(run, capsys):
    Path(f"{JOBS}/make_findings/2025.json").unlink()
    rebuild()
    code, out = audit(capsys)
    assert code == 1
    assert f"NOT MADE {FINDINGS} (read by job render_brief 2025): no recorded job made it" in out


@pytest.mark.parametrize(
    ("section", "change"),
    [
        ("jobs", lambda m: m["jobs"]["clean_wave officer_survey/2025"]["params"].update(x=1)),
        ("jobs", lambda m: m["jobs"]["render_brief 2025"]["software"].update(pandoc="0.1")),
        ("lineage", lambda m: m["lineage"].update({BRIEF: [CODEBOOK]})),
        ("outputs", lambda m: m["outputs"][FINDINGS].update(job="render_brief 2025")),
        ("raw", lambda m: m["raw"][CODEBOOK].update(size=1)),
        ("targets", lambda m: m.update(targets=[CLEAN])),
    ],
)
def test_edit_in_any_section_of_the_manifest_is_caught(run, capsys, section, change):
    edit_manifest(change)
    code, out = audit(capsys)
    assert code == 1, f"an edit of {section} passed the audit"
    assert "MANIFEST content_hash: the manifest does not add up to its content_hash" in out


def test_lineage_edited_and_rehashed_is_caught(run, capsys):
    """Even with the hash recomputed, the lineage must follow from the jobs."""
    edit_manifest(lambda m: m["lineage"].update({BRIEF: [CODEBOOK]}), rehash=True)
    code, out = audit(capsys)
    assert code == 1
    assert f"MANIFEST lineage: the lineage of {BRIEF} does not follow from the jobs" in out


def test_outputs_and_jobs_disagreeing_is_caught(run, capsys):
    edit_manifest(lambda m: m["outputs"][CLEAN].update(job="make_findings 2025"), rehash=True)
    code, out = audit(capsys)
    assert code == 1
    assert f"MANIFEST {CLEAN}: the outputs section says job make_findings 2025 made it" in out


@pytest.mark.parametrize("command", [["audit"], ["trace", BRIEF]])
def test_truncated_manifest_says_which_file_and_what_to_do(run, command):
    text = MANIFEST_PATH.read_text()
    MANIFEST_PATH.write_text(text[: len(text) // 2])
    with pytest.raises(SystemExit) as stop:
        main([*command, "--results", "results"])
    message = str(stop.value.code)
    assert message.startswith(f"wps: {MANIFEST_PATH}: the manifest is damaged: not valid JSON")
    assert "truncated" in message
    assert "rerunning the workflow (make run)" in message


def test_manifest_of_an_older_version_says_so(run):
    edit_manifest(lambda m: m.update(schema="wps-manifest/1"))
    with pytest.raises(SystemExit, match="schema is 'wps-manifest/1'.*make run"):
        main(["audit", "--results", "results"])


def test_stray_file_without_identifiers_is_a_note(run, capsys):
    write("results/tables/notes.txt", "my notes\n")
    code, out = audit(capsys)
    assert code == 0
    assert "NOTE EXTRA results/tables/notes.txt: not made by this run" in out


def test_stray_table_with_identifiers_fails(run, capsys):
    write(
        CODEBOOK,
        json.dumps(
            {"name": "officer_survey", "fields": [{"name": "phone", "x-identifier": "direct"}]}
        ),
    )
    rebuild()
    write("results/tables/export for partner.csv", "id,phone\n1,0815550199\n")
    code, out = audit(capsys)
    assert code == 1
    assert (
        "EXTRA results/tables/export for partner.csv: not made by this run and a table with "
        "identifier column(s) phone"
    ) in out


def test_stray_raw_rows_and_half_written_files_fail(run, capsys):
    write("results/validated/officer_survey/2024.parquet", "rows\n")
    write("results/figures/2025/.women.svg.x1y2.tmp", "<svg")
    code, out = audit(capsys)
    assert code == 1
    assert "EXTRA results/validated/officer_survey/2024.parquet: not made by this run and " in out
    assert "EXTRA results/figures/2025/.women.svg.x1y2.tmp: not made by this run and a half" in out


def test_emptied_report_is_caught(run, capsys):
    """Snakemake's report comes after the manifest, so it has no hash there; empty, it fails."""
    write("results/provenance/report.html", "")
    code, out = audit(capsys)
    assert code == 1
    assert "EMPTY results/provenance/report.html: the file is 0 bytes" in out


def test_clean_run_has_no_extra_files(run, capsys):
    """Logs, records and the manifest are known: a clean run reports nothing extra."""
    write("results/provenance/report.html", "<html></html>\n")
    code, out = audit(capsys)
    assert code == 0 and "EXTRA" not in out, out


def test_raw_file_not_as_listed_in_sha256sums_is_a_note(run, capsys):
    from analysis.synth.common import write_sha256sums

    listed = write_sha256sums(Path("data/raw"))
    write(RAW, "id,sex,n\n1,2,5\n2,1,9\n")  # changed after the checksums were taken
    fake_run(Path.cwd(), raw=Path(RAW).read_text())
    rebuild()
    finish_like_a_run("results")
    code, out = audit(capsys)
    assert code == 0, out
    assert (f"NOTE RAW NOT AS LISTED {RAW} differs from data/raw/SHA256SUMS (sha256 listed") in out
    assert listed.is_file()


def test_restricted_file_readable_by_others_or_raw_rows_left_fail_the_audit(run, capsys):
    """The restricted tier (analysis.provenance.tiers) is audited: before, wps audit said OK with
    names
    and phones left in results/ingest and quarantine files readable by everyone."""
    assert audit(capsys)[0] == 0
    quarantine = next(Path("results").glob("quarantine/**/*.*"), None) or Path(CLEAN)
    quarantine.chmod(0o644)
    code, out = audit(capsys)
    assert code == 1 and "TIER" in out and str(quarantine) in out
    quarantine.chmod(0o600)
    write(INGESTED, "id,name\n1,Canaryname\n")
    code, out = audit(capsys)
    assert code == 1 and "TIER" in out and "ingest" in out
