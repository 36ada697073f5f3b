"""Snakemake adapter: fit one model of the plan on one survey wave (terms table + model card)."""

from pathlib import Path

import pandas as pd

from analysis.figures.models import model_terms_figure
from analysis.provenance import job
from analysis.survey.estimate import run_models
from analysis.tables import write_json, write_table

sm = snakemake  # noqa: F821 (snakemake is injected)

with job(sm) as j:
    entry = {"design": sm.params.design, "derive": sm.params.derive, "models": [sm.params.spec]}
    ((terms, card),) = run_models(
        pd.read_parquet(sm.input.table), entry, dataset=sm.wildcards.dataset
    ).values()
    card = {**card, "dataset": sm.wildcards.dataset, "wave": sm.wildcards.wave}
    write_table(terms, parquet=Path(sm.output.parquet), csv=Path(sm.output.csv))
    write_json(card, Path(sm.output.card))
    model_terms_figure(terms, card["title"], Path(sm.output.figure_svg).with_suffix(""))
    j.note("n", card.get("n"))
