"""results.json (sorted keys) and results.md (the targets table, then the details)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.slurm_bench import slurm_table
from benchmarks.targets import TARGET_CORES
from benchmarks.training_coverage import coverage_table


def write_json(results: dict[str, Any], path: Path) -> Path:
    """Write results with sorted keys and a final newline."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _num(x: float | None, unit: str = "") -> str:
    if x is None:
        return "-"
    text = f"{x:,.2f}" if abs(x) < 100 else f"{x:,.0f}"
    return f"{text} {unit}".strip()


def status_text(row: dict[str, Any]) -> str:
    """``met``, ``not measured`` or ``MISSED by 1.20 s (+40.0%)``."""
    if row["status"] != "missed":
        return row["status"]
    by = f"**MISSED** by {_num(row['missed_by'], row['unit'])}"
    return by if row["missed_by_pct"] is None else f"{by} (+{row['missed_by_pct']}%)"


def targets_table(rows: list[dict[str, Any]]) -> list[str]:
    out = ["| Target | Goal | Measured | Status |", "|---|---|---|---|"]
    for r in rows:
        out.append(f"| {r['what']} | {r['goal']} | {_num(r['measured'], r['unit'])} | ")
        out[-1] += f"{status_text(r)} |"
    return out


def workflow_table(wf: dict[str, Any]) -> list[str]:
    if "skipped" in wf:
        return [f"Skipped ({wf['skipped']}); dry run took {_num(wf.get('dry_run_s'), 's')}."]
    cold = wf["cold_run_s"]
    out = [
        f"Cold run: {_num(cold['median'], 's')} ({wf['cold_jobs']} jobs, "
        f"{_num(_median(wf.get('cold_run_cpu_s')), 'CPU s')}; runs "
        f"{', '.join(_num(r) for r in cold['runs'])} s). With nothing changed, `make run` took "
        f"{_num(wf['make_run_noop_s']['median'], 's')} and the workflow's own no-op "
        f"(`snakemake`) {_num(wf['noop_rerun_s']['median'], 's')}: "
        f"{_num(_median(wf['make_run_to_noop_ratio']))} x ({wf['noop_pairs_per_repeat']} "
        "interleaved pairs per repeat).",
        "",
        "Each change starts from the same finished run. Rerun: `snakemake` after the change; "
        f"notebook: the same analysis run end to end ({wf['notebook']}). Briefs rendered again: "
        "of the briefs there are; needlessly: their numbers and words did not change.",
        "",
        "| Change | Rerun (s) | x cold | CPU x cold CPU | Jobs | x cold jobs | Briefs rendered "
        "again (needlessly) | Notebook (s) | Rerun x notebook |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for change in wf["changes"].values():
        needless = len(change["briefs_rendered_needlessly"])
        out.append(
            f"| {change['what']} | {_num(change['rerun_s']['median'])} | "
            f"{_num(_median(change['to_cold_ratio']))} | "
            f"{_num(_median(change.get('cpu_to_cold_ratio')))} | {change['jobs']} | "
            f"{_num(change['jobs_to_cold_ratio'])} | "
            f"{len(change['briefs_rendered'])} of {change['briefs']} ({needless}) | "
            f"{_num(_median(change.get('notebook_s')))} | "
            f"{_num(_median(change.get('rerun_to_notebook_ratio')))} |"
        )
    return out


def _median(summary: dict[str, Any] | None) -> float | None:
    return None if summary is None else summary["median"]


def render_table(render: dict[str, Any]) -> list[str]:
    if "skipped" in render:
        return [f"Skipped ({render['skipped']})."]
    fmts = sorted({f for b in render["briefs"].values() for f in b})
    out = ["| Brief | " + " | ".join(f"{f} (s)" for f in fmts) + " |"]
    out.append("|---|" + "---|" * len(fmts))
    for brief, per_fmt in sorted(render["briefs"].items()):
        cells = [_num(per_fmt[f]["median"]) if f in per_fmt else "-" for f in fmts]
        out.append(f"| {render['wave']}/{brief} | " + " | ".join(cells) + " |")
    return out


def scale_table(scale: dict[str, Any]) -> list[str]:
    out = [
        "| Rows | Stage | Median (s) | x floor | CPU x floor CPU | Peak memory (MB) |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for rows, size in sorted(scale["sizes"].items(), key=lambda kv: int(kv[0])):
        for stage, m in size["stages"].items():
            out.append(
                f"| {int(rows):,} | {stage} | {_num(m['seconds']['median'])} | "
                f"{_num(m['ratio_to_floor'])} | {_num(m.get('cpu_ratio_to_floor'))} | "
                f"{_num(m['peak_rss_mb']['median'])} |"
            )
    return out


def carried(part: dict[str, Any]) -> list[str]:
    """A line saying a part was carried over from an earlier run (--carry), or nothing."""
    return [f"*Carried over: {part['carried_over']}.*", ""] if "carried_over" in part else []


def markdown(results: dict[str, Any]) -> str:
    """The whole results.md."""
    m = results["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Mode: {results['mode']}. Machine: {m['cores']} cores, {m['memory_gb']} GB, "
        f"Python {m['python']}, {m['platform']}. Commit: {m['git_commit'] or 'unknown'}.",
        "Each figure is the median of the runs listed in `results.json` "
        f"({results['repeats']} per figure).",
    ]
    if results.get("note"):
        lines.append(f"Note: {results['note']}")
    if m["cores"] != TARGET_CORES:
        lines.append(
            f"The targets are set for a {TARGET_CORES}-core machine; this one has {m['cores']}."
        )
    lines += ["", "## Targets", "", *targets_table(results["targets"])]
    lines += ["", "## The researcher's loop (a copy of the project, snakemake --cores N)", ""]
    lines += workflow_table(results["workflow"])
    lines += ["", "## Rendering (seconds per brief per format, pandoc + Typst)", ""]
    lines += carried(results["render"]) + render_table(results["render"])
    lines += ["", "## Scale (officer survey .sav; each stage in its own process)", ""]
    lines += carried(results["scale"])
    lines += [
        "The floor reads the same .sav with pyreadstat and writes Parquet, nothing else. "
        "`prepare` reads, validates and cleans the wave in one process (the workflow's "
        "prepare_wave job); `ingest_validate_clean` is its figure for the targets.",
        "",
        *scale_table(results["scale"]),
    ]
    if "training_coverage" in results:
        lines += ["", "## Training intervals: coverage with few cohorts (simulation)", ""]
        lines += carried(results["training_coverage"]) + coverage_table(
            results["training_coverage"]
        )
    if "slurm" in results:
        lines += ["", "## SLURM: overhead per workflow job, before and after job groups", ""]
        lines += carried(results["slurm"]) + slurm_table(results["slurm"])
    return "\n".join(lines) + "\n"


def write_markdown(results: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(markdown(results), encoding="utf-8")
    return path
