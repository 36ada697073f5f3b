"""Snakemake adapter: draw a wave's brief figures (SVG, PNG, alt text) from protected tables."""

from pathlib import Path

import pandas as pd

from analysis.findings.figures import theme_cooccurrence, training_gain, women_by_country
from analysis.provenance import job

sm = snakemake  # noqa: F821 (snakemake is injected)


def base(name: str) -> Path:
    return Path(sm.output[f"{name}_svg"]).with_suffix("")


with job(sm):
    estimates = pd.read_parquet(sm.input.estimates)
    women_by_country(estimates, base("women_by_country"), sm.params.threshold)
    training_gain(pd.read_parquet(sm.input.prepost), base("training_gain"))
    theme_cooccurrence(
        pd.read_csv(sm.input.interviews_theme_cooccurrence), base("code_cooccurrence")
    )
