"""Before a run: delete the outputs of jobs a killed run left half-done, so they are redone.

Snakemake marks every output of a job incomplete (in .snakemake/incomplete/) when the job starts
and clears the marks when it ends. `--rerun-incomplete` reruns the jobs whose marks are left,
but Snakemake (9.27) looks for them once, while it builds the DAG and before it adds the jobs
that depend on a checkpoint. Here `rule all` reads the `build_findings` checkpoints, so after a
kill -9 no job behind it was redone: a brief job killed after writing its briefs but before its
job record was taken for done, and the audit then failed with NOT MADE however often the run
was resumed (issue 14). Deleting what such jobs left makes Snakemake see missing outputs and
run them again, whatever the shape of the DAG. An output whose size is no longer what its job
recorded (emptied by hand, cut short by a full disk) is deleted too: `wps audit` names it, and
`make run` then makes it again. `make run` calls this first (`python -m analysis.run.resume`),
under its lock and only when no Snakemake lock is held.
"""

from __future__ import annotations

import base64
import binascii
import json
import shutil
import sys
from pathlib import Path

from analysis.atomic import SNAKEMAKE_FOLDER_MARK

INCOMPLETE = Path(".snakemake") / "incomplete"
LOCKS = Path(".snakemake") / "locks"


def _decoded(marker: Path, folder: Path) -> str | None:
    """The output path a marker stands for: Snakemake names it by the path in URL-safe base64,
    cut into folders whose names start with '@' when too long for one file name."""
    parts = marker.relative_to(folder).parts
    encoded = "".join(part.removeprefix("@") for part in parts)
    try:
        return base64.urlsafe_b64decode(encoded).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def incomplete_outputs(workdir: Path | str = ".") -> list[tuple[Path, Path]]:
    """(marker, output) for every output Snakemake still marks incomplete in `workdir`."""
    workdir = Path(workdir)
    folder = workdir / INCOMPLETE
    if not folder.is_dir():
        return []
    found = []
    for marker in sorted(p for p in folder.rglob("*") if p.is_file()):
        output = _decoded(marker, folder)
        if output is not None:
            found.append((marker, workdir / output))
    return found


def run_in_progress(workdir: Path) -> bool:
    """Whether a Snakemake lock is held in `workdir`: a run may be writing its outputs (after a
    kill, `make unlock` clears it)."""
    locks = workdir / LOCKS
    return locks.is_dir() and any(locks.iterdir())


def remove_incomplete_outputs(workdir: Path | str = ".") -> list[Path]:
    """Delete the files and folders (inside `workdir`) of jobs that never finished, and their
    marks; returns what was deleted. Does nothing while a Snakemake lock is held: a run may be
    writing them (after a kill, `make unlock` first)."""
    workdir = Path(workdir)
    if run_in_progress(workdir):
        return []
    inside = workdir.resolve()
    removed = []
    for marker, output in incomplete_outputs(workdir):
        target = output.resolve()
        if target.is_relative_to(inside) and target.is_file():
            target.unlink()
            removed.append(output)
        elif target.is_relative_to(inside) and target.is_dir():  # a directory() output
            shutil.rmtree(target)
            removed.append(output)
        marker.unlink()
    return removed


def damaged_jobs(workdir: Path | str = ".", results: str = "results") -> list[list[Path]]:
    """The outputs (under `results`) of each job with an output whose size is no longer what
    the job recorded when it made it (emptied or cut short by hand or by a full disk).
    Snakemake takes a file that exists for done, so `make run` alone would never redo it,
    though `wps audit` names it."""
    workdir = Path(workdir)
    inside = (workdir / results).resolve()
    found = []
    for record in sorted((workdir / results / "provenance" / "jobs").rglob("*.json")):
        try:
            outputs = json.loads(record.read_text(encoding="utf-8")).get("outputs") or []
        except (OSError, ValueError):
            continue  # a record cut short: its job is redone anyway (its outputs are incomplete)
        made = [(workdir / str(o.get("path", "")), o.get("size")) for o in outputs]
        made = [(path, size) for path, size in made if path.resolve().is_relative_to(inside)]
        if any(
            size is not None and path.is_file() and path.stat().st_size != size
            for path, size in made
        ):
            found.append([path for path, _ in made])
    return found


def remove_damaged_outputs(workdir: Path | str = ".", results: str = "results") -> list[Path]:
    """Delete every output of each job with a damaged output (see damaged_jobs), so that
    Snakemake runs the job again: it reruns a job only when an output another job or the
    target needs is missing, and the damaged one may be an output nothing reads (a table's
    CSV). A file in a folder output (Snakemake's mark in it) takes its folder along, which
    Snakemake would otherwise take for done. Returns what was deleted; does nothing while a
    Snakemake lock is held."""
    if run_in_progress(Path(workdir)):
        return []
    removed: list[Path] = []
    for outputs in damaged_jobs(workdir, results):
        for path in outputs:
            folder = path.parent
            if (folder / SNAKEMAKE_FOLDER_MARK).is_file():
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
            elif path.is_file():
                path.unlink()
                removed.append(path)
    return sorted(set(removed))


def main() -> int:
    for path in remove_incomplete_outputs():
        print(f"deleted what an interrupted job left, to redo it: {path}", file=sys.stderr)
    for path in remove_damaged_outputs():
        print(
            f"deleted {path}: made by a job one of whose outputs is not the size it recorded "
            "(emptied or cut short?), to run it again",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
