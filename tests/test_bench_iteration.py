"""The researcher's-loop part of `make bench` without running the workflow: the edits it makes
and reverts, the jobs it reads from Snakemake, the renders it judges, the ratios and targets."""

from __future__ import annotations

import os
import shutil
from difflib import SequenceMatcher
from pathlib import Path

import pytest
import yaml

from analysis.config.plan import load_plan
from benchmarks import edits, iteration, renders, report, run, targets, workflow
from benchmarks.workflow import Run, job_stats

ROOT = Path(__file__).resolve().parents[1]
DATASET = edits.DATASET


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The files the edits touch, copied from the project."""
    for rel in (edits.PLAN, edits.BRIEF_WORDS):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, tmp_path / rel)
    return tmp_path


@pytest.mark.parametrize(("edit", "key", "entry"), [
    (edits.add_estimate, "estimates", edits.EXTRA_ESTIMATE),
    (edits.add_model, "models", edits.EXTRA_MODEL),
])  # fmt: skip
def test_plan_edit_appends_one_valid_entry_and_keeps_the_rest(copy, edit, key, entry) -> None:
    original = (ROOT / edits.PLAN).read_text(encoding="utf-8")
    edit(copy)
    text = (copy / edits.PLAN).read_text(encoding="utf-8")
    before, after = yaml.safe_load(original), yaml.safe_load(text)
    assert after["datasets"][DATASET][key][-1] == entry
    after["datasets"][DATASET][key].pop()
    assert after == before  # nothing else changed in meaning
    diff = SequenceMatcher(None, original.splitlines(), text.splitlines()).get_opcodes()
    assert sorted(tag for tag, *_ in diff if tag != "equal") == ["insert"]  # one block added
    plan = load_plan(copy / edits.PLAN)  # the edited plan passes the project's own checks
    assert plan[DATASET][key][-1]["id"] == entry["id"]


def test_sentence_edit_adds_the_sentence_to_the_briefs_words(copy: Path) -> None:
    before = (copy / edits.BRIEF_WORDS).read_text(encoding="utf-8")
    edits.add_sentence(copy)
    after = (copy / edits.BRIEF_WORDS).read_text(encoding="utf-8")
    assert after.startswith(before.rstrip("\n")) and after.rstrip().endswith(edits.SENTENCE)
    assert edits.BRIEF_WORDS.parent.parent.name == edits.WORDS_BRIEF  # the brief it belongs to


def test_revert_puts_every_edited_file_back_byte_for_byte(copy: Path) -> None:
    for edit in edits.EDITS:
        edit.apply(copy)
    assert (copy / edits.PLAN).read_bytes() != (ROOT / edits.PLAN).read_bytes()
    edits.revert(ROOT, copy)
    for rel in (edits.PLAN, edits.BRIEF_WORDS):
        assert (copy / rel).read_bytes() == (ROOT / rel).read_bytes()


def test_plan_edit_refuses_a_plan_it_does_not_understand(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text("version: 1\ndatasets:\n  officer_survey:\n    design: {}\n")
    with pytest.raises(edits.EditFailed, match="estimates"):
        edits.append_to_plan_list(plan, "estimates", {"id": "x"})
    assert plan.read_text() == "version: 1\ndatasets:\n  officer_survey:\n    design: {}\n"


SNAKEMAKE_OUTPUT = """Building DAG of jobs...
Job stats:
job                    count
-------------------  -------
all                        1
estimate_survey            1
total                      2

[Mon Nov 30 08:37:36 2026]
localrule estimate_survey:
    jobid: 4
