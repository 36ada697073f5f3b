"""Snakemake adapter: theme tables, co-occurrence, sex differences, reliability, quote bank
(only quotes a person approved for exactly their redacted text) and the quote review sheet."""

import json
import sys
from pathlib import Path

import pandas as pd

from analysis.disclosure import protect_crosstab
from analysis.interviews.quotes import candidate_quotes
from analysis.interviews.reliability import reliability_table
from analysis.interviews.review import apply_reviews, reviews_of_wave
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
from analysis.provenance.tiers import owner_only, protect_outputs
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
    candidates, excluded = candidate_quotes(interviews, codes=codes, threshold=threshold)
    wave = sm.wildcards.wave
    reviews = reviews_of_wave(
        getattr(sm.input, "reviews", None),
        dataset=sm.wildcards.dataset,
        wave=wave,
        table=interviews,
    )
    reviewed = apply_reviews(candidates, reviews, wave=wave)
    with owner_only():  # quotes before and after review: restricted tier
        write_csv(reviewed.sheet, Path(sm.output.quote_review))
        write_csv(reviewed.bank, Path(sm.output.quotes))
        left_out = pd.concat([excluded, reviewed.excluded], ignore_index=True)
        left_out = left_out.sort_values("quote_id", na_position="first", kind="stable")
        write_csv(left_out, Path(sm.output.quotes_excluded))
    for quote_id in reviewed.stale:
        print(f"quote {quote_id}: its review no longer applies; review it again", file=sys.stderr)
    j.seeds["reliability_bootstrap"] = sm.params.seed
    j.note(
        "quotes",
        {
            "candidates": len(candidates),
            "approved": len(reviewed.bank),
            "excluded": len(excluded) + len(reviewed.excluded),
            "review_no_longer_applies": reviewed.stale,
        },
    )
    protect_outputs(sm.output, sm.config["results_dir"])  # small cells: owner-only
