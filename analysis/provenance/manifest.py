"""The run manifest: every output, job and raw file with hashes, and each file's raw lineage.

The manifest holds no times (they live only in job records), so two runs on the same inputs give
byte-identical manifests and the same `content_hash`. The `content_hash` covers every section
(raw, jobs, outputs, targets, lineage, warnings...), so an edit anywhere, or a damaged file,
fails `wps audit`. It guards against accidents and careless edits, not against someone who
edits the manifest and recomputes the hash (that would need a signature).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from analysis.errors import WpsInputError
from analysis.hashing import file_fact, sha256_bytes
from analysis.ingest.raw_integrity import compare_checksums
from analysis.provenance.common import MANIFEST_SCHEMA, display_path, dumps, write_json_atomic
from analysis.provenance.record import load_records

PROVENANCE_FILES = ("manifest.json", "ro-crate-metadata.json")  # in <results>/provenance/
JOB_FIELDS = (
    "rule",
    "wildcards",
    "params",
    "inputs",
    "outputs",
    "log",
    "record",
    "code",
    "software",
    "seeds",
    "notes",
    "made_from",
)


def raw_files(raw_dir: Path | str, root: Path | None = None) -> dict[str, dict[str, Any]]:
    """{path: {"sha256", "size"}} of every file under the raw folder (hidden files skipped)."""
    found = {}
    raw_dir = Path(raw_dir)
    if not raw_dir.is_dir():
        return found
    for path in sorted(raw_dir.rglob("*")):
        rel = path.relative_to(raw_dir)
        if not path.is_file() or any(part.startswith(".") for part in rel.parts):
            continue
        fact = file_fact(path, display_path(path, root))
        found[fact["path"]] = {"sha256": fact["sha256"], "size": fact["size"]}
    return found


HASHED_OUT = "content_hash"  # the one field the hash does not cover: itself
SECTIONS = ("schema", "raw_dir", "results_dir", "records_dir", "raw", "jobs", "outputs", "lineage")
RERUN = "Rebuild it by rerunning the workflow (make run)."


class ManifestError(WpsInputError):
    """The manifest cannot be read or is not a manifest of this version."""


def content_hash(manifest: Mapping[str, Any]) -> str:
    """SHA-256 over the whole manifest but this hash: its canonical JSON (sorted keys)."""
    covered = {key: value for key, value in manifest.items() if key != HASHED_OUT}
    return sha256_bytes(dumps(covered).encode("utf-8"))


def load_manifest(path: Path | str) -> dict[str, Any]:
    """Read a manifest, or raise ManifestError saying what is wrong with the file and what to do
    (a truncated file, not JSON, an older format, a missing section)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise ManifestError("there is no manifest", file=path, hint=RERUN) from err
    except (OSError, UnicodeDecodeError) as err:
        raise ManifestError(f"the manifest cannot be read ({err})", file=path, hint=RERUN) from err
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as err:
        cut = "" if text.rstrip().endswith("}") else " (the file ends early: truncated?)"
        raise ManifestError(
            f"the manifest is damaged: not valid JSON at line {err.lineno}, column {err.colno}: "
            f"{err.msg}{cut}",
            file=path,
            hint=RERUN,
        ) from err
    if not isinstance(manifest, dict):
        raise ManifestError("the manifest is not a JSON object", file=path, hint=RERUN)
    if manifest.get("schema") != MANIFEST_SCHEMA:
        raise ManifestError(
            f"the manifest's schema is {manifest.get('schema')!r}, this version of wps reads "
            f"{MANIFEST_SCHEMA!r}",
            file=path,
            hint=RERUN,
        )
    absent = [key for key in (*SECTIONS, HASHED_OUT) if key not in manifest]
    if absent:
        raise ManifestError(
            f"the manifest has no {', '.join(absent)} section", file=path, hint=RERUN
        )
    return manifest


def _is_under(path: str, folder: str) -> bool:
    folder = folder.rstrip("/")
    return folder in ("", ".") or path == folder or path.startswith(folder + "/")


# Folders under results/ whose files are Snakemake temp() outputs: ingested and validated raw
# rows still carry direct identifiers, so they are deleted once cleaning has run.
TEMPORARY_FOLDERS = ("ingest", "validated")


