"""Snakemake adapter: the short note a country with too little data gets instead of a brief."""

import json
from pathlib import Path

from analysis.findings.country import country_note, plan_entry
from analysis.provenance import job
from analysis.tables import write_text

sm = snakemake  # noqa: F821 (snakemake is injected)

with job(sm):
    plan = json.loads(Path(sm.input.plan).read_text(encoding="utf-8"))
    note = country_note(
        Path(sm.input.template).read_text(encoding="utf-8"),
        plan_entry(plan, sm.wildcards.brief),
        wave=sm.wildcards.wave,
        min_respondents=plan["min_respondents"],
        threshold=sm.params.threshold,
    )
    write_text(note, Path(sm.output.note))
