"""Workflow timings in a copy of the project: cold run, no-op rerun, new wave, new model."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks.machine import core_count
from benchmarks.stats import summary

#: Top-level folders never copied: outputs, caches, the environment, the benchmark's own work.
EXCLUDED = ("results", ".snakemake", ".venv", "benchmarks/work")
SURVEY_DIR = Path("data/raw/officer_survey")
SOURCE_WAVE = "2025.sav"
NEW_WAVE = "2026.sav"
#: The model appended to the plan for the "one model added" rerun.
EXTRA_MODEL = {
    "id": "bench_gbv_cases_poisson",
    "title": "Gender-based-violence cases handled (Poisson; added by the benchmark)",
    "formula": "cases_gbv_12m ~ women + border_posting",
    "family": "poisson",
}


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


def snakemake_env() -> dict[str, str]:
    """The environment with this interpreter's bin folder first on PATH."""
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def run_snakemake(copy: Path, *extra: str) -> float:
    """Seconds for one ``snakemake --cores <nproc>`` in ``copy``; raises WorkflowFailed."""
    cmd = [sys.executable, "-m", "snakemake", "--cores", str(core_count()), *extra]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=copy, capture_output=True, text=True, env=snakemake_env())
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise WorkflowFailed(f"{' '.join(cmd)} failed in {copy}:\n{proc.stderr[-4000:]}")
    return seconds


def reset_copy(root: Path, copy: Path) -> None:
    """Outputs and Snakemake's state gone; raw data and plan as in the project."""
    for name in ("results", ".snakemake"):
        shutil.rmtree(copy / name, ignore_errors=True)
    (copy / SURVEY_DIR / NEW_WAVE).unlink(missing_ok=True)
    shutil.copy2(root / "config" / "plan.yaml", copy / "config" / "plan.yaml")


def add_wave(copy: Path) -> None:
    """A new wave file: the 2025 survey copied under the next year's name."""
    shutil.copy2(copy / SURVEY_DIR / SOURCE_WAVE, copy / SURVEY_DIR / NEW_WAVE)


def add_model(copy: Path) -> None:
    """Append :data:`EXTRA_MODEL` to the officer survey's models in the copy's plan."""
    path = copy / "config" / "plan.yaml"
    plan = yaml.safe_load(path.read_text(encoding="utf-8"))
    plan["datasets"]["officer_survey"].setdefault("models", []).append(dict(EXTRA_MODEL))
    path.write_text(yaml.safe_dump(plan, sort_keys=False, allow_unicode=True), encoding="utf-8")


def bench_workflow(root: Path, work_dir: Path, repeats: int, log=print) -> dict[str, Any]:
    """Median seconds of each scenario; each repeat starts from a cold copy.

    Per repeat: cold run, no-op rerun, rerun after a new wave file is added, then rerun after one
    model is added to the plan. The finished copy stays at ``work_dir/workflow`` for rendering.
    """
    copy = copy_project(root, work_dir / "workflow")
    runs: dict[str, list[float]] = {"cold": [], "noop": [], "new_model": [], "new_wave": []}
    for i in range(repeats):
        reset_copy(root, copy)
        log(f"workflow: repeat {i + 1}/{repeats}: cold run")
        runs["cold"].append(run_snakemake(copy))
        log("workflow: no-op rerun")
        runs["noop"].append(run_snakemake(copy))
        log("workflow: rerun after a new wave file is added")
        add_wave(copy)
        runs["new_wave"].append(run_snakemake(copy))
        log("workflow: rerun after a model is added to the plan")
        add_model(copy)
        runs["new_model"].append(run_snakemake(copy))
    ratios = [w / c for w, c in zip(runs["new_wave"], runs["cold"], strict=True)]
    return {
        "repeats": repeats,
        "cores_used": core_count(),
        "cold_run_s": summary(runs["cold"]),
        "noop_rerun_s": summary(runs["noop"]),
        "new_model_rerun_s": summary(runs["new_model"]),
        "new_wave_rerun_s": summary(runs["new_wave"]),
        "new_wave_to_cold_ratio": summary(ratios),
    }


def bench_dry_run(root: Path, work_dir: Path, log=print) -> dict[str, Any]:
    """Smoke mode: a dry run (``-n``) in a fresh copy, proving the copy and the DAG build."""
    copy = copy_project(root, work_dir / "workflow-dry")
    log("workflow: dry run (smoke mode)")
    seconds = run_snakemake(copy, "-n", "--quiet")
    return {"skipped": "smoke mode: no workflow timings", "dry_run_s": round(seconds, 3)}
