"""kill -9 at several moments of one run, each time resumed as a user does: nothing corrupt.

Issue 14, attack 3: after kills at random moments and resumes, a figure was left 0 bytes with its
PNG and alt text missing, `snakemake -n` had nothing to do and `wps audit` said OK. Here one run
is killed (SIGKILL to its whole process group, and to any process of its session that left the
group, as a power cut would) at five moments chosen by what has appeared on disk, from a wave
being prepared to the report. After each kill it is resumed exactly as the README says: `make
unlock`, then `make run` (the Makefile's own recipe: flock, `--rerun-incomplete --keep-going`,
the sweep of temporary rows, the report). The end must be byte-identical to the uninterrupted
run of the session, with the same set of files, nothing left to do and `wps audit` clean. Then
the issue's own damage (an empty SVG, its PNG and alt text gone) must be caught by the audit and
redone by `make run`. What each kill left (half-written files, stray processes) is in kills.json
beside the killed copy, for a reader of a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest
from workflow_run import (
    RUN_TIMEOUT_S,
    PlannedJob,
    WorkflowRun,
    copy_project,
    copy_run,
    dry_run_jobs,
    run_python,
    snakemake_executable,
    tree_hashes,
    workflow_env,
)

from analysis.atomic import is_partial

REPO = Path(__file__).resolve().parents[1]
NEED_MAKE = pytest.mark.skipif(
    shutil.which("make") is None or shutil.which("flock") is None,
    reason="`make run` needs make and flock (util-linux)",
)
WORKFLOW = [
    pytest.mark.workflow,
    pytest.mark.skipif(
        not snakemake_executable().is_file(),
        reason=f"snakemake not installed beside {snakemake_executable().parent}",
    ),
    NEED_MAKE,
]


def workflow(test):
    """Mark a test that runs the whole workflow."""
    for mark in WORKFLOW:
        test = mark(test)
    return test


# The records of the run itself, the only files allowed to differ from the uninterrupted run:
# job records hold each job's start and end times; the RO-Crate holds those times as its
# actions' startTime/endTime; Snakemake's report holds its runtimes and timeline (only
# `make run` makes it, so it is checked for being whole instead). Logs are NOT exempt.
RUN_RECORDS = ("provenance/jobs/", "provenance/ro-crate-metadata.json")
REPORT = "provenance/report.html"
POLL_S = 0.05
# The figure: after the kills it was an empty SVG without its PNG and alt text.
FIGURE = "models/officer_survey/2025/stay_logit"
# An output emptied by hand, every other file of its job intact: `make run` must make it again.
EMPTIED = "tables/officer_survey/2025/estimates.csv"


def make(target: str) -> list[str]:
    """`make <target>` as a user types it, with the venv of the tests (STAMP empty: no install)."""
    return ["make", "--no-print-directory", target, "STAMP=", f"BIN={Path(sys.executable).parent}"]


def run_make(root: Path, target: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        make(target),
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        tail = (done.stdout + "\n" + done.stderr)[-6000:]
        raise AssertionError(f"`make {target}` in {root} exited {done.returncode}:\n{tail}")
    return done


# ---- the moments of a run, told by what is on disk ---------------------------------------------


def wave_being_prepared(root: Path, _group: int) -> bool:
    """A wave's one job (read, validate, clean) has started: its log is open, its cleaned wave
    not written yet."""
    results = root / "results"
    for log in (results / "logs" / "prepare_wave").rglob("*.log"):
        wave = log.relative_to(results / "logs" / "prepare_wave").with_suffix("")
        if not (results / "clean" / wave.with_suffix(".csv")).exists():
            return True
    return False


def figure_half_saved(root: Path, _group: int) -> bool:
    """A figure of a model or a brief is being saved: its alt text is written (first), its PNG
    or SVG not yet."""
    for folder in ("models", "figures"):
        for alt in (root / "results" / folder).rglob("*.alt.txt"):
            base = alt.name.removesuffix(".alt.txt")
            if not all(alt.with_name(base + s).is_file() for s in (".png", ".svg")):
                return True
    return False


def brief_being_rendered(root: Path, _group: int) -> bool:
    """A brief job has written its first format: it is copying the others in, and the other
    core is rendering another brief."""
    return any(p.is_file() for p in (root / "results" / "briefs").rglob("*"))


def manifest_being_written(root: Path, _group: int) -> bool:
    """The manifest job has started (Snakemake opened its log)."""
    return (root / "results" / "logs" / "write_manifest.log").exists()


def report_being_made(root: Path, group: int) -> bool:
    """The run's manifest is written and `make run` is making Snakemake's report."""
    manifest = root / "results" / "provenance" / "manifest.json"
    return manifest.is_file() and any("--report" in cmd for cmd in group_commands(group))


@dataclass(frozen=True)
class Moment:
    name: str
    reached: Callable[[Path, int], bool]


MOMENTS = (
    Moment("a wave being prepared", wave_being_prepared),
    Moment("a figure half saved", figure_half_saved),
    Moment("briefs being rendered", brief_being_rendered),
    Moment("the manifest being written", manifest_being_written),
    Moment("the report being made", report_being_made),
)


# ---- processes -----------------------------------------------------------------------------------


def _processes() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def group_commands(group: int) -> list[str]:
    """Command lines of the processes of a process group."""
    found = []
    for pid in _processes():
        try:
            if os.getpgid(pid) == group:
                found.append(
                    Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                )
        except (OSError, ProcessLookupError):
            continue
    return found


def session_processes(session: int) -> list[int]:
    """Processes of a session (the run's, started with start_new_session)."""
    found = []
    for pid in _processes():
        try:
            if os.getsid(pid) == session:
                found.append(pid)
        except OSError:
            continue
    return found


def power_cut(started: subprocess.Popen) -> list[int]:
    """SIGKILL the run's process group, then any process of its session that left the group
    (a job in a group of its own), as a power cut would; returns the pids of the latter."""
    os.killpg(started.pid, signal.SIGKILL)
    started.wait()
    strays = []
    for pid in session_processes(started.pid):
        try:
            if os.getpgid(pid) == started.pid:
                continue  # killed already (a zombie not yet reaped)
            os.kill(pid, signal.SIGKILL)
            strays.append(pid)
        except ProcessLookupError:
            continue
    return strays


# ---- one run, killed at every moment and resumed ---------------------------------------------


@dataclass
class Kill:
    moment: str
    strays: list[int]  # processes outside the group that had to be killed too
    half_written: list[str]  # hidden temporary files of atomic writes left by the kill


@dataclass
class KilledRun:
    root: Path
    kills: list[Kill]

    @property
    def results(self) -> Path:
        return self.root / "results"


def half_written_files(results: Path) -> list[str]:
    return sorted(p.relative_to(results).as_posix() for p in results.rglob("*") if is_partial(p))


def run_until(root: Path, env: dict[str, str], moment: Moment) -> Kill:
    """`make run` until `moment` is seen on disk, then a power cut; `make unlock` after it."""
    started = subprocess.Popen(
        make("run"),
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while not moment.reached(root, started.pid):
        if started.poll() is not None or time.monotonic() > deadline:
            if started.poll() is None:
                power_cut(started)
            raise AssertionError(f"the run ended before {moment.name} (exit {started.returncode})")
        time.sleep(POLL_S)
    strays = power_cut(started)
    kill = Kill(moment.name, strays, half_written_files(root / "results"))
    run_make(root, "unlock", env)  # the README: after a hard kill, `make unlock`, then `make run`
    return kill


@pytest.fixture(scope="module")
def killed_run(tmp_path_factory: pytest.TempPathFactory, project_snapshot: Path) -> KilledRun:
    root = copy_project(tmp_path_factory.mktemp("wps-killed") / "project", project_snapshot)
    env = workflow_env()
    kills = [run_until(root, env, moment) for moment in MOMENTS]
    (root.parent / "kills.json").write_text(json.dumps([asdict(k) for k in kills], indent=1))
    run_make(root, "run", env)
    return KilledRun(root, kills)


@workflow
def test_every_kill_came_at_its_moment(killed_run: KilledRun) -> None:
    """Each kill hit a run in progress (none finished first), in the order of a run."""
    assert [k.moment for k in killed_run.kills] == [m.name for m in MOMENTS]


@workflow
def test_resumed_run_is_byte_identical_to_an_uninterrupted_one(
    workflow_run: WorkflowRun, killed_run: KilledRun
) -> None:
    assert_same_outputs(workflow_run.results, killed_run.results)


def assert_same_outputs(whole_run: Path, other_run: Path) -> None:
    """The same files under results/ as the uninterrupted run, byte for byte but for the
    records of the run itself, plus Snakemake's report (only `make run` makes it)."""
    whole, other = tree_hashes(whole_run), tree_hashes(other_run)
    assert REPORT in other and REPORT not in whole
    del other[REPORT]
    missing, extra = sorted(set(whole) - set(other)), sorted(set(other) - set(whole))
    assert not missing and not extra, f"missing: {missing}; extra: {extra}"
    compared = [p for p in whole if not p.startswith(RUN_RECORDS)]
    assert len(compared) > 100
    differ = [p for p in compared if whole[p] != other[p]]
    assert not differ, f"outputs that differ from the uninterrupted run: {differ}"


@workflow
def test_resumed_run_has_nothing_left_to_do(killed_run: KilledRun) -> None:
    planned, output = dry_run_jobs(killed_run.root)
    assert not planned, f"a resumed run still plans jobs: {planned}\n{output[-3000:]}"


@workflow
def test_audit_of_the_resumed_run_is_clean(
    workflow_run: WorkflowRun, killed_run: KilledRun
) -> None:
    done = audit(killed_run.root)
    assert done.returncode == 0, f"wps audit failed after the kills:\n{done.stdout}{done.stderr}"
    assert done.stdout == audit(workflow_run.root).stdout  # same outputs, same content_hash


@workflow
def test_the_report_is_whole_and_of_the_last_manifest(killed_run: KilledRun) -> None:
    report = killed_run.results / REPORT
    manifest = killed_run.results / "provenance" / "manifest.json"
    assert report.read_bytes().rstrip().endswith(b"</html>"), "the report is cut short"
    assert report.stat().st_mtime >= manifest.stat().st_mtime


def audit(root: Path) -> subprocess.CompletedProcess[str]:
    return run_python(root, "-m", "analysis", "audit", "--results", "results")


# ---- the damage: an empty SVG, its PNG and alt text gone --------------------------------


@dataclass
class Damaged:
    root: Path
    audit: subprocess.CompletedProcess[str]
    planned: list[PlannedJob]


@pytest.fixture(scope="module")
def damaged_then_rerun(killed_run: KilledRun, tmp_path_factory: pytest.TempPathFactory) -> Damaged:
    root = copy_run(killed_run.root, tmp_path_factory.mktemp("wps-damaged") / "project")
    figure = root / "results" / FIGURE
    figure.with_name(figure.name + ".svg").write_bytes(b"")
    figure.with_name(figure.name + ".png").unlink()
    figure.with_name(figure.name + ".alt.txt").unlink()
    (root / "results" / EMPTIED).write_bytes(b"")  # only emptied: nothing else of its job gone
    found = audit(root)
    planned, _ = dry_run_jobs(root)
    run_make(root, "run", workflow_env())
    return Damaged(root, found, planned)


@workflow
def test_an_emptied_figure_without_png_and_alt_text_is_caught(damaged_then_rerun: Damaged):
    found = damaged_then_rerun.audit
    assert found.returncode == 1, found.stdout
    lines = found.stdout.splitlines()
    assert any(line.startswith(f"EMPTY results/{FIGURE}.svg ") for line in lines), lines
    for suffix in (".png", ".alt.txt"):
        assert any(line.startswith(f"MISSING results/{FIGURE}{suffix} ") for line in lines)
    assert any(line.startswith(f"EMPTY results/{EMPTIED} ") for line in lines), lines


@workflow
def test_the_damaged_figure_is_redone_by_make_run(
    workflow_run: WorkflowRun, damaged_then_rerun: Damaged
) -> None:
    fits = [
        j.wildcard_dict
        for j in damaged_then_rerun.planned
        if j.rule == "fit_model" and j.wildcard_dict.get("model") == "stay_logit"
    ]
    assert {"dataset": "officer_survey", "wave": "2025", "model": "stay_logit"} in fits
    root = damaged_then_rerun.root
    assert_same_outputs(workflow_run.results, root / "results")
    done = audit(root)
    assert done.returncode == 0, done.stdout
    report = root / "results" / REPORT
    assert report.stat().st_mtime >= (root / "results/provenance/manifest.json").stat().st_mtime


# ---- the report: Snakemake writes it in place; `make run` must never take a half one for done ----

# Stands in for snakemake: for `--report PATH` it writes the start of a report to PATH, then its
# whole process group, make included, is killed (SIGKILL, as by a power cut: make gets no chance
# to delete the target); with FAKE_REPORT_WHOLE set it writes the report whole.
FAKE_SNAKEMAKE = """#!/usr/bin/env bash
out=""
while [ $# -gt 0 ]; do [ "$1" = --report ] && out="$2"; shift; done
printf '<html><body>the start of a report' > "$out"
[ -n "${FAKE_REPORT_WHOLE:-}" ] && { printf '</body></html>\\n' >> "$out"; exit 0; }
kill -9 0
"""


@NEED_MAKE
def test_a_report_killed_while_written_is_never_taken_for_done(tmp_path: Path) -> None:
    shutil.copy2(REPO / "Makefile", tmp_path / "Makefile")
    fake = tmp_path / "fake-bin"
    fake.mkdir()
    (fake / "snakemake").write_text(FAKE_SNAKEMAKE, encoding="utf-8")
    (fake / "snakemake").chmod(0o755)
    manifest = tmp_path / "results" / "provenance" / "manifest.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_text("{}\n", encoding="utf-8")
    report = manifest.with_name("report.html")

    def make_report(**env: str) -> int:
        target = report.relative_to(tmp_path).as_posix()
        return subprocess.run(
            ["make", "--no-print-directory", f"BIN={fake}", "STAMP=", target],
            cwd=tmp_path,
            env={**os.environ, **env},
            capture_output=True,
            check=False,
            start_new_session=True,  # the group the fake kills is make's, not the tests'
        ).returncode

    assert make_report() != 0
    assert not report.exists(), f"a killed report left {report.read_bytes()!r}"
    assert make_report(FAKE_REPORT_WHOLE="1") == 0
    whole = report.read_bytes()
    assert whole.rstrip().endswith(b"</html>")
    earlier = manifest.stat().st_mtime - 10
    os.utime(report, (earlier, earlier))  # a new run's manifest: the report is out of date
    assert make_report() != 0
    assert report.read_bytes() == whole  # the previous whole report, not a half one
    assert report.stat().st_mtime == earlier  # so still out of date: the next make run redoes it
    assert make_report(FAKE_REPORT_WHOLE="1") == 0
    assert report.stat().st_mtime > manifest.stat().st_mtime


# ---- a job behind a checkpoint, killed after its first output: redone on resume ----------------

# The shape of the real workflow: `all` reads a checkpoint, and a job writes its brief, then
# (here after a pause) its record. Killed in the pause, the job must be redone by the resume.
CHECKPOINT_SNAKEFILE = """
checkpoint plan:
    input: "data.txt"
    output: "plan.txt"
    shell: "cp {input} {output}"

def targets(wildcards):
    checkpoints.plan.get()
    return ["brief.txt"]

rule all:
    default_target: True
    input: targets, manifest="manifest.txt"

rule manifest:
    input: targets
    output: "manifest.txt"
    shell: "cat {input} > {output}"

rule brief:
    input: "plan.txt"
    output: brief="brief.txt", record="record.json"
    shell: "echo whole > {output.brief}; sleep $(cat pause); echo done > {output.record}"
"""


@pytest.mark.skipif(not snakemake_executable().is_file(), reason="snakemake not installed")
def test_a_job_behind_a_checkpoint_killed_half_done_is_redone(tmp_path: Path) -> None:
    """Snakemake's --rerun-incomplete alone leaves it (its record never made, the audit's NOT
    MADE forever); analysis.run.resume, which `make run` calls first, deletes its outputs."""
    (tmp_path / "Snakefile").write_text(CHECKPOINT_SNAKEFILE, encoding="utf-8")
    (tmp_path / "data.txt").write_text("a\n", encoding="utf-8")
    (tmp_path / "pause").write_text("60\n", encoding="utf-8")
    env = {**workflow_env(), "PYTHONPATH": str(REPO)}
    snakemake = [str(snakemake_executable()), "--cores", "1"]
    started = subprocess.Popen(
        snakemake, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not (tmp_path / "brief.txt").exists():
        assert started.poll() is None and time.monotonic() < deadline, "brief never started"
        time.sleep(POLL_S)
    power_cut(started)
    assert not (tmp_path / "record.json").exists()

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )

    run(*snakemake, "--unlock")
    (tmp_path / "pause").write_text("0\n", encoding="utf-8")
    swept = run(sys.executable, "-m", "analysis.run.resume")
    assert swept.returncode == 0, swept.stderr
    assert "brief.txt" in swept.stderr and not (tmp_path / "brief.txt").exists()
    resumed = run(*snakemake, "--rerun-incomplete")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert (tmp_path / "record.json").read_text(encoding="utf-8") == "done\n"
    assert not [p for p in (tmp_path / ".snakemake" / "incomplete").rglob("*") if p.is_file()]


def test_a_folder_output_left_half_done_is_deleted_with_what_is_in_it(tmp_path: Path) -> None:
    """A wave's findings are one folder (a `directory()` output): a job killed inside it leaves
    some briefs' findings written and others not; the sweep deletes the folder, so it is redone
    whole, and leaves the files of finished jobs alone."""
    import base64

    from analysis.run.resume import remove_incomplete_outputs

    folder = tmp_path / "results" / "findings" / "2025"
    folder.mkdir(parents=True)
    (folder / "regional.yaml").write_text("half\n", encoding="utf-8")
    done = tmp_path / "results" / "findings" / "2023"
    done.mkdir()
    (done / "regional.yaml").write_text("whole\n", encoding="utf-8")
    marks = tmp_path / ".snakemake" / "incomplete"
    marks.mkdir(parents=True)
    name = base64.urlsafe_b64encode(b"results/findings/2025").decode("ascii")
    (marks / name).write_text("", encoding="utf-8")
    removed = remove_incomplete_outputs(tmp_path)
    assert removed == [tmp_path / "results" / "findings" / "2025"]
    assert not folder.exists()
    assert (done / "regional.yaml").read_text(encoding="utf-8") == "whole\n"
    assert not any(marks.iterdir())


def test_an_output_emptied_by_hand_gets_its_job_run_again(tmp_path: Path) -> None:
    """`wps audit` names an emptied output and says to rerun, but Snakemake takes a file that
    exists for done, and reruns a job only when an output something needs is missing: the
    resume step deletes every output of a job one of whose outputs is not the size the job
    recorded (a folder output as a whole), and leaves other jobs' outputs, missing files and
    files outside results/ alone."""
    from analysis.run.resume import remove_damaged_outputs

    results = tmp_path / "results"
    (results / "tables").mkdir(parents=True)
    emptied, parquet = results / "tables" / "a.csv", results / "tables" / "a.parquet"
    other = results / "tables" / "b.csv"
    for path, text in ((emptied, ""), (parquet, "pq"), (other, "x,y\n")):
        path.write_text(text, encoding="utf-8")
    folder = results / "findings" / "2025"
    folder.mkdir(parents=True)
    (folder / ".snakemake_timestamp").write_text("", encoding="utf-8")
    (folder / "regional.yaml").write_text("", encoding="utf-8")  # cut short
    outside = tmp_path / "data.csv"
    outside.write_text("", encoding="utf-8")
    jobs = results / "provenance" / "jobs"
    records = {
        "estimate.json": {"results/tables/a.csv": 4, "results/tables/a.parquet": 2, "gone": 1},
        "other.json": {"results/tables/b.csv": 4, "data.csv": 7},
        "findings.json": {"results/findings/2025/regional.yaml": 30},
    }
    for name, sizes in records.items():
        outputs = [{"path": path, "size": size} for path, size in sizes.items()]
        (jobs / name).parent.mkdir(parents=True, exist_ok=True)
        (jobs / name).write_text(json.dumps({"outputs": outputs}), encoding="utf-8")
    (jobs / "cut.json").write_text('{"outp', encoding="utf-8")
    assert remove_damaged_outputs(tmp_path) == sorted([emptied, parquet, folder])
    assert not emptied.exists() and not parquet.exists() and not folder.exists()
    assert other.read_text(encoding="utf-8") == "x,y\n" and outside.exists()
    locks = tmp_path / ".snakemake" / "locks"
    locks.mkdir(parents=True)
    (locks / "0.input.lock").write_text("", encoding="utf-8")
    other.write_text("", encoding="utf-8")
    assert remove_damaged_outputs(tmp_path) == []  # a run may be writing it
