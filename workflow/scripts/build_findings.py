"""Snakemake adapter: the findings files of declared briefs (every number a brief prints, with its
source), each built from its declaration (reports/<kind>/numbers.yaml) by the one engine.

Two shapes of job use it:
- the briefs of one wave of the brief dataset (`build_findings`): one job describes the wave's
  inputs (run ID, date), decides which countries get a brief (the wave's brief plan,
  `briefs.json`) and writes the findings and inputs description of the regional brief and of
  every country brief, so a wave's briefs cost one process, not one each;
- a survey's own brief (`build_own_findings`, its wildcards name the dataset).
"""

import json
from collections.abc import Mapping
from pathlib import Path

import yaml

from analysis.findings.book import to_yaml
from analysis.findings.declaration import check_quoted_keys, load_declaration
from analysis.findings.declared import BriefRun, brief_parameters, build_brief
from analysis.findings.sections import provided_keys
from analysis.hashing import DESCRIBED_INPUT
from analysis.provenance import job
from analysis.provenance.runinfo import (
    attach_provenance,
    describe_wave,
    described_files,
    quoted_plan,
)
from analysis.render.findings_file import RESERVED_KEYS
from analysis.render.projects import REGIONAL_ONLY, brief_kind
from analysis.tables import write_json, write_text

sm = snakemake  # noqa: F821 (snakemake is injected)

NOT_TABLES = (
    DESCRIBED_INPUT,
    "figure_",
    "inputs",
    "clean",
    "quote_choice",
    "plausibility",
    "declaration",
    "document",
    "raw_",
    "codebook_",
)
DESCRIBED = ("figure_", "raw_", "codebook_", "declaration")  # beside the wave's inputs


def build_one(
    brief: str,
    paths: Mapping[str, str],
    *,
    plan: dict | None,
    settings: dict,
    findings_path: Path,
    inputs_path: Path,
    own_dataset: str | None = None,
) -> str:
    """Write one brief's findings and inputs description; its run ID."""
    declaration = load_declaration(paths["declaration"])
    check_quoted_keys(
        declaration, Path(paths["document"]), provided_keys(declaration), RESERVED_KEYS
    )
    inputs = json.loads(Path(paths["inputs"]).read_text(encoding="utf-8"))
    thresholds = sm.params.thresholds
    quote_id = quote_file = None
    if "quote_choice" in paths:
        text = Path(paths["quote_choice"]).read_text(encoding="utf-8")
        quote_id, quote_file = (yaml.safe_load(text) or {}).get(brief), paths["quote_choice"]
    run = BriefRun(
        wave=sm.wildcards.wave,
        threshold=thresholds["threshold_officers"],
        interview_threshold=thresholds["threshold_interviews"],
        previous_wave=sm.params.previous_wave,
        figure_paths={k: v for k, v in paths.items() if k.startswith("figure_")},
        quote_id=quote_id,
        quote_file=quote_file,
        # a survey's own brief: its own respondents (pupils, nurses...), and no interviews
        **({"respondents": "respondents", "counts_interviewees": False} if own_dataset else {}),
    )
    if own_dataset is not None:
        parameters = {"dataset": own_dataset}
    else:
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
    cited = {**settings, "plan": quoted_plan(settings["plan"], findings)}
    files = {k: v for k, v in paths.items() if k.startswith(DESCRIBED)}
    attach_provenance(findings, paths["inputs"], inputs_path, settings=cited, files=files)
    write_text(to_yaml(findings), findings_path)
    return findings["provenance"]["run_id"]


def paths_of_kind(paths: Mapping[str, str], kind: str) -> dict[str, str]:
    """The wave job's inputs as one brief of `kind` sees them: its own declaration and document
    (named `declaration` and `document`), and what only the regional brief reads (named with
    the REGIONAL_ONLY prefix) for the regional brief alone."""
    own = {}
    for name, path in paths.items():
        if name.startswith(REGIONAL_ONLY):
            if kind == "regional":
                own[name.removeprefix(REGIONAL_ONLY)] = path
        elif name.startswith(("declaration_", "document_")):
            role, _, of_kind = name.partition("_")
            if of_kind == kind:
                own[role] = path
        else:
            own[name] = path
    return own


def wave_briefs(j) -> None:
    """The regional brief and every country brief of one wave, and the wave's brief plan."""
    import pandas as pd

    from analysis.findings.country import plan_country_briefs

    wave = sm.wildcards.wave
    paths = {name: str(path) for name, path in sm.input.items()}
    clean = pd.read_parquet(paths["clean"])
    # the wave's inputs description: run ID and date of every brief of the wave
    described = described_files(paths)
    description = describe_wave(described, clean)
    write_json(description, Path(sm.output.wave_inputs))
    j.output_made_from(sm.output.wave_inputs, [*described.values(), paths["clean"]])
    j.note("run_id", description["run_id"])
    paths["inputs"] = str(sm.output.wave_inputs)
    plan = plan_country_briefs(
        clean,
        dataset=sm.params.dataset,
        file=paths["clean"],
        wave=wave,
        min_respondents=sm.params.min_respondents,
    )
    findings_dir, inputs_dir = Path(sm.output.findings), Path(sm.output.inputs)
    write_json(plan, findings_dir / "briefs.json")
    j.output_made_from(findings_dir / "briefs.json", [paths["clean"]])
    briefs = ["regional"]
    if sm.params.countries:
        briefs += [entry["slug"] for entry in plan["briefs"]]
    for brief in briefs:
        kind = brief_kind(brief)
        own = paths_of_kind(paths, kind)
        findings_path, inputs_path = findings_dir / f"{brief}.yaml", inputs_dir / f"{brief}.json"
        run_id = build_one(
            brief,
            own,
            plan=plan,
            settings=sm.params.settings[kind],
            findings_path=findings_path,
            inputs_path=inputs_path,
        )
        # lineage and trace follow the inputs this brief used, not the other briefs' ones
        for output in (findings_path, inputs_path):
            j.output_made_from(output, own.values())
        j.note(f"run_id {brief}", run_id)
    j.note("country_briefs", len(plan["briefs"]))
    j.note("country_notes", len(plan["notes"]))


with job(sm) as j:
    if sm.wildcards.get("dataset") is not None:
        run_id = build_one(
            sm.wildcards.brief,
            {name: str(path) for name, path in sm.input.items()},
            plan=None,
            settings=sm.params.settings,
            findings_path=Path(sm.output.findings),
            inputs_path=Path(sm.output.inputs),
            own_dataset=sm.wildcards.dataset,
        )
        j.note("run_id", run_id)
    else:
        wave_briefs(j)
