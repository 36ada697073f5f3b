"""Snakemake adapter: the findings of a results framework's one-page results brief."""

import json
from pathlib import Path

import pandas as pd

from analysis.findings.book import to_yaml
from analysis.findings.results import ResultsBrief
from analysis.provenance import job
from analysis.provenance.runinfo import brief_provenance
from analysis.tables import write_text

sm = snakemake  # noqa: F821 (snakemake is injected)

with job(sm):
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
    findings = brief.findings(
        inputs["source_date_epoch"], brief_provenance(inputs, sm.input.inputs)
    )
    write_text(to_yaml(findings), Path(sm.output.findings))
