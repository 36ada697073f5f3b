"""Snakemake adapter: hash what a wave's briefs rest on and derive its run ID and date."""

from pathlib import Path

import pandas as pd

from analysis.provenance import job
from analysis.provenance.runinfo import describe_inputs, source_date_epoch
from analysis.tables import write_json

sm = snakemake  # noqa: F821 (snakemake is injected)

with job(sm) as j:
    files = {name: path for name, path in sm.input.items() if name != "clean"}
    raw = [path for role, path in files.items() if role.startswith("raw_")]
    epoch = source_date_epoch(pd.read_parquet(sm.input.clean), raw)
    description = describe_inputs(files, source_date_epoch=epoch)
    write_json(description, Path(sm.output.inputs))
    j.note("run_id", description["run_id"])
