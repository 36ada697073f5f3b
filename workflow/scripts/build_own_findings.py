"""Snakemake adapter: the findings of a survey's own declared brief for one wave
(reports/<brief>/numbers.yaml over the dataset's estimates, models and codebook), built by the
one engine that builds the regional and country briefs."""

import json
from pathlib import Path

from analysis.findings.book import to_yaml
from analysis.findings.declaration import check_quoted_keys, load_declaration
from analysis.findings.declared import BriefRun, build_brief
from analysis.findings.sections import provided_keys
from analysis.provenance import job
from analysis.provenance.runinfo import attach_provenance, quoted_plan
from analysis.render.findings_file import RESERVED_KEYS
from analysis.tables import write_text

sm = snakemake  # noqa: F821 (snakemake is injected)

NOT_TABLES = ("figure_", "inputs", "plausibility", "declaration", "document")
DESCRIBED = ("figure_", "declaration")  # beside the wave's inputs

with job(sm) as j:
    name, dataset, wave = sm.wildcards.brief, sm.wildcards.dataset, sm.wildcards.wave
    declaration = load_declaration(sm.input.declaration)
    check_quoted_keys(
        declaration, Path(sm.input.document), provided_keys(declaration), RESERVED_KEYS
    )
    inputs = json.loads(Path(sm.input.inputs).read_text(encoding="utf-8"))
    paths = {key: str(path) for key, path in sm.input.items()}
    thresholds = sm.params.thresholds
    run = BriefRun(
        wave=wave,
        threshold=thresholds["threshold_officers"],
        interview_threshold=thresholds["threshold_interviews"],
        previous_wave=sm.params.previous_wave,
        figure_paths={k: v for k, v in paths.items() if k.startswith("figure_")},
    )
    book, title = build_brief(
        declaration,
        {k: v for k, v in paths.items() if not k.startswith(NOT_TABLES)},
        run,
        brief=name,
        parameters={"dataset": dataset},
    )
    findings = {  # kind: reports/<name>/<name>.qmd renders it
        "kind": name,
        **book.to_dict(title, inputs["source_date_epoch"], {}),
    }
    # the run ID covers the plan entries this brief cites, not every entry of the dataset
    settings = {**sm.params.settings, "plan": quoted_plan(sm.params.settings["plan"], findings)}
    files = {k: v for k, v in paths.items() if k.startswith(DESCRIBED)}
    attach_provenance(findings, sm.input.inputs, sm.output.inputs, settings=settings, files=files)
    write_text(to_yaml(findings), Path(sm.output.findings))
    j.note("run_id", findings["provenance"]["run_id"])