Finished jobid: 4 (Rule: estimate_survey)
1 of 2 steps (50%) done
Updating checkpoint dependencies.
Finished jobid: 9 (Rule: render_dataset_brief)
Finished jobid: 7 (Rule: estimate_survey)
Finished jobid: 0 (Rule: all)
4 of 4 steps (100%) done
"""


def test_job_stats_count_the_jobs_that_ran() -> None:
    """The first table (2 planned) is not the count: the checkpoint added jobs after it."""
    jobs = job_stats(SNAKEMAKE_OUTPUT)
    assert jobs == {"all": 1, "estimate_survey": 2, "render_dataset_brief": 1}
    assert Run(1.0, jobs).total == 4
    assert job_stats("Nothing to be done (all requested files are present and up to date).") == {}
    assert Run(1.0, {}).total == 0


def test_ratio_of_two_measured_numbers() -> None:
    assert iteration.ratio(3.0, 2.0) == 1.5
    assert iteration.ratio(1.0, 3.0) == 0.333
    assert iteration.ratio(None, 2.0) is None and iteration.ratio(2.0, 0.0) is None
    assert iteration.ratios([(1.0, 2.0), (3.0, 2.0), (2.0, 2.0)]) == {
        "median": 1.0,
        "runs": [0.5, 1.5, 1.0],
    }
    assert iteration.ratios([(1.0, None)]) is None


def fake_repeat(cold: float, noop: list[float], make: list[float], rerun: float) -> dict:
    change = {
        "rerun_s": rerun,
        "rerun_cpu_s": rerun * 1.5,  # the rerun's jobs kept 1.5 cores busy
        "jobs": 17,
        "jobs_by_rule": {"render_brief": 1, "all": 1},
        "briefs": 20,
        "rendered": ["2025/regional"],
        "needless": [],
        "notebook_s": 2 * cold,
        "notebook_jobs": 68,
    }
    changes = {c.id: dict(change) for c in iteration.CHANGES}
    cold_run = Run(cold, {"x": 68}, cpu_seconds=cold * 1.9)  # the cold run kept 1.9 busy
    return {"cold": cold_run, "noop": noop, "make_run": make, "changes": changes}


def test_summary_computes_each_ratio_within_its_repeat() -> None:
    out = iteration.summarise(
        [
            fake_repeat(100.0, [2.0, 4.0, 3.0], [6.0, 6.0, 9.0], 40.0),
            fake_repeat(200.0, [2.0, 2.0, 2.0], [3.0, 3.0, 3.0], 60.0),
        ]
    )
    # make run medians 6 and 3 over no-op medians 3 and 2: 2.0 and 1.5.
    assert out["make_run_to_noop_ratio"] == {"median": 1.75, "runs": [2.0, 1.5]}
    wave = out["changes"]["new_wave"]
    assert wave["to_cold_ratio"]["runs"] == [0.4, 0.3]  # 40/100, 60/200
    assert wave["cpu_to_cold_ratio"]["runs"] == [0.316, 0.237]  # 60/190, 90/380
    assert out["cold_run_cpu_s"]["runs"] == [190.0, 380.0]
    assert out["new_wave_to_cold_ratio"] is wave["to_cold_ratio"]
    assert wave["rerun_to_notebook_ratio"]["runs"] == [0.2, 0.15]  # against 2 x cold
    assert wave["jobs"] == 17 and wave["jobs_to_cold_ratio"] == 0.25


def test_restore_gives_the_snapshot_back_with_its_times(tmp_path: Path) -> None:
    snapshot, copy = tmp_path / "snap", tmp_path / "copy"
    (snapshot / "results").mkdir(parents=True)
    made = snapshot / "results" / "a.txt"
    made.write_text("a")
    os.utime(made, ns=(1_000_000_000, 1_000_000_000))
    (snapshot / ".venv").symlink_to(tmp_path, target_is_directory=True)
    (copy / "results").mkdir(parents=True)
    (copy / "results" / "stale.txt").write_text("from an edit")
    iteration.restore(snapshot, copy)
    assert sorted(p.name for p in (copy / "results").iterdir()) == ["a.txt"]
    assert (copy / "results" / "a.txt").stat().st_mtime_ns == 1_000_000_000
    assert (copy / ".venv").is_symlink()


def write(path: Path, data: dict | str, mtime: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    os.utime(path, ns=(mtime, mtime))


def test_renders_judged_by_the_numbers_and_words_they_show(tmp_path: Path) -> None:
    before, after = tmp_path / "before" / "results", tmp_path / "after" / "results"
    findings = {"findings": {"women_share": "28%"}, "provenance": {"run_id": "old"}}
    for results in (before, after):
        for brief in ("2025/regional", "2025/thailand", "2025/malaysia", "survey/s/2025/s"):
            for fmt in ("pdf", "html"):
                write(results / "briefs" / f"{brief}.{fmt}", "brief", 1)
        for name in ("2025/regional", "2025/thailand", "2025/malaysia", "survey/s/2025"):
            write(results / "findings" / f"{name}.yaml", findings, 1)
    # Thailand: only its provenance changed, rendered again: needless.
    write(after / "findings/2025/thailand.yaml", {**findings, "provenance": {"run_id": "new"}}, 2)
    write(after / "briefs/2025/thailand.pdf", "brief", 2)
    # The dataset brief: a number changed, so its render was needed.
    write(after / "findings/survey/s/2025.yaml", {"findings": {"women_share": "29%"}}, 2)
    write(after / "briefs/survey/s/2025/s.html", "brief", 2)
    # Regional: same findings, but its words were edited.
    write(after / "briefs/2025/regional.docx", "brief", 2)
    # A new wave's brief is always needed.
    write(after / "briefs/2026/regional.pdf", "brief", 2)
    found = renders.rerendered(before, after, words_of="regional")
    assert found["briefs"] == 5
    assert found["rendered"] == [
        "2025/regional",
        "2025/thailand",
        "2026/regional",
        "survey/s/2025/s",
    ]
    assert found["needless"] == ["2025/thailand"]
    assert renders.rerendered(before, after)["needless"] == ["2025/regional", "2025/thailand"]
    assert renders.rerendered(before, before)["rendered"] == []


def test_findings_of_each_kind_of_brief() -> None:
    assert str(renders.findings_of("2025/regional")) == "2025/regional.yaml"
    assert str(renders.findings_of("survey/officer_survey/2025/officer_survey")) == (
        "survey/officer_survey/2025.yaml"
    )


def workflow_part(make: float, noop: float, needless: list[str], wave: float) -> dict:
    summary = iteration.summarise([fake_repeat(100.0, [noop], [make], wave)])
    summary["changes"]["model"]["briefs_rendered_needlessly"] = needless
    return {"noop_pairs_per_repeat": 1, "notebook": "snakemake --forceall", **summary}


def test_targets_of_the_loop_met_or_missed() -> None:
    wf = workflow_part(make=2.6, noop=2.0, needless=["2025/thailand"], wave=30.0)
    ivc = {"ratio_to_floor": 2.5, "peak_rss_mb": {"median": 900.0}}
    scale = {"sizes": {str(targets.TARGET_ROWS): {"stages": {"ingest_validate_clean": ivc}}}}
    rows = {r["id"]: r for r in targets.evaluate({"workflow": wf, "scale": scale})}
    assert rows["make_run_noop"]["status"] == "missed" and rows["make_run_noop"]["measured"] == 2.6
    assert (
        rows["make_run_to_noop"]["measured"] == 1.3 and rows["make_run_to_noop"]["status"] == "met"
    )
    assert rows["needless_renders_model"]["measured"] == 1
    assert rows["needless_renders_model"]["status"] == "missed"
    assert rows["needless_renders_estimate"]["status"] == "met"
    assert rows["new_wave_rerun"]["measured"] == 0.3 and rows["new_wave_rerun"]["status"] == "met"
    assert rows["notebook_new_wave"]["measured"] == 0.15  # 30 s against 200 s
    assert rows["ivc_1m_time"]["status"] == "met"  # 3x this turn
    assert rows["ivc_1m_time_later"]["missed_by"] == 0.5  # 2x later


def test_loop_table_has_a_row_per_change() -> None:
    wf = workflow_part(make=2.6, noop=2.0, needless=[], wave=30.0)
    table = report.workflow_table(wf)
    assert "2.60 s" in table[0] and "1.30 x" in table[0]
    rows = [line for line in table if line.startswith("| ") and "Change" not in line]
    assert len(rows) == len(iteration.CHANGES)
    assert rows[-1].startswith("| A new wave file") and "| 0.30 |" in rows[-1]


def test_carry_keeps_skipped_parts_from_the_earlier_run_and_says_so() -> None:
    previous = {
        "machine": {"git_commit": "abc"},
        "scale": {"sizes": {"10": {}}},
        "slurm": {"skipped": "no SLURM here"},
        "training_coverage": {"rows": [], "carried_over": "not rerun: measured at commit old"},
        "workflow": {"cold_run_s": {"median": 1.0}},
    }
    now = {
        "machine": {"git_commit": "def"},
        "scale": {"skipped": "not requested (--skip)", "sizes": {}},
        "slurm": {"skipped": "not requested (--skip)"},
        "workflow": {"skipped": "not requested (--skip)"},
        "render": {"briefs": {}},
    }
    out = run.carry_over(now, previous)
    assert out["scale"]["sizes"] == {"10": {}}
    assert "commit abc" in out["scale"]["carried_over"]
    assert out["training_coverage"]["carried_over"] == "not rerun: measured at commit old"
    assert out["slurm"] == now["slurm"]  # skipped then too: nothing to carry
    assert out["workflow"] == now["workflow"]  # the loop's ratios are never mixed across runs
    assert out["render"] == {"briefs": {}}  # measured now: kept
    assert report.carried(out["scale"])[0].startswith("*Carried over: not rerun")
    assert run.carry_over(now, None) is now


def test_new_wave_file_names_its_own_wave(tmp_path: Path) -> None:
    """Validation refuses a file whose `wave` column names another wave (a copied file)."""
    pyreadstat = pytest.importorskip("pyreadstat")
    workflow.add_wave(tmp_path)
    frame, _meta = pyreadstat.read_sav(str(tmp_path / workflow.SURVEY_DIR / workflow.NEW_WAVE))
    assert set(frame["wave"]) == {int(Path(workflow.NEW_WAVE).stem)}
    assert len(frame) > 1000 and frame["respondent_id"].is_unique


def test_a_timed_run_counts_the_cpu_of_its_children(tmp_path: Path) -> None:
    """A run's CPU seconds include the processes it started (Snakemake's jobs)."""
    import sys

    from benchmarks.workflow import timed

    spin = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.3: pass"
    child = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {spin!r}])"
    run = timed([sys.executable, "-c", child], tmp_path)
    assert run.cpu_seconds >= 0.25
    assert run.seconds >= 0.25
