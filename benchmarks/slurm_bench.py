"""SLURM overhead per workflow job, before and after grouping (the `slurm` part of `make bench`).

On a one-node cluster started from ../shared/tools/slurm-local.sh (benchmarks.slurm_cluster),
one wave of the officer survey, no country briefs (the targets tests/test_slurm.py runs), is
run three ways, each from a fresh copy of the project, `repeats` rounds interleaved:

- ``local``: ``snakemake --cores N`` on this machine (the cluster idle);
- ``ungrouped``: through a copy of workflow/profiles/slurm without ``groups`` and
  ``group-components``, so each cluster job is one SLURM job;
- ``grouped``: through workflow/profiles/slurm as it is.

Each run reports its wall time, the workflow's jobs (Snakemake's "Job stats" total) and the
SLURM jobs submitted (the plugin's "submitted with SLURM jobid" lines); the overhead per
workflow job is (median cluster run - median local run) / workflow jobs. Minutes per run: the
full `make bench` does 3 rounds (about 25 minutes on 2 cores), `--repeats 1` one.
Where the cluster cannot run (not root, SLURM/munge or the plugins missing: `make venv-slurm`)
or a run fails, the part records why and "not measured" instead of failing the suite.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from benchmarks.machine import core_count, git_commit
from benchmarks.slurm_cluster import (
    PROFILE,
    ClusterDidNotStart,
    keep_one_wave,
    local_cluster,
    slurm_missing,
)
from benchmarks.workflow import WorkflowFailed, copy_project, snakemake_env

ROOT = Path(__file__).resolve().parents[1]
NOT_MEASURED = "not measured"
GROUPING_KEYS = ("groups", "group-components")
JOB_STATS_TOTAL = re.compile(r"^total\s+(\d+)\s*$", re.MULTILINE)
SLURM_SUBMITTED = re.compile(r"submitted with SLURM jobid (\d+)")
RUNS = ("local", "ungrouped", "grouped")
PACKAGES = (
    "snakemake",
    "snakemake-executor-plugin-slurm",
    "snakemake-executor-plugin-slurm-jobstep",
)


def ungrouped_profile(profile: Path, dest: Path) -> Path:
    """A copy of the profile folder at `dest` with its job groups removed."""
    shutil.copytree(profile, dest)
    config = yaml.safe_load((profile / "config.yaml").read_text(encoding="utf-8"))
    for key in GROUPING_KEYS:
        config.pop(key, None)
    (dest / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return dest


def workflow_jobs(output: str) -> int | None:
    """The total of Snakemake's first "Job stats" table (every job the run planned)."""
    found = JOB_STATS_TOTAL.search(output)
    return int(found.group(1)) if found else None


def slurm_jobs(output: str) -> int:
    """How many distinct SLURM jobs the executor plugin submitted."""
    return len(set(SLURM_SUBMITTED.findall(output)))


