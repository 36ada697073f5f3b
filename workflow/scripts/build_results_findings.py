"""Snakemake adapter: the findings of a results framework's one-page results brief."""

import json
from pathlib import Path

import pandas as pd

from analysis.findings.book import to_yaml
from analysis.findings.results import ResultsBrief
from analysis.provenance import job
from analysis.provenance.runinfo import attach_provenance
from analysis.tables import write_text

sm = snakemake  # noqa: F821 (snakemake is injected)

with job(sm) as j:
    inputs = json.loads(Path(sm.input.inputs).read_text(encoding="utf-8"))
    codebook = json.loads(Path(sm.input.codebook).read_text(encoding="utf-8"))
    brief = ResultsBrief(
        dataset=sm.wildcards.dataset,
        wave=sm.wildcards.wave,
        progress=pd.read_parquet(sm.input.table),
        progress_table=str(sm.input.table),
        figure={"svg": str(sm.input.svg), "png": str(sm.input.png)},
        alt=Path(sm.input.alt).read_text(encoding="utf-8").strip(),
        title=str(codebook.get("title") or ""),
    )
    findings = brief.findings(inputs["source_date_epoch"], {})
    figures = {"figure_svg": sm.input.svg, "figure_png": sm.input.png, "figure_alt": sm.input.alt}
    attach_provenance(findings, sm.input.inputs, sm.output.inputs, settings={}, files=figures)
    write_text(to_yaml(findings), Path(sm.output.findings))
    j.note("run_id", findings["provenance"]["run_id"])