def build_manifest(
    records_dir: Path | str,
    results_dir: Path | str,
    raw_dir: Path | str,
    *,
    root: Path | None = None,
    targets: Iterable[Path | str] = (),
    provenance_files: Iterable[Path | str] = (),
) -> dict[str, Any]:
    """The manifest of a run from its job records, the results folder and the raw folder.

    `targets` are the files the workflow was asked to make (`rule all`): `wps audit` checks
    that a recorded job made each of them. `provenance_files` are the files of the job writing
    the manifest (its log), so the audit does not take them for strays. Paths are shown
    relative to `root` (default: the working folder, where Snakemake runs).
    """
    root = Path.cwd() if root is None else Path(root)
    provenance_files = list(provenance_files)
    records = load_records(records_dir)
    records_prefix = display_path(records_dir, root)
    raw_prefix = display_path(raw_dir, root)
    raw = raw_files(raw_dir, root)

    results_prefix = display_path(results_dir, root)
    own_files = {f"{results_prefix}/provenance/{name}" for name in PROVENANCE_FILES}
    jobs: dict[str, dict[str, Any]] = {}
    outputs: dict[str, dict[str, Any]] = {}
    warnings: list[str] = []
    record_paths = {r.get("record") for r in records}
    for record in records:
        jid = record["job"]
        made = {out["path"] for out in record.get("outputs", [])}
        if made and made <= own_files:
            continue  # the job writing the manifest and crate, from the run before

        if jid in jobs:
            warnings.append(f"job {jid} has more than one record; kept {record.get('record')}")
        jobs[jid] = {field: record.get(field) for field in JOB_FIELDS}
        for out in record.get("outputs", []):
            path = out["path"]
            if path in record_paths or path in own_files or _is_under(path, records_prefix):
                continue
            if path in outputs and outputs[path]["job"] != jid:
                warnings.append(f"{path} is claimed by jobs {outputs[path]['job']} and {jid}")
            outputs[path] = {"sha256": out["sha256"], "size": out["size"], "job": jid}
            if any(_is_under(path, f"{results_prefix}/{d}") for d in TEMPORARY_FOLDERS):
                # a temp() output Snakemake deletes after use (raw rows with identifiers):
                # its hash stays for the lineage; audit checks it only if it is there.
                outputs[path]["temporary"] = True

    for jid, entry in sorted(jobs.items()):
        for item in entry.get("inputs") or []:
            path, recorded = item["path"], item["sha256"]
            known = outputs.get(path) or raw.get(path)
            if known is not None and known["sha256"] != recorded:
                origin = f"job {outputs[path]['job']}" if path in outputs else "the raw folder"
                warnings.append(
                    f"job {jid} read {path} with sha256 {recorded}, but {origin} now has "
                    f"{known['sha256']}: its record is stale; rerun the workflow"
                )

    logs = {p for entry in jobs.values() for p in entry.get("log") or []}
    logs |= {display_path(p, root) for p in provenance_files}
    unrecorded = []
    if Path(results_dir).is_dir():
        for path in sorted(Path(results_dir).rglob("*")):
            shown = display_path(path, root)
            if (
                path.is_file()
                and shown not in outputs
                and shown not in logs
                and shown not in record_paths
                and not _is_under(shown, f"{results_prefix}/provenance")
                and not any(part.startswith(".") for part in path.relative_to(results_dir).parts)
            ):
                unrecorded.append(shown)

    manifest = {
        "schema": MANIFEST_SCHEMA,
        "raw_dir": raw_prefix,
        "results_dir": results_prefix,
        "records_dir": records_prefix,
        "raw": raw,
        "jobs": jobs,
        "outputs": outputs,
        "targets": sorted({display_path(t, root) for t in targets} - own_files),
        "provenance_files": sorted(own_files | {display_path(p, root) for p in provenance_files}),
        "unrecorded": unrecorded,
        "warnings": sorted(warnings),
        "raw_checksums": checksum_differences(raw_dir, raw_prefix),
    }
    manifest["lineage"] = lineage(manifest)
    manifest[HASHED_OUT] = content_hash(manifest)
    return manifest


