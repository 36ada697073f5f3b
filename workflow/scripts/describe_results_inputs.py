"""Snakemake adapter: hash what a results brief rests on; its date is the day after the latest
reporting period in the framework (never the clock)."""

from pathlib import Path

import pandas as pd

from analysis.provenance import job
from analysis.provenance.runinfo import describe_inputs
from analysis.results_framework.indicators import source_date_epoch
from analysis.tables import write_json

sm = snakemake  # noqa: F821 (snakemake is injected)

with job(sm) as j:
    files = {name: path for name, path in sm.input.items() if name != "progress"}
    epoch = source_date_epoch(pd.read_parquet(sm.input.progress))
    description = describe_inputs(files, source_date_epoch=epoch)
    write_json(description, Path(sm.output.inputs))
    j.note("run_id", description["run_id"])
