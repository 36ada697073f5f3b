"""What a wave's briefs rest on: input files with hashes, software, git state, and a run ID.

The run ID is a hash of the input files' hashes and the software versions, so the same inputs
and lock file give the same run ID on any machine, and any change to them gives a new one. It
is printed in the footer of every page, tying a printed copy to its run.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from analysis.hashing import file_fact, sha256_bytes, sha256_file
from analysis.io.statfiles import file_written_at
from analysis.provenance.record import git_state, software_versions
from analysis.render.versions import engine_versions


def describe_inputs(files: Mapping[str, str | Path], *, source_date_epoch: int) -> dict:
    """Inputs (role, path, sha256, size), software and engine versions, git state, run ID."""
    facts = [
        {"role": role, **file_fact(Path(path), shown_as=str(path))}
        for role, path in sorted(files.items())
    ]
    software = {**software_versions(), **engine_versions()}
    identity = {"files": [(f["path"], f["sha256"]) for f in facts], "software": software}
    digest = sha256_bytes(json.dumps(identity, sort_keys=True).encode("utf-8"))
    return {
        "run_id": digest[:12],
        "inputs_sha256": digest,
        "source_date_epoch": int(source_date_epoch),
        "files": facts,
        "software": software,
        "git": git_state(),
    }


def source_date_epoch(table: pd.DataFrame, raw_files: Iterable[str | Path] = ()) -> int:
    """Midnight UTC after the last date in the data: the briefs' date, never the wall clock.
    Data with no date column take the date their SPSS, Stata or SAS files say they were
    written (`raw_files`); with neither, the Unix epoch."""
    latest = None
    for column in table.columns:
        series = table[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            value = series.max()
        elif series.dtype == object and series.map(lambda v: isinstance(v, dt.date)).any():
            value = pd.to_datetime(series, errors="coerce").max()
        else:
            continue
        if pd.notna(value) and (latest is None or value > latest):
            latest = value
    if latest is None:
        written = [w for w in map(file_written_at, map(Path, raw_files)) if w is not None]
        latest = max(written, default=None)
    if latest is None:
        return 0
    day = pd.Timestamp(latest).normalize() + pd.Timedelta(days=1)
    return int(day.tz_localize("UTC").timestamp() if day.tzinfo is None else day.timestamp())


def brief_provenance(inputs: Mapping, inputs_path: str | Path) -> dict:
    """What a brief's provenance appendix prints, from its inputs description (the file
    describe_inputs wrote): run ID, the description's own SHA-256 (`sha256sum` on it checks a
    printed page), git commit and whether the checkout had uncommitted changes, raw files and
    codebooks with their hashes, software."""
    return {
        "run_id": inputs["run_id"],
        "manifest_hash": sha256_file(Path(inputs_path)),
        "manifest_path": str(inputs_path),
        "git_commit": (inputs.get("git") or {}).get("commit"),
        # True when the checkout had uncommitted changes: the commit alone does not give the code
        "git_dirty": bool((inputs.get("git") or {}).get("dirty")),
        "data_files": [f for f in inputs["files"] if f["role"].startswith(("raw_", "codebook_"))],
        "software": inputs["software"],
    }
