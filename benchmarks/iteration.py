"""The researcher's loop in a copy of the project, each change against a cold run and a notebook.

Per repeat: a cold ``snakemake`` run; one untimed ``make run`` (it builds the report, as the
user's last ``make run`` did); then, interleaved, the workflow's own no-op (``snakemake``) and
``make run`` with nothing changed. The finished copy is kept as a snapshot. Each change starts
from that snapshot (times kept, so Snakemake sees the state it left): one estimate, one model,
one sentence of a brief's words, a new wave file. For each: the rerun's time and jobs, the briefs
it rendered again (and which of them needlessly), and the notebook's cost for the same change:
the same analysis run end to end (``snakemake --forceall``: every job again, as a script that
recomputes everything would). "nothing" is the notebook's cost with no change at all.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.edits import EDITS, Edit
from benchmarks.machine import core_count
from benchmarks.renders import rerendered
from benchmarks.stats import summary
from benchmarks.workflow import (
    Run,
    add_wave,
    copy_project,
    make_run,
    reset_copy,
    snakemake,
)

#: Pairs of no-op runs (snakemake, make run) per repeat: seconds each, so a few are cheap.
NOOP_PAIRS = 3
NEW_WAVE = Edit("new_wave", "A new wave file (2026.sav)", Path("data/raw"), add_wave)
#: Every change timed, in order; "nothing" is the no-op (rerun and notebook with no change).
CHANGES: tuple[Edit, ...] = (
    Edit("nothing", "Nothing changed", Path("."), lambda _copy: None),
    *EDITS,
    NEW_WAVE,
)


def ratio(numerator: float | None, denominator: float | None, digits: int = 3) -> float | None:
    """``numerator / denominator`` rounded, or None when either is missing or the base is 0."""
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, digits)


def ratios(pairs: list[tuple[float | None, float | None]]) -> dict[str, Any] | None:
    """The summary of each pair's ratio (None when any ratio is missing)."""
    values = [ratio(a, b) for a, b in pairs]
    return None if any(v is None for v in values) else summary(values)


def restore(snapshot: Path, copy: Path) -> None:
    """The copy exactly as the snapshot (modification times kept; the .venv link as a link)."""
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(snapshot, copy, symlinks=True)


def noop_pairs(copy: Path, pairs: int, log: Callable[[str], None]) -> tuple[list, list]:
    """Seconds of the workflow's no-op and of ``make run`` with nothing changed, interleaved."""
    snake, make = [], []
    for i in range(pairs):
        log(f"workflow: no-op pair {i + 1}/{pairs} (snakemake, make run)")
        first = snakemake(copy)
        second = make_run(copy)
        if first.total or second.total:
            raise RuntimeError(
                f"the no-op ran jobs: snakemake {first.jobs}, make run {second.jobs}"
            )
        snake.append(first.seconds)
        make.append(second.seconds)
    return snake, make


def measure_change(
    change: Edit, copy: Path, snapshot: Path, notebook: bool, log: Callable[[str], None]
) -> dict[str, Any]:
    """One change from the snapshot: the rerun, the briefs it rendered, the notebook's run."""
    restore(snapshot, copy)
    change.apply(copy)
    log(f"workflow: rerun after: {change.what}")
    rerun = snakemake(copy)
    renders = rerendered(snapshot / "results", copy / "results", change.words_of)
    out: dict[str, Any] = {
        "rerun_s": rerun.seconds,
        "rerun_cpu_s": rerun.cpu_seconds,
        "jobs": rerun.total,
        "jobs_by_rule": rerun.jobs,
        **renders,
    }
    if notebook:
        log(f"workflow: notebook (snakemake --forceall) after: {change.what}")
        nb = snakemake(copy, "--forceall")
        out.update(notebook_s=nb.seconds, notebook_jobs=nb.total)
    return out


