"""Raw inputs checked before a run (issue 14): SHA256SUMS compared, links out of data/raw and
file names that are not waves refused, each with a message naming the file and what to do."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.errors import WpsInputError
from analysis.ingest.discover import WAVE_PATTERN, wave_files
from analysis.ingest.raw_integrity import check_raw_inputs, compare_checksums
from analysis.synth.common import write_sha256sums

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    """A small raw folder: one dataset, two waves, a codebook, and its SHA256SUMS."""
    folder = tmp_path / "project" / "data" / "raw"
    survey = folder / "officer_survey"
    survey.mkdir(parents=True)
    (survey / "2023.csv").write_text("id,sex\n1,2\n", encoding="utf-8")
    (survey / "2025.csv").write_text("id,sex\n1,1\n2,2\n", encoding="utf-8")
    (survey / "codebook.json").write_text('{"name": "officer_survey"}\n', encoding="utf-8")
    write_sha256sums(folder)
    return folder


def console(raw: Path) -> str:
    stream = io.StringIO()
    check_raw_inputs(raw, stream=stream)
    return stream.getvalue()


# --- SHA256SUMS ---------------------------------------------------------------------------------


def test_unchanged_raw_folder_says_nothing(raw: Path) -> None:
    assert console(raw) == ""
    assert compare_checksums(raw).clean


def test_changed_raw_file_is_named_with_both_checksums_and_what_to_do(raw: Path) -> None:
    wave = raw / "officer_survey" / "2025.csv"
    listed = compare_checksums(raw)
    wave.write_text("id,sex\n1,2\n2,2\n", encoding="utf-8")  # a swapped value
    report = compare_checksums(raw)
    assert [rel for rel, _, _ in report.changed] == ["officer_survey/2025.csv"]
    out = console(raw)
    _, expected, now = report.changed[0]
    assert listed is not None and expected != now
    first = out.splitlines()[0]
    assert first.startswith(f"WARNING raw data: {raw.as_posix()}/officer_survey/2025.csv differs")
    assert f"sha256 listed {expected}, now {now}" in first
    assert "make example-data" in out
    assert f"cd {raw.as_posix()} && sha256sum officer_survey/2025.csv" in out


def test_missing_unlisted_and_unreadable_entries_are_named(raw: Path) -> None:
    (raw / "officer_survey" / "2023.csv").unlink()
    (raw / "officer_survey" / "2027.csv").write_text("id,sex\n1,1\n", encoding="utf-8")
    with open(raw / "SHA256SUMS", "a", encoding="utf-8") as handle:
        handle.write("not a checksum line\n")
    out = console(raw)
    assert "officer_survey/2023.csv is listed in" in out and "is gone" in out
    assert "NOTE raw data:" in out and "officer_survey/2027.csv is not listed" in out
    assert "line 4: 'not a checksum line'" in out


def test_a_raw_folder_without_sha256sums_is_not_checked_silently(raw: Path) -> None:
    (raw / "SHA256SUMS").unlink()
    (raw / "officer_survey" / "2025.csv").write_text("changed\n", encoding="utf-8")
    assert compare_checksums(raw) is None
    assert console(raw) == ""


def test_the_manifest_keeps_the_checksum_difference(raw: Path, monkeypatch) -> None:
    from analysis.provenance import build_manifest

    project = raw.parents[1]
    monkeypatch.chdir(project)
    (raw / "officer_survey" / "2025.csv").write_text("changed\n", encoding="utf-8")
    manifest = build_manifest("results/provenance/jobs", "results", "data/raw")
    (difference,) = manifest["raw_checksums"]
    assert difference.startswith(
        "data/raw/officer_survey/2025.csv differs from data/raw/SHA256SUMS (sha256 listed"
    )


def test_the_bundled_raw_data_match_their_checksums() -> None:
    """The shipped example data agree with the shipped SHA256SUMS (else every run warns)."""
    report = compare_checksums(REPO / "data" / "raw")
    assert report is not None and not report.changed and not report.missing, report


# --- links out of data/raw -------------------------------------------------------------------


def test_link_to_a_file_outside_the_raw_folder_is_refused(raw: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere" / "passwords.csv"
    outside.parent.mkdir()
    outside.write_text("user,password\nroot,hunter2\n", encoding="utf-8")
    link = raw / "officer_survey" / "2026.csv"
    link.symlink_to(outside)
    for check in (lambda: wave_files(raw / "officer_survey"), lambda: check_raw_inputs(raw)):
        with pytest.raises(WpsInputError) as refused:
            check()
        message = str(refused.value)
        assert message.startswith(f"officer_survey: {link}: this is a link to {outside}")
        assert "outside the raw data folder" in message and "What to do: copy the file" in message
        assert "hunter2" not in message


def test_linked_codebook_or_dataset_folder_outside_is_refused(raw: Path, tmp_path: Path) -> None:
    codebook = raw / "officer_survey" / "codebook.json"
    codebook.rename(tmp_path / "codebook.json")
    codebook.symlink_to(tmp_path / "codebook.json")
    with pytest.raises(WpsInputError, match="codebook.json: this is a link to"):
        check_raw_inputs(raw)
    codebook.unlink()
    (tmp_path / "training").mkdir()
    (raw / "training").symlink_to(tmp_path / "training")
    with pytest.raises(WpsInputError, match="training: this is a link to"):
        check_raw_inputs(raw)


def test_link_inside_the_raw_folder_is_allowed(raw: Path) -> None:
    archive = raw / "archive"
    archive.mkdir()
    (raw / "officer_survey" / "2025.csv").rename(archive / "2025.csv")
    (raw / "officer_survey" / "2025.csv").symlink_to(archive / "2025.csv")
    assert list(wave_files(raw / "officer_survey")) == ["2023", "2025"]
    check_raw_inputs(raw, stream=io.StringIO())


# --- file names that are not waves -----------------------------------------------------------


def test_a_file_name_that_is_not_a_wave_is_refused_naming_file_and_pattern(raw: Path) -> None:
    odd = raw / "officer_survey" / "2025 final (copy).csv"
    odd.write_text("id,sex\n1,1\n", encoding="utf-8")
    for check in (lambda: wave_files(raw / "officer_survey"), lambda: check_raw_inputs(raw)):
        with pytest.raises(WpsInputError) as refused:
            check()
        message = str(refused.value)
        assert message.startswith(f"officer_survey: {odd}: '2025 final (copy)' is not a wave")
        assert WAVE_PATTERN in message
        assert "What to do: rename it" in message


def test_files_set_aside_with_an_underscore_are_ignored(raw: Path) -> None:
    (raw / "officer_survey" / "_2025 final (copy).csv").write_text("x\n", encoding="utf-8")
    assert list(wave_files(raw / "officer_survey")) == ["2023", "2025"]


def test_wave_pattern_is_the_snakefile_wildcard_constraint() -> None:
    snakefile = (REPO / "Snakefile").read_text(encoding="utf-8")
    constraint = re.search(r'^\s*wave="([^"]+)"', snakefile, re.MULTILINE)
    assert constraint is not None and constraint.group(1) == WAVE_PATTERN


# --- at the start of the workflow ------------------------------------------------------------


def copy_workflow(project: Path) -> None:
    """The workflow's own files (not its results) in a small copy of the project."""
    for name in ("Snakefile", "workflow", "config", "reports", "analysis/style"):
        source, target = REPO / name, project / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)


