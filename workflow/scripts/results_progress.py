"""Snakemake adapter: a results framework's progress against its targets, and its chart.

Reads the cleaned wave, refuses what cannot be read honestly (analysis.results_framework.indicators:
a percentage above 100 or without its base, a period that does not parse, ...), writes the
progress table (parquet and CSV) and the progress chart (SVG, PNG, alt text).
"""

from pathlib import Path

import pandas as pd

from analysis.findings.results import progress_figure
from analysis.provenance import job
from analysis.results_framework.indicators import check_framework, progress_table
from analysis.tables import write_csv, write_parquet

sm = snakemake  # noqa: F821 (snakemake is injected)

with job(sm) as j:
    frame = pd.read_parquet(sm.input.clean)
    check_framework(frame, dataset=sm.wildcards.dataset, file=str(sm.input.raw))
    progress = progress_table(frame)
    write_parquet(progress, Path(sm.output.table))
    write_csv(progress, Path(sm.output.csv))
    progress_figure(progress, Path(sm.output.svg).with_suffix(""))
    j.note("indicators", int(progress["indicator_id"].nunique()))
    j.note("rows_not_reported", int((~progress["reported"]).sum()))
