"""``python -m benchmarks.run [--smoke]``: run the suite, write results.json and results.md."""

from __future__ import annotations

import argparse
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


def save(results: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write results.json and results.md (parts not yet run read as pending)."""
    full = {
        "workflow": PENDING,
        "render": PENDING,
        "scale": {**PENDING, "sizes": {}},
        "training_coverage": PENDING,
        "slurm": PENDING,
        **results,
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
    save(results, args.out_dir)
    results["scale"] = (
        {"skipped": "not requested (--skip)", "sizes": {}}
        if "scale" in args.skip
        else bench_scale(args.sizes, work / "scale", ROOT, args.repeats, log)
    )
    save(results, args.out_dir)
    results["training_coverage"] = (
        {"skipped": "not requested (--skip)"}
        if "training" in args.skip
        else bench_training_coverage(SMOKE_REPLICATES if args.smoke else FULL_REPLICATES, log)
    )
    save(results, args.out_dir)
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
    for path in save(run_suite(args), args.out_dir):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
