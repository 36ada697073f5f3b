"""Snakemake adapter: theme tables, co-occurrence, sex differences, reliability, quote bank."""

import json
from pathlib import Path

import pandas as pd

from analysis.disclosure import protect_crosstab
from analysis.interviews.quotes import build_quote_bank
from analysis.interviews.reliability import reliability_table
from analysis.interviews.themes import (
    code_frequencies,
    codes_from_codebook,
    cooccurrence,
    indicator_matrix,
    protected_frequency_table,
    sex_differences_survivors,
    theme_matrix,
)
from analysis.provenance import job
from analysis.provenance.tiers import protect_outputs
from analysis.tables import write_csv

sm = snakemake  # noqa: F821 (snakemake is injected)

with job(sm) as j:
    interviews = pd.read_parquet(sm.input.table)
    codes = codes_from_codebook(json.loads(Path(sm.input.codebook).read_text(encoding="utf-8")))
    threshold = sm.params.threshold
    write_csv(code_frequencies(interviews, codes), Path(sm.output.frequencies))
    themes = protected_frequency_table(interviews, codes, threshold=threshold)
    write_csv(themes.table.reset_index(), Path(sm.output.themes))
    write_csv(cooccurrence(interviews, codes).reset_index(), Path(sm.output.cooccurrence))
    themes_by_interview = theme_matrix(indicator_matrix(interviews, codes), codes)
    together = (themes_by_interview.T @ themes_by_interview).astype(int)
    together.index.name = "theme"
    write_csv(
        protect_crosstab(together, threshold=threshold).table.reset_index(),
        Path(sm.output.theme_cooccurrence),
    )
    write_csv(sex_differences_survivors(interviews, codes), Path(sm.output.sex_differences))
    reliability = reliability_table(interviews, codes, seed=sm.params.seed)
    write_csv(reliability, Path(sm.output.reliability))
    bank, excluded = build_quote_bank(interviews, codes=codes, threshold=threshold)
    write_csv(bank, Path(sm.output.quotes))
    write_csv(excluded, Path(sm.output.quotes_excluded))
    j.seeds["reliability_bootstrap"] = sm.params.seed
    j.note("quotes", {"kept": len(bank), "excluded": len(excluded)})
    protect_outputs(sm.output, sm.config["results_dir"])  # small cells: owner-only
