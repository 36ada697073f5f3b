"""One pipeline stage on one scaled survey, run in a fresh process so its peak memory is its own.

``python -m benchmarks.stage STAGE --sav FILE --work DIR --root REPO`` runs STAGE (``floor``,
``prepare`` or ``models``) the way the workflow's adapter does (``prepare``: read, validate and
clean one wave in one process, as the workflow's prepare_wave job; ``models`` reads the cleaned
wave from DIR; each writes its outputs there) and prints one JSON line: seconds spent on
the work (imports excluded; wall clock and CPU), the process's peak resident memory, and the rows
it produced.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.machine import cpu_seconds

DATASET = "officer_survey"
STAGES = ("floor", "prepare", "models")


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM), in MB; ru_maxrss where /proc is absent."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # pragma: no cover


def _floor(sav: Path, work: Path, root: Path) -> int:
    """The least any ingest can do: read the .sav with pyreadstat, write it as Parquet."""
    import pyreadstat

    frame, _meta = pyreadstat.read_sav(str(sav), user_missing=True)
    frame.to_parquet(work / "floor.parquet", index=False)
    return len(frame)


def _prepare(sav: Path, work: Path, root: Path) -> int:
    """As workflow/scripts/prepare_wave.py: read, validate, write the quarantine, clean."""
    from analysis.clean.pseudonymise import EXAMPLE_KEY
    from analysis.clean.wave import clean
    from analysis.io import as_stored, read_raw
    from analysis.tables import write_csv, write_json, write_table, writer_threads
    from analysis.validate.codebook import load_codebook
    from analysis.validate.wave import refuse_wave_without_valid_rows, validate, with_file_missing

    # the threads the workflow gives this wave's job (Snakemake: at most the machine's cores)
    threads = min(writer_threads(sav.stat().st_size / 1e6), os.cpu_count() or 1)
    table = as_stored(read_raw(sav, dataset=DATASET, processes=threads))
    own_codebook = load_codebook(root / "data" / "raw" / DATASET / "codebook.json")
    checked = validate(
        table, own_codebook, dataset=DATASET, file=str(sav), on_row_error="quarantine"
    )
    write_csv(checked.quarantine, work / "quarantine.csv")
    write_json(checked.report, work / "validate.report.json")
    quarantine = str(work / "quarantine.csv")
    refuse_wave_without_valid_rows(
        len(checked.valid), checked.report, quarantine, DATASET, str(sav)
    )
    valid = dataclasses.replace(table, data=checked.valid)
    result = clean(
        valid.data,
        with_file_missing(own_codebook, valid),
        dataset=DATASET,
        wave=sav.stem,
        key=EXAMPLE_KEY,  # synthetic scaled data, never real: load_key would refuse it
        parsed=checked.parsed_valid(),
    )
    write_table(
        result.data, parquet=work / "clean.parquet", csv=work / "clean.csv", threads=threads
    )
    write_json(result.codebook, work / "clean.codebook.json")
    write_csv(result.missing_summary, work / "clean.missing.csv")
    return len(result.data)


def _models(sav: Path, work: Path, root: Path) -> int:
    import pandas as pd

    from analysis.config.plan import load_plan
    from analysis.survey.estimate import run_models

    data = pd.read_parquet(work / "clean.parquet")
    entry = load_plan(root / "config" / "plan.yaml")[DATASET]
    run_models(data, entry, dataset=DATASET)
    return len(data)


RUNNERS: dict[str, Callable[[Path, Path, Path], int]] = {
    "floor": _floor,
    "prepare": _prepare,
    "models": _models,
}


def warm_imports(stage: str) -> None:
    """Import what a stage needs before the clock starts (imports are not the stage's work)."""
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401
    import pyreadstat  # noqa: F401

    if stage != "floor":
        import analysis.clean.wave  # noqa: F401
        import analysis.io  # noqa: F401
        import analysis.survey.estimate  # noqa: F401
        import analysis.validate.wave  # noqa: F401


def main(argv: list[str] | None = None) -> int:
    """Run one stage and print its measurement as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.stage")
    parser.add_argument("stage", choices=STAGES)
    parser.add_argument("--sav", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--root", type=Path, required=True)
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    warm_imports(args.stage)
    start, cpu_start = time.perf_counter(), cpu_seconds()
    rows = RUNNERS[args.stage](args.sav, args.work, args.root)
    seconds = time.perf_counter() - start
    record = {
        "stage": args.stage,
        "seconds": seconds,
        # CPU of all threads and of the reading processes: the work, however many cores did it
        "cpu_seconds": cpu_seconds() - cpu_start,
        "peak_rss_mb": peak_rss_mb(),
        # the largest of the processes a chunked read started (each its own memory)
        "children_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        "rows": rows,
    }
    sys.stdout.write(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
