"""Snakemake adapter: the findings of a survey dataset's default brief for one wave."""

import json
from pathlib import Path

import pandas as pd

from analysis.findings.book import to_yaml
from analysis.findings.dataset import DatasetBrief, Labels, ModelInputs
from analysis.provenance import job
from analysis.provenance.runinfo import attach_provenance, describe_wave, described_files
from analysis.tables import write_json, write_text

sm = snakemake  # noqa: F821 (snakemake is injected)

with job(sm) as j:
    # the wave's inputs description (run ID and date), which a survey's own brief reads too
    inputs = describe_wave(described_files(sm.input), pd.read_parquet(sm.input.clean))
    write_json(inputs, Path(sm.output.wave_inputs))
    models = [
        ModelInputs(
            model_id=model,
            terms=pd.read_parquet(sm.input[f"model_{model}"]),
            table=str(sm.input[f"model_{model}"]),
            card=json.loads(Path(sm.input[f"card_{model}"]).read_text(encoding="utf-8")),
            figure={"svg": str(sm.input[f"svg_{model}"]), "png": str(sm.input[f"png_{model}"])},
            alt=Path(sm.input[f"alt_{model}"]).read_text(encoding="utf-8").strip(),
        )
        for model in sm.params.models
    ]
    brief = DatasetBrief(
        dataset=sm.wildcards.dataset,
        wave=sm.wildcards.wave,
        estimates=pd.read_parquet(sm.input.estimates),
        estimates_table=str(sm.input.estimates),
        models=models,
        labels=Labels.from_codebook(json.loads(Path(sm.input.codebook).read_text("utf-8"))),
        threshold=sm.params.threshold,
    )
    findings = brief.findings(inputs["source_date_epoch"], {})
    # the default brief prints every estimate and model of the plan entry: all of it counts
    figures = {k: v for k, v in sm.input.items() if k.startswith(("svg_", "png_", "alt_"))}
    settings = sm.params.settings
    attach_provenance(
        findings, sm.output.wave_inputs, sm.output.inputs, settings=settings, files=figures
    )
    write_text(to_yaml(findings), Path(sm.output.findings))
    j.note("run_id", findings["provenance"]["run_id"])
