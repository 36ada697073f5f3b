"""Audit a finished run: re-hash every file the manifest lists and every raw file, and compare.

The audit knows the whole set of files a run made: the outputs of every recorded job, the
targets the workflow was asked for, and the results files a job read. It names a file that is

- MISSING (gone), CHANGED (other bytes), EMPTY (0 bytes: a job cut short),
- NOT MADE (a target, or a file a job read, that no recorded job made: a job record is gone),
- EXTRA (under results/ but not made by the run). An extra file that may hold identifiers
  (raw rows of ingest/validated/quarantine, a table with an identifier column of a raw
  codebook, a half-written temporary file) fails the audit; any other is a NOTE,

and the manifest itself when its hash or its sections do not agree (MANIFEST). A raw file
that differed from data/raw/SHA256SUMS when the run used it is a NOTE (RAW NOT AS LISTED).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.atomic import is_folder_mark, is_partial
from analysis.hashing import sha256_path
from analysis.provenance.manifest import (
    PROVENANCE_FILES,
    TEMPORARY_FOLDERS,
    content_hash,
    lineage,
    raw_files,
)
from analysis.provenance.tiers import check_tiers

RERUN = "rerun the workflow (make run)"
# Files Snakemake or the Makefile add beside the manifest after it is written.
LATER_PROVENANCE_FILES = ("report.html",)
# Folders under results/ that hold rows of raw data (identifiers included) by design.
RESTRICTED_FOLDERS = (*TEMPORARY_FOLDERS, "quarantine")
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet")
IDENTIFIER_KINDS = ("direct", "indirect", "review")  # review: not yet decided, so treated as one


@dataclass(frozen=True)
class Problem:
    """One mismatch between the manifest and the files now on disk."""

    # CHANGED, MISSING, EMPTY, NOT MADE, EXTRA, RAW CHANGED, RAW MISSING, RAW NEW, BRIEF,
    # MANIFEST, TIER (restricted tier open to others, raw rows left); RAW NOT AS LISTED (a
    # note: differed from SHA256SUMS when the run used it)
    kind: str
    path: str
    detail: str
    fatal: bool = True  # False: reported as a NOTE, the audit still passes

    def __str__(self) -> str:
        return f"{self.kind} {self.path}{self.detail}"


def brief_paths(manifest: Mapping[str, Any]) -> list[str]:
    """Outputs under <results>/briefs/: the files whose lineage must reach intact raw data."""
    prefix = f"{manifest.get('results_dir', 'results').rstrip('/')}/briefs/"
    return sorted(p for p in manifest["outputs"] if p.startswith(prefix))


def audit(
    manifest: Mapping[str, Any],
    root: Path | str = ".",
    raw_dir: Path | str | None = None,
) -> list[Problem]:
    """Every mismatch between the manifest and the files under `root` (empty list: all match).

    `raw_dir` (default: the manifest's raw folder under `root`) is scanned for raw files that
    were not part of the run.
    """
    root = Path(root)
    scan = Path(raw_dir) if raw_dir is not None else root / manifest.get("raw_dir", "data/raw")
    problems = manifest_problems(manifest)
    problems += output_problems(manifest, root)
    problems += later_file_problems(manifest, root)
    problems += completeness_problems(manifest)
    problems += raw_problems(manifest, root, scan)
    problems += brief_problems(manifest, problems)
    problems += extra_problems(manifest, root, identifier_columns(scan))
    problems += [
        Problem("RAW NOT AS LISTED", difference, " when the run used it", fatal=False)
        for difference in manifest.get("raw_checksums") or []
    ]
    results = root / manifest.get("results_dir", "results")
    problems += [Problem("TIER", "", f" {line}") for line in check_tiers(results, scan)]
    return problems


def manifest_problems(manifest: Mapping[str, Any]) -> list[Problem]:
    """The manifest disagreeing with its own hash, or its sections with each other."""
    problems = []
    if content_hash(manifest) != manifest.get("content_hash"):
        problems.append(
            Problem(
                "MANIFEST",
                "content_hash",
                ": the manifest does not add up to its content_hash (a section was edited by "
                f"hand, or the file is damaged); {RERUN} to rebuild it",
            )
        )
    jobs = manifest["jobs"]
    for path, entry in sorted(manifest["outputs"].items()):
        made = {o["path"]: o["sha256"] for o in (jobs.get(entry["job"]) or {}).get("outputs") or []}
        if made.get(path) != entry["sha256"]:
            problems.append(
                Problem(
                    "MANIFEST",
                    path,
                    f": the outputs section says job {entry['job']} made it with sha256 "
                    f"{entry['sha256']}, the jobs section does not agree; {RERUN}",
                )
            )
    if lineage(manifest) != manifest.get("lineage"):
        changed = sorted(
            p
            for p in set(lineage(manifest)) | set(manifest.get("lineage") or {})
            if lineage(manifest).get(p) != (manifest.get("lineage") or {}).get(p)
        )
        problems.append(
            Problem(
                "MANIFEST",
                "lineage",
                f": the lineage of {', '.join(changed[:5])}{' ...' if len(changed) > 5 else ''} "
                f"does not follow from the jobs section; {RERUN}",
            )
        )
    return problems


def output_problems(manifest: Mapping[str, Any], root: Path) -> list[Problem]:
    """Outputs that are gone, changed or empty."""
    problems = []
    for path, entry in sorted(manifest["outputs"].items()):
        file = root / path
        if entry.get("temporary") and not file.exists():
            continue  # deleted after use by design; recorded for the lineage
        made_by = f" (made by job {entry['job']})"
        if entry.get("size") == 0 or (file.is_file() and file.stat().st_size == 0):
            problems.append(
                Problem(
                    "EMPTY",
                    path,
                    f"{made_by}: the file is 0 bytes; no output of this workflow is empty, so "
                    f"the job was cut short or the file was emptied. Delete it and {RERUN}",
                )
            )
            continue
        problems += _check(file, path, entry["sha256"], "", made_by)
    return problems


def later_file_problems(manifest: Mapping[str, Any], root: Path) -> list[Problem]:
    """Files made after the manifest (Snakemake's report) that are there but empty."""
    results = manifest.get("results_dir", "results").rstrip("/")
    problems = []
    for name in LATER_PROVENANCE_FILES:
        path = f"{results}/provenance/{name}"
        if (root / path).is_file() and (root / path).stat().st_size == 0:
            problems.append(
                Problem(
                    "EMPTY",
                    path,
                    f": the file is 0 bytes (cut short or emptied). Delete it and {RERUN}",
                )
            )
    return problems


def completeness_problems(manifest: Mapping[str, Any]) -> list[Problem]:
    """Targets of the run, and results files a job read, that no recorded job made."""
    outputs = manifest["outputs"]
    results = manifest.get("results_dir", "results").rstrip("/") + "/"
    records = manifest.get("records_dir", f"{results}provenance/jobs").rstrip("/") + "/"
    problems = [
        Problem(
            "NOT MADE",
            target,
            f": the workflow was asked for it but no recorded job made it (its job record is "
            f"gone or the job never finished); {RERUN}",
        )
        for target in manifest.get("targets") or []
        if target not in outputs
    ]
    reported = {p.path for p in problems}
    for jid, job in sorted(manifest["jobs"].items()):
        for item in job.get("inputs") or []:
            path = item["path"]
            if (
                path.startswith(results)
                and not path.startswith(records)
                and path not in outputs
                and path not in reported
            ):
                reported.add(path)
                problems.append(
                    Problem(
                        "NOT MADE",
                        path,
                        f" (read by job {jid}): no recorded job made it (its job record is "
                        f"gone or the job never finished); {RERUN}",
                    )
                )
    return problems


def raw_problems(manifest: Mapping[str, Any], root: Path, scan: Path) -> list[Problem]:
    """Raw files changed or gone since the run, and raw files that were not part of it."""
    problems = []
    for path, entry in sorted(manifest["raw"].items()):
        problems.extend(_check(root / path, path, entry["sha256"], "RAW ", " since the run"))
    now = raw_files(scan, root.resolve())
    for path in sorted(set(now) - set(manifest["raw"])):
        problems.append(
            Problem("RAW NEW", path, ": raw file not part of the run; rerun the workflow")
        )
    return problems


def brief_problems(manifest: Mapping[str, Any], found: list[Problem]) -> list[Problem]:
    """Briefs whose lineage reaches no raw file, or raw files that changed or are gone."""
    problems = []
    broken = {p.path for p in found if p.kind in ("RAW CHANGED", "RAW MISSING")}
    sources_of = manifest.get("lineage", {})
    for brief in brief_paths(manifest):
        sources = sources_of.get(brief, [])
        if not sources:
            problems.append(Problem("BRIEF", brief, ": its lineage reaches no raw file"))
        elif bad := [s for s in sources if s in broken]:
            problems.append(
                Problem(
                    "BRIEF",
                    brief,
                    f" (made by job {manifest['outputs'][brief]['job']}): derives from raw "
                    f"files that changed or are gone: {', '.join(bad)}",
                )
            )
    return problems


def known_files(manifest: Mapping[str, Any]) -> set[str]:
    """Every file under results/ a run makes: outputs, job logs and records, provenance files."""
    results = manifest.get("results_dir", "results").rstrip("/")
    known = set(manifest["outputs"])
    for job in manifest["jobs"].values():
        known.update(job.get("log") or [])
        if job.get("record"):
            known.add(job["record"])
    known.update(f"{results}/provenance/{name}" for name in PROVENANCE_FILES)
    known.update(f"{results}/provenance/{name}" for name in LATER_PROVENANCE_FILES)
    known.update(manifest.get("provenance_files") or [])
    return known


def extra_problems(manifest: Mapping[str, Any], root: Path, identifiers: set[str]) -> list[Problem]:
    """Files under results/ the run did not make: fatal when they may hold identifiers."""
    results = manifest.get("results_dir", "results").rstrip("/")
    records = manifest.get("records_dir", f"{results}/provenance/jobs").rstrip("/")
    folder = root / results
    if not folder.is_dir():
        return []
    known = known_files(manifest)
    problems = []
    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
        path = file.relative_to(root).as_posix()
        if path in known or (path.startswith(records + "/") and path.endswith(".json")):
            continue
        if is_folder_mark(file):
            continue
        problems.append(_extra(file, path, file.relative_to(folder), identifiers))
    return problems


def _extra(file: Path, path: str, inside: Path, identifiers: set[str]) -> Problem:
    """An EXTRA problem, fatal with the reason when the file may hold identifiers."""
    if is_partial(inside):
        why = (
            "a half-written file left by an interrupted job; it may hold anything, "
            "identifiers included"
        )
    elif inside.parts[0] in RESTRICTED_FOLDERS:
        why = f"under {inside.parts[0]}/, which holds rows of raw data with identifiers"
    elif columns := sorted(identifiers & set(table_columns(file))):
        why = f"a table with identifier column(s) {', '.join(columns)}"
    else:
        return Problem(
            "EXTRA",
            path,
            ": not made by this run (nothing in the manifest); remove it if it is not yours",
            fatal=False,
        )
    return Problem("EXTRA", path, f": not made by this run and {why}. Delete it, then {RERUN}")


def identifier_columns(raw_dir: Path) -> set[str]:
    """Names of the fields any raw codebook marks `x-identifier: direct` or `indirect`."""
    names: set[str] = set()
    for codebook in sorted(Path(raw_dir).glob("*/codebook.json")):
        try:
            fields = json.loads(codebook.read_text(encoding="utf-8")).get("fields") or []
        except (OSError, ValueError, AttributeError):
            continue
        names.update(
            str(f["name"])
            for f in fields
            if isinstance(f, dict) and f.get("x-identifier") in IDENTIFIER_KINDS and "name" in f
        )
    return names


def table_columns(file: Path) -> list[str]:
    """Column names of a CSV/TSV (its first line) or Parquet file; [] for anything else."""
    suffix = file.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        return []
    try:
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            return list(pq.read_schema(file).names)
        with open(file, encoding="utf-8", errors="replace", newline="") as handle:
            return next(csv.reader(handle, delimiter="\t" if suffix == ".tsv" else ","), [])
    except Exception:  # noqa: BLE001 - an unreadable table is told by its other checks
        return []


def _check(file: Path, path: str, expected: str, prefix: str, note: str) -> list[Problem]:
    """MISSING or CHANGED when `file` is gone or its sha256 differs; `note` says where from."""
    if not file.exists():
        return [Problem(f"{prefix}MISSING", path, f"{note}: the file is gone")]
    got = sha256_path(file)
    if got != expected:
        return [Problem(f"{prefix}CHANGED", path, f"{note}: sha256 expected {expected} got {got}")]
    return []


def failed(problems: Iterable[Problem]) -> bool:
    """True when any problem fails the audit (notes alone do not)."""
    return any(p.fatal for p in problems)


def verdict(manifest: Mapping[str, Any], problems: list[Problem]) -> str:
    """A human-readable verdict: OK with counts (and any notes), or FAILED with one line per
    problem."""
    fatal = [p for p in problems if p.fatal]
    notes = [f"NOTE {p}" for p in problems if not p.fatal]
    if not fatal:
        head = (
            f"OK: {len(manifest['outputs'])} outputs and {len(manifest['raw'])} raw files match "
            f"the manifest (content_hash {manifest['content_hash']})"
        )
        return "\n".join([head, *notes])
    lines = [f"FAILED: {len(fatal)} problem(s) found"]
    lines.extend(str(p) for p in fatal)
    return "\n".join([*lines, *notes])
