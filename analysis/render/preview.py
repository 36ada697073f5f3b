"""`wps preview FINDINGS`: ready a brief's own Quarto project for `quarto preview`.

Writes what a render of the findings file needs (numbers in _variables.yml, tables, figures,
sections, house style) into `reports/<kind>/`, beside the document a researcher edits, so
`quarto preview reports/<kind>/<kind>.qmd` shows the brief with the numbers of that run and
reloads as the words change. Git ignores what it writes; the workflow never reads it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from analysis.render.findings_file import load_findings
from analysis.render.projects import (
    REPORTS_DIR,
    brief_document,
    brief_project,
    unresolved_includes,
)
from analysis.render.staging import write_brief_inputs


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "findings",
        type=Path,
        help="a findings file of a finished run, e.g. results/findings/2025/regional.yaml",
    )
    parser.add_argument(
        "--reports",
        type=Path,
        default=REPORTS_DIR,
        help="the folder of the briefs' Quarto projects (default: reports)",
    )
    parser.add_argument(
        "--data-root",
        type=Path,
        default=Path("."),
        help="the folder the findings' figure paths are relative to (default: .)",
    )


def run(args: argparse.Namespace) -> int:
    findings = load_findings(args.findings)
    kind = findings.kind
    qmd = brief_document(kind, args.reports)
    if not qmd.is_file():
        raise SystemExit(f"wps preview: no brief document at {qmd} for brief {findings.brief!r}.")
    project = brief_project(kind, args.reports)
    write_brief_inputs(project, findings, "quarto", args.data_root)
    missing = unresolved_includes(project)
    if missing:
        print(f"wps preview: includes that {args.findings} cannot fill: {'; '.join(missing)}")
        return 1
    print(f"{project}: ready with the numbers of {args.findings} (brief {findings.brief}).")
    print(f"Preview with: quarto preview {qmd}")
    return 0
