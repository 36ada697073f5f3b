"""Running the workflow in a copy of the project: the copy, timed runs, the new-wave change."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.edits import revert
from benchmarks.machine import core_count, cpu_seconds

#: Top-level folders never copied: outputs, caches, the environment, the benchmark's own work.
EXCLUDED = ("results", ".snakemake", ".venv", "benchmarks/work")
SURVEY_DIR = Path("data/raw/officer_survey")
SOURCE_WAVE = "2025.sav"
NEW_WAVE = "2026.sav"
#: A secret pseudonym key for the copy's runs: the public example key is refused for any file
#: but the bundled ones, and the new wave is a new file (as a user with their own wave sets one).
KEY_ENV = "WPS_PSEUDONYM_KEY"
BENCH_KEY = secrets.token_hex(32)
#: Snakemake's line for each job it ran. Its first "Job stats" table is no count: it is printed
#: before the build_findings checkpoints add the briefs' jobs.
FINISHED = re.compile(r"^Finished jobid: \d+ \(Rule: ([A-Za-z_][A-Za-z0-9_]*)\)", re.MULTILINE)


class WorkflowFailed(RuntimeError):
    """A snakemake run exited non-zero; the message carries its output tail."""


def project_files(root: Path) -> list[str]:
    """Tracked plus untracked-not-ignored files, minus outputs, caches and benchmark work."""
    listed: set[str] = set()
    for extra in ([], ["--others", "--exclude-standard"]):
        out = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", *extra],
            capture_output=True,
            text=True,
            check=True,
        )
        listed.update(p for p in out.stdout.split("\0") if p)
    return sorted(
        p
        for p in listed
        if not any(p == ex or p.startswith(ex + "/") for ex in EXCLUDED) and (root / p).is_file()
    )


def copy_project(root: Path, dest: Path) -> Path:
    """A fresh copy of the project's files at ``dest`` (removed first if present)."""
    if dest.exists():
        shutil.rmtree(dest)
    for rel in project_files(root):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)
    return dest


def snakemake_env(copy: Path | None = None) -> dict[str, str]:
    """The environment with this interpreter's bin folder first on PATH; with ``copy``, its
    ``analysis`` package first on the import path (as the editable install is for a user)."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    if copy is not None:
        env["PYTHONPATH"] = str(copy)
        env[KEY_ENV] = BENCH_KEY
    return env


@dataclass(frozen=True)
class Run:
    """One timed command: wall seconds, the jobs Snakemake ran (by rule), and the CPU seconds
    of Snakemake and every job it ran (user + system, all cores: the work, however packed)."""

    seconds: float
    jobs: dict[str, int]
    cpu_seconds: float = 0.0

    @property
    def total(self) -> int:
        """Every job of the run (0 when there was nothing to do)."""
        return sum(self.jobs.values())


def job_stats(output: str) -> dict[str, int]:
    """Jobs Snakemake ran, per rule, from its "Finished jobid" lines ({} when none ran)."""
    return dict(sorted(Counter(FINISHED.findall(output)).items()))


def timed(cmd: list[str], copy: Path) -> Run:
    """Run ``cmd`` in ``copy``; its wall time and job stats. Raises WorkflowFailed."""
    before = cpu_seconds(own=False)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=copy, capture_output=True, text=True, env=snakemake_env(copy))
    seconds = time.perf_counter() - start
    cpu = cpu_seconds(own=False) - before
    if proc.returncode != 0:
        raise WorkflowFailed(f"{' '.join(cmd)} failed in {copy}:\n{proc.stderr[-4000:]}")
    return Run(seconds, job_stats(proc.stderr + proc.stdout), round(cpu, 2))


def snakemake(copy: Path, *extra: str) -> Run:
    """One ``snakemake --cores <nproc>`` in ``copy``."""
    return timed([sys.executable, "-m", "snakemake", "--cores", str(core_count()), *extra], copy)


def run_snakemake(copy: Path, *extra: str) -> float:
    """Seconds for one ``snakemake --cores <nproc>`` in ``copy``; raises WorkflowFailed."""
    return snakemake(copy, *extra).seconds


def make_run(copy: Path) -> Run:
    """One ``make run`` in ``copy`` (the project's own .venv linked in), as a user types it."""
    venv = copy / ".venv"
    if not venv.exists():
        venv.symlink_to(Path(sys.prefix), target_is_directory=True)
    return timed(["make", "--no-print-directory", "run", f"CORES={core_count()}"], copy)


def reset_copy(root: Path, copy: Path) -> None:
    """Outputs and Snakemake's state gone; raw data, plan and words as in the project."""
    for name in ("results", ".snakemake"):
        shutil.rmtree(copy / name, ignore_errors=True)
    (copy / SURVEY_DIR / NEW_WAVE).unlink(missing_ok=True)
    revert(root, copy)


def add_wave(copy: Path) -> None:
    """A new wave file: the 2025 survey's synthetic draw written as wave 2026 (its `wave`
    column says 2026: validation refuses a file whose column names another wave)."""
    from analysis.synth import officer_survey

    wave = officer_survey.generate_wave(int(Path(SOURCE_WAVE).stem))
    wave["wave"] = int(Path(NEW_WAVE).stem)
    officer_survey.write_wave(wave, copy / SURVEY_DIR / NEW_WAVE)


def bench_dry_run(root: Path, work_dir: Path, log=print) -> dict[str, Any]:
    """Smoke mode: a dry run (``-n``) in a fresh copy, proving the copy and the DAG build."""
    copy = copy_project(root, work_dir / "workflow-dry")
    log("workflow: dry run (smoke mode)")
    seconds = run_snakemake(copy, "-n", "--quiet")
    return {"skipped": "smoke mode: no workflow timings", "dry_run_s": round(seconds, 3)}
