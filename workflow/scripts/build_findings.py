"""Snakemake adapter: the findings file of one brief (every number it prints, with its source),
built from the brief kind's declaration (reports/<kind>/numbers.yaml) by the one engine."""

import json
from pathlib import Path

import yaml

from analysis.findings.book import to_yaml
from analysis.findings.declaration import check_quoted_keys, load_declaration
from analysis.findings.declared import BriefRun, brief_parameters, build_brief
from analysis.findings.sections import provided_keys
from analysis.provenance import job
from analysis.provenance.runinfo import brief_provenance
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
)

with job(sm):
    brief, wave = sm.wildcards.brief, sm.wildcards.wave
    declaration = load_declaration(sm.input.declaration)
    check_quoted_keys(
        declaration, Path(sm.input.document), provided_keys(declaration), RESERVED_KEYS
    )
    inputs = json.loads(Path(sm.input.inputs).read_text(encoding="utf-8"))
    paths = {name: str(path) for name, path in sm.input.items()}
    plan = json.loads(Path(sm.input.plan).read_text("utf-8")) if "plan" in paths else None
    choice = yaml.safe_load(Path(sm.input.quote_choice).read_text(encoding="utf-8")) or {}
    thresholds = sm.params.thresholds
    run = BriefRun(
        wave=wave,
        threshold=thresholds["threshold_officers"],
        interview_threshold=thresholds["threshold_interviews"],
        previous_wave=sm.params.previous_wave,
        figure_paths={k: v for k, v in paths.items() if k.startswith("figure_")},
        quote_id=choice.get(brief),
        quote_file=str(sm.input.quote_choice),
    )
    book, title = build_brief(
        declaration,
        {k: v for k, v in paths.items() if not k.startswith(NOT_TABLES)},
        run,
        brief=brief,
        parameters=brief_parameters(declaration, plan, brief),
    )
    provenance = brief_provenance(inputs, sm.input.inputs)
    findings = book.to_dict(title, inputs["source_date_epoch"], provenance)
    write_text(to_yaml(findings), Path(sm.output.findings))