def snakemake_list_rules(project: Path) -> subprocess.CompletedProcess[str]:
    """Parse the workflow, as every run does first."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "snakemake"), "--list-rules"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_workflow_start_names_a_changed_raw_file_and_refuses_a_link(
    tmp_path: Path,
) -> None:
    project = tmp_path / "project"
    raw = project / "data" / "raw"
    shutil.copytree(REPO / "data" / "raw", raw)
    copy_workflow(project)
    wave = raw / "officer_survey" / "2025.sav"
    wave.write_bytes(wave.read_bytes() + b"\0")
    done = snakemake_list_rules(project)
    assert done.returncode == 0, done.stderr
    assert "WARNING raw data: data/raw/officer_survey/2025.sav differs from" in done.stderr
    (raw / "training" / "2026.dta").symlink_to(tmp_path)
    done = snakemake_list_rules(project)
    assert done.returncode != 0
    assert "training: data/raw/training/2026.dta: this is a link to" in done.stdout + done.stderr


def test_only_dataset_folders_are_held_to_wave_names(raw: Path) -> None:
    """Documents kept beside the data, outside the configured datasets, are not waves."""
    docs = raw / "docs"
    docs.mkdir()
    (docs / "Questionnaire final (v2).xlsx").write_bytes(b"x")
    check_raw_inputs(raw, stream=io.StringIO(), datasets=["officer_survey"])
    with pytest.raises(WpsInputError, match="is not a wave name"):
        check_raw_inputs(raw, stream=io.StringIO())
