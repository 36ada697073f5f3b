"""Snakemake adapter: the findings file of one declared brief (every number it prints, with its
source), built from its declaration (reports/<kind>/numbers.yaml) by the one engine: the
regional and country briefs of the brief dataset, and a survey's own brief (reports/<name>/,
its wildcards name the dataset)."""

import json
from pathlib import Path

import yaml

from analysis.findings.book import to_yaml
from analysis.findings.declaration import check_quoted_keys, load_declaration
from analysis.findings.declared import BriefRun, brief_parameters, build_brief
from analysis.findings.sections import provided_keys
from analysis.provenance import job
from analysis.provenance.runinfo import attach_provenance, quoted_plan
from analysis.render.findings_file import RESERVED_KEYS
from analysis.tables import write_text

sm = snakemake  # noqa: F821 (snakemake is injected)

NOT_TABLES = (
    "figure_",
    "inputs",
    "plan",
    "quote_choice",
    "plausibility",
    "declaration",
    "document",
    "raw_",
    "codebook_",
)
DESCRIBED = ("figure_", "raw_", "codebook_", "declaration")  # beside the wave's inputs

with job(sm) as j:
    brief, wave = sm.wildcards.brief, sm.wildcards.wave
    own_dataset = sm.wildcards.get("dataset")  # set for a survey's own brief
    declaration = load_declaration(sm.input.declaration)
    check_quoted_keys(
        declaration, Path(sm.input.document), provided_keys(declaration), RESERVED_KEYS
    )
    inputs = json.loads(Path(sm.input.inputs).read_text(encoding="utf-8"))
    paths = {name: str(path) for name, path in sm.input.items()}
    thresholds = sm.params.thresholds
    quote_id = quote_file = None
    if "quote_choice" in paths:
        choice = yaml.safe_load(Path(sm.input.quote_choice).read_text(encoding="utf-8")) or {}
        quote_id, quote_file = choice.get(brief), str(sm.input.quote_choice)
    run = BriefRun(
        wave=wave,
        threshold=thresholds["threshold_officers"],
        interview_threshold=thresholds["threshold_interviews"],
        previous_wave=sm.params.previous_wave,
        figure_paths={k: v for k, v in paths.items() if k.startswith("figure_")},
        quote_id=quote_id,
        quote_file=quote_file,
    )
    if own_dataset is not None:
        parameters = {"dataset": own_dataset}
    else:
        plan = json.loads(Path(sm.input.plan).read_text("utf-8")) if "plan" in paths else None
        parameters = brief_parameters(declaration, plan, brief)
    book, title = build_brief(
        declaration,
        {k: v for k, v in paths.items() if not k.startswith(NOT_TABLES)},
        run,
        brief=brief,
        parameters=parameters,
    )
    findings = book.to_dict(title, inputs["source_date_epoch"], {})
    if own_dataset is not None:  # reports/<name>/<name>.qmd renders it
        findings = {"kind": brief, **findings}
    # the run ID covers the plan entries this brief cites, not every entry of the dataset
    settings = {**sm.params.settings, "plan": quoted_plan(sm.params.settings["plan"], findings)}
    files = {k: v for k, v in paths.items() if k.startswith(DESCRIBED)}
    attach_provenance(findings, sm.input.inputs, sm.output.inputs, settings=settings, files=files)
    write_text(to_yaml(findings), Path(sm.output.findings))
    j.note("run_id", findings["provenance"]["run_id"])
