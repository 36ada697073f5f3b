"""Snakemake adapter: the findings file of one brief (every number it prints, with its source)."""

import json
from pathlib import Path

from analysis.findings import to_yaml
from analysis.provenance import job
from analysis.regional_brief import TITLE, BriefTables, RegionalFindings
from analysis.tables import write_text

sm = snakemake  # noqa: F821 (snakemake is injected)

with job(sm):
    inputs = json.loads(Path(sm.input.inputs).read_text(encoding="utf-8"))
    paths = {name: str(path) for name, path in sm.input.items()}
    tables = BriefTables({k: v for k, v in paths.items() if not k.startswith("figure_")})
    builder = RegionalFindings(
        tables,
        wave=sm.wildcards.wave,
        threshold=sm.params.thresholds["threshold_officers"],
        interview_threshold=sm.params.thresholds["threshold_interviews"],
    )
    previous = sm.params.previous_wave
    book = builder.build(previous_wave=previous, figure_paths=paths)
    provenance = {
        "run_id": inputs["run_id"],
        "manifest_hash": inputs["inputs_sha256"],
        "git_commit": (inputs.get("git") or {}).get("commit"),
        "data_files": [f for f in inputs["files"] if f["role"].startswith(("raw_", "codebook_"))],
        "software": inputs["software"],
    }
    findings = book.to_dict(
        TITLE.format(wave=sm.wildcards.wave), inputs["source_date_epoch"], provenance
    )
    write_text(to_yaml(findings), Path(sm.output.findings))
