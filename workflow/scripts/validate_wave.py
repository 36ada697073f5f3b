"""Snakemake adapter: check one ingested wave against its codebook; bad rows to quarantine.

Validated rows and the quarantine are restricted tier, written owner-only
(analysis.provenance.tiers); the
quarantine names rows by number, never by respondent ID (analysis.validate.wave).
"""

import dataclasses
from pathlib import Path

from analysis.io import read_ingested, write_ingested
from analysis.provenance import job
from analysis.provenance.tiers import owner_only, protect
from analysis.tables import write_csv, write_json
from analysis.validate.codebook import load_codebook
from analysis.validate.wave import validate

sm = snakemake  # noqa: F821 (snakemake is injected)

with job(sm) as j:
    table = read_ingested(Path(sm.input.table), Path(sm.input.meta))
    result = validate(
        table,
        load_codebook(Path(sm.input.codebook)),
        dataset=sm.wildcards.dataset,
        file=str(sm.input.raw),
        on_row_error=sm.params.on_row_error,
    )
    # Stored like the ingested wave, so mixed types (Stata's .a beside numbers) survive as is.
    valid = dataclasses.replace(table, data=result.valid)
    with owner_only():
        write_ingested(valid, Path(sm.output.valid), Path(sm.output.valid_meta))
        write_csv(result.quarantine, Path(sm.output.quarantine))
        write_json(result.report, Path(sm.output.report))
    for name in ("valid", "valid_meta", "quarantine", "report"):
        protect(getattr(sm.output, name), sm.config["results_dir"])
    j.note("reconciliation", result.report)
