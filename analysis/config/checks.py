"""Checks of the configuration against the analysis plan, before any rule runs.

A dataset's kind, the plan's entries and the brief settings must agree; where they do not,
the run stops with one message naming the setting and what to do, instead of a KeyError deep
in a job. Things that are allowed but worth knowing (a survey with no plan entry is only
cleaned) come back as notes for the console.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from analysis.errors import WpsInputError

CONFIG = "config/config.yaml"


def check_config(config: Mapping[str, Any], plan: Mapping[str, Any]) -> list[str]:
    """Raise WpsInputError for settings that cannot work; return notes worth printing."""
    datasets: Mapping[str, Mapping[str, Any]] = config["datasets"]
    notes = []
    for name in sorted(plan):
        if name not in datasets:
            notes.append(
                f"the analysis plan has an entry for '{name}', which config/config.yaml does "
                "not list under datasets: it is not used."
            )
    for name, spec in sorted(datasets.items()):
        if spec["kind"] == "survey" and name not in plan:
            notes.append(
                f"dataset '{name}' (kind survey) has no entry in the analysis plan: it is "
                "ingested, validated and cleaned only. Add an entry with its design, estimates "
                "and models to analyse it and get its brief."
            )
    brief = config.get("brief_dataset")
    if brief is None:
        return notes
    if brief not in datasets:
        raise WpsInputError(
            f"brief_dataset is '{brief}', which is not one of the datasets "
            f"({', '.join(sorted(datasets))})",
            file=CONFIG,
            hint="set brief_dataset to the officer survey the regional and country briefs are "
            "written for, or to null to make only each survey's default brief.",
        )
    if datasets[brief]["kind"] != "survey" or brief not in plan:
        raise WpsInputError(
            f"brief_dataset '{brief}' must be a survey dataset with an entry in the analysis "
            f"plan (it is of kind {datasets[brief]['kind']}"
            + ("" if brief in plan else ", with no plan entry")
            + ")",
            file=CONFIG,
            hint="set brief_dataset to the officer survey, or to null.",
        )
    return notes
