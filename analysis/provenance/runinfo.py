"""What a brief rests on: input files with hashes, software, git state, settings, and a run ID.

A wave's description (`describe_wave`, written by the wave's findings job) hashes its raw
files, codebooks and lock file with the software versions. A brief's description
(`describe_brief`) adds the figures it shows and the plan entries and config values it used,
and its run ID hashes all of them: the same inputs give the same run ID on any machine, and a
change to any of them gives a new one, while an edit to a plan entry a brief does not use
leaves its run ID (and so its rendered pages) as they were. The run ID is printed in the
footer of every page, tying a printed copy to its run.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from analysis.hashing import DESCRIBED_INPUT, file_fact, sha256_bytes, sha256_file
from analysis.io.statfiles import file_written_at
from analysis.provenance.record import git_state, software_versions
from analysis.render.versions import engine_versions
from analysis.tables import write_json


def described_files(inputs: Mapping[str, str | Path]) -> dict[str, str]:
    """{role: path} of the inputs named with the DESCRIBED_INPUT prefix."""
    return {
        name.removeprefix(DESCRIBED_INPUT): str(path)
        for name, path in inputs.items()
        if name.startswith(DESCRIBED_INPUT)
    }


def describe_wave(files: Mapping[str, str | Path], clean: pd.DataFrame) -> dict:
    """The inputs description of a wave's briefs: `files` hashed, dated from the cleaned wave
    (or its raw files' own dates, see source_date_epoch)."""
    raw = [path for role, path in files.items() if role.startswith("raw_")]
    return describe_inputs(files, source_date_epoch=source_date_epoch(clean, raw))


def describe_inputs(files: Mapping[str, str | Path], *, source_date_epoch: int) -> dict:
    """Inputs (role, path, sha256, size), software and engine versions, git state, run ID."""
    facts = file_facts(files)
    software = {**software_versions(), **engine_versions()}
    identity = {"files": [(f["path"], f["sha256"]) for f in facts], "software": software}
    digest = _digest(identity)
    return {
        "run_id": digest[:12],
        "inputs_sha256": digest,
        "source_date_epoch": int(source_date_epoch),
        "files": facts,
        "software": software,
        "git": git_state(),
    }


def describe_brief(
    wave_inputs: Mapping,
    *,
    settings: Mapping,
    files: Mapping[str, str | Path],
) -> dict:
    """One brief's inputs description: its wave's (files, software, git, date), its own `files`
    (the figures it shows, raw files beyond the wave's) and `settings` (the plan entries and
    config values it used). The run ID hashes the wave's inputs hash, the files' hashes and the
    settings."""
    shown = file_facts(files)
    identity = {
        "inputs": wave_inputs["inputs_sha256"],
        "files": [(f["path"], f["sha256"]) for f in shown],
        "settings": settings,
    }
    digest = _digest(identity)
    return {
        **wave_inputs,
        "run_id": digest[:12],
        "inputs_sha256": digest,
        "wave_inputs_sha256": wave_inputs["inputs_sha256"],
        "files": [*wave_inputs["files"], *shown],
        "settings": json.loads(json.dumps(settings, sort_keys=True, default=str)),
    }


def quoted_plan(plan: Mapping, findings: Mapping) -> dict:
    """A dataset's plan slice narrowed to the estimates and models a brief's findings cite (an
    id anywhere among their values, source rows included): the entries its numbers rest on."""
    cited = set(_strings(findings))
    return {
        **plan,
        "estimates": [e for e in plan.get("estimates") or [] if e["id"] in cited],
        "models": [m for m in plan.get("models") or [] if m["id"] in cited],
    }


def file_facts(files: Mapping[str, str | Path]) -> list[dict]:
    """{"role", "path", "sha256", "size"} of each file, sorted by role."""
    return [
        {"role": role, **file_fact(Path(path), shown_as=str(path))}
        for role, path in sorted(files.items())
    ]


def _digest(identity: Mapping) -> str:
    return sha256_bytes(json.dumps(identity, sort_keys=True, default=str).encode("utf-8"))


def _strings(data: object):
    """Every string value in nested dicts and lists (keys left out)."""
    if isinstance(data, str):
        yield data
    elif isinstance(data, Mapping):
        for value in data.values():
            yield from _strings(value)
    elif isinstance(data, list | tuple):
        for value in data:
            yield from _strings(value)


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


def attach_provenance(
    findings: dict,
    wave_inputs_path: str | Path,
    description_path: str | Path,
    *,
    settings: Mapping,
    files: Mapping[str, str | Path],
) -> dict:
    """Write the brief's inputs description (describe_brief) to `description_path` and put
    its provenance into `findings` (returned)."""
    wave_inputs = json.loads(Path(wave_inputs_path).read_text(encoding="utf-8"))
    described = describe_brief(wave_inputs, settings=settings, files=files)
    write_json(described, Path(description_path))
    findings["provenance"] = brief_provenance(described, description_path)
    return findings


def brief_provenance(inputs: Mapping, inputs_path: str | Path) -> dict:
    """What a brief's provenance appendix prints, from its inputs description (the file
    describe_brief wrote): run ID, the description's own SHA-256 (`sha256sum` on it checks a
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
