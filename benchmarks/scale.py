"""Scale benchmark: each stage of one survey size in its own process, next to the floor."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.scale_data import write_scaled_sav
from benchmarks.stage import STAGES
from benchmarks.stats import summary

#: The stages the "ingest-validate-clean within 3x the floor" target adds up: one, as the
#: workflow's prepare_wave job reads, validates and cleans a wave in one process.
IVC = ("prepare",)


class StageFailed(RuntimeError):
    """A stage subprocess exited non-zero; the message carries its stderr tail."""


def run_stage(stage: str, sav: Path, work: Path, root: Path) -> dict[str, Any]:
    """Run one stage in a fresh interpreter; its JSON line as a dict."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.stage", stage, "--sav", str(sav), "--work", str(work)]
        + ["--root", str(root)],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise StageFailed(f"stage {stage} on {sav} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_size(rows: int, work_dir: Path, root: Path, repeats: int) -> dict[str, Any]:
    """Time and peak memory of every stage for one size; medians over ``repeats`` passes."""
    sav = write_scaled_sav(rows, work_dir / f"officer_survey_{rows}.sav")
    seconds: dict[str, list[float]] = {s: [] for s in STAGES}
    peaks: dict[str, list[float]] = {s: [] for s in STAGES}
    cpu: dict[str, list[float]] = {s: [] for s in STAGES}
    ivc_seconds: list[float] = []
    ivc_cpu: list[float] = []
    ivc_peaks: list[float] = []
    for _ in range(repeats):
        out = {s: run_stage(s, sav, work_dir / f"stages_{rows}", root) for s in STAGES}
        for s, rec in out.items():
            seconds[s].append(rec["seconds"])
            peaks[s].append(rec["peak_rss_mb"])
            cpu[s].append(rec["cpu_seconds"])
        ivc_seconds.append(sum(out[s]["seconds"] for s in IVC))
        ivc_cpu.append(sum(out[s]["cpu_seconds"] for s in IVC))
        ivc_peaks.append(max(out[s]["peak_rss_mb"] for s in IVC))
    floor = summary(seconds["floor"])["median"]
    floor_cpu = summary(cpu["floor"])["median"]
    stages: dict[str, Any] = {}
    for s in STAGES:
        time_s = summary(seconds[s])
        stages[s] = {
            "seconds": time_s,
            "peak_rss_mb": summary(peaks[s], digits=1),
            "ratio_to_floor": _ratio(time_s["median"], floor),
            # the work, however many cores did it (a large wave's prepare job has two)
            "cpu_seconds": summary(cpu[s]),
            "cpu_ratio_to_floor": _ratio(summary(cpu[s])["median"], floor_cpu),
        }
    ivc_time = summary(ivc_seconds)
    stages["ingest_validate_clean"] = {
        "seconds": ivc_time,
        "peak_rss_mb": summary(ivc_peaks, digits=1),
        "ratio_to_floor": _ratio(ivc_time["median"], floor),
        "cpu_seconds": summary(ivc_cpu),
        "cpu_ratio_to_floor": _ratio(summary(ivc_cpu)["median"], floor_cpu),
    }
    return {"rows": rows, "sav_mb": round(sav.stat().st_size / 1024**2, 2), "stages": stages}


def _ratio(value: float, floor: float) -> float | None:
    return round(value / floor, 2) if floor > 0 else None


def bench_scale(
    sizes: Sequence[int], work_dir: Path, root: Path, repeats: int, log=print
) -> dict[str, Any]:
    """The scale block of results.json: ``{"sizes": {"<rows>": ...}}``."""
    work_dir.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {}
    for rows in sizes:
        log(f"scale: {rows:,} rows")
        out[str(rows)] = bench_size(rows, work_dir, root, repeats)
    return {"repeats": repeats, "sizes": out}
