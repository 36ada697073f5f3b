"""Snakemake adapter: the findings file of one brief (every number it prints, with its source)."""

import json
from pathlib import Path

import yaml

from analysis.findings import country as country_brief
from analysis.findings.book import to_yaml
from analysis.findings.regional import TITLE, BriefTables, RegionalFindings
from analysis.provenance import job
from analysis.provenance.runinfo import attach_provenance, quoted_plan
from analysis.tables import write_text

sm = snakemake  # noqa: F821 (snakemake is injected)

NOT_TABLES = ("figure_", "inputs", "plan", "quote_choice", "plausibility", "raw_", "codebook_")
DESCRIBED = ("figure_", "raw_", "codebook_")  # beside the wave's: the figures, other raw files

with job(sm) as j:
    brief, wave = sm.wildcards.brief, sm.wildcards.wave
    inputs = json.loads(Path(sm.input.inputs).read_text(encoding="utf-8"))
    paths = {name: str(path) for name, path in sm.input.items()}
    tables = BriefTables({k: v for k, v in paths.items() if not k.startswith(NOT_TABLES)})
    thresholds = sm.params.thresholds
    if brief == "regional":
        choice = yaml.safe_load(Path(sm.input.quote_choice).read_text(encoding="utf-8")) or {}
        builder = RegionalFindings(
            tables,
            wave=wave,
            threshold=thresholds["threshold_officers"],
            interview_threshold=thresholds["threshold_interviews"],
            quote_id=choice.get(brief),
        )
        title = TITLE.format(wave=wave)
    else:
        plan = json.loads(Path(sm.input.plan).read_text(encoding="utf-8"))
        entry = country_brief.plan_entry(plan, brief)
        builder = country_brief.CountryFindings(
            tables,
            country=entry["country"],
            slug=brief,
            wave=wave,
            threshold=thresholds["threshold_officers"],
        )
        title = country_brief.TITLE.format(country=entry["country"], wave=wave)
    book = builder.build(previous_wave=sm.params.previous_wave, figure_paths=paths)
    findings = book.to_dict(title, inputs["source_date_epoch"], {})
    # the run ID covers the plan entries this brief cites, not every entry of the dataset
    settings = {**sm.params.settings, "plan": quoted_plan(sm.params.settings["plan"], findings)}
    files = {k: v for k, v in paths.items() if k.startswith(DESCRIBED)}
    attach_provenance(findings, sm.input.inputs, sm.output.inputs, settings=settings, files=files)
    write_text(to_yaml(findings), Path(sm.output.findings))
    j.note("run_id", findings["provenance"]["run_id"])
