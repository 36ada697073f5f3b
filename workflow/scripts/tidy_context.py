"""Snakemake adapter: tidy the configured official statistics into the brief's context tables."""

from pathlib import Path

from analysis.findings.context import tidy_tables
from analysis.provenance import job
from analysis.tables import write_csv

sm = snakemake  # noqa: F821 (snakemake is injected)

with job(sm) as j:
    inputs = dict(sm.input.items())
    tables = tidy_tables(inputs.get("unodc_glotip_xlsx"), inputs.get("unsd_female_police_tsv"))
    for name, frame in tables.items():
        write_csv(frame, Path(sm.output[name]))
