"""``python -m benchmarks.run [--smoke]``: run the suite, write results.json and results.md."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import machine, report
from benchmarks.iteration import bench_iteration
from benchmarks.scale import bench_scale
from benchmarks.slurm_bench import bench_slurm
from benchmarks.targets import evaluate
from benchmarks.training_coverage import (
    FULL_REPLICATES,
    SMOKE_REPLICATES,
    bench_training_coverage,
)
from benchmarks.workflow import bench_dry_run

ROOT = Path(__file__).resolve().parents[1]
FULL_SIZES = (10_000, 100_000, 1_000_000)
SMOKE_SIZES = (2_000,)
PENDING = {"skipped": "pending: the suite has not reached this part yet"}
#: Parts ``--carry`` may take from an earlier results.json when this run skips them.
CARRIED_PARTS = ("render", "scale", "training_coverage", "slurm")


def log(message: str) -> None:
    """Progress on stderr (stdout stays free for the file paths)."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument(
        "--smoke", action="store_true", help="tiny sizes, no workflow timings (for CI)"
    )
    parser.add_argument("--repeats", type=int, help="runs per figure (default 3; 1 with --smoke)")
    parser.add_argument(
        "--sizes", type=int, nargs="+", help="scale sizes in rows (default 10k 100k 1M)"
    )
    parser.add_argument(
        "--skip",
        nargs="+",
        default=[],
        choices=("workflow", "notebook", "render", "scale", "training", "slurm"),
        help="parts (notebook: the --forceall run beside each change)",
    )
    parser.add_argument(
        "--note", default="", help="a line on the machine's state (e.g. shared), in results.md"
    )
    parser.add_argument(
        "--carry",
        action="store_true",
        help="parts skipped here are kept from the existing results.json (marked as such)",
    )
    parser.add_argument("--out-dir", type=Path, default=ROOT / "benchmarks")
    parser.add_argument("--work-dir", type=Path, default=ROOT / "benchmarks" / "work")
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 1 if args.smoke else 3
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.sizes is None:
        args.sizes = list(SMOKE_SIZES if args.smoke else FULL_SIZES)
    return args


def carry_over(results: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """Parts skipped in this run taken from an earlier results.json, each marked with the commit
    it was measured at (``--carry``); the loop is never carried (its figures are ratios of one
    run)."""
    if not previous:
        return results
    commit = _get_commit(previous)
    out = dict(results)
    for part in CARRIED_PARTS:
        now, old = results.get(part), previous.get(part)
        fresh = isinstance(now, dict) and "skipped" not in now
        if not fresh and isinstance(old, dict) and "skipped" not in old:
            note = old.get("carried_over") or f"not rerun: measured in the run at commit {commit}"
            out[part] = {**old, "carried_over": note}
    return out


def _get_commit(results: dict[str, Any]) -> str:
    return (results.get("machine") or {}).get("git_commit") or "unknown"


def load_previous(out_dir: Path) -> dict[str, Any] | None:
    """The results.json a ``--carry`` run takes skipped parts from (None if there is none)."""
    path = out_dir / "results.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def save(
    results: dict[str, Any], out_dir: Path, previous: dict[str, Any] | None = None
) -> list[Path]:
    """Write results.json and results.md (parts not yet run read as pending, or carried over
    from ``previous``)."""
    full = {
        "workflow": PENDING,
        "render": PENDING,
        "scale": {**PENDING, "sizes": {}},
        "training_coverage": PENDING,
        "slurm": PENDING,
        **carry_over(results, previous),
    }
    full["targets"] = evaluate(full)
    return [
        report.write_json(full, out_dir / "results.json"),
        report.write_markdown(full, out_dir / "results.md"),
    ]


def run_suite(args: argparse.Namespace) -> dict[str, Any]:
    """Every part the arguments ask for, as the results dict; files rewritten after each part."""
    work = args.work_dir.resolve()
    results: dict[str, Any] = {
        "mode": "smoke" if args.smoke else "full",
        "repeats": args.repeats,
        "machine": machine.describe(ROOT),
        "note": args.note,
    }
    skipped = {"skipped": "not requested (--skip)"}
    results["workflow"] = skipped
    results["render"] = skipped
    if args.smoke:
        if "workflow" not in args.skip:
            results["workflow"] = bench_dry_run(ROOT, work, log)
        results["render"] = {"skipped": "smoke mode: needs a finished workflow run"}
    elif "workflow" not in args.skip:
        results["workflow"] = bench_iteration(
            ROOT, work, args.repeats, log, notebook="notebook" not in args.skip
        )
        if "render" not in args.skip:
            from benchmarks.render_bench import bench_render

            results["render"] = bench_render(work / "workflow", work, args.repeats, log)
    save(results, args.out_dir, getattr(args, "previous", None))
    results["scale"] = (
        {"skipped": "not requested (--skip)", "sizes": {}}
        if "scale" in args.skip
        else bench_scale(args.sizes, work / "scale", ROOT, args.repeats, log)
    )
    save(results, args.out_dir, getattr(args, "previous", None))
    results["training_coverage"] = (
        {"skipped": "not requested (--skip)"}
        if "training" in args.skip
        else bench_training_coverage(SMOKE_REPLICATES if args.smoke else FULL_REPLICATES, log)
    )
    save(results, args.out_dir, getattr(args, "previous", None))
    results["slurm"] = slurm_part(args, log)
    results["targets"] = evaluate(results)
    return results


def slurm_part(args: argparse.Namespace, log_to: Callable[[str], None]) -> dict[str, Any]:
    """The SLURM overhead part, unless skipped (--skip slurm, or --smoke: minutes per run)."""
    if "slurm" in args.skip:
        return {"skipped": "not requested (--skip)"}
    if args.smoke:
        return {"skipped": "smoke mode: starts a SLURM cluster and runs the workflow three times"}
    return bench_slurm(args.repeats, log_to)


def main(argv: list[str] | None = None) -> int:
    """Run the suite; write and print the two result files."""
    args = parse(argv)
    args.previous = load_previous(args.out_dir) if args.carry else None
    for path in save(run_suite(args), args.out_dir, args.previous):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
