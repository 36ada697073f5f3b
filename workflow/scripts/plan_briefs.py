"""Snakemake adapter (checkpoint): which countries of a wave get a brief, and which a note."""

from pathlib import Path

import pandas as pd

from analysis.findings.country import plan_country_briefs
from analysis.provenance import job
from analysis.tables import write_json

sm = snakemake  # noqa: F821 (snakemake is injected)

with job(sm) as j:
    plan = plan_country_briefs(
        pd.read_parquet(sm.input.clean),
        dataset=sm.params.dataset,
        file=sm.input.clean,
        wave=sm.wildcards.wave,
        min_respondents=sm.params.min_respondents,
    )
    write_json(plan, Path(sm.output.plan))
    j.note("country_briefs", len(plan["briefs"]))
    j.note("country_notes", len(plan["notes"]))
