"""The run as a Workflow Run RO-Crate (Provenance Run Crate profile 0.5).

The crate lives in results/provenance/; files are referenced by paths relative to it
(e.g. `../clean/officer_survey/2025.parquet`, `../../data/raw/...`). Its content follows from
the manifest and the job records: only the action times (and `datePublished`, the run's end)
change from run to run.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analysis.hashing import sha256_file
from analysis.provenance.common import is_secret_key, to_jsonable, write_json_atomic

CRATE_FILE = "ro-crate-metadata.json"
CONTEXT = [
    "https://w3id.org/ro/crate/1.1/context",
    "https://w3id.org/ro/terms/workflow-run/context",
]
PROFILES = {
    "https://w3id.org/ro/wfrun/process/0.5": ("Process Run Crate", "0.5"),
    "https://w3id.org/ro/wfrun/workflow/0.5": ("Workflow Run Crate", "0.5"),
    "https://w3id.org/ro/wfrun/provenance/0.5": ("Provenance Run Crate", "0.5"),
    "https://w3id.org/workflowhub/workflow-ro-crate/1.0": ("Workflow RO-Crate", "1.0"),
}
SNAKEMAKE_LANGUAGE = "https://w3id.org/workflowhub/workflow-ro-crate#snakemake"
DEFAULT_LICENSE = "https://spdx.org/licenses/MIT"


def ref(identifier: str) -> dict[str, str]:
    return {"@id": identifier}


def slug(text: str) -> str:
    """A fragment-safe form of a job or rule name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")


def _value_type(value: Any) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int):
        return "Integer"
    if isinstance(value, float):
        return "Float"
    if isinstance(value, Mapping | list | tuple):
        return "PropertyValue"
    return "Text"


def _value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(to_jsonable(value), sort_keys=True)


def _find_snakefile(root: Path) -> str:
    for candidate in ("Snakefile", "workflow/Snakefile"):
        if (root / candidate).is_file():
            return candidate
    return "Snakefile"


def _rule_order(manifest: Mapping[str, Any]) -> list[str]:
    """Rules in dependency order (a rule after the rules whose outputs it reads), ties by name."""
    jobs, outputs = manifest["jobs"], manifest["outputs"]
    needs: dict[str, set[str]] = {}
    for job in jobs.values():
        deps = needs.setdefault(job["rule"], set())
        for item in job.get("inputs") or []:
            producer = outputs.get(item["path"])
            if producer is not None and jobs[producer["job"]]["rule"] != job["rule"]:
                deps.add(jobs[producer["job"]]["rule"])
    order: list[str] = []
    while len(order) < len(needs):
        ready = sorted(r for r in needs if r not in order and needs[r] <= set(order))
        order.extend(ready or sorted(r for r in needs if r not in order)[:1])
    return order


