"""Snakemake adapter: read one raw wave file, keeping labels and user-missing codes."""

from pathlib import Path

from analysis.io import read_raw, write_ingested
from analysis.provenance import job

with job(snakemake) as j:  # noqa: F821 (snakemake is injected)
    table = read_raw(Path(snakemake.input.raw), dataset=snakemake.wildcards.dataset)  # noqa: F821
    write_ingested(table, Path(snakemake.output.table), Path(snakemake.output.meta))  # noqa: F821
    j.note("rows_read", len(table.data))
