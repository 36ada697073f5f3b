"""Two tiers of outputs (issue 14, items 5 and 7): restricted outputs are owner-only, never in
the Snakemake report, never left behind by a vanished wave, and the quarantine names rows, not
respondents."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import pandas as pd
import pytest

from analysis.io import RawTable
from analysis.provenance.tiers import (
    check_tiers,
    is_restricted,
    owner_only,
    protect,
    protect_outputs,
    protect_tree,
    remove_leftover_identifier_tables,
)
from analysis.tables import write_csv
from analysis.validate.codebook import codebook_from_dict
from analysis.validate.wave import validate

REPO = Path(__file__).resolve().parents[1]
RULES = REPO / "workflow" / "rules"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ---- which tier -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "ingest/officer_survey/2025.parquet",
        "validated/officer_survey/2025.meta.json",
        "quarantine/officer_survey/2025.csv",
        "clean/officer_survey/2025.parquet",
        "clean/interviews/2024.csv",
        "results/clean/interviews/2024.csv",
        "interviews/interviews/2024/frequencies.csv",
        "interviews/interviews/2024/sex_differences.csv",
        "interviews/interviews/2024/cooccurrence.csv",
        "interviews/interviews/2024/quotes.csv",
        "tables/training/2024/attrition.csv",
    ],
)
def test_row_level_tables_small_cells_and_quotes_are_restricted(path: str) -> None:
    assert is_restricted(path)


@pytest.mark.parametrize(
    "path",
    [
        "briefs/2025/regional.pdf",
        "findings/2025/regional.yaml",
        "figures/2025/women_by_country.svg",
        "tables/officer_survey/2025/estimates.csv",
        "interviews/interviews/2024/themes.csv",
        "interviews/interviews/2024/theme_cooccurrence.csv",
        "provenance/manifest.json",
    ],
)
def test_briefs_protected_tables_figures_and_provenance_are_shared(path: str) -> None:
    assert not is_restricted(path)


# ---- nothing restricted in the Snakemake report ---------------------------------------------

REPORT_CALL = re.compile(r"report\(\s*f?\"(?P<path>[^\"]+)\"", re.MULTILINE)


def report_entries() -> list[tuple[str, str]]:
    """(rule file, output path relative to results/) of every `report(...)` in the rules."""
    found = []
    for smk in sorted(RULES.glob("*.smk")):
        for match in REPORT_CALL.finditer(smk.read_text(encoding="utf-8")):
            path = match["path"].replace("{RESULTS}/", "").replace("{{", "{").replace("}}", "}")
            found.append((smk.name, re.sub(r"\{(\w+)\}", r"\1", path)))
    return found


def test_the_rules_have_report_entries_to_check() -> None:
    entries = report_entries()
    assert len(entries) >= 5, entries
    assert all(not path.startswith(("{", "/")) for _, path in entries), entries


def test_no_restricted_output_is_embedded_in_the_report() -> None:
    embedded = [f"{rule}: {path}" for rule, path in report_entries() if is_restricted(path)]
    assert not embedded, "restricted outputs marked report(...):\n" + "\n".join(embedded)


def test_interview_tables_in_the_report_are_the_disclosure_controlled_ones() -> None:
    """themes.csv and theme_cooccurrence.csv pass analysis.disclosure.protect_crosstab in
    the
    adapter; no other interview table may be embedded."""
    interview = {Path(p).name for _, p in report_entries() if p.startswith("interviews/")}
    assert interview <= {"themes.csv", "theme_cooccurrence.csv"}, interview
    adapter = (REPO / "workflow" / "scripts" / "analyse_interviews.py").read_text("utf-8")
    assert "protected_frequency_table(" in adapter and "protect_crosstab(" in adapter


# ---- owner-only writing ----------------------------------------------------------------------


def test_restricted_files_and_folders_are_written_owner_only(tmp_path: Path) -> None:
    results = tmp_path / "results"
    target = results / "clean" / "officer_survey" / "2025.csv"
    target.parent.mkdir(parents=True)  # Snakemake makes output folders first, 0755
    (results / "clean").chmod(0o755)
    target.parent.chmod(0o755)
    with owner_only():
        write_csv(pd.DataFrame({"respondent_id": ["OS-1"]}), target)
    assert mode(target) == 0o600
    protect(target, results)
    assert mode(target.parent) == 0o700 and mode(results / "clean") == 0o700
    assert mode(results) != 0o700  # the results folder itself stays as it was


def test_owner_only_restores_the_umask(tmp_path: Path) -> None:
    import os

    before = os.umask(0o022)
    try:
        with owner_only():
            (tmp_path / "inside").write_text("x")
        (tmp_path / "after").write_text("x")
        assert mode(tmp_path / "inside") == 0o600 and mode(tmp_path / "after") == 0o644
    finally:
        os.umask(before)


def test_protect_outputs_leaves_shared_outputs_readable(tmp_path: Path) -> None:
    results = tmp_path / "results"
    folder = results / "interviews" / "interviews" / "2024"
    folder.mkdir(parents=True)
    shared, restricted = folder / "themes.csv", folder / "frequencies.csv"
    for path in (shared, restricted):
        path.write_text("code,n\n", encoding="utf-8")
        path.chmod(0o644)
    assert protect_outputs([str(shared), str(restricted)], results) == [restricted]
    assert mode(restricted) == 0o600 and mode(shared) == 0o644 and mode(folder) != 0o700


# ---- the audit's tier check ------------------------------------------------------------------


def make_run(tmp_path: Path) -> tuple[Path, Path]:
    """A results tree as a run leaves it, with the raw folder it came from."""
    results, raw = tmp_path / "results", tmp_path / "data" / "raw"
    (raw / "officer_survey").mkdir(parents=True)
    (raw / "officer_survey" / "2025.sav").write_bytes(b"x")
    for rel in ("clean/officer_survey/2025.parquet", "briefs/2025/regional.html"):
        (results / rel).parent.mkdir(parents=True, exist_ok=True)
        (results / rel).write_text("x")
    protect_tree(results)
    return results, raw


def test_check_tiers_passes_a_tidy_run(tmp_path: Path) -> None:
    results, raw = make_run(tmp_path)
    assert check_tiers(results, raw) == []
    assert mode(results / "briefs" / "2025" / "regional.html") & 0o044  # shared stays readable


def test_check_tiers_names_a_restricted_file_others_can_read(tmp_path: Path) -> None:
    results, raw = make_run(tmp_path)
    table = results / "clean" / "officer_survey" / "2025.parquet"
    table.chmod(0o644)
    problems = check_tiers(results, raw)
    assert len(problems) == 1
    assert "clean/officer_survey/2025.parquet" in problems[0] and "chmod 600" in problems[0]
    (results / "clean").chmod(0o755)
    assert any("chmod 700" in p and p.split()[1] == "results/clean:" for p in check_tiers(results))


def test_check_tiers_names_raw_rows_left_by_a_wave_that_no_longer_exists(tmp_path: Path) -> None:
    """The reviewer's case: a failed wave removed, the next run succeeds, its names and phones
    stay in results/ingest/ and the audit said OK."""
    results, raw = make_run(tmp_path)
    gone = results / "ingest" / "officer_survey" / "2026.parquet"
    kept = results / "validated" / "officer_survey" / "2025.parquet"  # wave still there
    for path in (gone, kept):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("names and phones")
    protect_tree(results)
    problems = check_tiers(results, raw)
    assert len(problems) == 2 and all("LEFTOVER" in p for p in problems), problems
    (vanished,) = [p for p in problems if "2026.parquet" in p]
    (interrupted,) = [p for p in problems if "validated/officer_survey/2025.parquet" in p]
    assert "no longer exists" in vanished and "killed or failed run" in interrupted
    # a run starting deletes the first only: the second may be an input the run is about to use
    assert remove_leftover_identifier_tables(results, raw) == [gone]
    assert not gone.exists() and kept.exists()
    kept.unlink()
    assert check_tiers(results, raw) == []


# ---- quarantine without respondent IDs -------------------------------------------------------

SPEC = {
    "name": "officer_survey",
    "primaryKey": ["respondent_id"],
    "fields": [
        {
            "name": "respondent_id",
            "type": "string",
            "x-identifier": "indirect",
            "constraints": {"maxLength": 12},
        },
        {"name": "phone", "type": "string", "x-identifier": "direct"},
        {"name": "age", "type": "integer", "constraints": {"minimum": 18, "maximum": 65}},
    ],
}


def test_the_quarantine_names_rows_never_respondent_ids() -> None:
    ids = ["OS2025-00001", "OS2025-00002", "OS2025-00002", "OS2025-000049999", "OS2025-00005"]
    frame = pd.DataFrame(
        {"respondent_id": ids, "phone": ["0815550199"] * 5, "age": [30, 31, 32, 33, 7]}
    )
    result = validate(
        RawTable(data=frame), codebook_from_dict(SPEC), dataset="officer_survey", file="2025.sav"
    )
    quarantine = result.quarantine
    assert sorted(quarantine["row"].unique()) == [2, 3, 4, 5]  # duplicates, too long, age 7
    assert set(quarantine["rule"]) == {"duplicate_key", "max_length", "out_of_range"}
    text = quarantine.to_csv(index=False)
    leaked = [i for i in ids if i in text]
    assert not leaked, f"raw respondent IDs in the quarantine: {leaked}\n{text}"
    assert "'7'" in text  # other values are still shown, to help the correction
