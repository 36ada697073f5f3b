"""Snakemake adapter: stop a wave whose headline shares moved implausibly far, until confirmed."""

from pathlib import Path

import pandas as pd

from analysis.provenance import job
from analysis.tables import write_json
from analysis.validate.plausibility import check_wave

sm = snakemake  # noqa: F821 (snakemake is injected)

with job(sm):
    before = sm.input.get("previous")
    record = check_wave(
        pd.read_parquet(sm.input.estimates),
        pd.read_parquet(before) if before else None,
        dataset=sm.wildcards.dataset,
        wave=sm.wildcards.wave,
        previous=sm.params.previous,
        bound_points=sm.params.bound,
        confirmed=sm.params.confirmed,
    )
    write_json(record, Path(sm.output.check))
