"""A researcher's own brief of a survey dataset: `brief: <name>` on the dataset in the config
names a folder reports/<name>/ holding <name>.qmd, _quarto.yml and numbers.yaml (the same
declaration format as the regional and country briefs, its sources being the dataset's
estimates, models and cleaned codebook of the wave). It is made beside the dataset's default
brief. Checked here before any rule runs, so a missing folder, a bad declaration or a document
quoting an undeclared number stops the run with the dataset, the file and what to do.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from analysis.errors import WpsInputError
from analysis.findings.declaration import (
    DeclarationError,
    check_quoted_keys,
    declaration_path,
    load_declaration,
)
from analysis.render.findings_file import RESERVED_KEYS
from analysis.render.projects import REPORTS_DIR, brief_document, brief_project, own_brief_problem

CONFIG = "config/config.yaml"


def own_briefs(
    config: Mapping[str, Any], plan: Mapping[str, Any], reports: Path = REPORTS_DIR
) -> dict[str, str]:
    """{dataset: brief name} of every dataset whose config names a brief of its own, each
    checked: a survey with a plan entry, a usable folder, a declaration that matches its schema
    and declares every number its document quotes.
    Raises WpsInputError (DeclarationError for the declaration) naming the dataset and file."""
    found: dict[str, str] = {}
    for dataset, spec in sorted(config["datasets"].items()):
        name = spec.get("brief")
        if name is None:
            continue
        if spec.get("kind") != "survey" or dataset not in plan:
            raise WpsInputError(
                f"datasets.{dataset}.brief is set, but only a survey dataset with an entry in "
                f"the analysis plan has briefs (this one is of kind {spec.get('kind')}"
                + ("" if dataset in plan else ", with no plan entry")
                + ")",
                dataset=dataset,
                file=CONFIG,
                hint="add the dataset's design and estimates to the plan, or remove `brief:`.",
            )
        problem = own_brief_problem(name, reports)
        if problem is not None:
            raise WpsInputError(
                f"datasets.{dataset}.brief: {problem[0]}",
                dataset=dataset,
                file=CONFIG,
                hint=problem[1],
            )
        # imported only when a brief is configured: the rule files import this module when
        # the DAG is built, and the section kinds take a second and a half to import
        from analysis.findings.sections import provided_keys

        try:
            declaration = load_declaration(declaration_path(brief_project(name, reports)))
            check_quoted_keys(
                declaration,
                brief_document(name, reports),
                provided_keys(declaration),
                RESERVED_KEYS,
            )
        except DeclarationError as err:
            err.dataset = dataset  # the message then names the dataset as well as the file
            raise
        found[dataset] = name
    return found
