"""Snakemake adapter: changes of a survey dataset's estimates between consecutive waves."""

from pathlib import Path

import pandas as pd

from analysis.provenance import job
from analysis.survey.trends import compare_waves
from analysis.tables import write_table

sm = snakemake  # noqa: F821 (snakemake is injected)

with job(sm) as j:
    tables = {
        wave: pd.read_parquet(path)
        for wave, path in zip(sm.params.waves, sm.input.estimates, strict=True)
    }
    trends = compare_waves(tables)
    write_table(trends, parquet=Path(sm.output.parquet), csv=Path(sm.output.csv))
    j.note("waves", len(tables))
    j.note("changes", len(trends))