def one_repeat(
    root: Path, copy: Path, snapshot: Path, notebook: bool, log: Callable[[str], None]
) -> dict[str, Any]:
    """Every measurement of one repeat, from a cold copy."""
    reset_copy(root, copy)
    log("workflow: cold run")
    cold: Run = snakemake(copy)
    log("workflow: first make run (builds the report; not timed)")
    make_run(copy)
    snake, make = noop_pairs(copy, NOOP_PAIRS, log)
    shutil.rmtree(snapshot, ignore_errors=True)
    shutil.copytree(copy, snapshot, symlinks=True)
    changes = {c.id: measure_change(c, copy, snapshot, notebook, log) for c in CHANGES}
    return {"cold": cold, "noop": snake, "make_run": make, "changes": changes}


def summarise(repeats: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over repeats; every ratio computed within a repeat, then its median."""
    cold_s = [r["cold"].seconds for r in repeats]
    cold_cpu = [r["cold"].cpu_seconds for r in repeats]
    noop = [summary(r["noop"])["median"] for r in repeats]
    make = [summary(r["make_run"])["median"] for r in repeats]
    out: dict[str, Any] = {
        "cold_run_s": summary(cold_s),
        "cold_run_cpu_s": summary(cold_cpu),
        "cold_jobs": repeats[-1]["cold"].total,
        "noop_rerun_s": summary([s for r in repeats for s in r["noop"]]),
        "make_run_noop_s": summary([s for r in repeats for s in r["make_run"]]),
        "make_run_to_noop_ratio": ratios(list(zip(make, noop, strict=True))),
        "changes": {},
    }
    for change in CHANGES:
        per = [r["changes"][change.id] for r in repeats]
        last = per[-1]
        row: dict[str, Any] = {
            "what": change.what,
            "rerun_s": summary([p["rerun_s"] for p in per]),
            "to_cold_ratio": ratios([(p["rerun_s"], c) for p, c in zip(per, cold_s, strict=True)]),
            # the rerun's work against the cold run's, however well each kept the cores busy:
            # what the wall-clock ratio could reach with perfect packing and no fixed costs
            "cpu_to_cold_ratio": ratios(
                [(p["rerun_cpu_s"], c) for p, c in zip(per, cold_cpu, strict=True)]
            ),
            "jobs": last["jobs"],
            "jobs_to_cold_ratio": ratio(last["jobs"], out["cold_jobs"]),
            "jobs_by_rule": last["jobs_by_rule"],
            "briefs": last["briefs"],
            "briefs_rendered": last["rendered"],
            "briefs_rendered_needlessly": last["needless"],
        }
        if "notebook_s" in last:
            row["notebook_s"] = summary([p["notebook_s"] for p in per])
            row["notebook_jobs"] = last["notebook_jobs"]
            row["rerun_to_notebook_ratio"] = ratios([(p["rerun_s"], p["notebook_s"]) for p in per])
        out["changes"][change.id] = row
    out["new_wave_to_cold_ratio"] = out["changes"][NEW_WAVE.id]["to_cold_ratio"]
    return out


def bench_iteration(
    root: Path, work_dir: Path, repeats: int, log: Callable[[str], None] = print, notebook=True
) -> dict[str, Any]:
    """The workflow block of results.json. The last change's copy stays at
    ``work_dir/workflow`` (a finished run) for the rendering benchmark."""
    copy = copy_project(root, work_dir / "workflow")
    snapshot = work_dir / "workflow-snapshot"
    runs = []
    load_before = os.getloadavg()[0]
    for i in range(repeats):
        log(f"workflow: repeat {i + 1}/{repeats}")
        runs.append(one_repeat(root, copy, snapshot, notebook, log))
    shutil.rmtree(snapshot, ignore_errors=True)
    return {
        "repeats": repeats,
        "cores_used": core_count(),
        "noop_pairs_per_repeat": NOOP_PAIRS,
        "notebook": "snakemake --forceall" if notebook else "not requested (--skip notebook)",
        "load_avg_1m": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
        **summarise(runs),
    }