def checksum_differences(raw_dir: Path | str, raw_prefix: str) -> list[str]:
    """Raw files the run used that differ from, or are missing from, the raw folder's
    SHA256SUMS (empty when they all match, or when there is no SHA256SUMS)."""
    report = compare_checksums(raw_dir)
    if report is None:
        return []
    sums = f"{raw_prefix}/SHA256SUMS"
    changed = [
        f"{raw_prefix}/{rel} differs from {sums} (sha256 listed {listed}, used {now})"
        for rel, listed, now in report.changed
    ]
    gone = [f"{raw_prefix}/{rel} is listed in {sums} but gone" for rel in report.missing]
    return changed + gone


def write_manifest(manifest: Mapping[str, Any], path: Path | str) -> Path:
    """Write the manifest atomically as JSON (sorted keys, indent 2)."""
    return write_json_atomic(manifest, path)


def _is_raw(manifest: Mapping[str, Any], path: str) -> bool:
    return path in manifest["raw"] or (
        path not in manifest["outputs"] and _is_under(path, manifest.get("raw_dir", "data/raw"))
    )


def inputs_of(job: Mapping[str, Any], path: str) -> list[str]:
    """The inputs an output of `job` rests on: those its record names for it (`made_from`, a job
    making several outputs from different inputs), else every input of the job."""
    named = (job.get("made_from") or {}).get(path)
    if named is not None:
        return list(named)
    return [item["path"] for item in job.get("inputs") or []]


def lineage(manifest: Mapping[str, Any]) -> dict[str, list[str]]:
    """For each output and job input: the raw files it ultimately derives from (sorted)."""
    outputs, jobs = manifest["outputs"], manifest["jobs"]
    memo: dict[str, frozenset[str]] = {}

    def walk(path: str, visiting: frozenset[str]) -> frozenset[str]:
        if path in memo:
            return memo[path]
        if _is_raw(manifest, path):
            found = frozenset([path])
        elif path in outputs and path not in visiting:
            found = frozenset()
            for item in inputs_of(jobs[outputs[path]["job"]], path):
                found |= walk(item, visiting | {path})
        else:
            found = frozenset()
        memo[path] = found
        return found

    paths = set(outputs)
    for job in jobs.values():
        paths.update(item["path"] for item in job.get("inputs") or [])
    return {path: sorted(walk(path, frozenset())) for path in sorted(paths)}


def trace(manifest: Mapping[str, Any], path: str) -> list[dict[str, Any]]:
    """The jobs that led to `path`, from the ones reading raw files to the one that wrote it.

    Each step: {"job", "rule", "wildcards", "script", "inputs", "outputs"}, files as
    {"path", "sha256", "raw"}. Raises KeyError when the path is neither an output nor raw.
    """
    outputs, jobs = manifest["outputs"], manifest["jobs"]
    if path not in outputs:
        if _is_raw(manifest, path):
            return []
        raise KeyError(
            f"{path} is not an output in the manifest; run the workflow (snakemake) so that "
            "results/provenance/manifest.json lists it"
        )
    # the outputs that led to `path`, each with the job that made it
    used: dict[str, set[str]] = {}  # job -> the paths of its inputs those outputs rest on
    seen: set[str] = set()
    stack = [path]
    while stack:
        out = stack.pop()
        if out in seen or out not in outputs:
            continue
        seen.add(out)
        jid = outputs[out]["job"]
        rests_on = inputs_of(jobs[jid], out)
        used.setdefault(jid, set()).update(rests_on)
        stack.extend(rests_on)
    needed = set(used)

    def upstream(jid: str) -> set[str]:
        return {outputs[p]["job"] for p in used[jid] if p in outputs} & needed - {jid}

    order: list[str] = []
    done: set[str] = set()
    while len(order) < len(needed):
        ready = sorted(j for j in needed - done if upstream(j) <= done)
        if not ready:  # a cycle: should not happen in a Snakemake DAG
            ready = sorted(needed - done)[:1]
        order.extend(ready)
        done.update(ready)

    def facts(items: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [
            {"path": i["path"], "sha256": i["sha256"], "raw": _is_raw(manifest, i["path"])}
            for i in items
        ]

    return [
        {
            "job": jid,
            "rule": jobs[jid]["rule"],
            "wildcards": jobs[jid]["wildcards"],
            "script": ((jobs[jid].get("code") or {}).get("script") or {}).get("path"),
            "inputs": facts([i for i in jobs[jid].get("inputs") or [] if i["path"] in used[jid]]),
            "outputs": facts(jobs[jid].get("outputs") or []),
        }
        for jid in order
    ]