def build_crate(
    manifest: Mapping[str, Any],
    records: Sequence[Mapping[str, Any]],
    out_dir: Path | str,
    config: Mapping[str, Any],
    *,
    root: Path | str | None = None,
    snakefile: str | None = None,
) -> dict[str, Any]:
    """The crate's JSON-LD as a dict (see `write_crate`)."""
    root = Path.cwd() if root is None else Path(root)
    out_abs = Path(os.path.abspath(root / out_dir))
    snakefile = snakefile or _find_snakefile(root)
    times = {r["job"]: (r.get("started_at"), r.get("ended_at")) for r in records}
    jobs, outputs = manifest["jobs"], manifest["outputs"]
    graph: dict[str, dict[str, Any]] = {}

    def add(entity: dict[str, Any]) -> str:
        graph[entity["@id"]] = entity
        return entity["@id"]

    def file_id(path: str) -> str:
        return Path(os.path.relpath(os.path.abspath(root / path), out_abs)).as_posix()

    def add_file(path: str, sha256: str | None, size: int | None, **extra: Any) -> str:
        entity = {"@id": file_id(path), "@type": "File", "name": path, **extra}
        if sha256:
            entity["sha256"] = sha256
        if size is not None:
            entity["contentSize"] = str(size)
        if entity["@id"] in graph:
            entity = {**graph[entity["@id"]], **entity}
        return add(entity)

    for path, entry in manifest["raw"].items():
        add_file(path, entry["sha256"], entry["size"], description="raw input (immutable)")
    for job in jobs.values():
        for item in job.get("inputs") or []:
            if file_id(item["path"]) not in graph:
                add_file(item["path"], item["sha256"], item.get("size"))
    for path, entry in outputs.items():
        add_file(path, entry["sha256"], entry["size"])

    # Software: the engine and the packages each rule ran with.
    versions: dict[str, Any] = {}
    for job in jobs.values():
        versions.update(job.get("software") or {})
    engine_version = versions.get("snakemake") or "unknown"
    engine = add(
        {
            "@id": f"#snakemake-{engine_version}",
            "@type": "SoftwareApplication",
            "name": f"Snakemake {engine_version}",
            "version": engine_version,
            "url": ref("https://snakemake.readthedocs.io"),
        }
    )
    add(
        {
            "@id": SNAKEMAKE_LANGUAGE,
            "@type": "ComputerLanguage",
            "name": "Snakemake",
            "identifier": ref("https://snakemake.readthedocs.io"),
            "url": ref("https://snakemake.readthedocs.io"),
            "version": engine_version,
        }
    )

    def software_refs(job: Mapping[str, Any]) -> list[dict[str, str]]:
        refs = []
        for name, version in sorted((job.get("software") or {}).items()):
            if version is None:
                continue
            refs.append(
                ref(
                    add(
                        {
                            "@id": f"#software-{slug(name)}-{slug(str(version))}",
                            "@type": "SoftwareApplication",
                            "name": name,
                            "version": str(version),
                        }
                    )
                )
            )
        return refs

    # Config values: FormalParameters of the workflow, realised by PropertyValues.
    params, values = [], []
    for key in sorted(config):
        if is_secret_key(key):
            continue
        value = config[key]
        param = add(
            {
                "@id": f"#param-{slug(key)}",
                "@type": "FormalParameter",
                "name": key,
                "additionalType": _value_type(value),
                "valueRequired": "False",
                "workExample": ref(f"#pv-{slug(key)}"),
            }
        )
        params.append(ref(param))
        values.append(
            ref(
                add(
                    {
                        "@id": f"#pv-{slug(key)}",
                        "@type": "PropertyValue",
                        "name": key,
                        "value": _value_text(value),
                        "exampleOfWork": ref(param),
                    }
                )
            )
        )

    # Prospective provenance: one tool and one step per rule.
    tools, steps = {}, {}
    for position, rule in enumerate(_rule_order(manifest)):
        rule_jobs = [j for j in jobs.values() if j["rule"] == rule]
        tool: dict[str, Any] = {
            "@id": f"#rule-{slug(rule)}",
            "@type": "SoftwareApplication",
            "name": f"rule {rule}",
        }
        scripts = sorted(
            {
                (s["path"], s["sha256"])
                for j in rule_jobs
                if (s := (j.get("code") or {}).get("script"))
            }
        )
        if scripts:
            tool["hasPart"] = [
                ref(add_file(p, h, None, **{"@type": ["File", "SoftwareSourceCode"]}))
                for p, h in scripts
            ]
        requirements: dict[str, dict[str, str]] = {}
        for j in rule_jobs:
            requirements.update({r["@id"]: r for r in software_refs(j)})
        if requirements:
            tool["softwareRequirements"] = [requirements[k] for k in sorted(requirements)]
        tools[rule] = add(tool)
        steps[rule] = add(
            {
                "@id": f"#step-{slug(rule)}",
                "@type": "HowToStep",
                "name": rule,
                "position": str(position),
                "workExample": ref(tools[rule]),
            }
        )

    snakefile_entity: dict[str, Any] = {
        "@id": file_id(snakefile),
        "@type": ["File", "SoftwareSourceCode", "ComputationalWorkflow", "HowTo"],
        "name": snakefile,
        "programmingLanguage": ref(SNAKEMAKE_LANGUAGE),
        "input": params,
        "hasPart": [ref(tools[r]) for r in sorted(tools)],
        "step": [ref(steps[r]) for r in sorted(steps)],
    }
    if (root / snakefile).is_file():
        snakefile_entity["sha256"] = sha256_file(root / snakefile)
    workflow = add(snakefile_entity)

    # Retrospective provenance: one CreateAction (and ControlAction) per job.
    controls, starts, ends = [], [], []
    for jid in sorted(jobs):
        job = jobs[jid]
        start, end = times.get(jid, (None, None))
        starts += [start] if start else []
        ends += [end] if end else []
        action: dict[str, Any] = {
            "@id": f"#job-{slug(jid)}",
            "@type": "CreateAction",
            "name": f"Run of rule {job['rule']} ({jid})",
            "instrument": ref(tools[job["rule"]]),
            "object": [ref(file_id(i["path"])) for i in job.get("inputs") or []],
            "result": [
                ref(file_id(o["path"])) for o in job.get("outputs") or [] if o["path"] in outputs
            ],
        }
        if start:
            action["startTime"] = start
        if end:
            action["endTime"] = end
        add(action)
        if job.get("record"):
            add_file(
                job["record"],
                None,
                None,
                description=f"job record of {jid}",
                encodingFormat="application/json",
                about=ref(action["@id"]),
            )
        controls.append(
            ref(
                add(
                    {
                        "@id": f"#control-{slug(jid)}",
                        "@type": "ControlAction",
                        "name": f"orchestrate rule {job['rule']} ({jid})",
                        "instrument": ref(steps[job["rule"]]),
                        "object": ref(action["@id"]),
                    }
                )
            )
        )

    consumed = {i["path"] for j in jobs.values() for i in j.get("inputs") or []}
    run: dict[str, Any] = {
        "@id": "#run",
        "@type": "CreateAction",
        "name": f"Run of {snakefile}",
        "instrument": ref(workflow),
        "object": [ref(file_id(p)) for p in sorted(manifest["raw"])] + values,
        "result": [ref(file_id(p)) for p in sorted(outputs) if p not in consumed],
    }
    organize: dict[str, Any] = {
        "@id": "#engine-run",
        "@type": "OrganizeAction",
        "name": f"Run of Snakemake {engine_version}",
        "instrument": ref(engine),
        "object": controls,
        "result": ref("#run"),
    }
    for action in (run, organize):
        if starts:
            action["startTime"] = min(starts)
        if ends:
            action["endTime"] = max(ends)
        add(action)

    for uri, (name, version) in PROFILES.items():
        add({"@id": uri, "@type": "CreativeWork", "name": name, "version": version})
    add(
        {
            "@id": CRATE_FILE,
            "@type": "CreativeWork",
            "about": ref("./"),
            "conformsTo": [
                ref("https://w3id.org/ro/crate/1.1"),
                ref("https://w3id.org/workflowhub/workflow-ro-crate/1.0"),
            ],
        }
    )
    license_id = str(config.get("license") or DEFAULT_LICENSE)
    add({"@id": license_id, "@type": "CreativeWork", "name": license_id.rsplit("/", 1)[-1]})
    parts = sorted(
        i
        for i, e in graph.items()
        if not i.startswith(("#", "http")) and "File" in _types(e) and i != CRATE_FILE
    )
    add(
        {
            "@id": "./",
            "@type": "Dataset",
            "name": "wps-evidence workflow run",
            "description": (
                "Provenance of one run of the wps-evidence workflow: raw inputs, every job with "
                "its inputs, outputs, code and software, and the results, with SHA-256 hashes. "
                f"Manifest content_hash {manifest.get('content_hash')}."
            ),
            "datePublished": _published(ends),
            "license": ref(license_id),
            "conformsTo": [ref(uri) for uri in PROFILES],
            "mainEntity": ref(workflow),
            "mentions": ref("#run"),
            "hasPart": [ref(i) for i in parts],
        }
    )
    return {"@context": CONTEXT, "@graph": [graph[i] for i in sorted(graph)]}


def _types(entity: Mapping[str, Any]) -> list[str]:
    kind = entity.get("@type", [])
    return [kind] if isinstance(kind, str) else list(kind)


def _published(ends: list[str]) -> str:
    """SOURCE_DATE_EPOCH when set, else the run's last end time, else the Unix epoch."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC).isoformat()
    return max(ends) if ends else datetime.fromtimestamp(0, UTC).isoformat()


def write_crate(
    manifest: Mapping[str, Any],
    records: Sequence[Mapping[str, Any]],
    out_dir: Path | str,
    config: Mapping[str, Any],
    *,
    root: Path | str | None = None,
    snakefile: str | None = None,
) -> Path:
    """Write <out_dir>/ro-crate-metadata.json for the run described by manifest and records.

    `root` is the folder the manifest's paths are relative to (default: the working folder);
    `snakefile` is the workflow's path from there (default: Snakefile or workflow/Snakefile).
    """
    crate = build_crate(manifest, records, out_dir, config, root=root, snakefile=snakefile)
    folder = Path(out_dir) if root is None else Path(root) / out_dir
    return write_json_atomic(crate, folder / CRATE_FILE)
