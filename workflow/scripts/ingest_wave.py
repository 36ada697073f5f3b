"""Snakemake adapter: read one raw wave file, keeping labels and user-missing codes.

The ingested table holds raw rows, direct identifiers included: restricted tier, written
owner-only (see analysis.provenance.tiers).
"""

from pathlib import Path

from analysis.io import read_raw, write_ingested
from analysis.provenance import job
from analysis.provenance.tiers import owner_only, protect

sm = snakemake  # noqa: F821 (snakemake is injected)

with job(sm) as j:
    table = read_raw(Path(sm.input.raw), dataset=sm.wildcards.dataset)
    with owner_only():
        write_ingested(table, Path(sm.output.table), Path(sm.output.meta))
    for path in (sm.output.table, sm.output.meta):
        protect(path, sm.config["results_dir"])
    j.note("rows_read", len(table.data))