def timed_run(copy: Path, extra: list[str], env: dict[str, str]) -> dict[str, Any]:
    """One ``snakemake --cores N`` in `copy`: wall seconds and job counts; WorkflowFailed if
    it exits non-zero. No pseudonym key in the environment (the example key file is used)."""
    run_env = {**snakemake_env(), **env}
    run_env.pop("WPS_PSEUDONYM_KEY", None)
    cmd = [sys.executable, "-m", "snakemake", "--cores", str(core_count()), *extra]
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=copy, capture_output=True, text=True, env=run_env)
    seconds = time.perf_counter() - start
    output = proc.stdout + "\n" + proc.stderr
    if proc.returncode != 0:
        raise WorkflowFailed(f"{' '.join(cmd)} failed in {copy}:\n{output[-3000:]}")
    return {
        "seconds": round(seconds, 1),
        "workflow_jobs": workflow_jobs(output),
        "slurm_jobs": slurm_jobs(output),
        # others' work on a shared machine shows here (1-minute load, before and after)
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def overhead_per_job(run: dict[str, Any], local: dict[str, Any]) -> float | None:
    """(cluster wall time - local wall time) / workflow jobs, in seconds (medians)."""
    if not run.get("workflow_jobs"):
        return None
    return round((run["seconds"] - local["seconds"]) / run["workflow_jobs"], 2)


def combine(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """One kind of run over its repetitions: median seconds with every run's seconds, job
    counts (the same each time) and each run's load averages."""
    return {
        "seconds": round(statistics.median(s["seconds"] for s in samples), 1),
        "runs_s": [s["seconds"] for s in samples],
        "workflow_jobs": samples[0]["workflow_jobs"],
        "slurm_jobs": samples[0]["slurm_jobs"],
        "load_average": [s.get("load_average") for s in samples],
    }


def summarise(samples: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """{run kind: combined figures}, the cluster runs with their overhead per workflow job."""
    runs = {name: combine(samples[name]) for name in RUNS}
    for name in RUNS[1:]:
        runs[name]["overhead_per_job_s"] = overhead_per_job(runs[name], runs["local"])
    return runs


def fresh_copy(work: Path, name: str) -> Path:
    """A copy of the project trimmed to the one wave, at work/name."""
    return keep_one_wave(copy_project(ROOT, work / name))


def measure(work: Path, repeats: int, log: Callable[[str], None]) -> dict[str, Any]:
    """`repeats` rounds of the three runs in `work`, interleaved (so that others' load on a
    shared machine falls on all three alike), the cluster idle during the local run."""
    extra = {
        "local": [],
        "ungrouped": ["--profile", str(ungrouped_profile(ROOT / PROFILE, work / "ungrouped"))],
        "grouped": ["--profile", str(ROOT / PROFILE)],
    }
    samples: dict[str, list[dict[str, Any]]] = {name: [] for name in RUNS}
    with local_cluster(work / "slurm-local") as cluster:
        for round_no in range(1, repeats + 1):
            for name in RUNS:
                log(f"slurm: {name} run {round_no}/{repeats} (one wave)")
                copy = fresh_copy(work, f"{name}-{round_no}")
                samples[name].append(timed_run(copy, extra[name], cluster.env))
                shutil.rmtree(copy, ignore_errors=True)
    return {"runs": summarise(samples), "left_running_after_stop": cluster.left_running}


def versions() -> dict[str, str | None]:
    """Versions of Snakemake and the SLURM plugins measured."""
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def bench_slurm(repeats: int, log: Callable[[str], None]) -> dict[str, Any]:
    """The `slurm` part of results.json: the three runs, or why they were not measured."""
    reason = slurm_missing()
    if reason:
        log(f"slurm: not measured ({reason})")
        return {"skipped": reason, "status": NOT_MEASURED}
    work = Path(tempfile.mkdtemp(prefix="wps-slurm-bench-"))
    work.chmod(0o755)  # munged refuses a socket in a folder others cannot traverse
    try:
        measured = measure(work, repeats, log)
    except (WorkflowFailed, ClusterDidNotStart) as failed:
        log(f"slurm: not measured ({failed})")
        return {"skipped": f"failed: {str(failed)[-1500:]}", "status": NOT_MEASURED}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        **measured,
        "status": "measured",
        "repeats": repeats,
        "cores": core_count(),
        "targets": "one wave of officer_survey (2025), no country briefs",
        "commit": git_commit(ROOT),
        "versions": versions(),
    }


def minutes(seconds: float) -> str:
    """83.4 -> '1:23'."""
    whole = round(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


def repeats_text(repeats: int) -> str:
    """How the figures were summarised, as the table's note says it."""
    if repeats == 1:
        return "One run each (a single repetition, not a median)"
    return f"Median of {repeats} runs each (every run in results.json; rounds interleaved)"


def slurm_table(part: dict[str, Any]) -> list[str]:
    """The results.md section: one row per run, then how it was measured."""
    if part.get("status") == NOT_MEASURED:
        return [f"Not measured: {part['skipped']}"]
    if "skipped" in part:
        return [f"Skipped ({part['skipped']})."]
    labels = {
        "local": "local (`snakemake --cores N`, no cluster)",
        "ungrouped": "SLURM profile, groups removed",
        "grouped": "SLURM profile as it is (job groups)",
    }
    out = [
        f"{repeats_text(part['repeats'])}, {part['cores']} cores, one-node "
        f"cluster (slurm-local.sh) on this machine; {part['targets']}; commit "
        f"{part.get('commit') or 'unknown'}. Overhead per workflow job = (cluster median - local "
        "median) / workflow jobs.",
        "",
        "| Run | Wall time (m:ss) | Runs (s) | Workflow jobs | SLURM jobs | "
        "Overhead per workflow job (s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    if part.get("note"):
        out[0] += f" {part['note']}"
    for name in RUNS:
        run = part["runs"][name]
        overhead = run.get("overhead_per_job_s")
        out.append(
            f"| {labels[name]} | {minutes(run['seconds'])} | "
            f"{', '.join(f'{x:.0f}' for x in run.get('runs_s', [run['seconds']]))} | "
            f"{run['workflow_jobs']} | "
            f"{run['slurm_jobs']} | {'-' if overhead is None else f'{overhead:.1f}'} |"
        )
    return out
