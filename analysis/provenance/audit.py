"""Audit a finished run: re-hash every file the manifest lists and every raw file, and compare."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from analysis.hashing import sha256_path
from analysis.provenance.manifest import content_hash, raw_files


@dataclass(frozen=True)
class Problem:
    """One mismatch between the manifest and the files now on disk."""

    kind: str  # CHANGED, MISSING, RAW CHANGED, RAW MISSING, RAW NEW, BRIEF, MANIFEST
    path: str
    detail: str

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
    problems: list[Problem] = []

    if content_hash(manifest["outputs"]) != manifest.get("content_hash"):
        problems.append(
            Problem(
                "MANIFEST",
                "content_hash",
                ": the manifest's outputs do not add up to its content_hash; it was edited "
                "by hand or is damaged. Rebuild it by rerunning the workflow.",
            )
        )

    for path, entry in sorted(manifest["outputs"].items()):
        if entry.get("temporary") and not (root / path).exists():
            continue  # deleted after use by design; recorded for the lineage
        made_by = f" (made by job {entry['job']})"
        problems.extend(_check(root / path, path, entry["sha256"], "", made_by))

    for path, entry in sorted(manifest["raw"].items()):
        problems.extend(_check(root / path, path, entry["sha256"], "RAW ", " since the run"))

    scan = Path(raw_dir) if raw_dir is not None else root / manifest.get("raw_dir", "data/raw")
    now = raw_files(scan, root.resolve())
    for path in sorted(set(now) - set(manifest["raw"])):
        problems.append(
            Problem("RAW NEW", path, ": raw file not part of the run; rerun the workflow")
        )

    broken = {p.path for p in problems if p.kind in ("RAW CHANGED", "RAW MISSING")}
    lineage = manifest.get("lineage", {})
    for brief in brief_paths(manifest):
        sources = lineage.get(brief, [])
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


def _check(file: Path, path: str, expected: str, prefix: str, note: str) -> list[Problem]:
    """MISSING or CHANGED when `file` is gone or its sha256 differs; `note` says where from."""
    if not file.exists():
        return [Problem(f"{prefix}MISSING", path, f"{note}: the file is gone")]
    got = sha256_path(file)
    if got != expected:
        return [Problem(f"{prefix}CHANGED", path, f"{note}: sha256 expected {expected} got {got}")]
    return []


def verdict(manifest: Mapping[str, Any], problems: list[Problem]) -> str:
    """A human-readable verdict: OK with counts, or FAILED with one line per problem."""
    if not problems:
        return (
            f"OK: {len(manifest['outputs'])} outputs and {len(manifest['raw'])} raw files match "
            f"the manifest (content_hash {manifest['content_hash']})"
        )
    lines = [f"FAILED: {len(problems)} problem(s) found"]
    lines.extend(str(p) for p in problems)
    return "\n".join(lines)
