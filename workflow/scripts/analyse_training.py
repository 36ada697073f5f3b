"""Snakemake adapter: pre/post knowledge-test gains, ANCOVA and attrition of one training wave."""

from pathlib import Path

import pandas as pd

from analysis.provenance import job
from analysis.provenance.tiers import protect_outputs
from analysis.tables import write_csv, write_table
from analysis.training.prepost import ancova, attrition, gains

sm = snakemake  # noqa: F821 (snakemake is injected)

with job(sm) as j:
    data = pd.read_parquet(sm.input.table)
    table = pd.concat([gains(data), ancova(data)], ignore_index=True)
    write_table(table, parquet=Path(sm.output.parquet), csv=Path(sm.output.csv))
    write_csv(attrition(data), Path(sm.output.attrition))
    protect_outputs(sm.output, sm.config["results_dir"])  # small cells: owner-only
