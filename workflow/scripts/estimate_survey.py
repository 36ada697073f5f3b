"""Snakemake adapter: the plan's design-based estimates for one survey wave."""

from pathlib import Path

import pandas as pd

from analysis.provenance import job
from analysis.survey.estimate import run_estimates
from analysis.tables import write_table

sm = snakemake  # noqa: F821 (snakemake is injected)

with job(sm) as j:
    entry = {**sm.params.spec, "derive": sm.params.derive}  # derived variables of the plan
    estimates = run_estimates(pd.read_parquet(sm.input.table), entry, dataset=sm.wildcards.dataset)
    write_table(estimates, parquet=Path(sm.output.parquet), csv=Path(sm.output.csv))
    j.note("estimates", len(estimates))
